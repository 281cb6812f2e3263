//! `commune-agent selftest`: the commissioning check of a public computer.
//!
//! A synthetic session plants canaries through every channel a visitor could use (files in
//! the home and in every writable place, SysV and POSIX IPC, a key in the user keyring, a
//! held print job, a process that ignores SIGTERM, a fast respawner, a process inside its own
//! user namespace), then the session is wiped exactly as a visitor's would be. Afterwards an
//! independent search, which does not trust the wipe's own checks, looks for every canary.

use std::path::{Path, PathBuf};
use std::time::Duration;

use commune_protocol::messages::{SlotKind, WipeReport};

use crate::platform::linux::{LinuxConfig, LinuxDirect};
use crate::platform::{Account, SessionPlatform, SessionSpec};
use crate::AgentError;

/// The canary's name: in file names, IPC names and the key description.
pub const CANARY: &str = "commune-canary";
const CANARY_KEY: libc::key_t = 0x434d_4e31; // "CMN1"

/// What the self-test found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The wipe's own report.
    pub report: WipeReport,
    /// Channels through which a canary was planted.
    pub planted: Vec<String>,
    /// Canaries the independent search still found (empty when clean).
    pub leftovers: Vec<String>,
}

impl Outcome {
    /// True when the wipe verified and no canary is left.
    pub fn passed(&self) -> bool {
        self.report.verified && self.leftovers.is_empty()
    }

    /// A readable summary for the person commissioning the computer.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!("canaries planted: {}\n", self.planted.join(", ")));
        for s in &self.report.steps {
            out.push_str(&format!(
                "  step  {:<14} {:>8} µs  {:>5}  {}{}\n",
                s.name,
                s.duration_us,
                s.count,
                if s.ok { "ok" } else { "FAILED" },
                s.detail
                    .as_deref()
                    .map(|d| format!(" — {d}"))
                    .unwrap_or_default()
            ));
        }
        for c in &self.report.checks {
            out.push_str(&format!(
                "  check {:<14} {:<14} {}\n",
                c.name,
                if c.passed {
                    "nothing left".to_owned()
                } else {
                    format!("{} LEFT", c.found)
                },
                c.method
            ));
        }
        out.push_str(&format!(
            "swap: {}\nkernel: {}\n",
            self.report.swap, self.report.kernel
        ));
        for l in &self.leftovers {
            out.push_str(&format!("  LEFTOVER: {l}\n"));
        }
        out.push_str(&format!(
            "selftest: {} (wipe and verification {} ms)",
            if self.passed() { "PASSED" } else { "FAILED" },
            self.report.total_us / 1000
        ));
        out
    }
}

/// Makes SysV shared memory, a message queue, a semaphore set, a POSIX message queue and a
/// key in the user keyring, as the uid. Exit status: how many could not be made.
fn plant_ipc_as_uid() -> i32 {
    let mut failed = 0;
    // SAFETY: plain system calls with valid constant arguments, in a forked child.
    unsafe {
        if libc::shmget(CANARY_KEY, 4096, libc::IPC_CREAT | 0o600) < 0 {
            failed += 1;
        }
        if libc::msgget(CANARY_KEY + 1, libc::IPC_CREAT | 0o600) < 0 {
            failed += 1;
        }
        if libc::semget(CANARY_KEY + 2, 1, libc::IPC_CREAT | 0o600) < 0 {
            failed += 1;
        }
        let name = c"/commune-canary";
        let mq = libc::mq_open(
            name.as_ptr(),
            libc::O_CREAT | libc::O_RDWR,
            0o600 as libc::mode_t,
            std::ptr::null_mut::<libc::mq_attr>(),
        );
        if mq < 0 {
            failed += 1;
        }
        let kind = c"user";
        let desc = c"commune-canary";
        let payload = b"secret of the previous visitor";
        let key = libc::syscall(
            libc::SYS_add_key,
            kind.as_ptr(),
            desc.as_ptr(),
            payload.as_ptr(),
            payload.len(),
            -4 as libc::c_long, // KEY_SPEC_USER_KEYRING
        );
        if key < 0 {
            failed += 1;
        }
    }
    failed
}

/// Exit status: how many of the canary keys this uid can still find (search by name).
pub fn search_key_as_uid() -> i32 {
    let kind = c"user";
    let desc = c"commune-canary";
    let mut found = 0;
    for ring in [-4 as libc::c_long, -5 as libc::c_long] {
        // SAFETY: keyctl(KEYCTL_SEARCH=10, ring, type, description, 0).
        let rc = unsafe {
            libc::syscall(
                libc::SYS_keyctl,
                10 as libc::c_long,
                ring,
                kind.as_ptr(),
                desc.as_ptr(),
                0 as libc::c_long,
            )
        };
        if rc >= 0 {
            found += 1;
        }
    }
    found
}

