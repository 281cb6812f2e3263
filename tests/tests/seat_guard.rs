//! At the seat, against the people who abuse it: the device guard and stepping away, end to
//! end with a real controller, a real sandbox agent, the real visitor screens and the real
//! dashboard, in Debian's Chromium (`tests/browser/check.mjs`, axe-core on every screen,
//! screenshots in French and Arabic in `target/screenshots/garde-*.png`).
//!
//! - **Device guard.** The seat's devices are read from a sysfs-shaped tree the test owns
//!   (`[guard] sysfs`): this machine's kernel is built without `uinput` (and without
//!   `uhid`), so no virtual input device can be made here; the agent reads the tree with
//!   the same code as `/sys`. Where `/dev/uinput` works, a second test makes a real
//!   virtual keyboard and checks the guard sees it in the real `/sys`.
//!   The first screen says when the seat was checked; a keyboard plugged in locks it (the
//!   screen says so in the visitor's language, the device is inhibited, a new session is
//!   refused), the alert reaches the controller and the staff's pages at once; staff unlock
//!   it from the seat's page; another keyboard, and a mediator unlocks it at the seat with
//!   the PIN (a wrong PIN first); a mouse raises nothing. Each check is an event and an
//!   audit line.
//! - **Stepping away.** The visitor locks the session with a code, a wrong code is refused
//!   with the tries left, the right one gives the session back; five wrong codes end the
//!   session, which is wiped and reported as abandoned.
#![recursion_limit = "256"]

use std::path::Path;
use std::time::Duration;

use commune_agent::config::PlatformKind;
use commune_agent::guard::fake;
use commune_agent::screens::i18n::Texts;
use commune_controller::staff::Role;
use commune_protocol::messages::SeatState;
use commune_protocol::slots::SiteSchedule;
use commune_tests::{enroll_agent, eventually, TestAgent, TestController, SITE};
use serde_json::{json, Value};

const PIN: &str = "482913";
const USB: (&str, &str, &str) = ("0003", "046d", "c31c");
const SEAT_KEYBOARD: &str = "Clavier du poste";
const DOCUMENT: &str = "avis-imposition-2026.pdf";

fn t(texts: &Texts, lang: &str, id: &str) -> String {
    texts.get(
        commune_agent::screens::i18n::language(lang).unwrap(),
        id,
        None,
    )
}

fn shot(lang: &str, name: &str) -> Value {
    let path = commune_tests::browser::screenshots().join(format!("garde-{name}-{lang}.png"));
    json!({"screenshot": path.display().to_string()})
}

