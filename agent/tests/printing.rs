//! Printing knowingly with a real CUPS: the visitor's jobs wait in the queue (even one
//! asking to print at once under another user's name) until their pages are seen and
//! confirmed; a confirmed job comes out of the cups-pdf printer with its pages; a
//! cancelled one is gone; the job beyond the site's free pages is refused to the visitor
//! and printed once staff release it; a flood of jobs is cut to what a session keeps; the
//! session's end purges what waits. The events carry numbers and pages, never a title.
//!
//! Root, private namespaces (like `hostile_visitor.rs`); fails, never skips.

#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use commune_agent::manager::{self, ManagerHandle};
use commune_agent::platform::linux::{LinuxConfig, LinuxDirect};
use commune_agent::print::{PrintRefusal, Verdict};
use commune_protocol::messages::{
    AgentEvent, EndReason, PagesPrinted, PrintWaitOver, PrintWaiting, ReleasedBy, SeatState,
    SlotKind,
};
use commune_protocol::schedule::{Schedule, SeatPolicy, Slot};
use commune_protocol::UtcMillis;
use commune_tests::namespace;
use commune_tests::printing::{pdf, queued};

/// The printer the visitor uses: cups-pdf, writing into the visitor's home.
const PDF_PRINTER: &str = "commune-pdf";
const TITLE: &str = "Avis d'imposition 2026";

#[derive(Default)]
struct Recorded(std::sync::Mutex<Vec<AgentEvent>>);

impl manager::EventSink for Recorded {
    fn emit(
        &self,
        _at: UtcMillis,
        event: AgentEvent,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + '_>> {
        self.0.lock().unwrap().push(event);
        Box::pin(async { Ok(()) })
    }
}

fn inside_namespace(name: &str) -> bool {
    if namespace::test_inside(name) {
        namespace::prepare_session_places();
        namespace::sh(
            r#"
            mkdir -p /var/spool/cups-pdf
            mount -t tmpfs -o mode=0755 tmpfs /var/spool/cups-pdf
            mkdir -m 1777 /var/spool/cups-pdf/ANONYMOUS
        "#,
        );
        namespace::start_cups("commune-test");
        namespace::sh(&format!(
            "lpadmin -p {PDF_PRINTER} -E -v cups-pdf:/ -P /usr/share/ppd/cups-pdf/CUPS-PDF_noopt.ppd"
        ));
        return true;
    }
    false
}

