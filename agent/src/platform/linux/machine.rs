//! The rest of the machine: what a session's uid can leave outside its home and the
//! world-writable directories, found from the sources the kernel and the daemons keep, not
//! from a list of what the session was expected to do.
//!
//! - FUSE mounts of the uid in every mount namespace (their `user_id=` option), aborted
//!   through the FUSE control file system before anything touches them, then unmounted;
//! - mounts nested in the home (FUSE or not), unmounted deepest first, never lazily;
//! - keys: every keyring the uid reaches is invalidated (user, user-session, and the
//!   persistent keyring that outlives the session for days); the proof is the kernel's own
//!   per-uid accounting in `/proc/key-users`;
//! - print jobs: every job not completed on this computer's queues, whatever user name it
//!   claims (`lp -U` lets a client name anyone), and the scheduler's spool files;
//! - scheduled work: the cron and at spools (a job runs as its file's owner: the uid's next
//!   holder) and systemd's linger flag;
//! - logs and records kept per user: per-user journals, core dumps, AccountsService;
//! - backups of the account files (`/etc/passwd-`…) and the subordinate id files.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::discover::{mountinfo, MountEntry};

/// Every distinct mount namespace of the machine, as the mountinfo file of one process in
/// it (this one first).
pub fn mount_namespaces() -> Vec<PathBuf> {
    let own = fs::read_link("/proc/self/ns/mnt").ok();
    let mut seen = std::collections::BTreeSet::new();
    if let Some(own) = &own {
        seen.insert(own.clone());
    }
    let mut out = vec![PathBuf::from("/proc/self/mountinfo")];
    if let Ok(entries) = fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let name = entry.file_name();
            if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let Ok(ns) = fs::read_link(entry.path().join("ns/mnt")) else {
                continue;
            };
            if seen.insert(ns) {
                out.push(entry.path().join("mountinfo"));
            }
        }
    }
    out
}

/// FUSE mounts made for `uid`, in every mount namespace (one entry per connection).
pub fn fuse_mounts_of(uid: u32) -> Vec<MountEntry> {
    let mut found: Vec<MountEntry> = mount_namespaces()
        .iter()
        .flat_map(|f| mountinfo(f))
        .filter(|m| m.is_fuse_of(uid))
        .collect();
    found.sort_by(|a, b| a.dev.cmp(&b.dev));
    found.dedup_by(|a, b| a.dev == b.dev);
    found
}

const FUSECTL: &str = "/sys/fs/fuse/connections";

/// Mounts the FUSE control file system when it is not yet mounted.
fn ensure_fusectl() -> Result<(), String> {
    let mounted = mountinfo(Path::new("/proc/self/mountinfo"))
        .iter()
        .any(|m| m.fstype == "fusectl");
    if mounted {
        return Ok(());
    }
    nix::mount::mount(
        Some("fusectl"),
        FUSECTL,
        Some("fusectl"),
        nix::mount::MsFlags::empty(),
        None::<&str>,
    )
    .map_err(|e| format!("mounting the FUSE control file system on {FUSECTL}: {e}"))
}

/// Aborts every FUSE connection of `uid`: requests in flight fail at once and its mounts
/// answer nothing, so nothing that touches them afterwards can hang. Returns how many.
pub fn abort_fuse(uid: u32) -> (u64, Result<(), String>) {
    let mounts = fuse_mounts_of(uid);
    if mounts.is_empty() {
        return (0, Ok(()));
    }
    if let Err(e) = ensure_fusectl() {
        return (mounts.len() as u64, Err(e));
    }
    let mut failed = Vec::new();
    for m in &mounts {
        let Some(minor) = m.minor() else { continue };
        let abort = Path::new(FUSECTL).join(minor.to_string()).join("abort");
        // A connection whose daemon already died is gone from fusectl: nothing to abort.
        if abort.exists() {
            if let Err(e) = fs::write(&abort, "1") {
                failed.push(format!("{}: {e}", abort.display()));
            }
        }
    }
    let result = if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "aborting FUSE connections failed: {}",
            failed.join(", ")
        ))
    };
    (mounts.len() as u64, result)
}