fn inhibited(sys: &Path, n: u32) -> String {
    std::fs::read_to_string(sys.join(format!("class/input/input{n}/inhibited")))
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyboard_plugged_in_locks_the_seat_until_staff_check_it_and_a_visitor_steps_away_with_a_code(
) {
    let texts = Texts::load().unwrap();
    let sys = tempfile::tempdir().unwrap();
    let sys_path = sys.path().to_path_buf();
    // The seat as IT installed it: its keyboard, mouse and power button.
    fake::plant(
        &sys_path,
        0,
        SEAT_KEYBOARD,
        USB,
        "usb-0000:00:14.0-1/input0",
        fake::KEYBOARD,
    )
    .unwrap();
    fake::plant(
        &sys_path,
        1,
        "Souris du poste",
        ("0003", "1a2c", "0042"),
        "usb-0000:00:14.0-2/input0",
        fake::MOUSE,
    )
    .unwrap();
    fake::plant(
        &sys_path,
        2,
        "Power Button",
        ("0019", "0000", "0001"),
        "PNP0C0C/button/input0",
        ("3", "10000000000000 0"),
    )
    .unwrap();

    let ctrl = TestController::start().await;
    let c = ctrl.controller.clone();
    let (mut config, _dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    config.sessions.platform = PlatformKind::Sandbox;
    config.screens.listen = "127.0.0.1:0".into();
    config.guard.enabled = Some(true);
    config.guard.sysfs = sys_path.clone();
    config.guard.poll_ms = 200;
    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(20).await;
    let seat = agent.config.agent_id.clone();
    let sessions = agent.sessions.clone().expect("a session manager");
    let screens = agent.screens.expect("the screens' address");
    let secret_file = agent.screens_secret.clone().expect("the greeter's secret");

    let mut model = SiteSchedule::always_open("Europe/Paris");
    model.seat_policy.step_away_minutes = 10;
    c.set_site_schedule(SITE, model).await.unwrap();
    c.set_mediator_pin(SITE, PIN).await.unwrap();
    eventually(20, "the seat has the site's PIN and is checked", || async {
        let s = sessions.status();
        s.state == SeatState::Ready && s.devices_checked_at.is_some()
    })
    .await;
    c.create_staff(
        "marie",
        "Marie",
        Role::Staff,
        &[SITE.to_string()],
        "un mot de passe long",
    )
    .await
    .unwrap();
    let dashboard = commune_tests::web::serve_dashboard(c.clone()).await;
    let d = |path: &str| format!("http://{dashboard}{path}");
    let s = |path: &str| format!("http://{screens}{path}");

    let checked_ms = sessions.status().devices_checked_at.unwrap();
    let checked_at = jiff::Timestamp::from_millisecond(checked_ms.0)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap());
    let start = tempfile::tempdir().unwrap();
    let mut steps = commune_tests::browser::greeter_start(screens, &secret_file, start.path());
    for lang in ["fr", "ar"] {
        let tr = |id: &str| t(&texts, lang, id);
        // "This computer was checked on …", with the check's own date and time.
        let checked = commune_agent::screens::i18n::Tr {
            texts: &texts,
            lang: commune_agent::screens::i18n::language(lang).unwrap(),
        }
        .with(
            "checked-on",
            &[
                ("date", checked_at.strftime("%d/%m/%Y").to_string().into()),
                ("time", checked_at.strftime("%H:%M").to_string().into()),
            ],
        );
        steps.extend([
            json!({"goto": s(&format!("/{lang}/"))}),
            // In French, the installation's check; in Arabic, after staff's check (the
            // note "staff unlocked" checks it moved), with its date.
            if lang == "fr" {
                json!({"expectText": checked})
            } else {
                json!({"expectJs": "/\\d\\d\\/\\d\\d\\/\\d{4}/.test(document.querySelector('p.checked').textContent)"})
            },
            json!({"axe": true}),
            shot(lang, "verifie"),
            json!({"note": format!("plug {lang}")}),
            json!({"expectText": tr("alarm-title")}),
            json!({"expectText": tr("alarm-no-password")}),
            json!({"expectJs": "document.body.dataset.state === 'device_alarm'"}),
            json!({"axe": true}),
            shot(lang, "alarme"),
        ]);
        if lang == "fr" {
            // Staff see it at once, on the seat map and the seat's page, and unlock it.
            steps.extend([
                json!({"note": "alarm reached the controller"}),
                json!({"login": true}),
                json!({"expectText": "Appareil branché : à vérifier"}),
                json!({"goto": d(&format!("/postes/{seat}"))}),
                json!({"expectText": "Appareil branché depuis la dernière vérification"}),
                json!({"axe": true}),
                json!({"screenshot": commune_tests::browser::screenshots().join("garde-tableau-de-bord.png").display().to_string()}),
                json!({"click": "J'ai vérifié le poste : déverrouiller"}),
                json!({"note": "staff unlocked"}),
                json!({"goto": s("/fr/")}),
                json!({"expectText": tr("welcome-title")}),
            ]);
        } else {
            // The mediator at the seat: a wrong PIN, then the right one.
            steps.extend([
                json!({"tabTo": tr("alarm-staff-label")}),
                json!({"type": "000000"}),
                json!({"press": "Enter"}),
                json!({"expectStatus": 422}),
                json!({"expectText": tr("error-pin")}),
                json!({"axe": true}),
                json!({"tabTo": tr("alarm-staff-label")}),
                json!({"type": PIN}),
                json!({"press": "Enter"}),
                json!({"expectText": tr("welcome-title")}),
                json!({"note": "mediator unlocked"}),
            ]);
        }
    }
    // Stepping away, in French and Arabic: a wrong code, then the right one; in French
    // then five wrong codes, which end the session.
    for lang in ["fr", "ar"] {
        let tr = |id: &str| t(&texts, lang, id);
        steps.extend([
            json!({"note": format!("session {lang}")}),
            json!({"goto": s(&format!("/{lang}/session"))}),
            json!({"expectText": tr("away-title")}),
            json!({"axe": true}),
            shot(lang, "absence-formulaire"),
            // Two different codes: refused, nothing locked.
            json!({"fill": {"selector": "#away-code", "value": "2468"}}),
            json!({"fill": {"selector": "#away-again", "value": "2469"}}),
            json!({"click": tr("away-submit")}),
            json!({"expectStatus": 422}),
            json!({"expectText": tr("away-error-mismatch")}),
            json!({"fill": {"selector": "#away-code", "value": "2468"}}),
            json!({"fill": {"selector": "#away-again", "value": "2468"}}),
            json!({"click": tr("away-submit")}),
            json!({"expectText": tr("away-locked-title")}),
            json!({"expectJs": "document.body.dataset.state === 'stepped_away'"}),
            json!({"note": "away"}),
            // Someone else at the seat meanwhile: the list of documents and "end the
            // session" lead back to the lock, and no document name shows.
            json!({"goto": s(&format!("/{lang}/fin"))}),
            json!({"expectText": tr("away-locked-title")}),
            json!({"expectNoText": DOCUMENT}),
            json!({"goto": s(&format!("/{lang}/"))}),
            json!({"expectText": tr("away-locked-title")}),
            json!({"axe": true}),
            shot(lang, "absence-verrouillee"),
            json!({"fill": {"selector": "#back-code", "value": "1111"}}),
            json!({"click": tr("away-back-submit")}),
            json!({"expectStatus": 422}),
            json!({"expectText": tr("away-error-wrong")}),
            json!({"expectJs": "document.querySelector('#error').textContent.includes('4')"}),
            json!({"axe": true}),
            shot(lang, "absence-code-faux"),
            json!({"fill": {"selector": "#back-code", "value": "2468"}}),
            json!({"click": tr("away-back-submit")}),
            json!({"expectText": tr("session-title")}),
            json!({"expectJs": "document.body.dataset.state === 'in_session'"}),
        ]);
    }
    let fr = |id: &str| t(&texts, "fr", id);
    steps.extend([
        json!({"goto": s("/fr/session")}),
        json!({"fill": {"selector": "#away-code", "value": "97531"}}),
        json!({"fill": {"selector": "#away-again", "value": "97531"}}),
        json!({"click": fr("away-submit")}),
        json!({"expectText": fr("away-locked-title")}),
        // Someone plugs a keyboard into the paused seat: it stays paused.
        json!({"note": "keyboard while away"}),
        json!({"goto": s("/fr/session")}),
        json!({"expectText": fr("away-locked-title")}),
        json!({"expectJs": "document.body.dataset.state === 'stepped_away'"}),
    ]);
    for _ in 0..5 {
        steps.extend([
            json!({"fill": {"selector": "#back-code", "value": "0000"}}),
            json!({"click": fr("away-back-submit")}),
        ]);
    }
    steps.extend([
        json!({"expectText": fr("erased-title"), "timeoutSecs": 40}),
        json!({"note": "abandoned"}),
    ]);

    let scenario = json!({
        "baseUrl": format!("http://{dashboard}"),
        "user": "marie",
        "password": "un mot de passe long",
        "timeoutSecs": 400,
        "stepTimeoutSecs": 15,
        "steps": steps,
    });
    let plugged = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(10));
    let screens_addr = screens;
    commune_tests::browser::run(&scenario, Duration::from_secs(460), |note| {
        let (c, sessions, seat, sys, plugged) = (
            c.clone(),
            sessions.clone(),
            seat.clone(),
            sys_path.clone(),
            plugged.clone(),
        );
        async move {
            match note.as_str() {
                n if n.starts_with("plug") => {
                    // A mouse first: new, and nothing happens.
                    let n = plugged.fetch_add(2, std::sync::atomic::Ordering::SeqCst);
                    fake::plant(
                        &sys,
                        n,
                        "USB Optical Mouse",
                        ("0003", "0461", "4d81"),
                        "usb-0000:00:14.0-3/input0",
                        fake::MOUSE,
                    )
                    .unwrap();
                    tokio::time::sleep(Duration::from_millis(800)).await;
                    assert_eq!(
                        sessions.status().state,
                        SeatState::Ready,
                        "a mouse raises no alarm"
                    );
                    // The same keyboard model in another socket: a keylogger between the
                    // keyboard and the computer shows as one.
                    fake::plant(
                        &sys,
                        n + 1,
                        SEAT_KEYBOARD,
                        USB,
                        &format!("usb-0000:00:14.0-{n}/input0"),
                        fake::KEYBOARD,
                    )
                    .unwrap();
                    let status = sessions
                        .wait_for(|s| s.state == SeatState::DeviceAlarm)
                        .await;
                    let alarm = status.device_alarm.expect("what was plugged in");
                    assert!(
                        alarm.contains("clavier") && alarm.contains(SEAT_KEYBOARD),
                        "{alarm}"
                    );
                    assert_eq!(
                        inhibited(&sys, n + 1),
                        "1",
                        "what the new keyboard types goes nowhere"
                    );
                    assert_eq!(inhibited(&sys, 0), "0");
                    // No session starts meanwhile, whatever asks.
                    let refused = sessions
                        .start_session(commune_protocol::messages::SlotKind::Free, None)
                        .await
                        .unwrap_err()
                        .to_string();
                    assert!(refused.contains("device"), "{refused}");
                }
                "alarm reached the controller" => {
                    eventually(20, "the controller has the alert and the state", || async {
                        let bodies = c.store().event_bodies(&seat).await.unwrap();
                        c.live_seat_states().get(&seat).map(String::as_str) == Some("device_alarm")
                            && bodies
                                .iter()
                                .any(|b| b.contains("device_attached") && b.contains(SEAT_KEYBOARD))
                    })
                    .await;
                    let alerts = c.fleet_alerts().await.unwrap();
                    assert!(
                        alerts
                            .iter()
                            .any(|a| a.agent_id == seat && a.kind == "device_alarm"),
                        "{alerts:?}"
                    );
                }
                "staff unlocked" | "mediator unlocked" => {
                    sessions.wait_for(|s| s.state == SeatState::Ready).await;
                    let n = plugged.load(std::sync::atomic::Ordering::SeqCst) - 1;
                    assert_eq!(inhibited(&sys, n), "0", "an accepted keyboard types again");
                    assert!(
                        sessions.status().devices_checked_at > Some(checked_ms),
                        "the check is recorded"
                    );
                    let by = if note == "staff unlocked" {
                        "\"staff\""
                    } else {
                        "\"mediator_pin\""
                    };
                    eventually(20, "the check reaches the controller", || async {
                        c.store()
                            .event_bodies(&seat)
                            .await
                            .unwrap()
                            .iter()
                            .any(|b| {
                                b.contains("devices_checked")
                                    && b.contains(by)
                                    && b.contains("\"new_devices\":2")
                            })
                    })
                    .await;
                    if note == "staff unlocked" {
                        let audit = c
                            .store()
                            .audit_log(commune_protocol::UtcMillis(0))
                            .await
                            .unwrap();
                        assert!(
                            audit.iter().any(|e| e.action == "devices.accept"
                                && e.actor == "marie"
                                && e.detail.contains(&seat)),
                            "{audit:?}"
                        );
                    }
                    assert!(c
                        .fleet_alerts()
                        .await
                        .unwrap()
                        .iter()
                        .all(|a| a.kind != "device_alarm" || a.agent_id != seat));
                }
                n if n.starts_with("session") => {
                    // The previous language's visitor leaves first.
                    if sessions.status().session.is_some() {
                        sessions
                            .end_session(commune_protocol::messages::EndReason::Visitor)
                            .await
                            .unwrap();
                    }
                    sessions
                        .start_session(commune_protocol::messages::SlotKind::Free, None)
                        .await
                        .unwrap();
                }
                "away" => {
                    let status = sessions.status();
                    assert_eq!(status.state, SeatState::SteppedAway);
                    let info = status.session.expect("the session runs on");
                    let downloads = info.home.join("Téléchargements");
                    std::fs::create_dir_all(&downloads).unwrap();
                    std::fs::write(downloads.join(DOCUMENT), b"%PDF-1.7").unwrap();
                    eventually(10, "the seat sees the document", || async {
                        !sessions.documents().await.is_empty()
                    })
                    .await;
                    let left = info.away_seconds_left().unwrap();
                    assert!((590..=600).contains(&left), "{left}");
                    eventually(20, "the dashboard sees the visitor away", || async {
                        c.live_seat_states().get(&seat).map(String::as_str) == Some("stepped_away")
                    })
                    .await;
                }
                "keyboard while away" => {
                    let n = plugged.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    fake::plant(
                        &sys,
                        n,
                        "Clavier inconnu",
                        ("0003", "abcd", "0001"),
                        "usb-0000:00:14.0-9/input0",
                        fake::KEYBOARD,
                    )
                    .unwrap();
                    eventually(10, "the alarm is raised", || async {
                        sessions.status().device_alarm.is_some()
                    })
                    .await;
                    let status = sessions.status();
                    assert_eq!(status.state, SeatState::SteppedAway, "the pause holds");
                    assert!(status.session.unwrap().away_until.is_some());
                    // "End my session" posted by anyone at the seat: back to the pause.
                    let screens = screens_addr;
                    let reply = tokio::task::spawn_blocking(move || {
                        commune_tests::web::http(screens, "POST", "/fr/fin", &[], "")
                    })
                    .await
                    .unwrap();
                    assert_eq!(reply.status, 303, "{}", reply.body);
                    assert!(reply
                        .header("location")
                        .unwrap_or_default()
                        .ends_with("/fr/pause"));
                    assert!(sessions.status().session.is_some(), "still running");
                }
                "abandoned" => {
                    // Wiped, and still locked by the keyboard plugged in meanwhile.
                    sessions
                        .wait_for(|s| s.state == SeatState::DeviceAlarm && s.session.is_none())
                        .await;
                    sessions
                        .accept_devices(commune_protocol::messages::CheckedBy::Staff, None)
                        .await
                        .unwrap();
                    sessions.wait_for(|s| s.state == SeatState::Ready).await;
                    assert!(sessions.last_wipe_report().unwrap().verified);
                    eventually(20, "the controller has the abandoned session", || async {
                        c.store()
                            .event_bodies(&seat)
                            .await
                            .unwrap()
                            .iter()
                            .any(|b| b.contains("\"abandoned\""))
                    })
                    .await;
                }
                other => panic!("unexpected note {other}"),
            }
        }
    })
    .await;
}

