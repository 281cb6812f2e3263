//! "Copy to my USB stick": the documents the visitor chose, copied by the agent onto the
//! stick they plugged in, which is then unmounted so that it can be pulled out safely.
//!
//! What the agent does with the stick, and nothing more:
//! - it finds it among the USB disks the kernel lists ([`crate::guard::usb_disks`]: paths
//!   and device numbers only) and takes its first partition (or the whole disk);
//! - it mounts it at a private place of its own (`nosuid`, `nodev`, `noexec`, `noatime`),
//!   only with the file systems the configuration allows (FAT and exFAT by default: the
//!   kernel's simplest parsers, and what sticks are formatted with);
//! - it reads the free space (`statvfs`), and creates each document as a new file
//!   (`O_EXCL`: a name already there gets " (2)", never overwritten, and nothing is listed);
//! - it flushes and unmounts (never lazily), and removes its device node.
//!
//! The stick's own files are never opened, read or listed. Document names appear only on the
//! visitor's screen and on their stick.

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Why the copy did not happen (each has its sentence on the screens).
#[derive(Debug, thiserror::Error)]
pub enum UsbError {
    /// No USB stick is plugged in.
    #[error("no USB stick is plugged in")]
    NoStick,
    /// None of the allowed file systems mounts it.
    #[error("the stick's format is not one of {0:?}")]
    Format(Vec<String>),
    /// Not enough free space.
    #[error("not enough free space on the stick ({free} bytes free, {needed} needed)")]
    NoSpace {
        /// Free bytes.
        free: u64,
        /// Bytes to copy.
        needed: u64,
    },
    /// A document is not one of the session's any more.
    #[error("a document is no longer there")]
    Document,
    /// The copy or the unmount failed.
    #[error("the copy failed: {0}")]
    Io(#[from] io::Error),
}

/// What was copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// Documents written.
    pub files: usize,
    /// Free bytes left on the stick.
    pub free_after: u64,
}

/// The block device to mount: the first partition of the first USB disk, or the disk
/// itself when it has none, as `major:minor` from `sys`.
pub fn find_volume(sys: &Path) -> Option<(u64, u64)> {
    let (disk, _) = crate::guard::usb_disks(sys).into_iter().next()?;
    let mut partitions: Vec<PathBuf> = std::fs::read_dir(&disk)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("partition").exists())
        .collect();
    partitions.sort();
    let dir = partitions.into_iter().next().unwrap_or(disk);
    let dev = std::fs::read_to_string(dir.join("dev")).ok()?;
    let (major, minor) = dev.trim().split_once(':')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// A name a FAT or exFAT stick accepts: no `"*/:<>?\|` nor control characters, no
/// trailing dots or spaces, at most 200 bytes.
pub fn stick_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_control() || "\"*/:<>?\\|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    while out.len() > 200 {
        out.pop();
    }
    let trimmed = out.trim_end_matches(['.', ' ']).trim_start();
    if trimmed.is_empty() {
        "document".to_string()
    } else {
        trimmed.to_string()
    }
}

/// `name`, then `name (2).ext`, `name (3).ext`…
fn candidates(name: &str) -> impl Iterator<Item = String> + '_ {
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, format!(".{ext}")),
        _ => (name, String::new()),
    };
    std::iter::once(name.to_string()).chain((2..100).map(move |n| format!("{stem} ({n}){ext}")))
}

/// The copy, with the places it uses: `sys` (the kernel's device lists), `dir` (a private
/// folder of the agent for the device node and the mount point), the file systems allowed.
#[derive(Debug, Clone)]
pub struct UsbCopy {
    /// Where the kernel's device lists are (`/sys`).
    pub sys: PathBuf,
    /// The agent's private folder for the mount.
    pub dir: PathBuf,
    /// The file systems tried, in order.
    pub filesystems: Vec<String>,
}

