//! The visitor as an adversary: ordinary programs run as the session's account try to
//! leave something behind (files in a printer driver's spool, scheduled jobs, keys in every
//! keyring, print jobs under another name, FUSE mounts, escaped processes, a mount in a user
//! namespace, a browser profile and a download, an office document). For each, the wipe
//! verifies, and a second session on the **same uid** (a range of one uid forces reuse)
//! finds nothing of the first, searching with its own programs (find, keyctl, atq, lpstat),
//! not with the agent's code.
//!
//! Root, private namespaces (like `wipe_root.rs`); fails, never skips.

#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use commune_agent::platform::linux::{LinuxConfig, LinuxDirect};
use commune_agent::platform::{SessionPlatform, SessionSpec};
use commune_protocol::messages::SlotKind;
use commune_tests::namespace;

const PRINTER: &str = "commune-test";

fn inside_namespace(name: &str) -> bool {
    if namespace::test_inside(name) {
        namespace::prepare_session_places();
        // The schedulers' spools and the printer driver's spool on tmpfs, with their
        // packages' owners and modes, so nothing reaches this machine's disk.
        namespace::sh(
            r#"
            mkdir -p /var/spool/cron /var/spool/cups-pdf
            mount -t tmpfs -o mode=0755 tmpfs /var/spool/cron
            mkdir -p /var/spool/cron/crontabs /var/spool/cron/atjobs /var/spool/cron/atspool
            chown root:crontab /var/spool/cron/crontabs && chmod 1730 /var/spool/cron/crontabs
            chown daemon:daemon /var/spool/cron/atjobs /var/spool/cron/atspool
            chmod 1770 /var/spool/cron/atjobs /var/spool/cron/atspool
            touch /var/spool/cron/atjobs/.SEQ && chown daemon:daemon /var/spool/cron/atjobs/.SEQ
            mount -t tmpfs -o mode=0755 tmpfs /var/spool/cups-pdf
            mkdir -m 1777 /var/spool/cups-pdf/ANONYMOUS
            # /dev/fuse as a stock Debian with udev has it (0666), in this namespace only.
            mknod -m 0666 /run/fuse c 10 229 && mount --bind /run/fuse /dev/fuse
        "#,
        );
        namespace::start_cups(PRINTER);
        return true;
    }
    false
}

/// A platform whose range holds one uid: every session gets the same uid.
fn one_uid_platform(uid: u32, state: &Path) -> LinuxDirect {
    LinuxDirect::new(one_uid_platform_config(uid, state))
        .expect("platform (root, lockdown applied)")
}

