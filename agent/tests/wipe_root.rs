//! Real wipes, as root, in private namespaces: real accounts (`useradd` on an overlay of
//! /etc), tmpfs homes, processes, SysV and POSIX IPC, keyrings, cgroups and a real CUPS
//! scheduler. Each test re-runs itself under
//! `unshare --mount --pid --ipc --fork --mount-proc`, so everything it makes vanishes with
//! the namespace. A capability this machine kind has (root, cgroup2, tmpfs `noswap`, user
//! namespaces, CUPS) that is missing makes the test fail, never skip.

#![cfg(target_os = "linux")]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use commune_agent::config::PlatformKind;
use commune_agent::manager::{self, SessionRules};
use commune_agent::outbox::Outbox;
use commune_agent::platform::linux::{LinuxConfig, LinuxDirect};
use commune_agent::platform::SessionPlatform;
use commune_agent::wipe::{Journal, Phase};
use commune_protocol::messages::{AgentEvent, AlertKind, EndReason, SlotKind};
use commune_tests::namespace;
use commune_tests::netcut::UdpProxy;
use commune_tests::{enroll_agent, eventually, ChildGuard, TestController};

const PRINTER: &str = "commune-test";

/// Runs `name` again inside fresh namespaces, or, when already inside, sets the namespace
/// up (accounts on an overlay of /etc, tmpfs everywhere a session writes, a real CUPS) and
/// returns true: the caller then runs the body.
fn inside_namespace(name: &str) -> bool {
    if namespace::test_inside(name) {
        namespace::prepare_session_places();
        namespace::start_cups(PRINTER);
        return true;
    }
    false
}

fn skeleton() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../provisioning/skel")
}

/// A platform on its own uid range and cgroup (tests of one run share the kernel's
/// keyrings and cgroup tree, which no namespace here separates).
fn linux_config(first: u32, state: &Path) -> LinuxConfig {
    LinuxConfig {
        uid_first: first,
        uid_last: first + 9,
        home_base: PathBuf::from("/home/commune"),
        home_size_mib: 256,
        skeleton: skeleton(),
        state_dir: state.to_path_buf(),
        cgroup_name: format!("commune-test-{first}"),
        ..LinuxConfig::default()
    }
}

fn require_capabilities(platform: &LinuxDirect) {
    let caps = platform.capabilities();
    assert!(
        caps.cgroup.is_some(),
        "cgroup2 must be mounted and writable here"
    );
    assert!(caps.tmpfs_noswap, "this kernel's tmpfs must take noswap");
    assert!(caps.printing, "the CUPS scheduler must answer");
    for place in ["/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue", "/run/lock"] {
        assert!(
            caps.writable_places.iter().any(|p| p == Path::new(place)),
            "{place} must be found as a writable place: {:?}",
            caps.writable_places
        );
    }
}

#[test]
fn end_session_leaves_no_process_file_ipc_key_print_job_or_account() {
    if !inside_namespace("end_session_leaves_no_process_file_ipc_key_print_job_or_account") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let platform = LinuxDirect::new(linux_config(61100, state.path())).expect("platform");
    require_capabilities(&platform);

    let outcome = commune_agent::selftest::run_on(&platform).expect("selftest");
    println!("{}", outcome.render());

    for channel in [
        "term-ignoring daemon",
        "respawner",
        "user namespace",
        "sysv shm/msg/sem",
        "posix mqueue",
        "user keyring",
        "held print job",
    ] {
        assert!(
            outcome.planted.iter().any(|p| p == channel),
            "canary not planted through {channel}"
        );
    }
    assert!(
        outcome.leftovers.is_empty(),
        "leftovers: {:?}",
        outcome.leftovers
    );
    assert!(outcome.report.verified, "report: {:?}", outcome.report);
    let names: Vec<&str> = outcome
        .report
        .checks
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    for check in [
        "processes",
        "mounts",
        "ipc",
        "keys",
        "print_jobs",
        "files",
        "account",
        "cgroup",
    ] {
        assert!(
            names.contains(&check),
            "check {check} missing from {names:?}"
        );
    }
    let print = outcome
        .report
        .steps
        .iter()
        .find(|s| s.name == "print")
        .expect("print step");
    assert_eq!(print.count, 1, "the held job was found and cancelled");
    assert!(outcome.report.swap.contains("noswap"));
    assert!(
        platform.quarantined().is_empty(),
        "uid released after verification"
    );

    // The same uid again (range of one after rotation is forced): a new process of the
    // recycled uid reads no key and finds no file of the previous visitor.
    let recycled = LinuxDirect::new(LinuxConfig {
        uid_last: 61100,
        ..linux_config(61100, state.path())
    })
    .expect("platform");
    let again = commune_agent::selftest::run_on(&recycled).expect("second selftest");
    assert!(again.passed(), "{}", again.render());
}

