//! Where a session's account can write on this computer, discovered rather than listed.
//!
//! A purge that walks a list written by hand proves nothing about the directories a package
//! added later (a printer driver's world-writable spool, a game's score folder). Here every
//! mounted file system is walked once (not crossing into other mounts) for directories that
//! anyone may write to and reach; the result is kept in the agent's state directory with a
//! fingerprint of the mount table and of the package database, and found again whenever
//! either changes (a package installed, a disk mounted).
//!
//! Pseudo file systems where an account cannot create files (proc, sysfs, cgroups…) and
//! FUSE mounts (another user's; a session's own FUSE mounts are aborted and unmounted by the
//! purge) are not walked. The walk does not enter directories that other users cannot
//! traverse: a writable directory inside one is out of the account's reach.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// File system types an unprivileged account cannot create files in, or that are not
/// walked for another reason (FUSE: see the module documentation).
const NOT_WALKED: &[&str] = &[
    "proc",
    "sysfs",
    "cgroup",
    "cgroup2",
    "devpts",
    "securityfs",
    "debugfs",
    "tracefs",
    "bpf",
    "pstore",
    "configfs",
    "fusectl",
    "binfmt_misc",
    "autofs",
    "nsfs",
    "hugetlbfs",
    "efivarfs",
    "rpc_pipefs",
    "nfsd",
    "selinuxfs",
    "squashfs",
    "iso9660",
];

/// The package database: it changes whenever a package is installed or removed.
const PACKAGE_DATABASES: &[&str] = &["/var/lib/dpkg/status", "/var/lib/rpm/rpmdb.sqlite"];

/// One line of a mountinfo file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    /// Device number as `major:minor`.
    pub dev: String,
    /// Root of the mount within its file system.
    pub root: String,
    /// Where it is mounted.
    pub mount_point: PathBuf,
    /// File system type (`tmpfs`, `ext4`, `fuse.bindfs`…).
    pub fstype: String,
    /// Super block options (`rw,user_id=61000,…`).
    pub super_options: String,
}

impl MountEntry {
    /// Whether this is a FUSE mount made for `uid` (its `user_id=` option).
    pub fn is_fuse_of(&self, uid: u32) -> bool {
        (self.fstype == "fuse" || self.fstype.starts_with("fuse.") || self.fstype == "fuseblk")
            && self
                .super_options
                .split(',')
                .any(|o| o == format!("user_id={uid}"))
    }

    /// The minor device number (a FUSE connection's number in `/sys/fs/fuse/connections`).
    pub fn minor(&self) -> Option<u32> {
        self.dev.split_once(':').and_then(|(_, m)| m.parse().ok())
    }
}

/// Reads a mountinfo file (`/proc/self/mountinfo`, `/proc/PID/mountinfo`).
pub fn mountinfo(file: &Path) -> Vec<MountEntry> {
    let Ok(text) = fs::read_to_string(file) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let fields: Vec<&str> = left.split_whitespace().collect();
            let mut right = right.split_whitespace();
            Some(MountEntry {
                dev: fields.get(2)?.to_string(),
                root: unescape(fields.get(3)?),
                mount_point: PathBuf::from(unescape(fields.get(4)?)),
                fstype: right.next()?.to_owned(),
                super_options: right.nth(1).unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

/// Undoes mountinfo's octal escapes of spaces, tabs, newlines and backslashes.
pub fn unescape(s: &str) -> String {
    s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// What the discovery found, and the state of the computer it was found on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    /// Mount table and package database when this was found.
    pub fingerprint: String,
    /// Mount points of the file systems walked.
    pub file_systems: Vec<PathBuf>,
    /// Directories anyone can write to and reach (none inside another of the same file
    /// system: the outer one's walk covers it).
    pub places: Vec<PathBuf>,
    /// How many directories the walk examined.
    pub directories_examined: u64,
}

/// The fingerprint of what the discovery depends on: the walked mounts (device, place, type)
/// and the package database's size and modification time.
pub fn fingerprint(skip_under: &Path) -> String {
    let mut parts: Vec<String> = walked_mounts(skip_under)
        .iter()
        .map(|m| format!("{} {} {}", m.dev, m.mount_point.display(), m.fstype))
        .collect();
    parts.sort();
    for db in PACKAGE_DATABASES {
        if let Ok(meta) = fs::metadata(db) {
            parts.push(format!(
                "{db} {} {}",
                meta.len(),
                meta.mtime_nsec() + meta.mtime() * 1_000_000_000
            ));
        }
    }
    parts.join("\n")
}

/// The mounts of this mount namespace that are walked: one per device (the one showing the
/// file system's root when there is one), none under `skip_under` (the session homes).
fn walked_mounts(skip_under: &Path) -> Vec<MountEntry> {
    let mut mounts: Vec<MountEntry> = mountinfo(Path::new("/proc/self/mountinfo"))
        .into_iter()
        .filter(|m| !NOT_WALKED.contains(&m.fstype.as_str()))
        .filter(|m| !(m.fstype == "fuse" || m.fstype.starts_with("fuse.") || m.fstype == "fuseblk"))
        .filter(|m| !m.mount_point.starts_with(skip_under))
        .collect();
    // The root of the file system first, then the shortest path: one walk per device.
    mounts.sort_by(|a, b| {
        (
            a.dev.as_str(),
            a.root != "/",
            a.mount_point.as_os_str().len(),
        )
            .cmp(&(
                b.dev.as_str(),
                b.root != "/",
                b.mount_point.as_os_str().len(),
            ))
    });
    mounts.dedup_by(|later, first| later.dev == first.dev);
    // Only mounts still visible at their place (an over-mounted one is hidden).
    mounts.retain(|m| fs::symlink_metadata(&m.mount_point).is_ok());
    mounts
}

/// Walks every walked file system for directories anyone can write to and reach.
pub fn discover(skip_under: &Path) -> Discovery {
    let fingerprint = fingerprint(skip_under);
    let mounts = walked_mounts(skip_under);
    let mut places = Vec::new();
    let mut examined = 0u64;
    for mount in &mounts {
        let Ok(meta) = fs::symlink_metadata(&mount.mount_point) else {
            continue;
        };
        walk(
            &mount.mount_point,
            meta.dev(),
            skip_under,
            &mut places,
            &mut examined,
        );
    }
    places.sort();
    places.dedup();
    Discovery {
        fingerprint,
        file_systems: mounts.into_iter().map(|m| m.mount_point).collect(),
        places,
        directories_examined: examined,
    }
}

fn walk(dir: &Path, dev: u64, skip_under: &Path, out: &mut Vec<PathBuf>, examined: &mut u64) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(meta) = fs::symlink_metadata(&dir) else {
            continue;
        };
        *examined += 1;
        if !meta.is_dir() || meta.dev() != dev || dir.starts_with(skip_under) {
            continue;
        }
        let mode = meta.mode();
        if mode & 0o002 != 0 {
            // Its whole content is searched for the account's files after each session.
            out.push(dir);
            continue;
        }
        if mode & 0o001 == 0 {
            // Others cannot traverse it: nothing inside is within a session's reach.
            continue;
        }
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push(entry.path());
            }
        }
    }
}

