//! The one reader of `/proc` for the session platforms: which processes exist, in which
//! process group, as which uids, and whether they are zombies. `LinuxDirect` finds a
//! session's processes by uid, the sandbox by process group; both read them here.
//!
//! The self-test's independent search keeps its own reader on purpose: a proof must not
//! share the code it checks.

use std::fs;

/// One process as `/proc/PID/status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcInfo {
    /// Process id (in the reader's PID namespace).
    pub pid: i32,
    /// Parent's process id.
    pub ppid: i32,
    /// Process group id (in the reader's PID namespace), 0 when unknown.
    pub pgid: i32,
    /// Exited and not yet reaped: holds nothing of the session but its pid and status.
    pub zombie: bool,
    /// Real, effective, saved and file-system uids.
    pub uids: [u32; 4],
    /// Command name (for IT's messages; never a visitor's data).
    pub comm: String,
}

impl ProcInfo {
    /// Whether any of its uids is `uid` (a setuid program run by the session keeps the
    /// session's uid as its real uid).
    pub fn has_uid(&self, uid: u32) -> bool {
        self.uids.contains(&uid)
    }
}

/// Every process this PID namespace shows (its own and those of every namespace below it).
pub fn processes() -> Vec<ProcInfo> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        // Gone between the listing and the read: not a process any more.
        let Ok(status) = fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        out.push(parse_status(pid, &status));
    }
    out
}

/// Live or zombie processes of a uid.
pub fn processes_of_uid(uid: u32) -> Vec<ProcInfo> {
    processes().into_iter().filter(|p| p.has_uid(uid)).collect()
}

/// Live (not zombie) processes of a process group.
pub fn live_members_of_group(pgid: i32) -> Vec<ProcInfo> {
    processes()
        .into_iter()
        .filter(|p| p.pgid == pgid && !p.zombie)
        .collect()
}

fn parse_status(pid: i32, status: &str) -> ProcInfo {
    let mut info = ProcInfo {
        pid,
        ppid: 0,
        pgid: 0,
        zombie: false,
        uids: [u32::MAX; 4],
        comm: String::new(),
    };
    for line in status.lines() {
        if let Some(v) = line.strip_prefix("Name:") {
            info.comm = v.trim().to_owned();
        } else if let Some(v) = line.strip_prefix("State:") {
            let v = v.trim_start();
            info.zombie = v.starts_with('Z') || v.starts_with('X');
        } else if let Some(v) = line.strip_prefix("PPid:") {
            info.ppid = v.trim().parse().unwrap_or(0);
        } else if let Some(v) = line.strip_prefix("NSpgid:") {
            // The first value is the group as the reader's namespace sees it.
            info.pgid = v
                .split_whitespace()
                .next()
                .and_then(|f| f.parse().ok())
                .unwrap_or(0);
        } else if let Some(v) = line.strip_prefix("Uid:") {
            for (slot, field) in info.uids.iter_mut().zip(v.split_whitespace()) {
                *slot = field.parse().unwrap_or(u32::MAX);
            }
        }
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_are_read() {
        let p = parse_status(
            42,
            "Name:\tsleep\nState:\tS (sleeping)\nPPid:\t7\nNSpgid:\t40\t1\nUid:\t61000\t61000\t61000\t61000\n",
        );
        assert_eq!(p.comm, "sleep");
        assert_eq!((p.ppid, p.pgid), (7, 40));
        assert!(!p.zombie);
        assert!(p.has_uid(61000));
        let z = parse_status(43, "State:\tZ (zombie)\n");
        assert!(z.zombie);
    }

    #[test]
    fn this_process_is_found_in_its_group() {
        // SAFETY: getpgrp has no preconditions.
        let own = unsafe { libc::getpgrp() };
        let me = std::process::id() as i32;
        assert!(live_members_of_group(own).iter().any(|p| p.pid == me));
        // SAFETY: getuid has no preconditions.
        let uid = unsafe { libc::getuid() };
        assert!(processes_of_uid(uid).iter().any(|p| p.pid == me));
    }
}
