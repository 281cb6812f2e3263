//! `LinuxDirect`: a real ephemeral account per session, with no display manager or systemd
//! needed (LightDM's hooks call the agent, which does the work here).
//!
//! Every pitfall of `shared/reference/session-wipe.md` has its answer in this file:
//! - uids come from a dedicated range, rotate, and stay quarantined (persisted) from the
//!   moment they are planned until a wipe of them verified: a recycled uid never inherits
//!   what a wipe missed;
//! - the home is a tmpfs (`noswap` when the kernel has it, otherwise the swap situation is
//!   written into every report), filled by copying the skeleton (an overlay would deny the
//!   user writes in root-owned sub-folders);
//! - processes are killed through the session's cgroup (`cgroup.kill`) when cgroup2 is
//!   writable, then by a child that becomes the uid and calls `kill(-1, SIGKILL)`, repeated
//!   until none is left (it also reaches processes inside user namespaces the visitor made);
//!   the agent is a subreaper and reaps the uid's zombies;
//! - the home is never lazily detached: holders are found by device number in every
//!   process's cwd, root, open files and maps and in every mount table, and a holder makes
//!   the wipe fail loudly;
//! - SysV IPC is matched by numeric uid in `/proc/sysvipc`, not by the truncated names of
//!   `ipcs`; keyrings are cleared as the uid (they outlive its processes);
//! - print jobs are cancelled with `cancel -a -x` on their queue (job files and history
//!   purged, not only cancelled);
//! - files the uid left in the world-writable places are removed; those places are
//!   discovered on every mounted file system ([`discover`]), not listed by hand, and found
//!   again when the mounts or the installed packages change; the cost of a wipe grows with
//!   what those places hold, never with the size of the disk;
//! - the rest of the machine ([`machine`]): FUSE connections aborted before anything
//!   touches them, mounts nested in the home unmounted, every keyring of the uid invalidated
//!   (the persistent one too), every pending print job whatever name it claims, the
//!   schedulers' spools, per-user logs and records, the account files' backups;
//! - the verification reads sources the purge did not choose (the kernel's per-uid key
//!   accounting, every process and every mount namespace, every print queue and its spool,
//!   the schedulers' spools, all the account files) and says for each check how it looked;
//! - prevention first ([`lockdown`]): a computer where session accounts could schedule
//!   jobs, keep journals or print history runs no session.

pub mod discover;
pub mod lockdown;
pub mod machine;

use std::collections::{BTreeSet, HashMap};
use std::ffi::CString;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use commune_protocol::messages::{WipeCheck, WipeStep};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use serde::{Deserialize, Serialize};

use super::{Account, Capabilities, PlatformError, SessionPlatform, SessionSpec};

/// Configuration of [`LinuxDirect`]; names carry their unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinuxConfig {
    /// First uid (and gid) of the range reserved for sessions.
    pub uid_first: u32,
    /// Last uid (and gid) of the range, inclusive.
    pub uid_last: u32,
    /// Prefix of the random account names.
    pub name_prefix: String,
    /// Directory under which homes are mounted.
    pub home_base: PathBuf,
    /// Size limit of a session's tmpfs home.
    pub home_size_mib: u64,
    /// The skeleton copied into every home.
    pub skeleton: PathBuf,
    /// Where the uid pool is kept: the agent's state directory, set at start.
    #[serde(skip)]
    pub state_dir: PathBuf,
    /// The program started as the visitor when the agent itself starts the session (empty:
    /// the display manager starts it, as with LightDM).
    pub session_command: Vec<String>,
    /// Name of the cgroup under which each session gets its own.
    pub cgroup_name: String,
    /// How long processes get to leave after the courtesy SIGTERM.
    pub term_grace_ms: u64,
    /// More directories a session can write to, beyond those the probe finds.
    pub extra_writable_places: Vec<PathBuf>,
    /// Refuse to run sessions when tmpfs lacks `noswap` and a swap device is active.
    pub require_swap_safety: bool,
    /// Refuse to run sessions when session accounts are not locked down (cron, at, FUSE,
    /// journals, print history, linger: see [`lockdown`]).
    pub require_lockdown: bool,
}

impl Default for LinuxConfig {
    fn default() -> Self {
        LinuxConfig {
            uid_first: 61000,
            uid_last: 61999,
            name_prefix: "cmn-".into(),
            home_base: PathBuf::from("/home/commune"),
            home_size_mib: 4096,
            skeleton: PathBuf::from("/usr/share/commune-agent/skel"),
            state_dir: PathBuf::from("/var/lib/commune-agent"),
            session_command: Vec::new(),
            cgroup_name: "commune".into(),
            term_grace_ms: 300,
            extra_writable_places: Vec::new(),
            require_swap_safety: true,
            require_lockdown: true,
        }
    }
}

/// The persisted uid pool: where rotation resumes and which uids wait for a verified wipe.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct UidPool {
    next: u32,
    quarantined: BTreeSet<u32>,
}

const POOL_FILE: &str = "uid-pool.json";

/// Real accounts, tmpfs homes, cgroups; see the module documentation.
pub struct LinuxDirect {
    config: LinuxConfig,
    capabilities: Capabilities,
    pool: Mutex<UidPool>,
    children: Mutex<HashMap<u32, Vec<Child>>>,
    /// Where session accounts can write, as last discovered (found again when the mounts
    /// or the packages change).
    discovery: Mutex<discover::Discovery>,
    /// The lockdown points as checked at start.
    lockdown: Vec<lockdown::Point>,
}

impl std::fmt::Debug for LinuxDirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinuxDirect")
            .field("config", &self.config)
            .field("capabilities", &self.capabilities)
            .finish_non_exhaustive()
    }
}

fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> PlatformError {
    let what = what.into();
    move |e| PlatformError::system(what, e)
}

use crate::wipe::{check, step};