/// Runs `script` as the account with `setpriv` (not the agent's code), returns its output.
fn as_visitor(uid: u32, home: &Path, script: &str, timeout: Duration) -> String {
    let mut child = Command::new("setpriv")
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
        .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
        .env("LANG", "C.UTF-8")
        .current_dir(home)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(_status) = child.try_wait().unwrap() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What visitor A leaves. Prints `PLANTED <channel>` for each channel that worked.
const VISITOR_A: &str = r#"
set +e
cd "$HOME"
echo "avis d'imposition" > Téléchargements/avis-imposition.pdf
# A printer driver's world-writable spool on the real disk.
echo secret > /var/spool/cups-pdf/ANONYMOUS/fiche-de-paie.pdf && echo PLANTED driver-spool
echo secret > /tmp/.cache-$$ && echo PLANTED tmp
# Scheduled jobs (refused by the lockdown; the test also runs with it broken).
echo 'cp -r "$HOME/Téléchargements" /tmp/stolen; chmod -R a+r /tmp/stolen' | at now + 2 minutes 2>/dev/null && echo PLANTED at
(echo '* * * * * cp -r "$HOME/Téléchargements" /tmp/stolen') | crontab - 2>/dev/null && echo PLANTED crontab
# A key in each keyring: user, user-session, session, and the persistent keyring that
# outlives the session and is handed to the uid's next process.
keyctl add user user-key secret-u @u >/dev/null && echo PLANTED key-user
keyctl add user user-session-key secret-us @us >/dev/null && echo PLANTED key-user-session
keyctl session - sh -c 'P=$(keyctl get_persistent @s) && keyctl add user persistent-key secret-p $P >/dev/null && echo PLANTED key-persistent'
# A print job under another user's name on a stopped queue, with its document.
lp -U root -d commune-test Téléchargements/avis-imposition.pdf >/dev/null 2>&1 && echo PLANTED print-as-root
lp -d commune-test -t "Titre secret" Téléchargements/avis-imposition.pdf >/dev/null 2>&1 && echo PLANTED print
# FUSE in the home and in /tmp; one daemon stopped so its mount would hang whoever touches it.
mkdir -p mnt /tmp/fuse-$$
bindfs --no-allow-other Téléchargements mnt 2>/dev/null && echo PLANTED fuse-home
bindfs --no-allow-other Téléchargements /tmp/fuse-$$ 2>/dev/null && echo PLANTED fuse-tmp
pkill -STOP -n -x bindfs 2>/dev/null
# Escaped processes: setsid and double fork.
(setsid sh -c 'while :; do sleep 1; done' </dev/null >/dev/null 2>&1 &) && echo PLANTED setsid
# A process in a user namespace of its own holding a mount with a document in it.
mkdir -p /tmp/ns-$$
(unshare --user --map-root-user --mount sh -c "mount -t tmpfs none /tmp/ns-$$ && echo secret > /tmp/ns-$$/doc && sleep 1000" </dev/null >/dev/null 2>&1 &)
sleep 0.5; echo PLANTED userns-mount
# POSIX shared memory and a SysV segment.
python3 -c "
import os
fd = os.open('/dev/shm/commune-shm', os.O_CREAT | os.O_RDWR, 0o600); os.write(fd, b'secret')
" && echo PLANTED posix-shm
"#;

const FIREFOX: &str = r#"
set +e
cd "$HOME"
mkdir -p Téléchargements
echo '<html><body>Attestation</body></html>' > /tmp/page-$$.html
timeout 90 firefox-esr --headless --no-remote --profile "$HOME/.mozilla/firefox/commune.default" \
    --screenshot "$HOME/Téléchargements/capture.png" "file:///tmp/page-$$.html" >/dev/null 2>&1
[ -s "$HOME/Téléchargements/capture.png" ] && echo PLANTED firefox
"#;

const LIBREOFFICE: &str = r#"
set +e
cd "$HOME"
printf 'Lettre a la CAF\n' > lettre.txt
timeout 120 soffice --headless --norestore --convert-to pdf --outdir "$HOME/Téléchargements" lettre.txt >/dev/null 2>&1
[ -s "$HOME/Téléchargements/lettre.pdf" ] && echo PLANTED libreoffice
"#;

/// What visitor B (same uid) looks for, with ordinary programs. Prints `FOUND <what>`.
const VISITOR_B: &str = r#"
set +e
me=$(id -u)
# Files owned by this uid outside the new home, on every file system.
find / -xdev \( -path /proc -o -path "$HOME" \) -prune -o -user "$me" -print 2>/dev/null | sed 's/^/FOUND file /'
for d in /tmp /var/tmp /dev/shm /dev/mqueue /run/lock /var/spool/cups-pdf/ANONYMOUS; do
  find "$d" -xdev -user "$me" 2>/dev/null | sed 's/^/FOUND file /'
done
ls /var/spool/cups-pdf/ANONYMOUS/ 2>/dev/null | sed 's/^/FOUND driver-spool /'
[ -e /tmp/stolen ] && echo FOUND stolen
keyctl search @u user user-key >/dev/null 2>&1 && echo FOUND key-user
keyctl search @us user user-session-key >/dev/null 2>&1 && echo FOUND key-user-session
keyctl session - sh -c 'P=$(keyctl get_persistent @s) && keyctl search $P user persistent-key >/dev/null 2>&1 && echo FOUND key-persistent'
crontab -l 2>/dev/null | grep -q . && echo FOUND crontab
lpstat -W all -o 2>/dev/null | sed 's/^/FOUND print-job /'
grep -h "user_id=$me" /proc/self/mountinfo | sed 's/^/FOUND fuse /'
ps -eo uid=,pid=,comm= | awk -v me="$me" -v self=$$ '$1==me && $2!=self {print}' | grep -v -e ' ps$' -e ' awk$' -e ' sh$' -e ' grep$' -e ' sed$' | sed 's/^/FOUND process /'
echo SEARCHED
"#;

fn planted(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.strip_prefix("PLANTED "))
        .map(str::to_owned)
        .collect()
}