/// The shell script the synthetic visitor runs: files everywhere it can write, and
/// processes that try to survive.
fn visitor_script(places: &[PathBuf]) -> String {
    let mut script = String::from("set +e\n");
    script.push_str(&format!(
        "echo canary > \"$HOME/Téléchargements/{CANARY}.pdf\"\n\
         echo canary > \"$HOME/Numérisations/{CANARY}.jpg\"\n"
    ));
    for place in places {
        script.push_str(&format!(
            "echo canary > '{}/{CANARY}' 2>/dev/null\nmkdir -p '{}/{CANARY}.d/sub' 2>/dev/null && echo canary > '{}/{CANARY}.d/sub/file' 2>/dev/null\n",
            place.display(),
            place.display(),
            place.display()
        ));
    }
    // A daemon that ignores SIGTERM, detached from its parent.
    script
        .push_str("(trap '' TERM; setsid sh -c \"trap '' TERM; while :; do sleep 1; done\" &) \n");
    // A fast respawner.
    script.push_str("(while :; do sleep 30 & sleep 0.01; done) &\n");
    // A process inside a user (and PID) namespace of its own, as browsers' sandboxes do.
    script.push_str("(unshare --user --map-root-user --pid --fork sleep 1000 &) 2>/dev/null\n");
    script.push_str("sleep 1000\n");
    script
}

/// The first print queue, if CUPS answers and has one.
fn print_queue() -> Option<String> {
    let out = std::process::Command::new("lpstat")
        .arg("-a")
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().next())
        .map(str::to_owned)
}

/// Plants canaries in the session through every channel. Returns the channels used.
pub fn plant(platform: &LinuxDirect, account: &Account) -> Result<Vec<String>, AgentError> {
    let caps = platform.capabilities().clone();
    let mut planted = vec!["home".to_owned()];
    planted.extend(caps.writable_places.iter().map(|p| p.display().to_string()));
    let script = visitor_script(&caps.writable_places);
    platform
        .spawn(account, &["/bin/sh".into(), "-c".into(), script], &[])
        .map_err(|e| AgentError::Config(e.to_string()))?;
    // Each survivor must really be running before the wipe, or the test proves nothing.
    let own_userns = std::fs::read_link("/proc/self/ns/user").ok();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let (mut in_userns, mut count) = (false, 0);
    while std::time::Instant::now() < deadline {
        let procs = processes_of(account.uid);
        count = procs.len();
        in_userns = procs
            .iter()
            .any(|pid| std::fs::read_link(format!("/proc/{pid}/ns/user")).ok() != own_userns);
        if in_userns && count >= 5 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if !in_userns {
        return Err(AgentError::Config(
            "no process of the session could enter a user namespace of its own \
             (unprivileged user namespaces disabled?): that channel is not tested"
                .into(),
        ));
    }
    planted.push(format!("{count} processes"));
    planted.extend(["term-ignoring daemon", "respawner", "user namespace"].map(String::from));
    let failed = platform
        .run_as(account, plant_ipc_as_uid)
        .map_err(|e| AgentError::Config(e.to_string()))?;
    if failed == 0 {
        planted.extend(["sysv shm/msg/sem", "posix mqueue", "user keyring"].map(String::from));
    } else {
        return Err(AgentError::Config(format!(
            "{failed} IPC or key canaries could not be planted"
        )));
    }
    if caps.printing {
        if let Some(queue) = print_queue() {
            let doc = account
                .home
                .join("Téléchargements")
                .join(format!("{CANARY}.pdf"));
            let doc = doc.to_string_lossy().into_owned();
            let child = platform
                .spawn(
                    account,
                    &[
                        "lp".into(),
                        "-d".into(),
                        queue,
                        "-H".into(),
                        "hold".into(),
                        doc,
                    ],
                    &[],
                )
                .map_err(|e| AgentError::Config(e.to_string()))?;
            let output = child
                .wait_with_output()
                .map_err(|e| AgentError::Config(format!("lp: {e}")))?;
            if !output.status.success() {
                return Err(AgentError::Config(format!("lp failed: {}", output.status)));
            }
            planted.push("held print job".into());
        }
    }
    // Let the script reach its loops.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        let planted_files = caps
            .writable_places
            .iter()
            .all(|p| p.join(CANARY).exists() || !is_writable_by_all(p));
        if planted_files {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    Ok(planted)
}

fn processes_of(uid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let status = std::fs::read_to_string(e.path().join("status")).ok()?;
            let line = status.lines().find(|l| l.starts_with("Uid:"))?;
            line.split_whitespace()
                .skip(1)
                .any(|u| u.parse::<u32>().ok() == Some(uid))
                .then_some(pid)
        })
        .collect()
}