/// Unmounts, in this mount namespace, every mount nested in the home and every FUSE mount
/// of `uid` wherever it is, deepest first and never lazily. Returns how many.
pub fn unmount_session_mounts(uid: u32, home: &Path) -> (u64, Result<(), String>) {
    let mut count = 0u64;
    let mut last_error = None;
    // A mount may hide another at the same place: go round until none is left.
    for _ in 0..16 {
        let mut targets: Vec<PathBuf> = mountinfo(Path::new("/proc/self/mountinfo"))
            .into_iter()
            .filter(|m| {
                (m.mount_point.starts_with(home) && m.mount_point != home) || m.is_fuse_of(uid)
            })
            .map(|m| m.mount_point)
            .collect();
        if targets.is_empty() {
            return (count, Ok(()));
        }
        targets.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        targets.dedup();
        let mut progressed = false;
        for target in targets {
            match nix::mount::umount2(&target, nix::mount::MntFlags::empty()) {
                Ok(()) => {
                    count += 1;
                    progressed = true;
                }
                Err(e) => last_error = Some(format!("{}: {e}", target.display())),
            }
        }
        if !progressed {
            break;
        }
    }
    (
        count,
        Err(format!(
            "a mount of the session could not be unmounted ({}); it was NOT detached",
            last_error.unwrap_or_default()
        )),
    )
}

/// Mounts of the session left in any mount namespace: FUSE mounts of the uid and mounts
/// nested in the home. Returns (found, namespaces examined).
pub fn session_mounts_anywhere(uid: u32, home: &Path) -> (u64, u64) {
    let namespaces = mount_namespaces();
    let found = namespaces
        .iter()
        .map(|f| {
            mountinfo(f)
                .iter()
                .filter(|m| m.is_fuse_of(uid) || m.mount_point.starts_with(home))
                .count() as u64
        })
        .sum();
    (found, namespaces.len() as u64)
}

// ---- keys

const KEYCTL_CLEAR: libc::c_long = 7;
const KEYCTL_INVALIDATE: libc::c_long = 21;
const KEYCTL_GET_PERSISTENT: libc::c_long = 22;
const KEY_SPEC_PROCESS_KEYRING: libc::c_long = -2;
const KEY_SPEC_USER_KEYRING: libc::c_long = -4;
const KEY_SPEC_USER_SESSION_KEYRING: libc::c_long = -5;

/// As root (in a forked child): the uid's persistent keyring, cleared and invalidated
/// (root may reach another uid's persistent keyring). Exit status: failures.
pub fn invalidate_persistent_keyring_as_root(uid: u32) -> i32 {
    // SAFETY: keyctl with integer arguments.
    let id = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_GET_PERSISTENT,
            uid as libc::c_long,
            KEY_SPEC_PROCESS_KEYRING,
        )
    };
    if id < 0 {
        // EOPNOTSUPP: no persistent keyrings in this kernel; nothing to do.
        return 0;
    }
    // SAFETY: as above.
    let rc = unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_INVALIDATE, id) };
    i32::from(rc != 0)
}

/// As the uid (in a forked child): its user and user-session keyrings cleared and
/// invalidated. Exit status: failures.
pub fn invalidate_user_keyrings_as_uid() -> i32 {
    let mut failed = 0;
    for ring in [KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING] {
        // SAFETY: keyctl with integer arguments.
        unsafe {
            if libc::syscall(libc::SYS_keyctl, KEYCTL_CLEAR, ring) != 0 {
                failed += 1;
            }
        }
    }
    for ring in [KEY_SPEC_USER_SESSION_KEYRING, KEY_SPEC_USER_KEYRING] {
        // SAFETY: as above.
        unsafe {
            libc::syscall(libc::SYS_keyctl, KEYCTL_INVALIDATE, ring);
        }
    }
    failed
}

/// Quota bytes the kernel charges a keyring per link (`KEYQUOTA_LINK_BYTES`).
const LINK_BYTES: u64 = 4;