/// Where the kernel can make a virtual keyboard (`/dev/uinput`), the guard finds it in the
/// real `/sys` and classes it as a keyboard. This machine's kernel has no `uinput`: the test
/// says so and checks that the kernel indeed lacks it (`/proc/misc`), so that it cannot
/// pass by mistake on a machine where uinput exists but fails to open.
#[test]
fn a_real_virtual_keyboard_is_seen_in_sys_where_the_kernel_has_uinput() {
    let misc = std::fs::read_to_string("/proc/misc").unwrap_or_default();
    let has_uinput = misc.lines().any(|l| l.trim().ends_with(" uinput"));
    if !has_uinput {
        eprintln!("this kernel has no uinput (/proc/misc): the sysfs-tree test covers the guard");
        assert!(!Path::new("/dev/uinput").exists() || std::fs::File::open("/dev/uinput").is_err());
        return;
    }
    let keyboard = commune_tests::uinput::VirtualKeyboard::create("Commune test keyboard")
        .expect("/dev/uinput (root)");
    let devices = commune_agent::guard::scan_input(Path::new("/sys"));
    let found = devices
        .iter()
        .find(|d| d.name == "Commune test keyboard")
        .expect("the virtual keyboard in /sys/class/input");
    assert_eq!(found.kind, commune_agent::guard::DeviceKind::Keyboard);
    drop(keyboard);
}

