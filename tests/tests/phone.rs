//! "Send to my phone", end to end: a real sandbox agent and its visitor screens, linked over
//! QUIC to a real controller and its dashboard, in Debian's Chromium, and the visitor's
//! phone as a second, phone-sized Chromium (`{"phone": …}` in `tests/browser/check.mjs`).
//!
//! A scanned payslip is sent from the documents list; the phone opens the link of the QR
//! code, downloads and decrypts it (Web Crypto), and the file it saves is compared byte for
//! byte with the one on the seat. The link is refused after its download, and another
//! after its time is over (the controller set to keep documents 30 s); the payslip goes
//! again to a phone in Arabic. The wipe report counts the three hand-offs. Afterwards the controller's files (its SQLite database
//! included), its metrics and every log line of the run (controller, dashboard and agent,
//! all levels of Commune's crates) are searched for the document's name and content:
//! nothing. Every new screen in French and Arabic passes axe-core and is saved in
//! `target/screenshots/telephone-*.png`.
#![recursion_limit = "256"]

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use commune_agent::config::PlatformKind;
use commune_agent::screens::i18n::{self, Texts};
use commune_protocol::messages::{EndReason, SeatState, SlotKind};
use commune_protocol::slots::SiteSchedule;
use commune_tests::{enroll_agent, eventually, TestAgent, TestController, SITE};
use serde_json::json;

const NAME: &str = "fiche de paie novembre.pdf";
const OTHER: &str = "avis-imposition.pdf";
/// Words of the payslip that must never reach the controller readable.
const MARKER: &str = "BULLETIN-DE-PAIE-ELODIE-MARCHAND-7731";