/// Runs `script` as the visitor's account (`setpriv`, not the agent's code).
fn as_visitor(uid: u32, home: &Path, script: &str) -> String {
    let out = Command::new("setpriv")
        .args([
            "--reuid",
            &uid.to_string(),
            "--regid",
            &uid.to_string(),
            "--clear-groups",
            "sh",
            "-c",
            script,
        ])
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .current_dir(home)
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The PDFs cups-pdf wrote, with their pages (poppler's `pdfinfo`, not the agent's
/// counter): into the visitor's home, or its anonymous folder for a job under a name
/// that is no account here.
fn printed(home: &Path) -> Vec<u32> {
    let mut pages: Vec<u32> = [
        home.join("PDF"),
        PathBuf::from("/var/spool/cups-pdf/ANONYMOUS"),
    ]
    .iter()
    .filter_map(|d| std::fs::read_dir(d).ok())
    .flat_map(|entries| entries.flatten())
    .map(|e| {
        let out = Command::new("pdfinfo").arg(e.path()).output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("Pages:").map(|n| n.trim().parse().unwrap()))
            .unwrap_or(0)
    })
    .collect();
    pages.sort();
    pages
}

/// The visitor's screens of `seat` (the notice runs in the session's browser).
async fn screens(seat: &ManagerHandle, dir: &Path) -> std::net::SocketAddr {
    use commune_agent::screens::{secret::GreeterSecret, Options};
    let options = Options::new(
        dir.to_path_buf(),
        GreeterSecret::create(&dir.join("screens-secret"), None).unwrap(),
    );
    let (addr, _served) = commune_agent::screens::start(
        "127.0.0.1:0".parse().unwrap(),
        seat.clone(),
        options,
        std::future::pending(),
    )
    .await
    .unwrap();
    addr
}

/// One request to the screens, as the notice's browser makes it (no greeter secret).
async fn notice(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let (method, path, body) = (method.to_owned(), path.to_owned(), body.to_owned());
    tokio::task::spawn_blocking(move || {
        let origin = format!("http://{addr}");
        let headers = [
            ("Origin", origin.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        let reply = commune_tests::web::http(addr, &method, &path, &headers, &body);
        (reply.status, reply.body)
    })
    .await
    .unwrap()
}

async fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn view_until(
    seat: &ManagerHandle,
    what: &str,
    f: impl Fn(&commune_agent::print::PrintView) -> bool,
) -> commune_agent::print::PrintView {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let view = seat.print().view().await;
        if f(&view) {
            return view;
        }
        assert!(
            Instant::now() < until,
            "timed out waiting for {what}: {view:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn config(state: &Path) -> LinuxConfig {
    LinuxConfig {
        uid_first: 62_100,
        uid_last: 62_109,
        home_base: PathBuf::from("/home/commune"),
        home_size_mib: 64,
        skeleton: Path::new(env!("CARGO_MANIFEST_DIR")).join("../provisioning/skel"),
        state_dir: state.to_path_buf(),
        cgroup_name: "commune-printing".into(),
        term_grace_ms: 200,
        ..LinuxConfig::default()
    }
}

async fn seat(dir: &Path, policy: SeatPolicy) -> (ManagerHandle, Arc<Recorded>) {
    let platform = LinuxDirect::new(config(dir)).expect("platform (root, lockdown applied)");
    let events = Arc::new(Recorded::default());
    let (handle, _task) = manager::spawn_with_clock(
        Arc::new(platform),
        events.clone(),
        dir,
        Default::default(),
        Arc::new(commune_agent::now),
    );
    let now = commune_agent::now();
    let schedule = Schedule {
        version: 1,
        generated_at: now,
        time_zone: "Europe/Paris".into(),
        slots: vec![Slot {
            start: now.plus_secs(-3600),
            end: now.plus_secs(3600),
            kind: SlotKind::Free,
            permanence: None,
            session_minutes: Some(45),
            ticket_required: false,
        }],
        mediator_pins: Vec::new(),
        seat_policy: policy,
        closing_message: String::new(),
    };
    assert!(handle.schedule(schedule).await);
    handle.wait_for(|s| s.state == SeatState::Ready).await;
    (handle, events)
}

/// Writes `pages` pages as `name` in the visitor's downloads, owned by them.
fn document(home: &Path, uid: u32, name: &str, pages: usize) -> PathBuf {
    let path = home.join(name);
    std::fs::write(&path, pdf(pages)).unwrap();
    std::os::unix::fs::chown(&path, Some(uid), Some(uid)).unwrap();
    path
}

/// The job number `lp` printed ("request id is commune-pdf-7 (1 file(s))").
fn job_of(lp_output: &str) -> u32 {
    lp_output
        .split_whitespace()
        .find_map(|w| w.rsplit_once('-').and_then(|(_, n)| n.parse().ok()))
        .unwrap_or_else(|| panic!("no job number in {lp_output:?}"))
}

#[test]
fn a_job_waits_for_its_pages_to_be_seen_and_beyond_the_free_pages_for_staff() {
    if !inside_namespace("a_job_waits_for_its_pages_to_be_seen_and_beyond_the_free_pages_for_staff")
    {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let policy = SeatPolicy {
            print_pages_per_session: 3,
            ..SeatPolicy::default()
        };
        let (seat, events) = seat(dir.path(), policy).await;
        let addr = screens(&seat, dir.path()).await;
        let info = seat.start_session(SlotKind::Free, None).await.unwrap();
        let (uid, home) = (info.uid, info.home.clone());
        // The queues hold and are stopped once the session runs.
        eventually("the queues to stop", || {
            let out = Command::new("lpstat")
                .args(["-p", PDF_PRINTER])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout)
                .contains("disabled")
                .then_some(())
        })
        .await;

        // Two pages: seen on the notice, within the 3 free pages, confirmed, printed.
        document(&home, uid, "avis.pdf", 2);
        let out = as_visitor(
            uid,
            &home,
            &format!("lp -d {PDF_PRINTER} -t \"{TITLE}\" avis.pdf"),
        );
        let first = job_of(&out);
        let view = view_until(&seat, "the first job", |v| !v.jobs.is_empty()).await;
        assert_eq!(view.left, Some(3));
        assert_eq!(view.jobs[0].job, first);
        assert_eq!(view.jobs[0].pages, Some(2));
        assert_eq!(view.jobs[0].verdict, Verdict::Visitor);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(
            printed(&home).is_empty(),
            "nothing prints before it is confirmed"
        );
        // The notice shows the job's pages and the free pages left, with "print".
        let (status, page) = notice(addr, "GET", "/fr/session", "").await;
        assert_eq!(status, 200);
        assert!(page.contains(&format!("Impression n° {first}")), "{page}");
        assert!(page.contains("Nombre de pages : 2"), "{page}");
        assert!(page.contains("Pages gratuites restantes : 3"), "{page}");
        assert!(page.contains(r#"value="imprimer""#), "{page}");
        assert!(
            !page.contains(TITLE) && !page.contains("avis.pdf"),
            "the title is never shown"
        );
        let (status, _) = notice(
            addr,
            "POST",
            "/fr/impression",
            &format!("travail={first}&action=imprimer"),
        )
        .await;
        assert_eq!(status, 303, "printed, back to the notice");
        eventually("the confirmed job's PDF", || {
            (printed(&home) == vec![2]).then_some(())
        })
        .await;
        assert!(!queued().iter().any(|j| j.ends_with(&format!("-{first}"))));
        assert_eq!(seat.print().view().await.left, Some(1));

        // One page, cancelled by the visitor: gone from CUPS, nothing printed.
        document(&home, uid, "brouillon.pdf", 1);
        let out = as_visitor(uid, &home, &format!("lp -d {PDF_PRINTER} brouillon.pdf"));
        let cancelled = job_of(&out);
        view_until(&seat, "the second job", |v| {
            v.jobs.iter().any(|j| j.job == cancelled)
        })
        .await;
        let (status, _) = notice(
            addr,
            "POST",
            "/fr/impression",
            &format!("travail={cancelled}&action=annuler"),
        )
        .await;
        assert_eq!(status, 303);
        assert!(!queued()
            .iter()
            .any(|j| j.ends_with(&format!("-{cancelled}"))));

        // One page twice (copies), claiming another user's name and to print at once:
        // it still waits, counts 2 pages, is beyond the 1 free page left: staff's.
        document(&home, uid, "attestation.pdf", 1);
        let out = as_visitor(
            uid,
            &home,
            &format!("lp -U someone-else -H immediate -n 2 -d {PDF_PRINTER} attestation.pdf"),
        );
        let beyond = job_of(&out);
        let view = view_until(&seat, "the job beyond the quota", |v| {
            v.jobs.iter().any(|j| j.job == beyond)
        })
        .await;
        let job = view.jobs.iter().find(|j| j.job == beyond).unwrap();
        assert_eq!(job.pages, Some(2));
        assert_eq!(job.verdict, Verdict::BeyondQuota);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            printed(&home),
            vec![2],
            "a job asking to print at once still waits"
        );
        // The notice offers only "cancel", and a forged "print" is refused.
        let (_, page) = notice(addr, "GET", "/fr/session", "").await;
        assert!(page.contains("plus que vos pages gratuites"), "{page}");
        assert_eq!(page.matches(r#"value="imprimer""#).count(), 0, "{page}");
        let (status, page) = notice(
            addr,
            "POST",
            "/fr/impression",
            &format!("travail={beyond}&action=imprimer"),
        )
        .await;
        assert_eq!(status, 409, "{page}");
        assert!(page.contains("attend un membre de l'équipe"), "{page}");
        // From another site's page, the form is refused before it counts.
        let (status, _) = tokio::task::spawn_blocking(move || {
            let reply = commune_tests::web::http(
                addr,
                "POST",
                "/fr/impression",
                &[
                    ("Origin", "http://evil.example"),
                    ("Content-Type", "application/x-www-form-urlencoded"),
                ],
                &format!("travail={beyond}&action=annuler"),
            );
            (reply.status, reply.body)
        })
        .await
        .unwrap();
        assert_eq!(status, 403);
        assert_eq!(
            seat.print().release(beyond, ReleasedBy::Visitor).await,
            Err(PrintRefusal::ForStaff)
        );
        // Someone else's number (no such job here) is refused too.
        assert_eq!(
            seat.print()
                .release(beyond + 1000, ReleasedBy::Visitor)
                .await,
            Err(PrintRefusal::NoSuchJob)
        );
        assert_eq!(
            seat.print().release(beyond, ReleasedBy::Staff).await,
            Ok(Some(2))
        );
        // cups-pdf writes one file per job (the copies are the PostScript's business).
        let after = eventually("the released job's PDF", || {
            let now = printed(&home);
            (now.len() == 2).then_some(now)
        })
        .await;
        assert!(after.iter().all(|p| *p >= 1), "{after:?}");

        // A flood: 200 jobs at once; the session keeps 20, the rest are cancelled.
        let out = as_visitor(
            uid,
            &home,
            &format!("for i in $(seq 200); do lp -d {PDF_PRINTER} attestation.pdf; done"),
        );
        assert_eq!(out.matches("request id").count(), 200, "{out}");
        let view = view_until(&seat, "the flood cut", |v| {
            v.jobs.len() == 20 && queued().len() == 20
        })
        .await;
        assert!(view.jobs.iter().all(|j| j.verdict == Verdict::BeyondQuota));

        // The session ends: every waiting job is purged by the wipe.
        let report = seat.end_session(EndReason::Visitor).await.unwrap();
        assert!(
            report.checks.iter().all(|c| c.passed),
            "{}",
            commune_agent::wipe::failure_summary(&report)
        );
        assert!(
            queued().is_empty(),
            "held jobs survived the session: {:?}",
            queued()
        );
        // The day's pages (2 confirmed, 2 released) are kept for a restart of the agent.
        let kept = std::fs::read_to_string(dir.path().join("print-day")).unwrap();
        assert!(kept.trim().ends_with(" 4"), "{kept:?}");

        let events = events.0.lock().unwrap().clone();
        let printing: Vec<&AgentEvent> = events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    AgentEvent::PagesPrinted(_)
                        | AgentEvent::PrintWaiting(_)
                        | AgentEvent::PrintWaitOver(_)
                )
            })
            .collect();
        assert!(printing.contains(&&AgentEvent::PagesPrinted(PagesPrinted {
            pages: 2,
            released_by: ReleasedBy::Visitor,
        })));
        assert!(printing.contains(&&AgentEvent::PagesPrinted(PagesPrinted {
            pages: 2,
            released_by: ReleasedBy::Staff,
        })));
        assert!(printing.contains(&&AgentEvent::PrintWaiting(PrintWaiting {
            job: beyond,
            pages: Some(2),
        })));
        assert!(printing.contains(&&AgentEvent::PrintWaitOver(PrintWaitOver { job: beyond })));
        let words = serde_json::to_string(&events).unwrap();
        for secret in [TITLE, "avis", "attestation", "brouillon"] {
            assert!(
                !words.contains(secret),
                "{secret:?} left the computer: {words}"
            );
        }
    });
}
