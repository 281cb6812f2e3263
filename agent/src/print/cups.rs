//! The computer's CUPS scheduler, as [`super::PrintQueue`]: every queue is stopped
//! (`cupsdisable`, jobs wait in it whatever they ask) and holds new jobs by default
//! (`job-hold-until-default=indefinite`, so that the visitor's own tools say "held"). A
//! job asking to print at once (`lp -H immediate`) still waits: the queue is stopped. To
//! let one job go, the agent makes its queue refuse new jobs, holds every other job,
//! releases that one, starts the queue, waits until the job has left, stops the queue and
//! accepts jobs again: nothing else can print meanwhile.
//!
//! Jobs are read by number and queue (`lpstat -W not-completed -o`), never by title or
//! user name: a job claiming another user's name is still this seat's visitor's. Pages
//! come from the spooled document ([`super::pages`]) and the job's `copies`, asked of
//! the scheduler over its local socket for that one attribute.

use std::io::{Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::pages;
use super::{PrintQueue, QueuedJob};

/// How long a released job may take to leave its queue before the queue is stopped again
/// (a job still printing then goes on when the next one is released).
const RELEASE_TIMEOUT: Duration = Duration::from_secs(120);

/// The local CUPS scheduler.
#[derive(Debug, Clone)]
pub struct Cups {
    spool: PathBuf,
    socket: PathBuf,
}

impl Default for Cups {
    fn default() -> Self {
        Cups {
            spool: crate::platform::linux::machine::cups_spool(),
            socket: PathBuf::from("/run/cups/cups.sock"),
        }
    }
}

fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{program} {} failed: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The queues (`lpstat -e`).
fn queues() -> Result<Vec<String>, String> {
    let out = Command::new("lpstat")
        .arg("-e")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("lpstat: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|q| !q.is_empty() && q.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned)
        .collect())
}

/// `Queue-17` → (`Queue`, 17).
fn parse_job(id: &str) -> Option<(String, u32)> {
    let (queue, number) = id.rsplit_once('-')?;
    Some((queue.to_owned(), number.parse().ok()?))
}

impl Cups {
    fn job_id(&self, job: u32) -> Result<String, String> {
        self.jobs()?
            .into_iter()
            .find(|j| j.job == job)
            .map(|j| format!("{}-{}", j.queue, j.job))
            .ok_or_else(|| format!("print job {job} is no longer queued"))
    }

    /// The job's `copies`, asked of the scheduler (Get-Job-Attributes, that attribute
    /// only: the answer carries no title).
    fn copies(&self, job: u32) -> Option<u32> {
        let mut body = vec![2, 0, 0, 0x09, 0, 0, 0, 1, 0x01];
        let mut attr = |tag: u8, name: &str, value: &str| {
            body.push(tag);
            body.extend_from_slice(&(name.len() as u16).to_be_bytes());
            body.extend_from_slice(name.as_bytes());
            body.extend_from_slice(&(value.len() as u16).to_be_bytes());
            body.extend_from_slice(value.as_bytes());
        };
        attr(0x47, "attributes-charset", "utf-8");
        attr(0x48, "attributes-natural-language", "en");
        attr(0x45, "job-uri", &format!("ipp://localhost/jobs/{job}"));
        attr(0x42, "requesting-user-name", "root");
        attr(0x44, "requested-attributes", "copies");
        body.push(0x03);
        let mut stream = UnixStream::connect(&self.socket).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        stream
            .set_write_timeout(Some(Duration::from_secs(5)))
            .ok()?;
        let head = format!(
            "POST /jobs/ HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/ipp\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).ok()?;
        stream.write_all(&body).ok()?;
        let mut answer = Vec::new();
        stream.take(64 << 10).read_to_end(&mut answer).ok()?;
        let start = answer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
        let ipp = &answer[start..];
        // Status successful-ok (0x0000..=0x00ff) only.
        if ipp.len() < 8 || ipp[2] != 0 {
            return None;
        }
        pages::ipp_copies(ipp)
    }

    /// The pages of each document of the job, read from the spool (at most
    /// [`pages::MAX_DOCUMENT_BYTES`] each).
    fn documents(&self, job: u32) -> Vec<Option<u32>> {
        let mut documents = Vec::new();
        for n in 1..=100u32 {
            let path = self.spool.join(format!("d{job:05}-{n:03}"));
            match read_capped(&path) {
                Ok(Some(bytes)) => documents.push(pages::pdf_pages(&bytes)),
                Ok(None) => documents.push(None),
                Err(_) => break,
            }
        }
        documents
    }

    fn wait_gone(&self, job: u32) -> Result<(), String> {
        let until = Instant::now() + RELEASE_TIMEOUT;
        loop {
            if !self.jobs()?.iter().any(|j| j.job == job) {
                return Ok(());
            }
            if Instant::now() >= until {
                return Err(format!(
                    "print job {job} did not leave its queue within {} s",
                    RELEASE_TIMEOUT.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The file's bytes when not bigger than the cap (`None`: bigger); an error when it
/// cannot be opened.
fn read_capped(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(pages::MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > pages::MAX_DOCUMENT_BYTES {
        return Ok(None);
    }
    Ok(Some(bytes))
}

impl PrintQueue for Cups {
    fn hold_new_jobs(&self) -> Result<(), String> {
        for queue in queues()? {
            run(
                "lpadmin",
                &["-p", &queue, "-o", "job-hold-until-default=indefinite"],
            )?;
            run("cupsdisable", &[&queue])?;
            run("cupsaccept", &[&queue])?;
        }
        Ok(())
    }

    fn jobs(&self) -> Result<Vec<QueuedJob>, String> {
        let out = Command::new("lpstat")
            .args(["-W", "not-completed", "-o"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .map_err(|e| format!("lpstat: {e}"))?;
        let mut jobs: Vec<QueuedJob> = String::from_utf8_lossy(&out.stdout)
            .lines()
            // Only the first word: the job's id. The user name it claims is not read.
            .filter_map(|line| line.split_whitespace().next())
            .filter_map(parse_job)
            .map(|(queue, job)| QueuedJob { job, queue })
            .collect();
        jobs.sort_by_key(|j| j.job);
        jobs.dedup_by_key(|j| j.job);
        Ok(jobs)
    }

    fn pages(&self, job: u32) -> Option<u32> {
        let documents = self.documents(job);
        pages::job_pages(&documents, self.copies(job)?)
    }

    fn release(&self, job: u32) -> Result<(), String> {
        let id = self.job_id(job)?;
        let queue = parse_job(&id).map(|(q, _)| q).unwrap_or_default();
        run("cupsreject", &[&queue])?;
        let result = (|| {
            for other in self.jobs()? {
                if other.queue == queue && other.job != job {
                    run(
                        "lp",
                        &[
                            "-i",
                            &format!("{}-{}", other.queue, other.job),
                            "-H",
                            "indefinite",
                        ],
                    )?;
                }
            }
            run("lp", &["-i", &id, "-H", "resume"])?;
            run("cupsenable", &[&queue])?;
            self.wait_gone(job)
        })();
        let stopped = run("cupsdisable", &[&queue]);
        let accepting = run("cupsaccept", &[&queue]);
        result.and(stopped.map(|_| ())).and(accepting.map(|_| ()))
    }

    fn cancel(&self, job: u32) -> Result<(), String> {
        let id = self.job_id(job)?;
        run("cancel", &["-x", &id]).map(|_| ())
    }

    /// One listing, then `cancel -x` with a hundred ids at a time: a thousand jobs cost
    /// ten programs, not a thousand.
    fn cancel_many(&self, jobs: &[u32]) -> usize {
        let Ok(queued) = self.jobs() else {
            return jobs.len();
        };
        let ids: Vec<String> = queued
            .iter()
            .filter(|j| jobs.contains(&j.job))
            .map(|j| format!("{}-{}", j.queue, j.job))
            .collect();
        let mut failed = jobs.len() - ids.len();
        for chunk in ids.chunks(100) {
            let mut args = vec!["-x"];
            args.extend(chunk.iter().map(String::as_str));
            if run("cancel", &args).is_err() {
                failed += chunk.len();
            }
        }
        failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_read_by_queue_and_number() {
        assert_eq!(parse_job("PDF-17"), Some(("PDF".into(), 17)));
        assert_eq!(parse_job("HP-LaserJet-4"), Some(("HP-LaserJet".into(), 4)));
        assert_eq!(parse_job("nonsense"), None);
        assert_eq!(parse_job("PDF-x"), None);
    }
}