/// The kernel's accounting of the uid's keys: `(keys, bytes)` from `/proc/key-users`.
pub fn key_usage(uid: u32) -> (u64, u64) {
    let Ok(text) = fs::read_to_string("/proc/key-users") else {
        return (0, 0);
    };
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        if fields
            .next()
            .and_then(|f| f.strip_suffix(':'))
            .and_then(|f| f.parse::<u32>().ok())
            != Some(uid)
        {
            continue;
        }
        let _usage = fields.next();
        let keys = fields
            .next()
            .and_then(|f| f.split('/').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let _quota_keys = fields.next();
        let bytes = fields
            .next()
            .and_then(|f| f.split('/').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        return (keys, bytes);
    }
    (0, 0)
}

/// Keys of the uid that hold anything: the kernel re-creates an empty user keyring and
/// user-session keyring on demand whenever a process of the uid searches for keys, and
/// those are not a leftover (their quota bytes are their names, `_uid.N` and
/// `_uid_ses.N`, and the user-session keyring's link to the user keyring). Any other key
/// would add at least one key or several bytes. Waits up to `wait` for the kernel's garbage collector to drop the keys
/// the purge invalidated. Returns `(leftover keys, keys, bytes)`.
pub fn keys_left(uid: u32, wait: Duration) -> (u64, u64, u64) {
    let user = format!("_uid.{uid}").len() as u64 + 1;
    let session = format!("_uid_ses.{uid}").len() as u64 + 1;
    let deadline = Instant::now() + wait;
    loop {
        let (keys, bytes) = key_usage(uid);
        // A keyring's quota also counts 4 bytes per link it holds: the user-session
        // keyring links the user keyring.
        let empty_rings = match keys {
            0 => true,
            1 => bytes == user || bytes == session || bytes == session + LINK_BYTES,
            2 => bytes == user + session || bytes == user + session + LINK_BYTES,
            _ => false,
        };
        if empty_rings {
            return (0, keys, bytes);
        }
        if Instant::now() >= deadline {
            return (keys, keys, bytes);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

// ---- print jobs

/// Every print job on this computer's queues (pending, held, or kept in a history),
/// whatever user name it carries.
pub fn all_print_jobs() -> Result<Vec<String>, String> {
    let out = Command::new("lpstat")
        .args(["-W", "all", "-o"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("lpstat: {e}"))?;
    // lpstat exits 1 with no output when there are no jobs on some versions.
    let mut jobs: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    jobs.sort();
    jobs.dedup();
    Ok(jobs)
}

/// Cancels and purges every job of every queue (documents and history): a public
/// computer prints only for the visitor in front of it.
pub fn purge_all_print_jobs() -> (u64, Result<(), String>) {
    match all_print_jobs() {
        Ok(jobs) if jobs.is_empty() => (0, Ok(())),
        Ok(jobs) => {
            let out = Command::new("cancel")
                .args(["-a", "-x"])
                .stdin(Stdio::null())
                .output();
            let result = match out {
                Ok(o) if o.status.success() => Ok(()),
                Ok(o) => Err(format!(
                    "cancel -a -x failed: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                )),
                Err(e) => Err(format!("cancel: {e}")),
            };
            (jobs.len() as u64, result)
        }
        Err(e) => (0, Err(e)),
    }
}

/// The print scheduler's spool directory (`RequestRoot`).
pub fn cups_spool() -> PathBuf {
    fs::read_to_string("/etc/cups/cups-files.conf")
        .ok()
        .and_then(|t| {
            t.lines()
                .filter_map(|l| l.trim().strip_prefix("RequestRoot"))
                .map(|v| PathBuf::from(v.trim()))
                .next_back()
        })
        .unwrap_or_else(|| PathBuf::from("/var/spool/cups"))
}

/// Job documents (`dNNNNN-NNN`) and control files (`cNNNNN`) in the print spool.
pub fn spooled_job_files() -> u64 {
    let Ok(entries) = fs::read_dir(cups_spool()) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            let mut chars = name.chars();
            matches!(chars.next(), Some('c' | 'd'))
                && chars.next().is_some_and(|c| c.is_ascii_digit())
        })
        .count() as u64
}

// ---- scheduled work

/// The spools of the schedulers (cron, at): a job there runs as its file's owner.
pub const SCHEDULER_SPOOLS: &[&str] = &["/var/spool/cron", "/var/spool/at", "/var/spool/atjobs"];

/// Scheduled work of the account: files of the scheduler spools owned by the uid or named
/// after the account, and its linger flag. Returns (found, entries examined).
pub fn scheduled_work(uid: u32, name: &str) -> (Vec<PathBuf>, u64) {
    let mut found = Vec::new();
    let mut examined = 0u64;
    for spool in SCHEDULER_SPOOLS {
        let (more, seen) = entries_under(Path::new(spool), |file, meta| {
            meta.uid() == uid || file == name
        });
        found.extend(more);
        examined += seen;
    }
    let linger = Path::new("/var/lib/systemd/linger").join(name);
    examined += 1;
    if fs::symlink_metadata(&linger).is_ok() {
        found.push(linger);
    }
    (found, examined)
}

/// Entries under `place` that `matches` (by name and metadata, links not followed), without
/// crossing into other mounts. A matching directory is returned whole (its content goes
/// with it) and not entered. Also returns how many entries were read.
pub fn entries_under(
    place: &Path,
    matches: impl Fn(&std::ffi::OsStr, &fs::Metadata) -> bool,
) -> (Vec<PathBuf>, u64) {
    let Ok(root) = fs::symlink_metadata(place) else {
        return (Vec::new(), 0);
    };
    let mut found = Vec::new();
    let mut examined = 0u64;
    let mut stack = vec![place.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            examined += 1;
            let path = entry.path();
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.dev() != root.dev() {
                continue;
            }
            if matches(&entry.file_name(), &meta) {
                found.push(path);
            } else if meta.is_dir() {
                stack.push(path);
            }
        }
    }
    (found, examined)
}

// ---- logs and per-user records

/// Records kept about the account outside its reach but readable by its uid's next holder
/// or by staff: per-user journals, core dumps, AccountsService. Returns (found, examined).
pub fn per_user_records(uid: u32, name: &str) -> (Vec<PathBuf>, u64) {
    let mut found = Vec::new();
    let mut examined = 0u64;
    let journal_prefixes = [format!("user-{uid}.journal"), format!("user-{uid}@")];
    for base in ["/var/log/journal", "/run/log/journal"] {
        let Ok(machines) = fs::read_dir(base) else {
            continue;
        };
        for machine in machines.flatten() {
            let Ok(files) = fs::read_dir(machine.path()) else {
                continue;
            };
            for file in files.flatten() {
                examined += 1;
                let n = file.file_name();
                let n = n.to_string_lossy();
                if journal_prefixes.iter().any(|p| n.starts_with(p.as_str())) {
                    found.push(file.path());
                }
            }
        }
    }
    let core_marker = format!(".{uid}.");
    for (dir, marker) in [
        ("/var/lib/systemd/coredump", core_marker.as_str()),
        ("/var/crash", core_marker.as_str()),
    ] {
        let Ok(files) = fs::read_dir(dir) else {
            continue;
        };
        for file in files.flatten() {
            examined += 1;
            let owned = fs::symlink_metadata(file.path())
                .map(|m| m.uid() == uid)
                .unwrap_or(false);
            if owned || file.file_name().to_string_lossy().contains(marker) {
                found.push(file.path());
            }
        }
    }
    for dir in [
        "/var/lib/AccountsService/users",
        "/var/lib/AccountsService/icons",
    ] {
        examined += 1;
        let path = Path::new(dir).join(name);
        if fs::symlink_metadata(&path).is_ok() {
            found.push(path);
        }
    }
    (found, examined)
}

// ---- a port a session holds

/// TCP sockets listening on `port` (any local address, IPv4 and IPv6) in this network
/// namespace: `(owner uid, socket inode)`, from `/proc/net/tcp{,6}`.
pub fn tcp_listeners(port: u16) -> Vec<(u32, u64)> {
    let mut found = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
            let (Some(local), Some(state), Some(uid), Some(inode)) =
                (f.get(1), f.get(3), f.get(7), f.get(9))
            else {
                continue;
            };
            let listening = *state == "0A";
            let on_port = local
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
                == Some(port);
            if let (true, true, Ok(uid), Ok(inode)) =
                (listening, on_port, uid.parse(), inode.parse())
            {
                found.push((uid, inode));
            }
        }
    }
    found
}

/// Makes `port` free of session accounts: a visitor's process that took the visitor
/// screens' port while the agent restarted (to show its own pages and catch a mediator's
/// PIN) is killed, with every process holding that socket. Returns how many processes were
/// killed; a holder outside `session_uids` is left alone (binding then fails with its own
/// error, for IT).
pub fn evict_session_listeners(port: u16, session_uids: std::ops::RangeInclusive<u32>) -> u64 {
    let sockets: Vec<String> = tcp_listeners(port)
        .into_iter()
        .filter(|(uid, _)| session_uids.contains(uid))
        .map(|(_, inode)| format!("socket:[{inode}]"))
        .collect();
    if sockets.is_empty() {
        return 0;
    }
    let mut killed = 0;
    for p in super::super::procfs::processes() {
        let Ok(fds) = fs::read_dir(format!("/proc/{}/fd", p.pid)) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            fs::read_link(fd.path())
                .map(|l| sockets.iter().any(|s| l.as_os_str() == s.as_str()))
                .unwrap_or(false)
        });
        if holds
            && nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(p.pid),
                nix::sys::signal::Signal::SIGKILL,
            )
            .is_ok()
        {
            killed += 1;
        }
    }
    // The socket closes once its last holder is gone.
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline
        && tcp_listeners(port)
            .iter()
            .any(|(uid, _)| session_uids.contains(uid))
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    killed
}