/// Every log line of this test binary, at every level of Commune's crates.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Files under `dir` (recursively) holding `needle`.
fn files_with(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file()
                && (contains(path.display().to_string().as_bytes(), needle)
                    || std::fs::read(&path).is_ok_and(|b| contains(&b, needle)))
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

fn t(texts: &Texts, lang: &str, id: &str) -> String {
    texts.get(i18n::language(lang).expect("language"), id, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanned_document_reaches_the_phone_sealed_once_and_leaves_nothing_on_the_controller() {
    let logs = Logs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter(
            "info,commune_controller=trace,commune_dashboard=trace,commune_agent=trace,commune_protocol=trace",
        )
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let shots = commune_tests::browser::screenshots();
    let shot = |name: &str| shots.join(name).display().to_string();
    let texts = Texts::load().expect("the screens' languages");
    let fr = |id| t(&texts, "fr", id);
    let ar = |id| t(&texts, "ar", id);

    // Documents wait 30 s for their phone here (15 minutes by default).
    let ctrl = TestController::start_with(|c| c.handoff.keep_secs = 30).await;
    let c = ctrl.controller.clone();
    let (mut config, agent_dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    config.sessions.platform = PlatformKind::Sandbox;
    config.screens.listen = "127.0.0.1:0".into();
    let seat = config.agent_id.clone();
    let cli = commune_controller::staff::StaffIdentity::cli();
    let mut model = SiteSchedule::always_open("Europe/Paris");
    model.seats = vec![seat.clone()];
    c.staff_api(&cli).set_schedule(SITE, model).await.unwrap();
    let dashboard = commune_tests::web::serve_dashboard(c.clone()).await;

    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(20).await;
    let sessions = agent.sessions.clone().expect("a session manager");
    let screens = agent.screens.expect("the screens' address");
    eventually(20, "the seat is ready and may send to phones", || {
        let sessions = sessions.clone();
        async move {
            let status = sessions.status();
            status.state == SeatState::Ready
                && status.greeter.send_to_phone
                && sessions.handoffs().available()
        }
    })
    .await;
    let session = sessions.start_session(SlotKind::Free, None).await.unwrap();

    // The visitor scanned a payslip (three link parts of sealed bytes) and downloaded a tax
    // notice.
    let home = session.home.clone();
    let mut payslip = format!("%PDF-1.4\n% {MARKER}\n").into_bytes();
    let mut x: u32 = 0x2545_f491;
    while payslip.len() < 600 * 1024 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        payslip.extend_from_slice(&x.to_le_bytes());
    }
    payslip.extend_from_slice(format!("\n{MARKER}\n%%EOF\n").as_bytes());
    std::fs::create_dir_all(home.join("Numérisations")).unwrap();
    std::fs::create_dir_all(home.join("Téléchargements")).unwrap();
    std::fs::write(home.join("Numérisations").join(NAME), &payslip).unwrap();
    std::fs::write(
        home.join("Téléchargements").join(OTHER),
        format!("%PDF-1.4 {MARKER} avis\n"),
    )
    .unwrap();
    eventually(10, "the documents are listed", || {
        let sessions = sessions.clone();
        async move { sessions.documents().await.len() == 2 }
    })
    .await;

    // A document that is not listed (a climb out of the home) is refused, with a sentence.
    let screens_addr = screens;
    let refused = tokio::task::spawn_blocking(move || {
        commune_tests::web::http(
            screens_addr,
            "POST",
            "/fr/telephone",
            &[],
            &commune_tests::web::form(&[("document", "../../../etc/passwd")]),
        )
    })
    .await
    .unwrap();
    assert_eq!(refused.status, 404, "{}", refused.body);
    assert!(refused.body.contains(&fr("phone-error-document")));
    assert_eq!(c.handoffs().usage(), (0, 0));

    let saved = tempfile::tempdir().unwrap();
    let saved_file = saved.path().join("telephone.pdf");
    let saved_again = saved.path().join("telephone-ar.pdf");
    let payslip_button = format!("form:has(input[value=\"Numérisations/{NAME}\"]) button");
    let notice_button = format!("form:has(input[value=\"Téléchargements/{OTHER}\"]) button");
    let phone_fr = commune_dashboard_texts("fr");
    let phone_ar = commune_dashboard_texts("ar");
    let scenario = json!({
        "baseUrl": format!("http://{screens}"),
        "timeoutSecs": 240,
        "stepTimeoutSecs": 15,
        "steps": [
            // The documents list in Arabic, then French: one button per document.
            {"goto": "/ar/fin"},
            {"expectText": ar("phone-send")},
            {"expectJs": "document.documentElement.dir === 'rtl'"},
            {"axe": true},
            {"screenshot": shot("telephone-liste-ar.png")},
            {"goto": "/fr/fin"},
            {"expectText": NAME},
            {"expectText": fr("phone-send")},
            {"expectText": fr("end-keep-phone")},
            {"axe": true},
            {"screenshot": shot("telephone-liste-fr.png")},
            // Sent: the QR code, the address, until when, and what the server can read.
            {"click": payslip_button},
            {"expectText": fr("phone-title")},
            {"expectText": fr("phone-scan")},
            {"expectText": fr("phone-private")},
            {"expectJs": "document.querySelector('.qr-code svg') !== null && document.getElementById('phone-link').href.includes('/telephone/') && /#k=[A-Za-z0-9_-]{43}$/.test(document.getElementById('phone-link').href)"},
            {"axe": true},
            {"screenshot": shot("telephone-code-fr.png")},
            {"goto": "/ar/telephone"},
            {"expectText": ar("phone-title")},
            {"axe": true},
            {"screenshot": shot("telephone-code-ar.png")},
            {"goto": "/fr/telephone"},
            // The phone scans it.
            {"phone": "#phone-link"},
            {"expectText": phone_fr.0},
            {"expectJs": "window.innerWidth < 500 && location.hash === '' && document.getElementById('get').hidden === false"},
            {"axe": true},
            {"screenshot": shot("telephone-page-fr.png")},
            {"download": {"click": phone_fr.1, "saveAs": saved_file.display().to_string()}},
            {"expectText": NAME},
            {"axe": true},
            {"screenshot": shot("telephone-recu-fr.png")},
            // Once only: the same address again.
            {"reloadUntilText": phone_fr.2},
            {"expectStatus": 404},
            {"axe": true},
            {"screenshot": shot("telephone-deja-fr.png")},
            // The payslip again, from the Arabic list, to a phone in Arabic.
            {"seat": true},
            {"goto": "/ar/fin"},
            {"click": payslip_button},
            {"expectText": ar("phone-title")},
            {"phone": "#phone-link"},
            {"expectJs": "document.documentElement.dir === 'rtl'"},
            {"download": {"click": phone_ar.1, "saveAs": saved_again.display().to_string()}},
            {"expectText": NAME},
            {"axe": true},
            {"screenshot": shot("telephone-recu-ar.png")},
            // The tax notice, from the Arabic list, to a phone in Arabic; not downloaded.
            {"seat": true},
            {"goto": "/ar/fin"},
            {"click": notice_button},
            {"expectText": ar("phone-title")},
            {"phone": "#phone-link"},
            {"expectText": phone_ar.0},
            {"expectJs": "document.documentElement.dir === 'rtl' && document.documentElement.lang === 'ar'"},
            {"axe": true},
            {"screenshot": shot("telephone-page-ar.png")},
            {"note": "the tax notice waits on the controller", "timeoutSecs": 60},
            {"reloadUntilText": phone_ar.2},
            {"axe": true},
            {"screenshot": shot("telephone-expire-ar.png")},
            // The list says what was sent, until when.
            {"seat": true},
            {"goto": "/fr/fin"},
            {"expectText": fr("phone-sent-title")},
            {"axe": true},
        ],
    });
    let c2 = c.clone();
    commune_tests::browser::run(&scenario, Duration::from_secs(300), move |note| {
        let c = c2.clone();
        async move {
            if note == "the tax notice waits on the controller" {
                assert_eq!(
                    c.handoffs().usage().0,
                    1,
                    "the payslip went at its download"
                );
                // Its 30 s pass: forgotten by the controller's sweep.
                eventually(45, "the tax notice expires", || {
                    let c = c.clone();
                    async move { c.handoffs().usage() == (0, 0) }
                })
                .await;
            }
        }
    })
    .await;

    // Byte for byte what the seat had.
    let received = std::fs::read(&saved_file).expect("the phone saved the document");
    assert_eq!(received.len(), payslip.len());
    assert!(
        received == payslip,
        "the phone's copy differs from the seat's"
    );

    // Each link refused afterwards, straight to the controller too.
    let links: Vec<String> = sessions
        .handoffs()
        .shown(&session.session_id)
        .into_iter()
        .map(|s| s.link)
        .collect();
    assert_eq!(links.len(), 3);
    for link in &links {
        let path = link
            .split_once("/telephone/")
            .map(|(_, rest)| format!("/telephone/{}", &rest[..32]))
            .unwrap();
        let reply = tokio::task::spawn_blocking(move || {
            commune_tests::web::http(dashboard, "POST", &path, &[], "")
        })
        .await
        .unwrap();
        assert_eq!(reply.status, 404, "{link}");
    }

    // The session ends: the wipe report counts the three hand-offs, and the keys are gone.
    let report = sessions.end_session(EndReason::Visitor).await.unwrap();
    assert!(report.verified);
    assert_eq!(report.handoffs, 3);
    assert!(sessions.handoffs().shown(&session.session_id).is_empty());
    eventually(20, "the controller stores the wipe report", || {
        let store = c.store().clone();
        let seat = seat.clone();
        async move {
            store.event_bodies(&seat).await.is_ok_and(|bodies| {
                bodies
                    .iter()
                    .any(|b| b.contains("\"wipe_report\"") && b.contains("\"handoffs\":3"))
            })
        }
    })
    .await;

    let metrics = ctrl.metrics().await;
    assert!(
        metrics.contains("commune_handoffs_total{outcome=\"stored\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("commune_handoffs_total{outcome=\"downloaded\"} 2"),
        "{metrics}"
    );

    // Nothing readable of the documents on the controller: its files (the SQLite
    // database with its journal), its metrics, and every log line of the run; nor in the
    // agent's own state (its outbox).
    let captured = logs.0.lock().unwrap().clone();
    assert!(
        captured.len() > 2_000,
        "the logs were captured: {}",
        String::from_utf8_lossy(&captured)
    );
    for needle in [MARKER, NAME, OTHER, "fiche de paie", "avis-imposition"] {
        let files = files_with(ctrl.dir.path(), needle.as_bytes());
        assert!(
            files.is_empty(),
            "{needle:?} found in the controller's {files:?}"
        );
        let files = files_with(agent_dir.path(), needle.as_bytes());
        assert!(
            files.is_empty(),
            "{needle:?} found in the agent's {files:?}"
        );
        assert!(!metrics.contains(needle));
        assert!(
            !contains(&captured, needle.as_bytes()),
            "{needle:?} found in the logs"
        );
    }
    // The logs do say documents went to phones (so they were looked at, not empty).
    assert!(contains(&captured, b"document for a phone"));

    for name in [
        "telephone-liste-ar.png",
        "telephone-liste-fr.png",
        "telephone-code-fr.png",
        "telephone-code-ar.png",
        "telephone-page-fr.png",
        "telephone-recu-fr.png",
        "telephone-deja-fr.png",
        "telephone-page-ar.png",
        "telephone-recu-ar.png",
        "telephone-expire-ar.png",
    ] {
        assert!(shots.join(name).exists(), "screenshot {name}");
    }
}

/// The phone page's title, button and "already used" sentence in `lang`, as the dashboard
/// shows them.
fn commune_dashboard_texts(lang: &str) -> (&'static str, &'static str, &'static str) {
    let t = commune_dashboard::phone_texts(lang);
    (t.0, t.1, t.2)
}