/// The second visitor's search on the same uid: nothing found.
fn second_visitor_finds_nothing(platform: &LinuxDirect, uid: u32) {
    let spec = SessionSpec {
        session_id: "b".into(),
        kind: SlotKind::Free,
    };
    let b = platform.plan_account(&spec).unwrap();
    assert_eq!(
        b.uid, uid,
        "a range of one uid: the next visitor gets the same uid"
    );
    platform.create_account(&b).unwrap();
    let out = as_visitor(uid, &b.home, VISITOR_B, Duration::from_secs(120));
    assert!(out.contains("SEARCHED"), "the search did not finish: {out}");
    let found: Vec<&str> = out.lines().filter(|l| l.starts_with("FOUND")).collect();
    // What the root-side looks for: the spools a job would run from.
    let at_jobs: Vec<String> = std::fs::read_dir("/var/spool/cron/atjobs")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".SEQ")
        .collect();
    let crontabs = std::fs::read_dir("/var/spool/cron/crontabs")
        .unwrap()
        .count();
    let report = commune_agent::wipe::wipe(platform, &b, "b", true);
    assert!(
        found.is_empty(),
        "visitor B found visitor A's leftovers: {found:?}"
    );
    assert!(at_jobs.is_empty(), "at jobs left to run as B: {at_jobs:?}");
    assert_eq!(crontabs, 0, "a crontab is left to run as B");
    assert!(
        report.verified,
        "{}",
        commune_agent::wipe::failure_summary(&report)
    );
}

fn run_visitor_a(
    platform: &LinuxDirect,
    uid: u32,
    scripts: &[&str],
) -> (Vec<String>, commune_protocol::messages::WipeReport) {
    let spec = SessionSpec {
        session_id: "a".into(),
        kind: SlotKind::Free,
    };
    let a = platform.plan_account(&spec).unwrap();
    assert_eq!(a.uid, uid);
    platform.create_account(&a).unwrap();
    let mut all = Vec::new();
    for script in scripts {
        let out = as_visitor(uid, &a.home, script, Duration::from_secs(180));
        println!("{out}");
        all.extend(planted(&out));
    }
    // The visitor's processes and mounts really run/exist before the wipe.
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    println!("planted: {all:?}");
    let report = commune_agent::wipe::wipe(platform, &a, "a", true);
    println!(
        "{}",
        commune_agent::selftest::Outcome {
            report: report.clone(),
            planted: all.clone(),
            leftovers: Vec::new()
        }
        .render()
    );
    assert!(
        mounts.contains(&format!("user_id={uid}")),
        "the FUSE mounts were not made"
    );
    (all, report)
}

