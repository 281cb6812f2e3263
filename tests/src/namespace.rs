//! Private namespaces for the tests and benchmarks that need real accounts, mounts and
//! processes as root: the program re-runs itself under
//! `unshare --mount --pid --ipc --fork --mount-proc`, then prepares a throwaway copy of the
//! places a session can touch. Everything vanishes with the namespace.

use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

/// The environment variable that tells the re-run program it is inside.
pub const INSIDE: &str = "COMMUNE_IN_PRIVATE_NAMESPACES";

/// True when this process already runs inside the private namespaces.
pub fn inside() -> bool {
    std::env::var_os(INSIDE).is_some()
}

/// Re-runs this program with `args` inside fresh mount, PID and IPC namespaces. Panics
/// with a clear message when not root: these checks fail, they never skip.
pub fn rerun_inside(args: &[String]) -> ExitStatus {
    // SAFETY: geteuid has no preconditions.
    assert!(
        unsafe { libc::geteuid() } == 0,
        "this needs root (CI runs it as root): run `sudo .ci/run`"
    );
    let exe = std::env::current_exe().expect("own executable");
    Command::new("unshare")
        .args([
            "--mount",
            "--pid",
            "--ipc",
            "--fork",
            "--mount-proc",
            "--propagation",
            "private",
        ])
        .arg(exe)
        .args(args)
        .env(INSIDE, "1")
        .status()
        .expect("unshare (util-linux) must be installed")
}

/// For a test that needs the namespaces: true when this process already runs inside them
/// (the caller then sets the namespace up and runs its body); otherwise re-runs the test
/// `name` of this binary inside, asserts that it passed there, and returns false.
pub fn test_inside(name: &str) -> bool {
    if inside() {
        return true;
    }
    let args = ["--exact", name, "--nocapture", "--test-threads=1"].map(String::from);
    assert!(
        rerun_inside(&args).success(),
        "{name} failed inside its namespace"
    );
    false
}

/// Runs a shell script (`sh -e`); panics when it fails.
pub fn sh(script: &str) {
    let status = Command::new("sh")
        .args(["-ec", script])
        .status()
        .expect("sh");
    assert!(status.success(), "namespace setup failed: {script}");
}

/// Places the namespace covers with fresh tmpfs mounts.
const FRESH: &[&str] = &["/tmp", "/var/tmp", "/dev/shm", "/home"];

/// Inside the namespaces: an overlay on /etc (so `useradd`/`userdel` run for real and leave
/// no trace), tmpfs on /run, /home and every world-writable place, and a fresh mqueue. The
/// checkout and the build directory stay reachable at their paths even when they live under
/// one of those places (CI may check out under /tmp): they are bind-mounted back on top.
pub fn prepare_session_places() {
    let mut keep: Vec<std::path::PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        let dir = std::path::PathBuf::from(dir);
        keep.push(dir.parent().map(Path::to_path_buf).unwrap_or(dir));
    }
    if let Ok(exe) = std::env::current_exe() {
        // target/<profile>/deps/<test> → target
        if let Some(target) = exe.ancestors().nth(3) {
            keep.push(target.to_path_buf());
        }
    }
    keep.retain(|p| FRESH.iter().any(|f| p.starts_with(f)));
    keep.sort();
    keep.dedup();
    // A kept path inside another kept path comes back with it.
    let kept: Vec<_> = keep
        .iter()
        .filter(|p| !keep.iter().any(|q| q != *p && p.starts_with(q)))
        .cloned()
        .collect();
    let mut script = String::from("mount -t tmpfs -o mode=0755 tmpfs /run\nmkdir -p /run/keep\n");
    for (i, p) in kept.iter().enumerate() {
        script.push_str(&format!(
            "mkdir -p /run/keep/{i} && mount --bind '{}' /run/keep/{i}\n",
            p.display()
        ));
    }
    script.push_str(
        r#"
        mkdir -p /run/scratch/etc-up /run/scratch/etc-work /run/cups /run/lock
        chmod 1777 /run/lock
        mount -t overlay overlay -o lowerdir=/etc,upperdir=/run/scratch/etc-up,workdir=/run/scratch/etc-work /etc
        for d in /tmp /var/tmp /dev/shm; do mount -t tmpfs -o mode=1777 tmpfs $d; done
        mkdir -p /home && mount -t tmpfs -o mode=0755 tmpfs /home
        mkdir -p /dev/mqueue && mount -t mqueue mqueue /dev/mqueue
        "#,
    );
    for (i, p) in kept.iter().enumerate() {
        script.push_str(&format!(
            "mkdir -p '{0}' && mount --bind /run/keep/{i} '{0}'\n",
            p.display()
        ));
    }
    // The lockdown the agent's Debian package applies (cron, at, journald, CUPS, polkit),
    // on the overlay: the agent refuses sessions without it.
    script.push_str(&format!("sh '{}'\n", lockdown_script().display()));
    sh(&script);
}

/// The agent package's lockdown script, `provisioning/lockdown/commune-lockdown`.
pub fn lockdown_script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../provisioning/lockdown/commune-lockdown")
}

/// Inside the namespaces, after [`prepare_session_places`]: a CUPS scheduler on tmpfs
/// folders with one printer, `printer`, writing to /dev/null, configured by the lockdown
/// (no job history, job files or page log).
pub fn start_cups(printer: &str) {
    sh(r#"
        for d in /var/spool/cups /var/cache/cups /var/log/cups; do mkdir -p $d; mount -t tmpfs tmpfs $d; done
        mkdir -p /var/spool/cups/tmp
        chown root:lp /var/spool/cups /var/spool/cups/tmp
        chmod 0710 /var/spool/cups; chmod 1770 /var/spool/cups/tmp
        echo "FileDevice Yes" >> /etc/cups/cups-files.conf
    "#);
    let cupsd = Command::new("cupsd")
        .arg("-f")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cupsd (Debian package cups-daemon) must be installed");
    // The namespace's PID 1 is the caller; cupsd dies with it.
    std::mem::forget(cupsd);
    for _ in 0..100 {
        if Path::new("/run/cups/cups.sock").exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    sh(&format!("lpadmin -p {printer} -E -v file:///dev/null"));
}

/// The environment variable that tells the re-run program it is in its own network
/// namespace.
pub const INSIDE_NETWORK: &str = "COMMUNE_IN_NETWORK_NAMESPACE";

/// For a test that changes the network (firewall rules, a proxy): true when this process
/// already runs in a network namespace of its own, with only loopback, up (the caller then
/// runs its body); otherwise re-runs the test `name` of this binary under
/// `unshare --net`, asserts that it passed there, and returns false. Needs root (CI runs
/// as root): the rules vanish with the namespace, nothing outside it is touched.
pub fn test_in_network_namespace(name: &str) -> bool {
    if std::env::var_os(INSIDE_NETWORK).is_some() {
        sh("ip link set lo up");
        return true;
    }
    // SAFETY: geteuid has no preconditions.
    assert!(
        unsafe { libc::geteuid() } == 0,
        "this needs root (CI runs it as root): run `sudo .ci/run`"
    );
    let exe = std::env::current_exe().expect("own executable");
    let status = Command::new("unshare")
        .arg("--net")
        .arg(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(INSIDE_NETWORK, "1")
        .status()
        .expect("unshare (util-linux) must be installed");
    assert!(status.success(), "{name} failed in its network namespace");
    false
}