impl LinuxDirect {
    /// Probes the computer and loads the uid pool. Needs root.
    pub fn new(config: LinuxConfig) -> Result<LinuxDirect, PlatformError> {
        if !nix::unistd::Uid::effective().is_root() {
            return Err(PlatformError::Unsupported(
                "real sessions need the agent to run as root (use the sandbox platform for a demo)"
                    .into(),
            ));
        }
        if config.uid_first == 0 || config.uid_first > config.uid_last {
            return Err(PlatformError::Unsupported(format!(
                "the session uid range {}..={} is empty or includes root",
                config.uid_first, config.uid_last
            )));
        }
        if !config.skeleton.is_dir() {
            return Err(PlatformError::Unsupported(format!(
                "the session skeleton {} is missing; reinstall the agent package",
                config.skeleton.display()
            )));
        }
        // Orphans of the sessions are re-parented to the agent, which reaps them: a PID 1
        // that does not reap would leave zombies of the uid behind.
        // SAFETY: prctl with these arguments only sets a flag on the calling process.
        let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        if rc != 0 {
            return Err(PlatformError::system(
                "becoming a subreaper",
                std::io::Error::last_os_error(),
            ));
        }
        fs::create_dir_all(&config.home_base)
            .map_err(io_err(format!("creating {}", config.home_base.display())))?;
        fs::create_dir_all(&config.state_dir)
            .map_err(io_err(format!("creating {}", config.state_dir.display())))?;
        let lockdown = lockdown::check(&lockdown::Root(PathBuf::from("/")), &config.name_prefix);
        if config.require_lockdown {
            if let Some(sentence) = lockdown::refusal(&lockdown) {
                return Err(PlatformError::Unsupported(sentence));
            }
        }
        let discovery = discover::load_or_discover(&config.state_dir, &config.home_base);
        let capabilities = probe(&config, &discovery)?;
        if config.require_swap_safety && !capabilities.tmpfs_noswap && swap_active() {
            return Err(PlatformError::Unsupported(format!(
                "session files could reach the swap device: this kernel's tmpfs has no noswap \
                 option and swap is active ({}); turn swap off or use a kernel ≥ 6.4",
                capabilities.swap
            )));
        }
        let pool = load_pool(&config.state_dir, config.uid_first);
        Ok(LinuxDirect {
            config,
            capabilities,
            pool: Mutex::new(pool),
            children: Mutex::new(HashMap::new()),
            discovery: Mutex::new(discovery),
            lockdown,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &LinuxConfig {
        &self.config
    }

    /// The lockdown points as checked at start (all hold unless `require_lockdown` is off).
    pub fn lockdown(&self) -> &[lockdown::Point] {
        &self.lockdown
    }

    /// The directories session accounts can write to now: the discovery, made again first
    /// when the mounts or the installed packages changed since.
    /// `refresh`: compare the computer with the discovery's fingerprint first (the purge
    /// does; the verification that follows it reads the same places).
    pub fn writable_places(&self, refresh: bool) -> (Vec<PathBuf>, usize) {
        let mut discovery = self.discovery.lock().unwrap_or_else(|p| p.into_inner());
        if refresh && discovery.fingerprint != discover::fingerprint(&self.config.home_base) {
            *discovery = discover::load_or_discover(&self.config.state_dir, &self.config.home_base);
            tracing::info!(
                places = discovery.places.len(),
                "mounts or packages changed: writable places found again"
            );
        }
        (
            outermost_places(&discovery, &self.config.extra_writable_places),
            discovery.file_systems.len(),
        )
    }

    /// Uids waiting for a verified wipe (a failed wipe keeps its uid here).
    pub fn quarantined(&self) -> Vec<u32> {
        self.lock_pool().quarantined.iter().copied().collect()
    }

    fn lock_pool(&self) -> std::sync::MutexGuard<'_, UidPool> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn save_pool(&self, pool: &UidPool) -> Result<(), PlatformError> {
        let path = self.config.state_dir.join(POOL_FILE);
        let text = serde_json::to_vec(pool).map_err(|e| PlatformError::system("uid pool", e))?;
        crate::wipe::write_durably(&path, &text)
            .map_err(io_err(format!("writing {}", path.display())))
    }

    /// Starts a program as the session's account: its own session id, the session's cgroup
    /// (joined while still root, so every descendant is in it), no supplementary groups,
    /// a clean environment, the home as working directory.
    pub fn spawn(
        &self,
        account: &Account,
        argv: &[String],
        env: &[(&str, &str)],
    ) -> Result<Child, PlatformError> {
        let Some((program, args)) = argv.split_first() else {
            return Err(PlatformError::system(
                "starting a session program",
                "empty command",
            ));
        };
        let procs = self
            .session_cgroup(account.uid)
            .map(|c| c.join("cgroup.procs"))
            .and_then(|p| CString::new(p.as_os_str().as_encoded_bytes()).ok());
        let (uid, gid) = (account.uid, account.gid);
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(&account.home)
            .env_clear()
            .env("HOME", &account.home)
            .env("USER", &account.name)
            .env("LOGNAME", &account.name)
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("LANG", "fr_FR.UTF-8")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: the closure runs between fork and exec and only makes raw system calls
        // on memory prepared before the fork.
        unsafe {
            command.pre_exec(move || {
                libc::setsid();
                if let Some(path) = &procs {
                    // cgroup.procs takes "0" for "the writing process".
                    let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                    if fd < 0 || libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                        return Err(std::io::Error::last_os_error());
                    }
                    libc::close(fd);
                }
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setresgid(gid, gid, gid) != 0
                    || libc::setresuid(uid, uid, uid) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        command
            .spawn()
            .map_err(io_err(format!("starting the session program {program}")))
    }

    /// Runs `action` in a forked child that has become the account (no groups), returning
    /// its exit status: for keyrings and IPC, which belong to the uid, not to a process.
    pub fn run_as(&self, account: &Account, action: fn() -> i32) -> Result<i32, PlatformError> {
        as_uid(account.uid, account.gid, action)
    }

    fn session_cgroup(&self, uid: u32) -> Option<PathBuf> {
        self.capabilities
            .cgroup
            .as_ref()
            .map(|base| base.join(format!("session-{uid}")))
    }
}

fn load_pool(state_dir: &Path, first: u32) -> UidPool {
    let path = state_dir.join(POOL_FILE);
    match fs::read(&path) {
        Ok(bytes) => match serde_json::from_slice::<UidPool>(&bytes) {
            Ok(pool) => pool,
            Err(error) => {
                tracing::error!(path = %path.display(), %error, "uid pool unreadable; starting a new rotation, leftover accounts are still found by range");
                UidPool {
                    next: first,
                    ..UidPool::default()
                }
            }
        },
        Err(_) => UidPool {
            next: first,
            ..UidPool::default()
        },
    }
}

fn swap_active() -> bool {
    fs::read_to_string("/proc/swaps")
        .map(|s| s.lines().skip(1).any(|l| !l.trim().is_empty()))
        .unwrap_or(false)
}

/// Whether this kernel's tmpfs takes `noswap`: a throwaway mount answers.
fn tmpfs_takes_noswap(base: &Path) -> bool {
    let dir = base.join(".commune-noswap-probe");
    if fs::create_dir_all(&dir).is_err() {
        return false;
    }
    let ok = mount(
        Some("tmpfs"),
        &dir,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("size=1m,noswap"),
    )
    .is_ok();
    if ok {
        let _ = umount2(&dir, MntFlags::empty());
    }
    let _ = fs::remove_dir(&dir);
    ok
}

/// The cgroup2 directory sessions go under, when cgroup2 is mounted and writable.
fn cgroup_base(name: &str) -> Option<PathBuf> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mount_point = mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        if right.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        left.split_whitespace().nth(4).map(discover::unescape)
    })?;
    // Our own cgroup (systemd gives a service a delegated one with `Delegate=yes`).
    let own = fs::read_to_string("/proc/self/cgroup")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("0::").map(str::to_owned))
        .unwrap_or_else(|| "/".into());
    let base = Path::new(&mount_point)
        .join(own.trim_start_matches('/'))
        .join(name);
    fs::create_dir_all(&base).ok()?;
    base.join("cgroup.procs").exists().then_some(base)
}