/// Loads the discovery kept in `state_dir`, or walks again when the computer changed since.
pub fn load_or_discover(state_dir: &Path, skip_under: &Path) -> Discovery {
    let path = state_dir.join(CACHE_FILE);
    let current = fingerprint(skip_under);
    if let Ok(bytes) = fs::read(&path) {
        if let Ok(cached) = serde_json::from_slice::<Discovery>(&bytes) {
            if cached.fingerprint == current {
                return cached;
            }
        }
    }
    let found = discover(skip_under);
    if let Ok(bytes) = serde_json::to_vec(&found) {
        if let Err(error) = crate::wipe::write_durably(&path, &bytes) {
            tracing::warn!(%error, "could not keep the writable places found; they will be found again at next start");
        }
    }
    found
}

/// File name of the kept discovery in the state directory.
pub const CACHE_FILE: &str = "writable-places.json";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_lines_are_parsed_with_their_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mountinfo");
        fs::write(
            &file,
            "36 35 0:52 / /tmp rw,nosuid - tmpfs tmpfs rw,mode=1777\n\
             40 36 0:61 / /home/commune/cmn-x/mon\\040dossier rw - fuse.bindfs bindfs rw,user_id=61000,group_id=61000\n",
        )
        .unwrap();
        let mounts = mountinfo(&file);
        assert_eq!(mounts.len(), 2);
        assert_eq!(mounts[0].mount_point, Path::new("/tmp"));
        assert_eq!(mounts[0].fstype, "tmpfs");
        assert!(!mounts[0].is_fuse_of(61000));
        assert_eq!(
            mounts[1].mount_point,
            Path::new("/home/commune/cmn-x/mon dossier")
        );
        assert!(mounts[1].is_fuse_of(61000));
        assert!(!mounts[1].is_fuse_of(6100));
        assert_eq!(mounts[1].minor(), Some(61));
    }

    #[test]
    fn writable_directories_are_found_and_unreachable_ones_are_not() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::set_permissions(root, fs::Permissions::from_mode(0o755)).unwrap();
        for (path, mode) in [
            ("usr", 0o755),
            ("usr/share", 0o755),
            ("usr/share/driver", 0o755),
            ("usr/share/driver/spool", 0o1777),
            ("usr/share/driver/spool/inner", 0o1777),
            ("private", 0o700),
            ("private/open", 0o777),
        ] {
            fs::create_dir(root.join(path)).unwrap();
            fs::set_permissions(root.join(path), fs::Permissions::from_mode(mode)).unwrap();
        }
        let mut out = Vec::new();
        let mut examined = 0;
        let dev = fs::metadata(root).unwrap().dev();
        walk(
            root,
            dev,
            Path::new("/nonexistent"),
            &mut out,
            &mut examined,
        );
        assert_eq!(out, vec![root.join("usr/share/driver/spool")]);
        assert!(examined >= 5);
    }
}