impl UsbCopy {
    /// Copies `documents` (a name for the stick, and the open file with its size) onto the
    /// plugged-in stick, then unmounts it.
    #[cfg(target_os = "linux")]
    pub fn copy(&self, documents: Vec<(String, std::fs::File, u64)>) -> Result<Copied, UsbError> {
        use nix::mount::{mount, umount2, MntFlags, MsFlags};
        use nix::sys::stat::{mknod, Mode, SFlag};

        let (major, minor) = find_volume(&self.sys).ok_or(UsbError::NoStick)?;
        std::fs::create_dir_all(&self.dir)?;
        std::fs::set_permissions(
            &self.dir,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )?;
        let node = self.dir.join("stick");
        let point = self.dir.join("mnt");
        // What a crash left.
        let _ = umount2(&point, MntFlags::empty());
        let _ = std::fs::remove_file(&node);
        std::fs::create_dir_all(&point)?;
        mknod(
            &node,
            SFlag::S_IFBLK,
            Mode::from_bits_truncate(0o600),
            nix::sys::stat::makedev(major, minor),
        )
        .map_err(io::Error::from)?;
        let flags =
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC | MsFlags::MS_NOATIME;
        let mounted = self
            .filesystems
            .iter()
            .any(|fs| mount(Some(&node), &point, Some(fs.as_str()), flags, None::<&str>).is_ok());
        if !mounted {
            let _ = std::fs::remove_file(&node);
            return Err(UsbError::Format(self.filesystems.clone()));
        }
        let result = write_all(&point, documents);
        // Flushed, then unmounted for real: a busy stick is retried, never detached lazily.
        let mut unmounted = Err(nix::errno::Errno::EBUSY);
        for _ in 0..50 {
            unmounted = umount2(&point, MntFlags::empty());
            if unmounted != Err(nix::errno::Errno::EBUSY) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = std::fs::remove_file(&node);
        let copied = result?;
        unmounted.map_err(io::Error::from)?;
        Ok(copied)
    }

    /// Outside Linux there is nothing to mount.
    #[cfg(not(target_os = "linux"))]
    pub fn copy(&self, _documents: Vec<(String, std::fs::File, u64)>) -> Result<Copied, UsbError> {
        Err(UsbError::NoStick)
    }
}

/// Writes each document as a new file at the stick's root, after checking the free space.
#[cfg(target_os = "linux")]
fn write_all(
    point: &Path,
    documents: Vec<(String, std::fs::File, u64)>,
) -> Result<Copied, UsbError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let free = |p: &Path| -> io::Result<u64> {
        let s = nix::sys::statvfs::statvfs(p).map_err(io::Error::from)?;
        Ok(s.blocks_available() as u64 * s.fragment_size() as u64)
    };
    let needed: u64 = documents.iter().map(|(_, _, size)| size).sum();
    let available = free(point)?;
    // A little room for the file system's own records.
    if needed + 64 * 1024 > available {
        return Err(UsbError::NoSpace {
            free: available,
            needed,
        });
    }
    let mut files = 0;
    for (name, mut source, _) in documents {
        let mut target = None;
        for candidate in candidates(&stick_name(&name)) {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .custom_flags(libc::O_NOFOLLOW)
                .mode(0o644)
                .open(point.join(&candidate))
            {
                Ok(file) => {
                    target = Some(file);
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let mut target = target.ok_or_else(|| io::Error::other("too many files of that name"))?;
        io::copy(&mut source, &mut target)?;
        target.flush()?;
        target.sync_all()?;
        files += 1;
    }
    Ok(Copied {
        files,
        free_after: free(point)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_a_stick_accepts_and_never_the_same_twice() {
        assert_eq!(stick_name("avis: 2026/impôt?.pdf"), "avis_ 2026_impôt_.pdf");
        assert_eq!(stick_name("..."), "document");
        assert_eq!(stick_name("a\u{7}b. "), "a_b");
        assert!(stick_name(&"é".repeat(300)).len() <= 200);
        let mut c = candidates("fiche.pdf");
        assert_eq!(c.next().unwrap(), "fiche.pdf");
        assert_eq!(c.next().unwrap(), "fiche (2).pdf");
        let mut c = candidates("LISEZMOI");
        c.next();
        assert_eq!(c.next().unwrap(), "LISEZMOI (2)");
    }

    #[test]
    fn the_first_partition_of_a_usb_disk_or_the_disk_itself() {
        let root = tempfile::tempdir().unwrap();
        let usb = root.path().join("devices/pci0000:00/0000:00:14.0/usb1/1-2");
        let disk = usb.join("1-2:1.0/host6/target6:0:0/6:0:0:0");
        std::fs::create_dir_all(&disk).unwrap();
        std::fs::write(usb.join("authorized"), "1").unwrap();
        std::fs::write(usb.join("idVendor"), "0781").unwrap();
        std::fs::create_dir_all(root.path().join("block/sdb")).unwrap();
        std::os::unix::fs::symlink(&disk, root.path().join("block/sdb/device")).unwrap();
        std::fs::write(root.path().join("block/sdb/dev"), "8:16\n").unwrap();
        assert_eq!(find_volume(root.path()), Some((8, 16)));
        std::fs::create_dir_all(root.path().join("block/sdb/sdb1")).unwrap();
        std::fs::write(root.path().join("block/sdb/sdb1/partition"), "1").unwrap();
        std::fs::write(root.path().join("block/sdb/sdb1/dev"), "8:17\n").unwrap();
        assert_eq!(find_volume(root.path()), Some((8, 17)));
        assert_eq!(find_volume(&root.path().join("nothing")), None);
    }
}