fn probe(
    config: &LinuxConfig,
    discovery: &discover::Discovery,
) -> Result<Capabilities, PlatformError> {
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let noswap = tmpfs_takes_noswap(&config.home_base);
    let swap = if noswap {
        "tmpfs mounted noswap: session pages never reach a swap device".to_owned()
    } else if swap_active() {
        "WARNING: swap is active and this kernel's tmpfs has no noswap option: session pages may reach the swap device".to_owned()
    } else {
        "no swap device active; this kernel's tmpfs has no noswap option".to_owned()
    };
    let kept = outermost_places(discovery, &config.extra_writable_places);
    let printing = Command::new("lpstat")
        .arg("-r")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("is running"))
        .unwrap_or(false);
    Ok(Capabilities {
        kernel,
        swap,
        tmpfs_noswap: noswap,
        cgroup: cgroup_base(&config.cgroup_name),
        writable_places: kept,
        printing,
    })
}

/// The discovered places and the configured ones, none inside another.
fn outermost_places(discovery: &discover::Discovery, extra: &[PathBuf]) -> Vec<PathBuf> {
    keep_outermost(discovery.places.iter().chain(extra).cloned().collect())
}

/// A place inside another place of the same file system is cleaned with it (the walk does
/// not cross mounts, so a separate mount such as /dev/mqueue stays a place of its own).
fn keep_outermost(mut places: Vec<PathBuf>) -> Vec<PathBuf> {
    places.sort();
    places.dedup();
    let mut kept: Vec<PathBuf> = Vec::new();
    for place in places {
        let covered = kept
            .iter()
            .any(|k| place.starts_with(k) && same_device(k, &place));
        if !covered {
            kept.push(place);
        }
    }
    kept
}

fn same_device(a: &Path, b: &Path) -> bool {
    match (fs::symlink_metadata(a), fs::symlink_metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev(),
        _ => false,
    }
}

use super::procfs::{processes, ProcInfo};

fn processes_of(uid: u32) -> Vec<ProcInfo> {
    super::procfs::processes_of_uid(uid)
}

/// A session's processes as `LinuxDirect` reaches them: by uid, and through its cgroup.
struct UidProcesses {
    uid: u32,
    gid: u32,
    cgroup: Option<PathBuf>,
}

impl crate::wipe::SessionProcesses for UidProcesses {
    fn alive(&mut self) -> Option<Vec<i32>> {
        // While the session's cgroup still lists someone, that list answers cheaply (a
        // process cannot leave its cgroup without write access to another). Only the scan
        // of /proc by uid may say that nobody is left.
        if let Some(cgroup) = &self.cgroup {
            if let Ok(text) = fs::read_to_string(cgroup.join("cgroup.procs")) {
                let pids: Vec<i32> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
                if !pids.is_empty() {
                    return Some(pids);
                }
            }
        }
        reap_zombies_of(self.uid);
        Some(
            processes_of(self.uid)
                .into_iter()
                .filter(|p| !p.zombie)
                .map(|p| p.pid)
                .collect(),
        )
    }