/// A site that refuses USB sticks: a stick plugged in is switched off by its USB
/// authorisation (nothing on it is read), the visitor's notice says why, and neither the
/// charter nor the end screen suggests a stick. The stick is planted in the sysfs-shaped
/// tree as the kernel lays it out (`block/sdX/device` → a SCSI disk under a USB device).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_usb_stick_is_switched_off_where_the_site_refuses_them_and_the_screens_say_why() {
    let texts = Texts::load().unwrap();
    let sys = tempfile::tempdir().unwrap();
    fake::plant(
        sys.path(),
        0,
        SEAT_KEYBOARD,
        USB,
        "usb-0000:00:14.0-1/input0",
        fake::KEYBOARD,
    )
    .unwrap();
    let ctrl = TestController::start().await;
    let c = ctrl.controller.clone();
    let (mut config, _dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    config.sessions.platform = PlatformKind::Sandbox;
    config.screens.listen = "127.0.0.1:0".into();
    config.guard.enabled = Some(true);
    config.guard.sysfs = sys.path().to_path_buf();
    config.guard.poll_ms = 200;
    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(20).await;
    let sessions = agent.sessions.clone().unwrap();
    let screens = agent.screens.unwrap();
    let mut model = SiteSchedule::always_open("Europe/Paris");
    model.seat_policy.usb_storage = commune_protocol::schedule::UsbStorage::Refused;
    c.set_site_schedule(SITE, model).await.unwrap();
    eventually(20, "the seat has the site's policy", || async {
        sessions.status().greeter.usb_refused
    })
    .await;
    let get = |path: &'static str| async move {
        tokio::task::spawn_blocking(move || commune_tests::web::http(screens, "GET", path, &[], ""))
            .await
            .unwrap()
    };
    let fr = |id: &str| t(&texts, "fr", id);
    let charter = get("/fr/charte").await;
    assert!(
        charter.body.contains(&fr("charter-rules-3-no-usb")),
        "{}",
        charter.body
    );
    assert!(!charter.body.contains("clé USB ou"), "{}", charter.body);

    sessions
        .start_session(commune_protocol::messages::SlotKind::Free, None)
        .await
        .unwrap();
    // The stick, as the kernel lays it out.
    let usb = sys.path().join("devices/pci0000:00/0000:00:14.0/usb1/1-3");
    let disk = usb.join("1-3:1.0/host7/target7:0:0/7:0:0:0");
    std::fs::create_dir_all(&disk).unwrap();
    std::fs::write(usb.join("authorized"), "1").unwrap();
    std::fs::write(usb.join("idVendor"), "0781").unwrap();
    std::fs::create_dir_all(sys.path().join("block/sdb")).unwrap();
    std::os::unix::fs::symlink(&disk, sys.path().join("block/sdb/device")).unwrap();
    eventually(10, "the stick is switched off", || async {
        std::fs::read_to_string(usb.join("authorized"))
            .unwrap()
            .trim()
            == "0"
            && sessions.status().usb_refused_at.is_some()
    })
    .await;
    // An input device was not plugged in: no alarm.
    assert_eq!(sessions.status().state, SeatState::InSession);
    let notice = get("/fr/session").await;
    assert!(
        notice
            .body
            .contains(&fr("usb-refused").replace('\'', "&#39;"))
            || notice.body.contains(&fr("usb-refused")),
        "{}",
        notice.body
    );
    let end = get("/fr/fin").await;
    assert!(!end.body.contains(&fr("end-keep-usb")), "{}", end.body);
    assert!(end.body.contains(&fr("end-keep-print")), "{}", end.body);
}
