//! Printing knowingly: a job printed from the visitor's session waits in the computer's
//! print queue until the visitor has seen its pages on the notice, and the free pages
//! left, and confirms or cancels it. A job beyond the site's free pages
//! (`seat_policy.print_pages_per_session`, `print_pages_per_day`), or whose pages could
//! not be counted, waits for staff, who release or cancel it from the dashboard.
//!
//! [`desk::PrintDesk`] is the pure part (jobs, pages, who may let each go);
//! [`pages`] counts pages from the spooled files; [`PrintQueue`] is the print system
//! ([`cups::Cups`] on Linux). [`Print`] is the shell: it reads the queue every
//! [`POLL`], counts new jobs once, cancels a flood beyond [`desk::MAX_JOBS`], and writes
//! the durable events: `PrintWaiting` / `PrintWaitOver` (a job's number and pages, for the
//! seat's page) and `PagesPrinted` (pages and who released them, for the reports). No
//! title, file name or content is read into an event or a log.
//!
//! Jobs are purged at the session's end by the wipe (`cancel -a -x`), held ones
//! included; the desk forgets them with the session.

#[cfg(target_os = "linux")]
pub mod cups;
pub mod desk;
pub mod pages;

use std::sync::Arc;
use std::time::Duration;

use commune_protocol::messages::{
    AgentEvent, PagesPrinted, PrintWaitOver, PrintWaiting, ReleasedBy,
};
use commune_protocol::UtcMillis;
use tokio::sync::{watch, Mutex};

pub use desk::{JobView, PrintRefusal, Quota, Verdict};

use crate::manager::{EventSink, Status, WallClock};

/// How often the queue is read during a session.
pub const POLL: Duration = Duration::from_secs(2);

/// A job on the computer's queues, by number (never by title or user name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedJob {
    /// Its number.
    pub job: u32,
    /// Its queue.
    pub queue: String,
}

/// The computer's print system. Calls block (child programs); [`Print`] runs them on
/// `spawn_blocking`.
pub trait PrintQueue: Send + Sync + 'static {
    /// Makes every queue keep new jobs until one is released.
    fn hold_new_jobs(&self) -> Result<(), String>;
    /// The jobs not completed, on every queue.
    fn jobs(&self) -> Result<Vec<QueuedJob>, String>;
    /// The pages `job` would print (copies included); `None` when they cannot be counted.
    fn pages(&self, job: u32) -> Option<u32>;
    /// Lets `job` print, and nothing else.
    fn release(&self, job: u32) -> Result<(), String>;
    /// Cancels `job` and removes its files.
    fn cancel(&self, job: u32) -> Result<(), String>;
    /// Cancels many jobs (a flood); how many could not be cancelled.
    fn cancel_many(&self, jobs: &[u32]) -> usize {
        jobs.iter().filter(|j| self.cancel(**j).is_err()).count()
    }
}

/// What the notice shows about printing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintView {
    /// The session's waiting jobs.
    pub jobs: Vec<JobView>,
    /// Free pages left; `None`: the site sets no limit.
    pub left: Option<u32>,
}

