//! Printing knowingly, end to end with a real CUPS: in private namespaces (root, like the
//! agent's root tests), a real agent on the `linux-direct` platform (a real account per
//! session), linked over QUIC to a real controller, and the real dashboard, each in
//! Debian's Chromium (`tests/browser/check.mjs`). The visitor prints a 2-page PDF with
//! `lp`; the notice shows "Nombre de pages : 2" and the 3 free pages left; "Imprimer"
//! prints it through cups-pdf (2 pages, read back with poppler's `pdfinfo`). A second job
//! (1 page, 2 copies) is beyond the 1 page left: the notice offers only "cancel", the
//! seat's page on the dashboard lists it, a mediator presses "Lancer l'impression", and it
//! prints; the release is audited with the job's number and pages. The session's end
//! purges what still waits. The site's report counts 4 pages, 2 released by staff, on
//! the page and in `postes.csv`. Every new screen in French and Arabic passes axe-core
//! and is saved in `target/screenshots/`.
//!
//! Fails, never skips: it needs root, cupsd and cups-pdf.
#![recursion_limit = "256"]
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use commune_agent::config::PlatformKind;
use commune_agent::screens::i18n::{self, Texts};
use commune_controller::staff::Role;
use commune_protocol::messages::{EndReason, SeatState, SlotKind};
use commune_protocol::slots::SiteSchedule;
use commune_tests::printing::{pdf, queued};
use commune_tests::{enroll_agent, eventually, namespace, TestAgent, TestController, SITE};
use serde_json::json;

const PDF_PRINTER: &str = "commune-pdf";

fn t(texts: &Texts, lang: &str, id: &str) -> String {
    texts.get(i18n::language(lang).expect("language"), id, None)
}

/// `lp` as the visitor's account (`setpriv`, not the agent's code); the job's number.
fn print_as_visitor(uid: u32, home: &Path, name: &str, pages: usize, options: &str) -> u32 {
    let path = home.join(name);
    std::fs::write(&path, pdf(pages)).unwrap();
    std::os::unix::fs::chown(&path, Some(uid), Some(uid)).unwrap();
    let out = Command::new("setpriv")
        .args([
            "--reuid",
            &uid.to_string(),
            "--regid",
            &uid.to_string(),
            "--clear-groups",
            "sh",
            "-c",
            &format!("lp -d {PDF_PRINTER} {options} '{name}'"),
        ])
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .current_dir(home)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .find_map(|w| w.rsplit_once('-').and_then(|(_, n)| n.parse().ok()))
        .unwrap_or_else(|| panic!("lp: {text} {}", String::from_utf8_lossy(&out.stderr)))
}