    fn ask_to_leave(&mut self) -> Result<(), String> {
        for p in processes_of(self.uid) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(p.pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        Ok(())
    }

    fn kill_all(&mut self) -> Result<(), String> {
        let mut result = Ok(());
        // cgroup.kill empties a group of hundreds in one write; then the uid's own kill(-1)
        // reaches whatever left the cgroup (nothing can, but the check is cheap).
        if let Some(cgroup) = &self.cgroup {
            if cgroup.exists() {
                if let Err(e) = fs::write(cgroup.join("cgroup.kill"), "1") {
                    result = Err(format!("cgroup.kill: {e}"));
                }
            }
        }
        as_uid(self.uid, self.gid, kill_all_as_uid).map_err(|e| e.to_string())?;
        result
    }
}

/// Reaps the uid's zombies that were re-parented to the agent (it is a subreaper).
fn reap_zombies_of(uid: u32) -> u64 {
    let me = std::process::id() as i32;
    let mut reaped = 0;
    for p in processes_of(uid) {
        if p.zombie && p.ppid == me {
            let _ = nix::sys::wait::waitpid(
                nix::unistd::Pid::from_raw(p.pid),
                Some(nix::sys::wait::WaitPidFlag::WNOHANG),
            );
            reaped += 1;
        }
    }
    reaped
}

/// Runs `action` in a forked child that has become `uid`/`gid` with no supplementary
/// groups, and returns the child's exit status. Only async-signal-safe calls happen in the
/// child (the agent is multi-threaded).
fn as_uid(uid: u32, gid: u32, action: impl FnOnce() -> i32) -> Result<i32, PlatformError> {
    // SAFETY: the child only calls async-signal-safe functions (setgroups, setresgid,
    // setresuid, the action's raw system calls, _exit) before exiting.
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Child) => {
            // SAFETY: raw system calls in the child, see above.
            unsafe {
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setresgid(gid, gid, gid) != 0
                    || libc::setresuid(uid, uid, uid) != 0
                {
                    libc::_exit(126);
                }
                libc::_exit(action());
            }
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => loop {
            match nix::sys::wait::waitpid(child, None) {
                Ok(nix::sys::wait::WaitStatus::Exited(_, code)) => return Ok(code),
                Ok(nix::sys::wait::WaitStatus::Signaled(_, sig, _)) => {
                    return Err(PlatformError::system(
                        "child acting as the session uid",
                        format!("killed by {sig}"),
                    ))
                }
                Ok(_) => continue,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(PlatformError::system("waiting for a child", e)),
            }
        },
        Err(e) => Err(PlatformError::system("fork", e)),
    }
}

fn kill_all_as_uid() -> i32 {
    // SAFETY: kill(-1) signals every process this uid may signal except ourselves.
    unsafe {
        libc::kill(-1, libc::SIGKILL);
    }
    0
}

/// A SysV IPC object of `/proc/sysvipc/*` owned or created by the uid.
fn sysv_ipc_of(uid: u32) -> Vec<(&'static str, i32)> {
    let mut found = Vec::new();
    for kind in ["shm", "msg", "sem"] {
        let Ok(text) = fs::read_to_string(format!("/proc/sysvipc/{kind}")) else {
            continue;
        };
        let mut lines = text.lines();
        let Some(header) = lines.next() else { continue };
        let columns: Vec<&str> = header.split_whitespace().collect();
        let col = |name: &str| columns.iter().position(|c| *c == name);
        let (Some(id_col), Some(uid_col), Some(cuid_col)) = (
            col(match kind {
                "shm" => "shmid",
                "msg" => "msqid",
                _ => "semid",
            }),
            col("uid"),
            col("cuid"),
        ) else {
            continue;
        };
        for line in lines {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let num = |i: usize| fields.get(i).and_then(|f| f.parse::<u32>().ok());
            if num(uid_col) == Some(uid) || num(cuid_col) == Some(uid) {
                if let Some(id) = fields.get(id_col).and_then(|f| f.parse::<i32>().ok()) {
                    found.push((kind, id));
                }
            }
        }
    }
    found
}

fn remove_sysv(kind: &str, id: i32) -> bool {
    // SAFETY: IPC_RMID with a null buffer is valid for all three kinds.
    let rc = unsafe {
        match kind {
            "shm" => libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()),
            "msg" => libc::msgctl(id, libc::IPC_RMID, std::ptr::null_mut()),
            _ => libc::semctl(id, 0, libc::IPC_RMID),
        }
    };
    rc == 0
}

/// Files and directories owned by `uid` under `place`, without crossing into other mounts.
/// Directories owned by the uid are returned whole (their content goes with them).
/// Also returns how many entries were read.
fn owned_under(place: &Path, uid: u32) -> (Vec<PathBuf>, u64) {
    machine::entries_under(place, |_, meta| meta.uid() == uid)
}

/// Removes a file, or a directory with everything in it (never following a link).
fn remove_path(path: &Path) -> std::io::Result<()> {
    let is_dir = fs::symlink_metadata(path)?.is_dir();
    if is_dir {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}

/// Device number (`st_dev`) of a path as the kernel reports it in `/proc/*/maps` and
/// mountinfo (`major:minor`).
fn dev_string(dev: u64) -> String {
    format!("{}:{}", libc::major(dev), libc::minor(dev))
}

/// Processes that hold something on the device: cwd, root, an open file, a mapping, or a
/// mount of it in their mount namespace.
fn holders_of_device(dev: u64) -> Vec<ProcInfo> {
    let dev_text = dev_string(dev);
    let maps_dev = format!("{:02x}:{:02x}", libc::major(dev), libc::minor(dev));
    let me = std::process::id() as i32;
    let own_ns = fs::read_link("/proc/self/ns/mnt").ok();
    let mut holders = Vec::new();
    for p in processes() {
        if p.pid == me || p.zombie {
            continue;
        }
        let base = PathBuf::from(format!("/proc/{}", p.pid));
        let mut holds = ["cwd", "root"].iter().any(|l| {
            fs::metadata(base.join(l))
                .map(|m| m.dev() == dev)
                .unwrap_or(false)
        });
        if !holds {
            if let Ok(fds) = fs::read_dir(base.join("fd")) {
                holds = fds.flatten().any(|fd| {
                    fs::metadata(fd.path())
                        .map(|m| m.dev() == dev)
                        .unwrap_or(false)
                });
            }
        }
        if !holds {
            holds = fs::read_to_string(base.join("maps"))
                .map(|maps| {
                    maps.lines()
                        .any(|l| l.split_whitespace().nth(3) == Some(maps_dev.as_str()))
                })
                .unwrap_or(false);
        }
        // A process of another mount namespace (a container, `unshare`) may have kept a
        // copy of the mount; processes of ours all list it and hold nothing by that.
        if !holds && fs::read_link(base.join("ns/mnt")).ok() != own_ns {
            holds = mountinfo_has_device(&base.join("mountinfo"), &dev_text, None);
        }
        if holds {
            holders.push(p);
        }
    }
    holders
}

/// Whether a mountinfo file lists a mount of `dev` (or, when given, at `path`).
fn mountinfo_has_device(file: &Path, dev: &str, path: Option<&Path>) -> bool {
    let Ok(text) = fs::read_to_string(file) else {
        return false;
    };
    text.lines().any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let fstype_tmpfs = line
            .split_once(" - ")
            .map(|(_, r)| r.starts_with("tmpfs "))
            .unwrap_or(false);
        (fields.get(2) == Some(&dev) && fstype_tmpfs)
            || path.is_some_and(|p| {
                fields
                    .get(4)
                    .is_some_and(|m| Path::new(&discover::unescape(m)) == p)
            })
    })
}

