//! Prevention: what a session account must not be able to leave behind in the first place.
//!
//! Cheaper and surer than finding a leftover is never letting it be made. The Debian package
//! sets this up (`provisioning/lockdown/commune-lockdown`, run by its postinst); the agent
//! checks it when it starts and in `selftest`, and a computer where it does not hold runs no
//! session, with one sentence per point saying what to change:
//! - **cron and at**: `/etc/cron.allow` and `/etc/at.allow` exist (they take precedence
//!   over the `.deny` files) and name no session account, so a visitor cannot leave a job
//!   that runs later as the uid's next holder;
//! - **FUSE**: either no session account can mount FUSE (`/dev/fuse` closed to others and
//!   no setuid `fusermount`), or the FUSE control file system is there so the wipe can abort
//!   a session's FUSE connections before unmounting them (a dead or stalled FUSE daemon
//!   would otherwise hang the wipe and block the seat);
//! - **per-user journals**: journald keeps no per-uid journal (`SplitMode=none`), which the
//!   uid's next holder could read;
//! - **print queues**: CUPS keeps no job history, no job files and no page log
//!   (`PreserveJobHistory No`, `PreserveJobFiles No`, an empty `PageLogFormat`): titles and
//!   documents of a session's jobs are gone when the jobs are;
//! - **lingering**: with systemd running, a polkit rule refuses `loginctl enable-linger` to
//!   session accounts (a lingering user manager runs timers after the session).

use std::fs;
use std::os::unix::fs::MetadataExt as _;
#[cfg(test)]
use std::path::Path;
use std::path::PathBuf;

/// One point of the lockdown and whether it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    /// Short name (`cron`, `at`, `fuse`, `journal`, `cups`, `linger`).
    pub name: &'static str,
    /// Whether it holds (or does not apply: the program is not installed).
    pub holds: bool,
    /// What was found, or what to change when it does not hold.
    pub detail: String,
}

/// Where the lockdown looks; `/` on a computer, a throwaway tree in unit tests.
#[derive(Debug, Clone)]
pub struct Root(pub PathBuf);

impl Root {
    fn at(&self, path: &str) -> PathBuf {
        self.0.join(path.trim_start_matches('/'))
    }
    fn exists(&self, path: &str) -> bool {
        fs::symlink_metadata(self.at(path)).is_ok()
    }
}

const FIX: &str =
    "run /usr/lib/commune-agent/commune-lockdown as root (the agent package does at install)";

/// Checks every point. `name_prefix`: the session accounts' name prefix. `printing`:
/// whether a CUPS scheduler answers here.
pub fn check(root: &Root, name_prefix: &str) -> Vec<Point> {
    vec![
        allow_file(
            root,
            "cron",
            "/usr/bin/crontab",
            "/etc/cron.allow",
            name_prefix,
        ),
        allow_file(root, "at", "/usr/bin/at", "/etc/at.allow", name_prefix),
        fuse(root),
        journal(root),
        cups(root),
        cups_pdf(root),
        linger(root),
    ]
}

/// The first point that does not hold, as one sentence, or `None`.
pub fn refusal(points: &[Point]) -> Option<String> {
    let broken: Vec<String> = points
        .iter()
        .filter(|p| !p.holds)
        .map(|p| format!("{}: {}", p.name, p.detail))
        .collect();
    (!broken.is_empty()).then(|| {
        format!(
            "session accounts are not locked down on this computer ({}); {FIX}",
            broken.join("; ")
        )
    })
}

fn allow_file(root: &Root, name: &'static str, program: &str, allow: &str, prefix: &str) -> Point {
    if !root.exists(program) {
        return Point {
            name,
            holds: true,
            detail: format!("{program} is not installed"),
        };
    }
    let readable = fs::metadata(root.at(allow))
        .map(|m| m.mode() & 0o004 != 0)
        .unwrap_or(true);
    if !readable {
        return Point {
            name,
            holds: false,
            detail: format!(
                "{allow} is not readable by all: {program} runs as another user and ignores it"
            ),
        };
    }
    match fs::read_to_string(root.at(allow)) {
        Ok(text) => {
            let named: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| l.starts_with(prefix) || *l == "ALL")
                .collect();
            if named.is_empty() {
                Point {
                    name,
                    holds: true,
                    detail: format!("{allow} names no session account"),
                }
            } else {
                Point {
                    name,
                    holds: false,
                    detail: format!("{allow} lets session accounts schedule jobs ({})", named.join(", ")),
                }
            }
        }
        Err(_) => Point {
            name,
            holds: false,
            detail: format!(
                "{program} is installed and {allow} is missing, so session accounts can schedule jobs that run as the uid's next holder"
            ),
        },
    }
}

