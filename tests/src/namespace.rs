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

fn sh(script: &str) {
    let status = Command::new("sh")
        .args(["-ec", script])
        .status()
        .expect("sh");
    assert!(status.success(), "namespace setup failed: {script}");
}

/// Inside the namespaces: an overlay on /etc (so `useradd`/`userdel` run for real and leave
/// no trace), tmpfs on /run, /home and every world-writable place, and a fresh mqueue.
pub fn prepare_session_places() {
    sh(r#"
        mount -t tmpfs -o mode=0755 tmpfs /run
        mkdir -p /run/scratch/etc-up /run/scratch/etc-work /run/cups /run/lock
        chmod 1777 /run/lock
        mount -t overlay overlay -o lowerdir=/etc,upperdir=/run/scratch/etc-up,workdir=/run/scratch/etc-work /etc
        for d in /tmp /var/tmp /dev/shm; do mount -t tmpfs -o mode=1777 tmpfs $d; done
        mkdir -p /home && mount -t tmpfs -o mode=0755 tmpfs /home
        mkdir -p /dev/mqueue && mount -t mqueue mqueue /dev/mqueue
    "#);
}

/// Inside the namespaces, after [`prepare_session_places`]: a CUPS scheduler on tmpfs
/// folders with one printer, `printer`, writing to /dev/null. CUPS keeps its defaults
/// (job history and files preserved), so a wipe must purge them itself.
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