fn describe(holders: &[ProcInfo]) -> String {
    let list: Vec<String> = holders
        .iter()
        .take(5)
        .map(|p| format!("pid {} ({}, uid {})", p.pid, p.comm, p.uids[0]))
        .collect();
    format!(
        "the session's home is still held by {} process(es): {}; it was NOT detached, \
         IT must stop them",
        holders.len(),
        list.join(", ")
    )
}

/// Passwd and group lines naming the account or its ids.
fn account_entries(account: &Account) -> u64 {
    let mut found = 0;
    for (file, id) in [
        ("/etc/passwd", account.uid),
        ("/etc/group", account.gid),
        ("/etc/shadow", u32::MAX),
        ("/etc/gshadow", u32::MAX),
    ] {
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        found += text
            .lines()
            .filter(|l| {
                let mut f = l.split(':');
                let name = f.next();
                let third = l.split(':').nth(2).and_then(|s| s.parse::<u32>().ok());
                name == Some(account.name.as_str()) || (id != u32::MAX && third == Some(id))
            })
            .count() as u64;
    }
    found
}

/// `(uid, name, gid, home)` of passwd entries whose uid is in the range.
fn passwd_in_range(first: u32, last: u32) -> Vec<Account> {
    let Ok(text) = fs::read_to_string("/etc/passwd") else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            let uid = f.get(2)?.parse::<u32>().ok()?;
            if !(first..=last).contains(&uid) {
                return None;
            }
            Some(Account {
                name: f.first()?.to_string(),
                uid,
                gid: f.get(3)?.parse().ok()?,
                home: PathBuf::from(f.get(5)?),
            })
        })
        .collect()
}

fn id_taken(uid: u32) -> bool {
    let taken_in = |file: &str| {
        fs::read_to_string(file)
            .map(|t| {
                t.lines()
                    .any(|l| l.split(':').nth(2).and_then(|s| s.parse::<u32>().ok()) == Some(uid))
            })
            .unwrap_or(false)
    };
    taken_in("/etc/passwd") || taken_in("/etc/group")
}

fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{program} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn delete_account(account: &Account) -> WipeStep {
    let start = Instant::now();
    let mut result = Ok(());
    if account_entries(account) > 0 {
        if passwd_in_range(account.uid, account.uid)
            .iter()
            .any(|a| a.name == account.name)
        {
            result = run("userdel", &[&account.name]).map(|_| ());
        }
        // userdel also removes the group of the same name (USERGROUPS_ENAB, Debian's
        // default); groupdel runs only where that setting is off.
        let group_left = fs::read_to_string("/etc/group")
            .map(|t| {
                t.lines()
                    .any(|l| l.split(':').next() == Some(account.name.as_str()))
            })
            .unwrap_or(false);
        if group_left && result.is_ok() {
            result = run("groupdel", &[&account.name]).map(|_| ());
        }
    }
    step("account", start, 1, result)
}

fn copy_skeleton(from: &Path, to: &Path, uid: u32, gid: u32) -> std::io::Result<u64> {
    let mut copied = 0;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        let target = to.join(entry.file_name());
        if meta.is_dir() {
            fs::create_dir(&target)?;
            fs::set_permissions(&target, fs::Permissions::from_mode(meta.mode() & 0o777))?;
            copied += copy_skeleton(&entry.path(), &target, uid, gid)?;
        } else if meta.is_file() {
            fs::copy(entry.path(), &target)?;
            copied += 1;
        } else {
            continue;
        }
        std::os::unix::fs::lchown(&target, Some(uid), Some(gid))?;
    }
    Ok(copied)
}

impl SessionPlatform for LinuxDirect {
    fn name(&self) -> &'static str {
        "linux-direct"
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    fn print_queue(&self) -> Option<Arc<dyn crate::print::PrintQueue>> {
        self.capabilities.printing.then(|| {
            Arc::new(crate::print::cups::Cups::default()) as Arc<dyn crate::print::PrintQueue>
        })
    }

    fn plan_account(&self, _spec: &SessionSpec) -> Result<Account, PlatformError> {
        let (first, last) = (self.config.uid_first, self.config.uid_last);
        let mut pool = self.lock_pool();
        let span = last - first + 1;
        let start = if (first..=last).contains(&pool.next) {
            pool.next
        } else {
            first
        };
        let uid = (0..span)
            .map(|i| first + (start - first + i) % span)
            .find(|uid| !pool.quarantined.contains(uid) && !id_taken(*uid))
            .ok_or(PlatformError::NoFreeUid { first, last })?;
        pool.quarantined.insert(uid);
        pool.next = if uid == last { first } else { uid + 1 };
        self.save_pool(&pool)?;
        let suffix: String = {
            use rand::Rng as _;
            const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
            let mut rng = rand::rng();
            (0..8)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                .collect()
        };
        let name = format!("{}{suffix}", self.config.name_prefix);
        Ok(Account {
            home: self.config.home_base.join(&name),
            name,
            uid,
            gid: uid,
        })
    }