// ---- account files

/// The account files, their backups (written by `useradd`/`userdel` before each change,
/// with the deleted account's line) and the subordinate id files.
pub const ACCOUNT_FILES: &[&str] = &[
    "/etc/passwd",
    "/etc/group",
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/passwd-",
    "/etc/group-",
    "/etc/shadow-",
    "/etc/gshadow-",
    "/etc/subuid",
    "/etc/subgid",
    "/etc/subuid-",
    "/etc/subgid-",
];

fn names_account(file: &str, line: &str, name: &str, uid: u32) -> bool {
    let mut fields = line.split(':');
    let first = fields.next();
    if first == Some(name) {
        return true;
    }
    let base = file.trim_end_matches('-');
    match base {
        // name:x:uid:… and name:x:gid:…
        "/etc/passwd" | "/etc/group" => {
            line.split(':').nth(2).and_then(|f| f.parse::<u32>().ok()) == Some(uid)
        }
        // uid:start:count
        "/etc/subuid" | "/etc/subgid" => first.and_then(|f| f.parse::<u32>().ok()) == Some(uid),
        _ => false,
    }
}

/// Lines naming the account (by name, uid or gid) in every account file and backup.
pub fn account_lines(name: &str, uid: u32) -> (u64, u64) {
    let mut found = 0;
    let mut examined = 0;
    for file in ACCOUNT_FILES {
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        examined += 1;
        found += text
            .lines()
            .filter(|l| names_account(file, l, name, uid))
            .count() as u64;
    }
    (found, examined)
}