fn fuse(root: &Root) -> Point {
    let device_open = fs::metadata(root.at("/dev/fuse"))
        .map(|m| m.mode() & 0o006 != 0)
        .unwrap_or(false);
    let setuid_helper = [
        "/usr/bin/fusermount",
        "/usr/bin/fusermount3",
        "/bin/fusermount",
        "/bin/fusermount3",
    ]
    .iter()
    .any(|p| {
        fs::metadata(root.at(p))
            .map(|m| m.mode() & 0o4000 != 0 && m.mode() & 0o001 != 0)
            .unwrap_or(false)
    });
    if !device_open && !setuid_helper {
        return Point {
            name: "fuse",
            holds: true,
            detail: "session accounts cannot mount FUSE".into(),
        };
    }
    // The wipe aborts the session's FUSE connections through the control file system.
    if fusectl_available(root) {
        Point {
            name: "fuse",
            holds: true,
            detail: "session accounts can mount FUSE; the wipe aborts their connections (fusectl) before unmounting".into(),
        }
    } else {
        Point {
            name: "fuse",
            holds: false,
            detail: "session accounts can mount FUSE and the FUSE control file system (fusectl) is not available to abort their connections: remove the setuid bit of fusermount3 for others or load the fuse module".into(),
        }
    }
}

/// Whether `/sys/fs/fuse/connections` is mounted, or the kernel has fusectl to mount there.
pub fn fusectl_available(root: &Root) -> bool {
    root.exists("/sys/fs/fuse/connections")
        && fs::read_to_string("/proc/filesystems")
            .map(|t| t.lines().any(|l| l.trim_end().ends_with("fusectl")))
            .unwrap_or(false)
}

fn journal(root: &Root) -> Point {
    let installed = [
        "/lib/systemd/systemd-journald",
        "/usr/lib/systemd/systemd-journald",
    ]
    .iter()
    .any(|p| root.exists(p));
    if !installed {
        return Point {
            name: "journal",
            holds: true,
            detail: "journald is not installed".into(),
        };
    }
    // The last setting wins: journald.conf, then its drop-ins in name order.
    let mut files = vec![root.at("/etc/systemd/journald.conf")];
    for dir in [
        "/usr/lib/systemd/journald.conf.d",
        "/etc/systemd/journald.conf.d",
    ] {
        if let Ok(entries) = fs::read_dir(root.at(dir)) {
            let mut more: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            more.sort();
            files.extend(more);
        }
    }
    let mut split = None;
    for file in files {
        if let Ok(text) = fs::read_to_string(&file) {
            for line in text.lines() {
                if let Some(v) = line.trim().strip_prefix("SplitMode=") {
                    split = Some(v.trim().to_owned());
                }
            }
        }
    }
    if split.as_deref() == Some("none") {
        Point {
            name: "journal",
            holds: true,
            detail: "journald keeps no per-user journal (SplitMode=none)".into(),
        }
    } else {
        Point {
            name: "journal",
            holds: false,
            detail: "journald keeps a journal per user that the uid's next holder could read: set SplitMode=none".into(),
        }
    }
}

fn cups(root: &Root) -> Point {
    if !root.exists("/usr/sbin/cupsd") {
        return Point {
            name: "cups",
            holds: true,
            detail: "CUPS is not installed".into(),
        };
    }
    let text = fs::read_to_string(root.at("/etc/cups/cupsd.conf")).unwrap_or_default();
    let value = |key: &str| -> Option<String> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (k, v) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
                (k == key).then(|| v.trim().trim_matches('"').to_owned())
            })
            .next_back()
    };
    let mut missing = Vec::new();
    if value("PreserveJobHistory").map(|v| v.eq_ignore_ascii_case("no")) != Some(true) {
        missing.push("PreserveJobHistory No");
    }
    if value("PreserveJobFiles").map(|v| v.eq_ignore_ascii_case("no")) != Some(true) {
        missing.push("PreserveJobFiles No");
    }
    if value("PageLogFormat").map(|v| v.is_empty()) != Some(true) {
        missing.push("PageLogFormat \"\"");
    }
    if missing.is_empty() {
        Point {
            name: "cups",
            holds: true,
            detail: "CUPS keeps no job history, job files or page log".into(),
        }
    } else {
        Point {
            name: "cups",
            holds: false,
            detail: format!(
                "CUPS keeps the titles or documents of past print jobs: set {} in /etc/cups/cupsd.conf",
                missing.join(", ")
            ),
        }
    }
}

fn cups_pdf(root: &Root) -> Point {
    let Ok(text) = fs::read_to_string(root.at("/etc/cups/cups-pdf.conf")) else {
        return Point {
            name: "cups-pdf",
            holds: true,
            detail: "cups-pdf is not installed".into(),
        };
    };
    let umask = text
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("AnonUMask"))
        .map(|v| v.trim().to_owned())
        .next_back();
    if umask.as_deref() == Some("0077") || umask.as_deref() == Some("077") {
        Point {
            name: "cups-pdf",
            holds: true,
            detail: "anonymous PDF output is readable by its owner only".into(),
        }
    } else {
        Point {
            name: "cups-pdf",
            holds: false,
            detail: "cups-pdf leaves anonymous print output readable by everyone in its spool: set AnonUMask 0077 in /etc/cups/cups-pdf.conf".into(),
        }
    }
}