    fn create_account(&self, account: &Account) -> Result<(), PlatformError> {
        let uid = account.uid.to_string();
        let home = account.home.to_string_lossy().into_owned();
        run("groupadd", &["--gid", &uid, &account.name])
            .map_err(|e| PlatformError::system("creating the session group", e))?;
        run(
            "useradd",
            &[
                "--uid",
                &uid,
                "--gid",
                &uid,
                "--no-create-home",
                "--home-dir",
                &home,
                "--shell",
                "/bin/bash",
                "--comment",
                "Commune session",
                "--no-user-group",
                &account.name,
            ],
        )
        .map_err(|e| PlatformError::system("creating the session account", e))?;
        fs::create_dir_all(&account.home)
            .map_err(io_err(format!("creating {}", account.home.display())))?;
        fs::set_permissions(&account.home, fs::Permissions::from_mode(0o700))
            .map_err(io_err("home permissions"))?;
        let mut options = format!(
            "mode=0700,uid={},gid={},size={}m",
            account.uid, account.gid, self.config.home_size_mib
        );
        if self.capabilities.tmpfs_noswap {
            options.push_str(",noswap");
        }
        mount(
            Some("tmpfs"),
            &account.home,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some(options.as_str()),
        )
        .map_err(|e| PlatformError::system("mounting the session's tmpfs home", e))?;
        copy_skeleton(
            &self.config.skeleton,
            &account.home,
            account.uid,
            account.gid,
        )
        .map_err(io_err("copying the skeleton into the home"))?;
        if let Some(cgroup) = self.session_cgroup(account.uid) {
            fs::create_dir_all(&cgroup).map_err(io_err("creating the session cgroup"))?;
        }
        Ok(())
    }

    fn start_session(&self, account: &Account, spec: &SessionSpec) -> Result<(), PlatformError> {
        if self.config.session_command.is_empty() {
            return Ok(());
        }
        let argv = self.config.session_command.clone();
        let child = self.spawn(account, &argv, &[("COMMUNE_SESSION_ID", &spec.session_id)])?;
        self.children
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(account.uid)
            .or_default()
            .push(child);
        Ok(())
    }

    fn warn(&self, _account: &Account, _minutes_left: u32) -> Result<(), PlatformError> {
        // The visitor's screens (served by the agent) show and sound the warning; nothing
        // is needed inside the session itself.
        Ok(())
    }