/// Removes the account's lines from the backups and subordinate id files (the live files
/// are `userdel`'s). Each file is replaced whole, keeping its owner and mode.
pub fn scrub_account_backups(name: &str, uid: u32) -> (u64, Result<(), String>) {
    let mut removed = 0;
    let mut errors = Vec::new();
    for file in ACCOUNT_FILES
        .iter()
        .filter(|f| f.ends_with('-') || f.starts_with("/etc/sub"))
    {
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| !names_account(file, l, name, uid))
            .collect();
        let gone = text.lines().count() - kept.len();
        if gone == 0 {
            continue;
        }
        let mut body = kept.join("\n");
        if !body.is_empty() {
            body.push('\n');
        }
        match replace_file(Path::new(file), body.as_bytes()) {
            Ok(()) => removed += gone as u64,
            Err(e) => errors.push(format!("{file}: {e}")),
        }
    }
    (
        removed,
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        },
    )
}

fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let meta = fs::metadata(path)?;
    let tmp = path.with_extension("commune-tmp");
    {
        let mut f = fs::File::create(&tmp)?;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(meta.mode() & 0o7777))?;
        std::os::unix::fs::chown(&tmp, Some(meta.uid()), Some(meta.gid()))?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_lines_are_recognised_by_name_uid_and_file() {
        assert!(names_account(
            "/etc/passwd-",
            "cmn-abc:x:61000:61000::/h:/bin/bash",
            "cmn-abc",
            61000
        ));
        assert!(names_account(
            "/etc/passwd-",
            "other:x:61000:61000::/h:/bin/bash",
            "cmn-abc",
            61000
        ));
        assert!(!names_account(
            "/etc/passwd-",
            "root:x:0:0::/root:/bin/bash",
            "cmn-abc",
            61000
        ));
        assert!(names_account(
            "/etc/shadow-",
            "cmn-abc:!:19000::::::",
            "cmn-abc",
            61000
        ));
        assert!(!names_account(
            "/etc/shadow-",
            "root:61000:19000::::::",
            "cmn-abc",
            61000
        ));
        assert!(names_account(
            "/etc/subuid",
            "cmn-abc:100000:65536",
            "cmn-abc",
            61000
        ));
        assert!(names_account(
            "/etc/subuid",
            "61000:100000:65536",
            "cmn-abc",
            61000
        ));
        assert!(!names_account(
            "/etc/subuid",
            "alice:61000:65536",
            "cmn-abc",
            61000
        ));
    }
}