fn is_writable_by_all(p: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p)
        .map(|m| m.mode() & 0o002 != 0)
        .unwrap_or(false)
}

/// Looks for every canary without trusting the wipe's checks.
pub fn search(platform: &LinuxDirect, account: &Account) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let mut left = Vec::new();
    let caps = platform.capabilities();
    let mut roots: Vec<PathBuf> = caps.writable_places.clone();
    roots.push(platform.config().home_base.clone());
    for root in roots {
        // Not across mounts: a session writes into the place's own file system.
        let Ok(root_dev) = std::fs::symlink_metadata(&root).map(|m| m.dev()) else {
            continue;
        };
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let path = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                let meta = std::fs::symlink_metadata(&path);
                if name.contains(CANARY)
                    || meta
                        .as_ref()
                        .map(|m| m.uid() == account.uid)
                        .unwrap_or(false)
                {
                    left.push(format!("file {}", path.display()));
                }
                if meta.is_ok_and(|m| m.is_dir() && m.dev() == root_dev) {
                    stack.push(path);
                }
            }
        }
    }
    if account.home.exists() {
        left.push(format!("home directory {}", account.home.display()));
    }
    for pid in processes_of(account.uid) {
        left.push(format!("process {pid}"));
    }
    for kind in ["shm", "msg", "sem"] {
        if let Ok(text) = std::fs::read_to_string(format!("/proc/sysvipc/{kind}")) {
            let key = format!("{}", CANARY_KEY);
            let n = text
                .lines()
                .skip(1)
                .filter(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    f.first().is_some_and(|k| {
                        k.parse::<i64>()
                            .ok()
                            .is_some_and(|k| (k - i64::from(CANARY_KEY)).abs() <= 2)
                    }) || f.iter().any(|x| *x == key)
                })
                .count();
            if n > 0 {
                left.push(format!("{n} sysv {kind} object(s)"));
            }
        }
    }
    if Path::new("/dev/mqueue/commune-canary").exists() {
        left.push("posix message queue".into());
    }
    match platform.run_as(account, search_key_as_uid) {
        Ok(0) => {}
        Ok(n) => left.push(format!(
            "{n} key(s) readable by a new process of uid {}",
            account.uid
        )),
        Err(e) => left.push(format!("key search failed: {e}")),
    }
    for file in ["/etc/passwd", "/etc/group", "/etc/shadow"] {
        if std::fs::read_to_string(file)
            .map(|t| {
                t.lines()
                    .any(|l| l.split(':').next() == Some(account.name.as_str()))
            })
            .unwrap_or(false)
        {
            left.push(format!("account in {file}"));
        }
    }
    if platform.capabilities().printing {
        let out = std::process::Command::new("lpstat")
            .args(["-W", "all", "-o"])
            .output();
        if let Ok(out) = out {
            let text = String::from_utf8_lossy(&out.stdout);
            let n = text.lines().filter(|l| l.contains(&account.name)).count();
            if n > 0 {
                left.push(format!("{n} print job(s)"));
            }
        }
        let spool = std::fs::read_dir("/var/spool/cups")
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with('d'))
                    .count()
            })
            .unwrap_or(0);
        if spool > 0 {
            left.push(format!("{spool} document(s) in the print spool"));
        }
    }
    left
}

/// Runs the synthetic session on a fresh `LinuxDirect` with `config`.
pub fn run(config: LinuxConfig) -> Result<Outcome, AgentError> {
    let platform = LinuxDirect::new(config).map_err(|e| AgentError::Config(e.to_string()))?;
    run_on(&platform)
}

/// Runs the synthetic session on `platform`.
pub fn run_on(platform: &LinuxDirect) -> Result<Outcome, AgentError> {
    let spec = SessionSpec {
        session_id: format!("selftest-{}", std::process::id()),
        kind: SlotKind::Free,
    };
    let account = platform
        .plan_account(&spec)
        .map_err(|e| AgentError::Config(e.to_string()))?;
    platform
        .create_account(&account)
        .map_err(|e| AgentError::Config(e.to_string()))?;
    let planted = match plant(platform, &account) {
        Ok(p) => p,
        Err(e) => {
            let _ = crate::wipe::wipe(platform, &account, &spec.session_id, true);
            return Err(e);
        }
    };
    let report = crate::wipe::wipe(platform, &account, &spec.session_id, true);
    let leftovers = search(platform, &account);
    Ok(Outcome {
        report,
        planted,
        leftovers,
    })
}