/// The pages of each PDF cups-pdf wrote into the visitor's home (poppler's `pdfinfo`).
fn printed(home: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(home.join("PDF")) else {
        return Vec::new();
    };
    let mut pages: Vec<u32> = entries
        .flatten()
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

#[test]
fn a_visitor_sees_the_pages_and_prints_and_staff_release_the_job_beyond_the_free_pages() {
    const NAME: &str =
        "a_visitor_sees_the_pages_and_prints_and_staff_release_the_job_beyond_the_free_pages";
    if !namespace::test_inside(NAME) {
        return;
    }
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
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(body());
}

async fn body() {
    let shots = commune_tests::browser::screenshots();
    let shot = |name: &str| shots.join(name).display().to_string();
    let texts = Texts::load().expect("the screens' languages");
    let fr = |id| t(&texts, "fr", id);
    let ar = |id| t(&texts, "ar", id);

    let ctrl = TestController::start().await;
    let c = ctrl.controller.clone();
    let (mut config, _dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    config.sessions.platform = PlatformKind::LinuxDirect;
    config.sessions.linux = commune_agent::platform::linux::LinuxConfig {
        uid_first: 62_200,
        uid_last: 62_209,
        home_base: PathBuf::from("/home/commune"),
        home_size_mib: 64,
        skeleton: Path::new(env!("CARGO_MANIFEST_DIR")).join("../provisioning/skel"),
        cgroup_name: "commune-e2e-printing".into(),
        term_grace_ms: 200,
        ..Default::default()
    };
    // This machine's keyboards are not the test's business.
    config.guard.enabled = Some(false);
    config.screens.listen = "127.0.0.1:0".into();
    let seat = config.agent_id.clone();
    let cli = commune_controller::staff::StaffIdentity::cli();
    let mut model = SiteSchedule::always_open("Europe/Paris");
    model.seats = vec![seat.clone()];
    model.seat_policy.print_pages_per_session = 3;
    c.staff_api(&cli).set_schedule(SITE, model).await.unwrap();
    c.create_staff(
        "karim",
        "Karim",
        Role::Mediator,
        &[SITE.to_string()],
        "un mot de passe long",
    )
    .await
    .unwrap();
    c.create_staff(
        "marie",
        "Marie",
        Role::Staff,
        &[SITE.to_string()],
        "un mot de passe long",
    )
    .await
    .unwrap();

    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(20).await;
    let sessions = agent.sessions.clone().expect("a session manager");
    let screens = agent.screens.expect("the screens' address");
    eventually(30, "the seat is ready with the site's free pages", || {
        let sessions = sessions.clone();
        async move {
            let status = sessions.status();
            status.state == SeatState::Ready && status.greeter.print_pages_per_session == 3
        }
    })
    .await;
    let info = sessions.start_session(SlotKind::Free, None).await.unwrap();
    let (uid, home) = (info.uid, info.home.clone());
    let dashboard = commune_tests::web::serve_dashboard(c.clone()).await;

    // The first job: 2 pages, within the 3 free pages.
    let first = print_as_visitor(uid, &home, "avis-imposition.pdf", 2, "");
    eventually(30, "the notice knows the first job", || {
        let sessions = sessions.clone();
        async move {
            let view = sessions.print().view().await;
            view.jobs
                .iter()
                .any(|j| j.job == first && j.pages == Some(2))
        }
    })
    .await;
    assert!(
        printed(&home).is_empty(),
        "nothing prints before it is confirmed"
    );
    let visitor = json!({
        "baseUrl": format!("http://{screens}"),
        "timeoutSecs": 120,
        "stepTimeoutSecs": 10,
        "steps": [
            {"goto": "/ar/session"},
            {"expectText": ar("print-title")},
            {"expectText": ar("print-held")},
            {"expectText": ar("print-confirm")},
            {"expectJs": "document.documentElement.dir === 'rtl'"},
            {"axe": true},
            {"screenshot": shot("kiosk-impression-ar.png")},
            {"goto": "/fr/session"},
            {"expectText": fr("print-title")},
            {"expectText": format!("Impression n° {first}")},
            {"expectText": "Nombre de pages : 2"},
            {"expectText": "Pages gratuites restantes : 3"},
            {"axe": true},
            {"screenshot": shot("kiosk-impression-fr.png")},
            {"click": fr("print-confirm")},
            {"expectJs": "document.querySelectorAll('.print-job').length === 0"},
            {"expectText": fr("session-time-left")},
        ],
    });
    commune_tests::browser::run(&visitor, Duration::from_secs(150), |_| async {}).await;
    let mut waited = 0;
    while printed(&home) != vec![2] {
        assert!(
            waited < 300,
            "the confirmed job's PDF: {:?}",
            printed(&home)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }

    // The second: 1 page, 2 copies: beyond the 1 free page left.
    let beyond = print_as_visitor(uid, &home, "attestation.pdf", 1, "-n 2");
    eventually(
        30,
        "the job beyond the free pages reaches the controller",
        || {
            let waiting = c.waiting_print_jobs(&seat);
            async move { waiting == vec![(beyond, Some(2))] }
        },
    )
    .await;
    let visitor = json!({
        "baseUrl": format!("http://{screens}"),
        "timeoutSecs": 120,
        "stepTimeoutSecs": 10,
        "steps": [
            {"goto": "/fr/session"},
            {"expectText": fr("print-beyond")},
            {"expectText": "Pages gratuites restantes : 1"},
            {"expectJs": "document.querySelector('button[value=imprimer]') === null"},
            {"expectText": fr("print-cancel")},
            {"axe": true},
            {"screenshot": shot("kiosk-impression-equipe-fr.png")},
            {"goto": "/ar/session"},
            {"expectText": ar("print-beyond")},
            {"axe": true},
            {"screenshot": shot("kiosk-impression-equipe-ar.png")},
        ],
    });
    commune_tests::browser::run(&visitor, Duration::from_secs(150), |_| async {}).await;
    // Staff of another site cannot release it, whichever site they name; a number that
    // does not wait is refused to staff of the site too. Each refusal is audited.
    let stranger = commune_controller::staff::StaffIdentity {
        login: "lea".into(),
        display_name: "Léa".into(),
        role: Role::Staff,
        sites: vec!["mdh-autre".into()],
        site_scope: None,
        via: "web".into(),
        credential: commune_controller::staff::Credential::Account,
    };
    for site in [SITE, "mdh-autre"] {
        let refused = c
            .staff_api(&stranger)
            .release_print_job(site, &seat, beyond)
            .await;
        assert!(
            matches!(
                refused,
                Err(commune_controller::staff::StaffError::Forbidden(_))
            ),
            "{refused:?}"
        );
    }
    let karim = commune_controller::staff::StaffIdentity {
        login: "karim".into(),
        display_name: "Karim".into(),
        role: Role::Mediator,
        sites: vec![SITE.into()],
        site_scope: None,
        via: "web".into(),
        credential: commune_controller::staff::Credential::Account,
    };
    let unknown = c
        .staff_api(&karim)
        .release_print_job(SITE, &seat, beyond + 100)
        .await;
    assert!(
        matches!(
            unknown,
            Err(commune_controller::staff::StaffError::NotFound(_))
        ),
        "{unknown:?}"
    );
    assert_eq!(c.waiting_print_jobs(&seat), vec![(beyond, Some(2))]);
    let staff = json!({
        "baseUrl": format!("http://{dashboard}"),
        "user": "karim",
        "password": "un mot de passe long",
        "timeoutSecs": 120,
        "stepTimeoutSecs": 10,
        "steps": [
            {"viewport": {"width": 1280, "height": 900}},
            {"login": true},
            {"goto": format!("/postes/{seat}")},
            {"expectText": "Impressions en attente de l'équipe"},
            {"expectText": format!("Impression n° {beyond}")},
            {"expectText": "2 pages"},
            {"axe": true},
            {"screenshot": shot("poste-impression.png")},
            {"click": "Lancer l'impression"},
            {"expectNoText": "Impressions en attente de l'équipe"},
            {"axe": true},
        ],
    });
    commune_tests::browser::run(&staff, Duration::from_secs(150), |_| async {}).await;
    let mut waited = 0;
    while printed(&home).len() != 2 {
        assert!(waited < 300, "the released job's PDF: {:?}", printed(&home));
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    let audit = c
        .store()
        .audit_log(commune_protocol::UtcMillis(0))
        .await
        .unwrap();
    let release = audit
        .iter()
        .find(|e| e.action == "print.release")
        .expect("the release is audited");
    assert_eq!(release.actor, "karim");
    assert!(
        release
            .detail
            .contains(&format!("print job {beyond} (2 pages)")),
        "{}",
        release.detail
    );
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.action == "print.release.refused" && e.actor == "lea")
            .count(),
        2,
        "the other site's attempts are audited"
    );

    // A third job waits when the session ends: the wipe purges it. (While a released job
    // goes out, its queue refuses new jobs: the visitor's program would say so.)
    eventually(
        30,
        "the queue accepts jobs again after the release",
        || async {
            let out = Command::new("lpstat")
                .args(["-a", PDF_PRINTER])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).contains("accepting requests")
                && !String::from_utf8_lossy(&out.stdout).contains("not accepting")
        },
    )
    .await;
    print_as_visitor(uid, &home, "brouillon.pdf", 1, "");
    eventually(30, "the third job is seen", || {
        let sessions = sessions.clone();
        async move { sessions.print().view().await.jobs.len() == 1 }
    })
    .await;
    let report = sessions.end_session(EndReason::Visitor).await.unwrap();
    assert!(report.verified, "{report:?}");
    assert!(queued().is_empty(), "a held job survived: {:?}", queued());

    // The report: 4 pages, 2 released by staff, delivered over QUIC.
    let now = commune_controller::now();
    let from = now.plus_secs(-3600);
    let to = now.plus_secs(3600);
    eventually(30, "the pages reach the report", || {
        let c = c.clone();
        async move {
            c.site_report(SITE, from, to)
                .await
                .is_ok_and(|r| r.pages_printed() == (4, 2))
        }
    })
    .await;
    let csv = c
        .site_report(SITE, from, to)
        .await
        .unwrap()
        .seats_csv(SITE, from, to);
    let rows = commune_tests::parse_csv(&csv, ';');
    assert_eq!(rows[0][14], "pages_imprimees");
    assert_eq!(rows[0][15], "pages_lancees_par_equipe");
    let row = rows
        .iter()
        .find(|r| r.get(3) == Some(&seat))
        .expect("the seat's row");
    assert_eq!((row[14].as_str(), row[15].as_str()), ("4", "2"), "{row:?}");
    for name in ["avis-imposition", "attestation", "brouillon"] {
        assert!(!csv.contains(name), "a document's name reached the report");
    }
    let reports = json!({
        "baseUrl": format!("http://{dashboard}"),
        "user": "marie",
        "password": "un mot de passe long",
        "timeoutSecs": 60,
        "stepTimeoutSecs": 10,
        "steps": [
            {"login": true},
            {"goto": format!("/sites/{SITE}/rapports")},
            {"expectText": "Impressions"},
            {"expectJs": "document.getElementById('pages-imprimees').textContent.includes('4') && document.getElementById('pages-imprimees').textContent.includes('2')"},
            {"axe": true},
            {"screenshot": shot("rapport-impressions.png")},
        ],
    });
    commune_tests::browser::run(&reports, Duration::from_secs(90), |_| async {}).await;
    for name in [
        "kiosk-impression-ar.png",
        "kiosk-impression-fr.png",
        "kiosk-impression-equipe-fr.png",
        "kiosk-impression-equipe-ar.png",
        "poste-impression.png",
        "rapport-impressions.png",
    ] {
        assert!(shots.join(name).exists(), "{name}");
    }
}