    fn lock_screen(&self, account: &Account) -> Result<(), PlatformError> {
        // LightDM switches the display to its greeter (Commune's, which shows the pause
        // screen and logs the guest back in once the right code is typed): the visitor's
        // desktop is no longer on screen. Without LightDM, logind asks the session's
        // locker, if any. Without either (a container, the tests) the notice's pause
        // screen is all there is.
        let quiet = |mut c: std::process::Command| {
            c.stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        let mut switch = std::process::Command::new("dbus-send");
        switch.args([
            "--system",
            "--print-reply",
            "--dest=org.freedesktop.DisplayManager",
            "/org/freedesktop/DisplayManager/Seat0",
            "org.freedesktop.DisplayManager.Seat.SwitchToGreeter",
        ]);
        if quiet(switch) {
            return Ok(());
        }
        if Path::new("/run/systemd/seats").exists() {
            let mut lock = std::process::Command::new("loginctl");
            lock.arg("lock-sessions");
            if quiet(lock) {
                return Ok(());
            }
        }
        // The notice alone is not a lock (the desktop stays usable behind it): refused,
        // and the visitor is told the session could not be locked.
        tracing::warn!(
            uid = account.uid,
            "neither LightDM nor logind locked the screen; stepping away refused"
        );
        Err(PlatformError::system(
            "locking the screen",
            "neither LightDM nor logind answered",
        ))
    }

    fn power(&self, action: commune_protocol::schedule::AfterClosing) -> Result<(), PlatformError> {
        use commune_protocol::schedule::AfterClosing;
        // logind does it (systemctl asks it), with its inhibitors and hooks.
        let verb = match action {
            AfterClosing::Suspend => "suspend",
            AfterClosing::PowerOff => "poweroff",
            AfterClosing::Stay | AfterClosing::Other => return Ok(()),
        };
        let status = std::process::Command::new("systemctl")
            .arg(verb)
            .stdin(std::process::Stdio::null())
            .status()
            .map_err(|e| PlatformError::system(format!("systemctl {verb}"), e))?;
        if status.success() {
            Ok(())
        } else {
            Err(PlatformError::system(format!("systemctl {verb}"), status))
        }
    }

    fn terminate(&self, account: &Account, courtesy: bool) -> Vec<WipeStep> {
        let uid = account.uid;
        let mut steps = Vec::new();

        // A FUSE daemon of the session that stalls would hang whoever touches its mount
        // (the kill below, the unmount): its connections are aborted first.
        let start = Instant::now();
        let (aborted, result) = machine::abort_fuse(uid);
        steps.push(step("fuse_abort", start, aborted, result));

        // The shared sequence (courtesy, grace, kill until none is left); here the session
        // is found by uid in every PID namespace and killed through its cgroup, then by a
        // child that becomes the uid and calls kill(-1) (which reaches processes inside
        // user namespaces the visitor made).
        let mut procs = UidProcesses {
            uid,
            gid: account.gid,
            cgroup: self.session_cgroup(uid).filter(|c| c.exists()),
        };
        let ending = crate::wipe::end_processes(
            &mut procs,
            crate::wipe::EndTimings {
                grace: if courtesy {
                    Duration::from_millis(self.config.term_grace_ms)
                } else {
                    Duration::ZERO
                },
                kill_timeout: Duration::from_secs(5),
                poll: Duration::from_micros(500),
            },
        );
        steps.push(WipeStep {
            name: "term".into(),
            duration_us: ending.term_us,
            count: ending.signalled,
            ok: true,
            detail: None,
        });
        let result = match (&ending.error, ending.left) {
            (_, 0) => Ok(()),
            (Some(e), left) => Err(format!("{left} process(es) of the session survived ({e})")),
            (None, left) => Err(format!("{left} process(es) of the session survived")),
        };
        steps.push(WipeStep {
            name: "kill".into(),
            duration_us: ending.kill_us,
            count: ending.kill_rounds,
            ok: result.is_ok(),
            detail: result.err(),
        });
        let start = Instant::now();
        // Zombies the kill just made, and the children the agent started itself.
        for _ in 0..100 {
            reap_zombies_of(uid);
            if processes_of(uid).is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        if let Some(children) = self
            .children
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&uid)
        {
            for mut child in children {
                let _ = child.try_wait();
            }
        }
        steps.push(step("reap", start, 0, Ok(())));

        let start = Instant::now();
        let mut result = Ok(());
        if let Some(cgroup) = self.session_cgroup(uid) {
            if cgroup.exists() {
                // rmdir fails while a process is still in the group: retry briefly.
                let mut last = None;
                for _ in 0..100 {
                    match fs::remove_dir(&cgroup) {
                        Ok(()) => {
                            last = None;
                            break;
                        }
                        Err(e) => last = Some(e),
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                if let Some(e) = last {
                    result = Err(format!("removing the session cgroup: {e}"));
                }
            }
        }
        steps.push(step("cgroup_remove", start, 0, result));
        steps
    }

    fn purge(&self, account: &Account) -> Vec<WipeStep> {
        let uid = account.uid;
        let mut steps = Vec::new();

        // Print jobs: every job of every queue, whatever user name it claims (`lp -U`).
        if self.capabilities.printing {
            let start = Instant::now();
            let (count, result) = machine::purge_all_print_jobs();
            steps.push(step("print", start, count, result));
        }

        // Deleting the account (userdel, several milliseconds) needs only that no process
        // of it is left, which `terminate` ensured: it runs beside the unmount and the
        // rest, and is joined (and reported) last.
        let account_step = {
            let account = account.clone();
            std::thread::spawn(move || delete_account(&account))
        };

        // FUSE connections of the uid are aborted (again: a daemon may have been started
        // between terminate and here by nobody, but cheaply) and every mount nested in the
        // home or made by the uid's FUSE is unmounted, deepest first, never lazily.
        let start = Instant::now();
        let (aborted, abort_result) = machine::abort_fuse(uid);
        let (unmounted, unmount_result) = machine::unmount_session_mounts(uid, &account.home);
        steps.push(step(
            "nested_mounts",
            start,
            aborted + unmounted,
            abort_result.and(unmount_result),
        ));

        let start = Instant::now();
        let home_dev = fs::symlink_metadata(&account.home).ok().map(|m| m.dev());
        let base_dev = fs::symlink_metadata(&self.config.home_base)
            .ok()
            .map(|m| m.dev());
        let mounted = home_dev.is_some() && home_dev != base_dev;
        let result = if mounted {
            let dev = home_dev.unwrap_or_default();
            let holders = holders_of_device(dev);
            if !holders.is_empty() {
                Err(describe(&holders))
            } else {
                // Never MNT_DETACH: a detached tmpfs stays readable by whoever holds it.
                match umount2(&account.home, MntFlags::empty()) {
                    Ok(()) => Ok(()),
                    Err(e) => Err(format!(
                        "unmounting the session's home failed ({e}); it was NOT detached"
                    )),
                }
            }
        } else {
            Ok(())
        };
        let unmounted = result.is_ok();
        steps.push(step("unmount", start, u64::from(mounted), result));
        if unmounted {
            let _ = fs::remove_dir(&account.home);
        }

        let start = Instant::now();
        let objects = sysv_ipc_of(uid);
        let failed = objects
            .iter()
            .filter(|(kind, id)| !remove_sysv(kind, *id))
            .count();
        steps.push(step(
            "ipc",
            start,
            objects.len() as u64,
            if failed == 0 {
                Ok(())
            } else {
                Err(format!("{failed} IPC object(s) could not be removed"))
            },
        ));

        // Keys: the persistent keyring (root may reach it), then the user and user-session
        // keyrings as the uid; all invalidated, so the kernel drops every key they held.
        // A uid that owns no key at all (the kernel's count) has nothing to invalidate:
        // reaching its keyrings would only create them.
        let start = Instant::now();
        // Likewise when its keys are only the empty user keyrings the kernel makes on demand
        // (what the verification accepts): invalidating them would only make the
        // verification wait for the kernel's garbage collector.
        let (leftover, keys, _) = machine::keys_left(uid, Duration::ZERO);
        let result = if leftover == 0 {
            Ok(())
        } else {
            let persistent = as_uid(0, 0, move || {
                machine::invalidate_persistent_keyring_as_root(uid)
            });
            let user = as_uid(uid, account.gid, machine::invalidate_user_keyrings_as_uid);
            match (persistent, user) {
                (Ok(0), Ok(0)) => Ok(()),
                (Ok(p), Ok(u)) => Err(format!("{} keyring(s) could not be cleared", p + u)),
                (Err(e), _) | (_, Err(e)) => Err(e.to_string()),
            }
        };
        steps.push(step("keys", start, keys, result));

        // Scheduled work (cron, at, linger) and records kept per user (journals, core
        // dumps, AccountsService).
        let start = Instant::now();
        let (scheduled, _) = machine::scheduled_work(uid, &account.name);
        let (records, _) = machine::per_user_records(uid, &account.name);
        let mut failed = 0u64;
        for path in scheduled.iter().chain(records.iter()) {
            if remove_path(path).is_err() {
                failed += 1;
            }
        }
        steps.push(step(
            "scheduled_and_records",
            start,
            (scheduled.len() + records.len()) as u64,
            if failed == 0 {
                Ok(())
            } else {
                Err(format!(
                    "{failed} scheduled job(s) or record(s) could not be removed"
                ))
            },
        ));

        let start = Instant::now();
        let mut removed = 0u64;
        let mut failed = 0u64;
        let (places, _) = self.writable_places(true);
        let run_user = PathBuf::from(format!("/run/user/{uid}"));
        if run_user.exists() {
            match fs::remove_dir_all(&run_user) {
                Ok(()) => removed += 1,
                Err(_) => failed += 1,
            }
        }
        for place in &places {
            for path in owned_under(place, uid).0 {
                match remove_path(&path) {
                    Ok(()) => removed += 1,
                    Err(_) => failed += 1,
                }
            }
        }
        steps.push(step(
            "files",
            start,
            removed,
            if failed == 0 {
                Ok(())
            } else {
                Err(format!(
                    "{failed} file(s) of the session could not be removed"
                ))
            },
        ));

        steps.push(account_step.join().unwrap_or_else(|_| WipeStep {
            name: "account".into(),
            duration_us: 0,
            count: 0,
            ok: false,
            detail: Some("the account removal thread panicked".into()),
        }));
        // userdel and useradd copied the account files to their backups before changing
        // them: the deleted account's line is there.
        let start = Instant::now();
        let (scrubbed, result) = machine::scrub_account_backups(&account.name, uid);
        steps.push(step("account_backups", start, scrubbed, result));
        steps
    }

    fn verify(&self, account: &Account) -> Vec<WipeCheck> {
        let uid = account.uid;
        let mut checks = Vec::new();
        reap_zombies_of(uid);
        // A zombie has released everything (memory, files, cwd, mounts) but its pid and
        // exit status; one whose parent is not the agent (the agent was killed and the
        // init reaps late) is left to that parent and not counted as a survivor.
        let all = processes();
        checks.push(check(
            "processes",
            all.iter()
                .filter(|p| p.uids.contains(&uid) && !p.zombie)
                .count() as u64,
            all.len() as u64,
            "/proc of this PID namespace and every one below it, by numeric real, \
             effective, saved and file-system uid",
        ));

        let base_dev = fs::symlink_metadata(&self.config.home_base)
            .ok()
            .map(|m| m.dev());
        let still_mounted = fs::symlink_metadata(&account.home)
            .ok()
            .map(|m| m.dev())
            .filter(|dev| Some(*dev) != base_dev);
        // Still mounted here (the unmount failed): count it and whoever holds it.
        // Otherwise, in every mount namespace: a copy of the home (a service started during
        // the session with private mounts keeps one, and the data with it), mounts under the
        // home, FUSE mounts of the uid. Homes have random names, so a mount at this place is
        // this session's and never a new one that reused the freed device number.
        let (anywhere, namespaces) = machine::session_mounts_anywhere(uid, &account.home);
        let mounts = match still_mounted {
            Some(dev) => 1 + holders_of_device(dev).len() as u64,
            None => anywhere,
        };
        checks.push(check(
            "mounts",
            mounts,
            namespaces,
            format!(
                "mount tables of {namespaces} mount namespace(s): the home's device and \
                 place, FUSE mounts made for uid {uid}, mounts under the home"
            ),
        ));

        checks.push(check(
            "ipc",
            sysv_ipc_of(uid).len() as u64,
            3,
            "/proc/sysvipc shm, msg and sem by numeric owner and creator uid (POSIX queues \
             and shared memory are files: see files)",
        ));

        let (left, keys, bytes) = machine::keys_left(uid, Duration::from_secs(2));
        checks.push(check(
            "keys",
            left,
            keys,
            format!(
                "/proc/key-users, the kernel's count of every key uid {uid} owns in any \
                 keyring (persistent included): {keys} key(s), {bytes} byte(s); only the empty \
                 user keyrings the kernel re-creates on demand are allowed"
            ),
        ));

        if self.capabilities.printing {
            let (found, method) = match machine::all_print_jobs() {
                Ok(jobs) => (
                    jobs.len() as u64 + machine::spooled_job_files(),
                    format!(
                        "every job of every queue, any user name (lpstat -W all -o), and job \
                         files in {}",
                        machine::cups_spool().display()
                    ),
                ),
                Err(e) => (1, format!("the print scheduler did not answer: {e}")),
            };
            checks.push(check("print_jobs", found, 1, method));
        }

        let (scheduled, examined) = machine::scheduled_work(uid, &account.name);
        checks.push(check(
            "scheduled",
            scheduled.len() as u64,
            examined,
            format!(
                "spools of cron and at ({}) by owner uid and account name, and systemd's \
                 linger flags",
                machine::SCHEDULER_SPOOLS.join(", ")
            ),
        ));

        let (records, examined) = machine::per_user_records(uid, &account.name);
        checks.push(check(
            "records",
            records.len() as u64,
            examined,
            "per-user journals, core dumps and AccountsService records of the uid",
        ));

        let (places, file_systems) = self.writable_places(false);
        let mut files = 0u64;
        let mut entries = 0u64;
        if account.home.exists() {
            files += 1;
        }
        for place in &places {
            let (found, seen) = owned_under(place, uid);
            files += found.len() as u64;
            entries += seen;
        }
        if Path::new(&format!("/run/user/{uid}")).exists() {
            files += 1;
        }
        checks.push(check(
            "files",
            files,
            entries,
            format!(
                "every entry owned by uid {uid} in the {} director(ies) any account can \
                 write to, discovered on {file_systems} mounted file system(s) from their \
                 permission bits; {entries} entries read",
                places.len()
            ),
        ));

        let (lines, examined) = machine::account_lines(&account.name, uid);
        checks.push(check(
            "account",
            lines,
            examined,
            "passwd, group, shadow, gshadow, subuid, subgid and their backups, by name, uid \
             and gid",
        ));
        if let Some(cgroup) = self.session_cgroup(uid) {
            checks.push(check(
                "cgroup",
                u64::from(cgroup.exists()),
                1,
                format!("{}", cgroup.display()),
            ));
        }
        checks
    }

    fn release(&self, account: &Account) {
        let mut pool = self.lock_pool();
        pool.quarantined.remove(&account.uid);
        if let Err(error) = self.save_pool(&pool) {
            tracing::error!(%error, uid = account.uid, "could not persist the uid pool");
        }
    }

    fn leftover_accounts(&self) -> Result<Vec<Account>, PlatformError> {
        let mut accounts = passwd_in_range(self.config.uid_first, self.config.uid_last);
        // Homes still mounted whose account line is gone (a crash between userdel and the
        // end of the wipe cannot happen, userdel comes last, but a hand-edited passwd can).
        let quarantined = self.quarantined();
        for uid in quarantined {
            if !accounts.iter().any(|a| a.uid == uid) && !processes_of(uid).is_empty() {
                accounts.push(Account {
                    name: format!("{}unknown-{uid}", self.config.name_prefix),
                    uid,
                    gid: uid,
                    home: self.config.home_base.join(format!("unknown-{uid}")),
                });
            }
        }
        Ok(accounts)
    }
}