impl PrintView {
    /// A short summary that changes when the notice must show something new (the
    /// screens' `/etat.json`): job numbers and who may let each go.
    pub fn signature(&self) -> String {
        self.jobs
            .iter()
            .map(|j| {
                let who = match j.verdict {
                    Verdict::Visitor => "v",
                    Verdict::BeyondQuota | Verdict::Uncounted => "s",
                };
                format!("{}{who}", j.job)
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The seat's printing, shared by the screens and the staff commands. Cheap to clone.
#[derive(Clone)]
pub struct Print {
    desk: Arc<Mutex<desk::PrintDesk>>,
    /// Where the local day's pages are kept across restarts (`print-day`: "day pages").
    day_file: Option<std::path::PathBuf>,
    queue: Option<Arc<dyn PrintQueue>>,
    events: Arc<dyn EventSink>,
    wall: WallClock,
    status: watch::Receiver<Status>,
}

impl std::fmt::Debug for Print {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Print")
            .field("queue", &self.queue.is_some())
            .finish_non_exhaustive()
    }
}

/// The local day of `at` (days since 1970 in the site's time zone, or the computer's).
fn local_day(at: UtcMillis, time_zone: &str) -> i32 {
    let tz = if time_zone.is_empty() {
        jiff::tz::TimeZone::system()
    } else {
        jiff::tz::TimeZone::get(time_zone).unwrap_or_else(|_| jiff::tz::TimeZone::system())
    };
    let offset = jiff::Timestamp::from_millisecond(at.0)
        .map(|t| tz.to_offset(t).seconds())
        .unwrap_or(0);
    (at.0 / 1000 + i64::from(offset)).div_euclid(86_400) as i32
}

impl Print {
    /// The printing of the seat whose status is `status`, on `queue` (none: the computer
    /// prints nothing, and the notice says nothing of printing).
    /// `day_file`: where the day's pages are kept, so that restarting the agent does not
    /// give the day's free pages again.
    pub fn new(
        queue: Option<Arc<dyn PrintQueue>>,
        events: Arc<dyn EventSink>,
        wall: WallClock,
        status: watch::Receiver<Status>,
        day_file: Option<std::path::PathBuf>,
    ) -> Self {
        let mut desk = desk::PrintDesk::default();
        let kept = day_file
            .as_ref()
            .and_then(|f| std::fs::read_to_string(f).ok())
            .and_then(|t| {
                let (day, pages) = t.trim().split_once(' ')?;
                Some((day.parse().ok()?, pages.parse().ok()?))
            });
        if let Some((day, pages)) = kept {
            desk.restore_day(day, pages);
        }
        Print {
            desk: Arc::new(Mutex::new(desk)),
            day_file,
            queue,
            events,
            wall,
            status,
        }
    }

    /// Whether the computer prints.
    pub fn available(&self) -> bool {
        self.queue.is_some()
    }

    /// The session, the site's free pages and today's number, from the seat's status.
    fn context(&self) -> (Option<String>, Quota, i32) {
        let status = self.status.borrow();
        let session = status.session.as_ref().map(|s| s.session_id.clone());
        let quota = Quota {
            per_session: status.greeter.print_pages_per_session,
            per_day: status.greeter.print_pages_per_day,
        };
        let day = local_day((self.wall)(), &status.greeter.time_zone);
        (session, quota, day)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn PrintQueue) -> T + Send + 'static,
    ) -> Option<T> {
        let queue = self.queue.clone()?;
        tokio::task::spawn_blocking(move || f(queue.as_ref()))
            .await
            .ok()
    }

    async fn emit(&self, event: AgentEvent) {
        if let Err(error) = self.events.emit((self.wall)(), event).await {
            tracing::error!(%error, "a print event could not be recorded");
        }
    }

    async fn announce(&self, waiting: Vec<(u32, Option<u32>)>, wait_over: Vec<u32>) {
        for job in wait_over {
            self.emit(AgentEvent::PrintWaitOver(PrintWaitOver { job }))
                .await;
        }
        for (job, pages) in waiting {
            self.emit(AgentEvent::PrintWaiting(PrintWaiting { job, pages }))
                .await;
        }
    }

    /// Reads the queue once: new jobs counted (at most the desk's room), a flood
    /// cancelled, staff told which jobs wait for them.
    pub async fn poll(&self) {
        let Some(Ok(queued)) = self.blocking(|q| q.jobs()).await else {
            return;
        };
        let (session, quota, day) = self.context();
        let (to_count, room) = {
            let mut desk = self.desk.lock().await;
            desk.observe(session.as_deref(), day);
            let new: Vec<u32> = queued
                .iter()
                .map(|j| j.job)
                .filter(|j| !desk.knows(*j))
                .collect();
            let room = if session.is_some() { desk.room() } else { 0 };
            (new, room)
        };
        // Only as many new jobs as may be kept are counted: a flood costs no page count.
        let counting: Vec<u32> = to_count.iter().copied().take(room).collect();
        let counted = self
            .blocking(move |q| {
                counting
                    .into_iter()
                    .map(|j| (j, q.pages(j)))
                    .collect::<Vec<_>>()
            })
            .await
            .unwrap_or_default();
        let mut seen: Vec<(u32, Option<u32>)> = counted;
        let known: std::collections::BTreeSet<u32> = seen.iter().map(|(j, _)| *j).collect();
        // Jobs already known keep their count; uncounted new ones beyond the room go.
        seen.extend(
            queued
                .iter()
                .filter(|j| !known.contains(&j.job))
                .map(|j| (j.job, None)),
        );
        let changes = {
            let mut desk = self.desk.lock().await;
            desk.observe(session.as_deref(), day);
            desk.seen(quota, &seen)
        };
        if !changes.excess.is_empty() {
            let excess = changes.excess.clone();
            let failed = self
                .blocking(move |q| q.cancel_many(&excess))
                .await
                .unwrap_or(0);
            tracing::info!(
                cancelled = changes.excess.len() - failed,
                failed,
                "print jobs beyond what a session may keep waiting were cancelled"
            );
        }
        self.announce(changes.waiting, changes.wait_over).await;
    }

    /// Keeps the queues holding new jobs, then reads them every [`POLL`] while a session
    /// runs (and once more after it, so that a job sent at the greeter is cancelled).
    pub async fn run(self) {
        if self.queue.is_none() {
            return;
        }
        let mut status = self.status.clone();
        let mut held_for: Option<Option<String>> = None;
        loop {
            let session = status
                .borrow_and_update()
                .session
                .as_ref()
                .map(|s| s.session_id.clone());
            let changed = held_for.as_ref() != Some(&session);
            if changed {
                // Again at every session: a queue added by IT meanwhile holds too.
                if let Some(Err(error)) = self.blocking(|q| q.hold_new_jobs()).await {
                    tracing::error!(%error, "the print queues could not be set to hold jobs");
                }
                held_for = Some(session.clone());
            }
            if session.is_some() {
                self.poll().await;
                tokio::time::sleep(POLL).await;
                if status.has_changed().is_err() {
                    return; // the manager stopped
                }
            } else {
                if changed {
                    self.poll().await;
                }
                if status.changed().await.is_err() {
                    return;
                }
            }
        }
    }

    /// What the notice shows.
    pub async fn view(&self) -> PrintView {
        let (session, quota, day) = self.context();
        let mut desk = self.desk.lock().await;
        desk.observe(session.as_deref(), day);
        PrintView {
            jobs: if session.is_some() {
                desk.view(quota)
            } else {
                Vec::new()
            },
            left: desk.left(quota),
        }
    }

    /// Lets `job` print, by the visitor (within the free pages) or staff; its pages are
    /// then counted and reported. The desk stays locked meanwhile: two confirmations
    /// cannot both spend the same free pages.
    pub async fn release(&self, job: u32, by: ReleasedBy) -> Result<Option<u32>, PrintRefusal> {
        let (session, quota, day) = self.context();
        if session.is_none() {
            return Err(PrintRefusal::NoSuchJob);
        }
        let mut desk = self.desk.lock().await;
        desk.observe(session.as_deref(), day);
        let pages = desk.may_release(quota, job, by)?;
        let queue = self.queue.clone().ok_or(PrintRefusal::NoSuchJob)?;
        tokio::task::spawn_blocking(move || queue.release(job))
            .await
            .map_err(|e| PrintRefusal::Failed(e.to_string()))?
            .map_err(PrintRefusal::Failed)?;
        let (was_waiting, waiting) = desk.printed(quota, job);
        if let (Some(file), Some((day, pages))) = (&self.day_file, desk.day_pages()) {
            if let Err(error) = std::fs::write(file, format!("{day} {pages}\n")) {
                tracing::warn!(%error, "the day's printed pages could not be kept");
            }
        }
        drop(desk);
        self.emit(AgentEvent::PagesPrinted(PagesPrinted {
            pages: pages.unwrap_or(0),
            released_by: by,
        }))
        .await;
        let over = if was_waiting { vec![job] } else { Vec::new() };
        self.announce(waiting, over).await;
        tracing::info!(
            job,
            pages = pages.unwrap_or(0),
            released_by = by.as_str(),
            "print job released"
        );
        Ok(pages)
    }

    /// Cancels `job` of the session (the visitor's or staff's choice).
    pub async fn cancel(&self, job: u32) -> Result<(), PrintRefusal> {
        let (session, _quota, day) = self.context();
        let mut desk = self.desk.lock().await;
        desk.observe(session.as_deref(), day);
        if session.is_none() || !desk.knows(job) {
            return Err(PrintRefusal::NoSuchJob);
        }
        let queue = self.queue.clone().ok_or(PrintRefusal::NoSuchJob)?;
        tokio::task::spawn_blocking(move || queue.cancel(job))
            .await
            .map_err(|e| PrintRefusal::Failed(e.to_string()))?
            .map_err(PrintRefusal::Failed)?;
        let was_waiting = desk.cancelled(job);
        drop(desk);
        if was_waiting {
            self.announce(Vec::new(), vec![job]).await;
        }
        tracing::info!(job, "print job cancelled");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_day_turns_at_local_midnight() {
        // 2025-12-06 23:30 UTC is already the 7th in Paris (UTC+1).
        let late = UtcMillis(1_765_063_800_000);
        let paris = local_day(late, "Europe/Paris");
        let utc = local_day(late, "UTC");
        assert_eq!(paris, utc + 1);
    }
}