#[test]
fn leftovers_of_ordinary_programs_are_wiped_and_the_uids_next_holder_finds_nothing() {
    if !inside_namespace(
        "leftovers_of_ordinary_programs_are_wiped_and_the_uids_next_holder_finds_nothing",
    ) {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let uid = 61500;
    let platform = one_uid_platform(uid, state.path());
    // The printer driver's spool was found without being named anywhere.
    assert!(
        platform
            .capabilities()
            .writable_places
            .iter()
            .any(|p| p == Path::new("/var/spool/cups-pdf/ANONYMOUS")),
        "{:?}",
        platform.capabilities().writable_places
    );
    namespace::sh(&format!("cupsdisable {PRINTER}"));
    let (planted, report) = run_visitor_a(&platform, uid, &[VISITOR_A, FIREFOX, LIBREOFFICE]);
    for channel in [
        "driver-spool",
        "tmp",
        "key-user",
        "key-user-session",
        "key-persistent",
        "print-as-root",
        "print",
        "fuse-home",
        "fuse-tmp",
        "setsid",
        "userns-mount",
        "posix-shm",
        "firefox",
        "libreoffice",
    ] {
        assert!(
            planted.iter().any(|p| p == channel),
            "{channel} was not planted: {planted:?}"
        );
    }
    // The lockdown refused the schedulers to the visitor.
    assert!(
        !planted.iter().any(|p| p == "at" || p == "crontab"),
        "{planted:?}"
    );
    assert!(
        report.verified,
        "{}",
        commune_agent::wipe::failure_summary(&report)
    );
    for check in [
        "keys",
        "print_jobs",
        "scheduled",
        "files",
        "mounts",
        "records",
        "account",
    ] {
        let c = report.checks.iter().find(|c| c.name == check).unwrap();
        assert!(!c.method.is_empty() && c.passed, "{c:?}");
    }
    second_visitor_finds_nothing(&platform, uid);
}

#[test]
fn with_the_lockdown_broken_scheduled_jobs_are_still_removed_before_the_uid_is_reused() {
    if !inside_namespace(
        "with_the_lockdown_broken_scheduled_jobs_are_still_removed_before_the_uid_is_reused",
    ) {
        return;
    }
    // The agent refuses a computer without the lockdown, with what to change.
    namespace::sh("rm -f /etc/at.allow /etc/cron.allow");
    let state = tempfile::tempdir().unwrap();
    let uid = 61510;
    let refused = LinuxDirect::new(LinuxConfig {
        state_dir: state.path().to_path_buf(),
        skeleton: Path::new(env!("CARGO_MANIFEST_DIR")).join("../provisioning/skel"),
        uid_first: uid,
        uid_last: uid,
        ..LinuxConfig::default()
    })
    .unwrap_err()
    .to_string();
    assert!(refused.contains("/etc/cron.allow is missing"), "{refused}");
    assert!(refused.contains("commune-lockdown"), "{refused}");

    // IT turned the check off: the purge still removes what the schedulers hold.
    let platform = LinuxDirect::new(LinuxConfig {
        require_lockdown: false,
        ..one_uid_platform_config(uid, state.path())
    })
    .unwrap();
    let (planted, report) = run_visitor_a(&platform, uid, &[VISITOR_A]);
    assert!(planted.iter().any(|p| p == "at"), "{planted:?}");
    assert!(planted.iter().any(|p| p == "crontab"), "{planted:?}");
    let scheduled = report
        .checks
        .iter()
        .find(|c| c.name == "scheduled")
        .unwrap();
    assert!(scheduled.passed, "{scheduled:?}");
    let step = report
        .steps
        .iter()
        .find(|s| s.name == "scheduled_and_records")
        .unwrap();
    assert!(
        step.count >= 2,
        "the at job and the crontab were removed: {step:?}"
    );
    assert!(
        report.verified,
        "{}",
        commune_agent::wipe::failure_summary(&report)
    );
    second_visitor_finds_nothing(&platform, uid);
}

fn one_uid_platform_config(uid: u32, state: &Path) -> LinuxConfig {
    LinuxConfig {
        uid_first: uid,
        uid_last: uid,
        home_base: PathBuf::from("/home/commune"),
        home_size_mib: 512,
        skeleton: Path::new(env!("CARGO_MANIFEST_DIR")).join("../provisioning/skel"),
        state_dir: state.to_path_buf(),
        cgroup_name: format!("commune-hostile-{uid}"),
        term_grace_ms: 200,
        ..LinuxConfig::default()
    }
}

#[test]
fn a_session_process_holding_the_screens_port_is_evicted_and_a_root_one_is_not() {
    if !inside_namespace(
        "a_session_process_holding_the_screens_port_is_evicted_and_a_root_one_is_not",
    ) {
        return;
    }
    use commune_agent::platform::linux::machine::{evict_session_listeners, tcp_listeners};
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let serve = |uid: Option<u32>, port: u16| {
        let script = format!(
            "import socket,time\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(('127.0.0.1',{port})); s.listen()\ntime.sleep(1000)"
        );
        let mut cmd = match uid {
            Some(uid) => {
                let mut c = Command::new("setpriv");
                c.args([
                    "--reuid",
                    &uid.to_string(),
                    "--regid",
                    &uid.to_string(),
                    "--clear-groups",
                    "/usr/bin/python3",
                    "-c",
                    &script,
                ]);
                c
            }
            None => {
                let mut c = Command::new("/usr/bin/python3");
                c.args(["-c", &script]);
                c
            }
        };
        let child = commune_tests::ChildGuard(cmd.spawn().unwrap());
        let deadline = Instant::now() + Duration::from_secs(10);
        while tcp_listeners(port).is_empty() {
            assert!(
                Instant::now() < deadline,
                "the listener on {port} did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    };
    // A visitor's process (uid of the session range) took the port while the agent was down.
    let port = free_port();
    let mut visitor = serve(Some(61520), port);
    assert_eq!(tcp_listeners(port)[0].0, 61520);
    assert!(evict_session_listeners(port, 61000..=61999) >= 1);
    assert!(tcp_listeners(port).is_empty());
    assert!(
        visitor.0.try_wait().unwrap().is_some(),
        "the visitor's process was killed"
    );
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("the agent can bind the port now");

    // A root service on the port is IT's business: left alone, and binding fails loudly.
    let port = free_port();
    let mut service = serve(None, port);
    assert_eq!(evict_session_listeners(port, 61000..=61999), 0);
    assert!(
        service.0.try_wait().unwrap().is_none(),
        "a root process is not killed"
    );
    assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_err());
    service.kill();
}