#[test]
fn a_root_process_holding_the_home_fails_the_wipe_loudly_and_blocks_the_seat() {
    if !inside_namespace(
        "a_root_process_holding_the_home_fails_the_wipe_loudly_and_blocks_the_seat",
    ) {
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let state = tempfile::tempdir().unwrap();
        let platform =
            std::sync::Arc::new(LinuxDirect::new(linux_config(61200, state.path())).unwrap());
        let outbox = Outbox::open(&state.path().join("outbox.db"), 1000)
            .await
            .unwrap();
        let (handle, _task) = manager::spawn(
            platform.clone(),
            outbox.clone(),
            state.path(),
            SessionRules::default(),
        );
        let info = handle.start_session(SlotKind::Free, None).await.unwrap();
        std::fs::write(info.home.join("Téléchargements/avis.pdf"), b"secret").unwrap();
        // A root process (not of the session's uid) with its working directory in the home.
        let mut holder = ChildGuard(
            Command::new("sleep")
                .arg("1000")
                .current_dir(&info.home)
                .spawn()
                .unwrap(),
        );
        let report = handle.end_session(EndReason::Visitor).await.unwrap();
        assert!(!report.verified);
        let unmount = report.steps.iter().find(|s| s.name == "unmount").unwrap();
        assert!(!unmount.ok);
        let detail = unmount.detail.clone().unwrap();
        assert!(detail.contains("NOT detached"), "{detail}");
        assert!(detail.contains(&holder.0.id().to_string()), "{detail}");
        // Nothing was lazily detached: the home is still mounted and still readable here.
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(mounts.contains(info.home.to_str().unwrap()));
        assert_eq!(
            std::fs::read(info.home.join("Téléchargements/avis.pdf")).unwrap(),
            b"secret"
        );
        let status = handle.status();
        assert_eq!(status.state, commune_protocol::messages::SeatState::Blocked);
        assert!(status.reason.unwrap().contains("NOT detached"));
        let refused = handle
            .start_session(SlotKind::Free, None)
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("blocked"), "{refused}");
        assert!(
            platform.quarantined().contains(&info.uid),
            "uid stays quarantined"
        );
        // The alert and the failed report are queued for the controller.
        let pending = outbox.pending(0, 100).await.unwrap();
        assert!(pending.iter().any(|e| matches!(&e.event,
            AgentEvent::Alert(a) if a.kind == AlertKind::WipeFailed)));
        assert!(pending.iter().any(|e| matches!(&e.event,
            AgentEvent::WipeReport(r) if !r.verified && r.session_id == info.session_id)));
        assert_eq!(
            Journal::new(state.path()).read().unwrap().unwrap().phase,
            Phase::Failed
        );

        // IT stops the holder; the retried wipe verifies and the uid is released.
        holder.kill();
        let account = Journal::new(state.path()).read().unwrap().unwrap().account;
        let retry = commune_agent::wipe::wipe(&*platform, &account, &info.session_id, true);
        assert!(
            retry.verified,
            "{}",
            commune_agent::wipe::failure_summary(&retry)
        );
        assert!(!platform.quarantined().contains(&info.uid));
    });
}

fn ctl(bin: &str, socket: &Path, args: &[&str]) -> std::process::Output {
    Command::new(bin)
        .arg("ctl")
        .arg("--socket")
        .arg(socket)
        .args(args)
        .output()
        .expect("commune-agent ctl")
}