/// The polkit rule the package installs against lingering.
pub const LINGER_RULE: &str = "/etc/polkit-1/rules.d/50-commune-agent.rules";

fn linger(root: &Root) -> Point {
    if !root.exists("/run/systemd/system") {
        return Point {
            name: "linger",
            holds: true,
            detail: "systemd is not running: no user manager can linger".into(),
        };
    }
    if root.exists(LINGER_RULE) {
        Point {
            name: "linger",
            holds: true,
            detail: "polkit refuses lingering to session accounts".into(),
        }
    } else {
        Point {
            name: "linger",
            holds: false,
            detail: format!("session accounts could keep a user manager (timers) after the session: {LINGER_RULE} is missing"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for p in [
            "usr/bin",
            "usr/sbin",
            "etc/cups",
            "etc/systemd",
            "lib/systemd",
        ] {
            fs::create_dir_all(dir.path().join(p)).unwrap();
        }
        for p in [
            "usr/bin/crontab",
            "usr/bin/at",
            "usr/sbin/cupsd",
            "lib/systemd/systemd-journald",
        ] {
            fs::write(dir.path().join(p), "").unwrap();
        }
        dir
    }

    fn point(points: &[Point], name: &str) -> Point {
        points.iter().find(|p| p.name == name).unwrap().clone()
    }

    #[test]
    fn a_stock_debian_computer_is_refused_with_what_to_change() {
        let dir = tree();
        let points = check(&Root(dir.path().into()), "cmn-");
        for name in ["cron", "at", "journal", "cups"] {
            assert!(!point(&points, name).holds, "{name} should not hold");
        }
        let sentence = refusal(&points).unwrap();
        assert!(
            sentence.contains("/etc/cron.allow is missing"),
            "{sentence}"
        );
        assert!(sentence.contains("SplitMode=none"), "{sentence}");
        assert!(sentence.contains("PreserveJobHistory No"), "{sentence}");
        assert!(sentence.contains("commune-lockdown"), "{sentence}");
    }

    #[test]
    fn the_lockdown_script_makes_every_point_hold() {
        let dir = tree();
        fs::write(
            dir.path().join("etc/cups/cupsd.conf"),
            "LogLevel warn\nPreserveJobHistory Yes\n",
        )
        .unwrap();
        fs::write(dir.path().join("etc/at.deny"), "daemon\n").unwrap();
        fs::write(
            dir.path().join("etc/cups/cups-pdf.conf"),
            "Out ${HOME}/PDF\nAnonUMask 0000\n",
        )
        .unwrap();
        assert!(!point(&check(&Root(dir.path().into()), "cmn-"), "cups-pdf").holds);
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../provisioning/lockdown/commune-lockdown");
        let status = std::process::Command::new("sh")
            .arg(&script)
            .env("COMMUNE_LOCKDOWN_ROOT", dir.path())
            .status()
            .unwrap();
        assert!(status.success());
        let points = check(&Root(dir.path().into()), "cmn-");
        assert_eq!(refusal(&points), None, "{points:?}");
        // Run twice: nothing doubles, still holds.
        assert!(std::process::Command::new("sh")
            .arg(&script)
            .env("COMMUNE_LOCKDOWN_ROOT", dir.path())
            .status()
            .unwrap()
            .success());
        let conf = fs::read_to_string(dir.path().join("etc/cups/cupsd.conf")).unwrap();
        assert_eq!(conf.matches("PreserveJobHistory No").count(), 1, "{conf}");
        assert!(!conf.contains("PreserveJobHistory Yes"), "{conf}");
        assert_eq!(refusal(&check(&Root(dir.path().into()), "cmn-")), None);
    }

    #[test]
    fn an_allow_file_naming_session_accounts_does_not_hold() {
        let dir = tree();
        fs::write(dir.path().join("etc/cron.allow"), "root\ncmn-abc\n").unwrap();
        let p = point(&check(&Root(dir.path().into()), "cmn-"), "cron");
        assert!(!p.holds);
        assert!(p.detail.contains("cmn-abc"));
    }

    #[test]
    fn fuse_holds_when_closed_to_others() {
        let dir = tree();
        fs::write(dir.path().join("usr/bin/fusermount3"), "").unwrap();
        fs::set_permissions(
            dir.path().join("usr/bin/fusermount3"),
            fs::Permissions::from_mode(0o4750),
        )
        .unwrap();
        assert!(point(&check(&Root(dir.path().into()), "cmn-"), "fuse").holds);
    }
}