const BIN: &str = env!("CARGO_BIN_EXE_commune-agent");

#[test]
fn sigkill_during_a_wipe_then_restart_completes_it_before_any_session_and_reports_once_online() {
    if !inside_namespace(
        "sigkill_during_a_wipe_then_restart_completes_it_before_any_session_and_reports_once_online",
    ) {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let ctrl = TestController::start().await;
        let proxy = UdpProxy::start(ctrl.addr).await.unwrap();
        let (mut config, dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
            .await
            .expect("enroll");
        config.controller = proxy.addr().to_string();
        config.sessions.platform = PlatformKind::LinuxDirect;
        config.sessions.ctl_socket = dir.path().join("ctl.sock");
        config.sessions.linux = LinuxConfig {
            // A long courtesy delay and a session that ignores SIGTERM: the wipe is slow
            // enough to be killed in the middle.
            term_grace_ms: 60_000,
            session_command: vec![
                "/bin/sh".into(),
                "-c".into(),
                "trap '' TERM; echo secret > /tmp/visitor-tmp; while :; do sleep 1; done".into(),
            ],
            ..linux_config(61300, &config.state_dir)
        };
        let config_path = dir.path().join("agent.toml");
        config.save(&config_path).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let socket = config.sessions.ctl_socket.clone();
        // systemd's readiness socket, as `Type=notify` gives it.
        let notify_path = dir.path().join("notify.sock");
        let notify = std::os::unix::net::UnixDatagram::bind(&notify_path).unwrap();
        notify
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let run = |log: &str| {
            let log = std::fs::File::create(dir.path().join(log)).unwrap();
            ChildGuard(
                Command::new(BIN)
                    .arg("--config")
                    .arg(&config_path)
                    .arg("run")
                    .env("NOTIFY_SOCKET", &notify_path)
                    .stdout(log.try_clone().unwrap())
                    .stderr(log)
                    .spawn()
                    .unwrap(),
            )
        };

        // The controller is unreachable for the whole session and its wipe.
        proxy.cut();
        let mut agent = run("run-1.log");
        let mut buf = [0u8; 64];
        let n = notify.recv(&mut buf).expect("READY=1 from the agent");
        assert_eq!(&buf[..n], b"READY=1");
        eventually(20, "control socket up", || async { socket.exists() }).await;
        let started = ctl(BIN, &socket, &["start-session", "--kind", "free"]);
        assert!(
            started.status.success(),
            "{}",
            String::from_utf8_lossy(&started.stderr)
        );
        let info: serde_json::Value = serde_json::from_slice(&started.stdout).unwrap();
        let session_id = info["session_id"].as_str().unwrap().to_owned();
        let uid = info["uid"].as_u64().unwrap() as u32;
        let home = PathBuf::from(info["home"].as_str().unwrap());
        assert!(info["account"].as_str().unwrap().starts_with("cmn-"));
        eventually(10, "the session wrote to /tmp", || async {
            Path::new("/tmp/visitor-tmp").exists()
        })
        .await;

        let ender = std::thread::spawn({
            let socket = socket.clone();
            move || ctl(BIN, &socket, &["end-session"])
        });
        let journal = Journal::new(&config.state_dir);
        eventually(10, "the wipe began", || async {
            matches!(journal.read(), Ok(Some(e)) if e.phase == Phase::Wiping)
        })
        .await;
        agent.kill();
        let _ = ender.join();
        assert!(home.exists(), "the wipe was interrupted before the unmount");

        let mut agent = run("run-2.log");
        // systemd hears "ready" (and lets the greeter start) only once the interrupted wipe
        // verified: its report is already written when the message arrives.
        let n = notify
            .recv(&mut buf)
            .expect("READY=1 from the restarted agent");
        assert_eq!(&buf[..n], b"READY=1");
        let report: serde_json::Value = serde_json::from_slice(
            &std::fs::read(config.state_dir.join("last-wipe-report.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(report["session_id"], session_id.as_str());
        assert_eq!(report["verified"], true);
        // The next session can only start once the interrupted wipe verified.
        let mut next = None;
        for _ in 0..200 {
            let out = ctl(BIN, &socket, &["start-session"]);
            if out.status.success() {
                next = Some(out);
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let Some(next) = next else {
            let log = std::fs::read_to_string(dir.path().join("run-2.log")).unwrap_or_default();
            let last = ctl(BIN, &socket, &["start-session"]);
            panic!(
                "no session could start after recovery: {}\n{log}",
                String::from_utf8_lossy(&last.stderr)
            );
        };
        let next: serde_json::Value = serde_json::from_slice(&next.stdout).unwrap();
        assert_ne!(next["session_id"].as_str().unwrap(), session_id);
        let report = ctl(BIN, &socket, &["last-wipe-report"]);
        let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
        assert_eq!(report["session_id"].as_str().unwrap(), session_id);
        assert_eq!(report["verified"], true, "{report}");
        // The next session writes the same file; the previous visitor's is gone.
        assert_ne!(next["uid"].as_u64().unwrap() as u32, uid, "uids rotate");
        if let Ok(meta) = std::fs::metadata("/tmp/visitor-tmp") {
            use std::os::unix::fs::MetadataExt;
            assert_ne!(
                meta.uid(),
                uid,
                "the interrupted session's /tmp file was removed"
            );
        }
        assert!(!home.exists());
        assert!(!std::fs::read_to_string("/etc/passwd")
            .unwrap()
            .lines()
            .any(|l| l.split(':').nth(2) == Some(&uid.to_string())));

        // The controller comes back: the end and the wipe report of the interrupted
        // session reach it.
        proxy.restore();
        let store = ctrl.controller.store();
        let id = config.agent_id.clone();
        eventually(30, "the wipe report reaches the controller", || async {
            store
                .sessions(
                    commune_protocol::UtcMillis(0),
                    commune_protocol::UtcMillis(i64::MAX),
                )
                .await
                .map(|s| {
                    s.iter()
                        .any(|s| s.session_id == session_id && s.ended_at.is_some())
                })
                .unwrap_or(false)
                && store
                    .event_kinds(&id)
                    .await
                    .map(|k| k.iter().any(|k| k == "wipe_report"))
                    .unwrap_or(false)
        })
        .await;
        agent.kill();
    });
}

#[test]
fn a_copy_of_the_home_kept_in_another_mount_namespace_fails_the_wipe() {
    if !inside_namespace("a_copy_of_the_home_kept_in_another_mount_namespace_fails_the_wipe") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let platform = LinuxDirect::new(linux_config(61400, state.path())).unwrap();
    let spec = commune_agent::platform::SessionSpec {
        session_id: "copy".into(),
        kind: SlotKind::Free,
    };
    let account = platform.plan_account(&spec).unwrap();
    platform.create_account(&account).unwrap();
    std::fs::write(
        account.home.join("Téléchargements/fiche-de-paie.pdf"),
        b"secret",
    )
    .unwrap();
    // A root service started during the session with private mounts: its namespace keeps a
    // copy of the home mount (and with it the data) after ours is unmounted.
    let mut service = ChildGuard(
        Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sleep", "1000"])
            .spawn()
            .unwrap(),
    );
    eventually_sync(|| {
        std::fs::read_to_string(format!("/proc/{}/mountinfo", service.0.id()))
            .map(|m| m.contains(account.home.to_str().unwrap()))
            .unwrap_or(false)
            && std::fs::read_link(format!("/proc/{}/ns/mnt", service.0.id())).ok()
                != std::fs::read_link("/proc/self/ns/mnt").ok()
    });
    let report = commune_agent::wipe::wipe(&platform, &account, "copy", true);
    assert!(!report.verified);
    let unmount = report.steps.iter().find(|s| s.name == "unmount").unwrap();
    assert!(
        unmount
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("NOT detached"),
        "{unmount:?}"
    );
    service.kill();
    let retry = commune_agent::wipe::wipe(&platform, &account, "copy", true);
    assert!(
        retry.verified,
        "{}",
        commune_agent::wipe::failure_summary(&retry)
    );
}

fn eventually_sync(check: impl Fn() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("condition not reached in 5 s");
}
