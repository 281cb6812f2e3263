//! The visitor's documents: what they would lose when the session ends.
//!
//! During a session the agent watches the two folders where a visitor's documents land,
//! [`DOCUMENT_FOLDERS`] inside the session's home, so that the end-of-session screen can list
//! them before the home is erased. The list stays on the computer: file names are never logged
//! nor sent; only [`DocumentWatch::count`] leaves it.
//!
//! How the list stays right. inotify loses and merges events (a queue overflow, a rename whose
//! other half is outside the watched folders, files written into a new sub-folder before its
//! watch exists), so the list is never patched from events. An event only marks the list
//! stale; the next read rescans the folders, which hold one session's files and cost little.
//! While nothing changes, reads return the cached list without touching the disk, which keeps
//! [`DocumentWatch::count`] cheap enough for a screen to poll.
//!
//! The rescan watches every directory *before* listing it: a file created afterwards raises an
//! event (so another rescan), one created before is in the listing. That is why each directory
//! gets its own non-recursive watch, added here during the rescan, instead of notify's
//! recursive mode: notify adds the watch of a new sub-folder only after delivering its event,
//! leaving a moment where files written into it go unnoticed for good.
//!
//! Architecture invariant: nothing in this module logs or returns a file name except
//! [`DocumentWatch::documents`], whose caller is the screen on this computer.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use notify::event::{EventKind, ModifyKind};
use notify::{Event, RecommendedWatcher, RecursiveMode, Watcher};

/// The folders of the session's home whose files are the visitor's documents: where browsers
/// save downloads and where the scanner application saves scans.
pub const DOCUMENT_FOLDERS: [&str; 2] = ["Téléchargements", "Numérisations"];

/// File name endings of downloads still in progress (Firefox, Chromium): not documents yet.
const PARTIAL_DOWNLOAD_EXTENSIONS: [&str; 2] = ["part", "crdownload"];

/// How many removed or renamed paths are remembered between two reads before every watch is
/// renewed instead.
const MAX_FORGOTTEN_PATHS: usize = 1024;

/// Errors of [`DocumentWatch::start`], worded for IT.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The home folder is missing or unreadable.
    #[error(
        "the session's home folder {} cannot be opened ({source}); the session must be set up \
         before its documents are watched",
        path.display()
    )]
    Home {
        /// The home folder.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The home path names something that is not a folder.
    #[error(
        "the session's home {} is not a folder; check the agent's session home setting",
        path.display()
    )]
    NotAFolder {
        /// The home path.
        path: PathBuf,
    },
    /// The operating system refused a file watch.
    #[error("cannot watch the documents in {}: {reason}", path.display())]
    Watch {
        /// The home folder.
        path: PathBuf,
        /// Why, with what to do about it.
        reason: String,
    },
}

/// A watch over the document folders of one session's home.
///
/// Reads ([`documents`](Self::documents), [`count`](Self::count)) may be called from any
/// thread. Dropping it stops the watch, like [`stop`](Self::stop).
pub struct DocumentWatch {
    scanner: Mutex<Scanner>,
    pending: Arc<Mutex<Pending>>,
}

impl DocumentWatch {
    /// Starts watching `home`'s document folders and lists the documents already there.
    ///
    /// The folders are not created: one that does not exist yet is watched from the moment it
    /// appears (the home itself is watched, without its sub-folders, for that). Symbolic links
    /// are not followed.
    pub fn start(home: &Path) -> Result<DocumentWatch, DocumentError> {
        // notify reports absolute paths; the event filter compares them with ours.
        let home = std::path::absolute(home).map_err(|source| DocumentError::Home {
            path: home.to_path_buf(),
            source,
        })?;
        match std::fs::metadata(&home) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(DocumentError::NotAFolder { path: home }),
            Err(source) => return Err(DocumentError::Home { path: home, source }),
        }

        let pending = Arc::new(Mutex::new(Pending {
            // The first read is the initial scan.
            stale: true,
            ..Pending::default()
        }));
        let events = Events {
            folders: DOCUMENT_FOLDERS.map(|folder| home.join(folder)),
            pending: Arc::clone(&pending),
        };
        let watch_error = |error: notify::Error| DocumentError::Watch {
            path: home.clone(),
            reason: describe(&error),
        };
        let mut watcher =
            RecommendedWatcher::new(events, notify::Config::default()).map_err(watch_error)?;
        // Only to see a document folder appear or go: events about the home's other files are
        // dropped by `Events`.
        watcher
            .watch(&home, RecursiveMode::NonRecursive)
            .map_err(watch_error)?;

        let mut scanner = Scanner {
            home,
            watcher,
            watched: BTreeSet::new(),
            documents: Vec::new(),
            degraded: false,
        };
        scanner.refresh(&pending);
        tracing::debug!(
            documents = scanner.documents.len(),
            "watching the session's documents"
        );
        Ok(DocumentWatch {
            scanner: Mutex::new(scanner),
            pending,
        })
    }

    /// The documents now present, as paths relative to the home (such as
    /// `Téléchargements/avis-impot.pdf`), sorted.
    ///
    /// Documents are the regular files of the document folders and their sub-folders, except
    /// hidden ones (name starting with `.`, or inside a hidden folder) and downloads in progress
    /// (`*.part`, `*.crdownload`).
    pub fn documents(&self) -> Vec<PathBuf> {
        let mut scanner = lock(&self.scanner);
        scanner.refresh(&self.pending);
        scanner.documents.clone()
    }

    /// How many documents there are, counted like [`documents`](Self::documents): the only
    /// figure about them that leaves the computer.
    pub fn count(&self) -> u32 {
        let mut scanner = lock(&self.scanner);
        scanner.refresh(&self.pending);
        u32::try_from(scanner.documents.len()).unwrap_or(u32::MAX)
    }

    /// Stops watching. Every watch is removed before this returns, so the home's file system
    /// can be unmounted right after.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for DocumentWatch {
    fn drop(&mut self) {
        let scanner = self
            .scanner
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        // `unwatch` waits for notify's thread to remove the watch, whereas dropping the watcher
        // only asks that thread to close everything, some time later.
        for dir in std::mem::take(&mut scanner.watched) {
            let _ = scanner.watcher.unwatch(&dir);
        }
        let _ = scanner.watcher.unwatch(&scanner.home);
    }
}

impl fmt::Debug for DocumentWatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Counts only: the names are the visitor's.
        let scanner = lock(&self.scanner);
        f.debug_struct("DocumentWatch")
            .field("home", &scanner.home)
            .field("watched_folders", &scanner.watched.len())
            .field("documents", &scanner.documents.len())
            .finish()
    }
}

/// What events have told since the last scan. Written by notify's thread, taken by readers.
#[derive(Debug, Default)]
struct Pending {
    /// Something may have changed: the next read rescans.
    stale: bool,
    /// Events were lost: every watch is renewed at the next scan.
    rewatch_all: bool,
    /// Paths that were removed or renamed: watches at or under them may be gone or wrong.
    forget: Vec<PathBuf>,
}

/// notify's event handler: runs on notify's thread, so it only records and never calls the
/// watcher (that would wait for the very thread it runs on).
struct Events {
    /// The absolute paths of the document folders.
    folders: [PathBuf; 2],
    pending: Arc<Mutex<Pending>>,
}

impl notify::EventHandler for Events {
    fn handle_event(&mut self, event: notify::Result<Event>) {
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!(
                    error = error_kind(&error),
                    "the document watcher reported an error; rescanning the documents"
                );
                let mut pending = lock(&self.pending);
                pending.stale = true;
                pending.rewatch_all = true;
                return;
            }
        };
        if event.need_rescan() {
            tracing::debug!("document events were lost; rescanning the documents");
            let mut pending = lock(&self.pending);
            pending.stale = true;
            pending.rewatch_all = true;
            return;
        }
        if !self.concerns_documents(&event) {
            return;
        }
        let mut pending = lock(&self.pending);
        pending.stale = true;
        // Forgetting too much is harmless (the rescan watches again whatever exists); keeping a
        // watch whose directory was replaced is not, so every path of the event is forgotten.
        if pending.rewatch_all {
            return;
        }
        pending.forget.extend(event.paths);
        if pending.forget.len() > MAX_FORGOTTEN_PATHS {
            // Nobody has read for a while (an archive being extracted?): renewing every watch
            // at the next scan costs less than remembering each path.
            pending.forget = Vec::new();
            pending.rewatch_all = true;
        }
    }
}

impl Events {
    /// Whether the event can change the list: it is about a document folder or what is inside,
    /// and about a file appearing, going or being renamed. Writes, reads and attribute changes
    /// change nothing (a download in progress writes often).
    fn concerns_documents(&self, event: &Event) -> bool {
        let changes_entries = !matches!(
            event.kind,
            EventKind::Access(_) | EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Metadata(_))
        );
        let in_folders = event.paths.is_empty()
            || event
                .paths
                .iter()
                .any(|path| self.folders.iter().any(|folder| path.starts_with(folder)));
        changes_entries && in_folders
    }
}

/// The watcher, the directories it watches and the list as of the last scan.
struct Scanner {
    home: PathBuf,
    watcher: RecommendedWatcher,
    /// Directories under the home that have their own watch (the home's is not among them).
    watched: BTreeSet<PathBuf>,
    /// Relative to the home, sorted.
    documents: Vec<PathBuf>,
    /// Some directory could not be watched or read at the last scan.
    degraded: bool,
}

/// What one scan found.
#[derive(Default)]
struct Walk {
    dirs: BTreeSet<PathBuf>,
    documents: Vec<PathBuf>,
    /// Something could not be watched or read: the result may go stale unnoticed.
    incomplete: bool,
}

impl Scanner {
    /// Rescans the document folders if an event (or the start) marked the list stale.
    fn refresh(&mut self, pending: &Mutex<Pending>) {
        let (forget, rewatch_all) = {
            let mut pending = lock(pending);
            if !pending.stale {
                return;
            }
            // Cleared before scanning: an event arriving during the scan marks it stale again.
            pending.stale = false;
            (
                std::mem::take(&mut pending.forget),
                std::mem::take(&mut pending.rewatch_all),
            )
        };

        if rewatch_all {
            for dir in std::mem::take(&mut self.watched) {
                let _ = self.watcher.unwatch(&dir);
            }
        } else {
            for path in &forget {
                let under: Vec<PathBuf> = self
                    .watched
                    .iter()
                    .filter(|dir| dir.starts_with(path))
                    .cloned()
                    .collect();
                for dir in under {
                    // Often already removed by notify with the directory: nothing to do then.
                    let _ = self.watcher.unwatch(&dir);
                    self.watched.remove(&dir);
                }
            }
        }

        let mut walk = Walk::default();
        self.scan_folders(&mut walk);

        let gone: Vec<PathBuf> = self.watched.difference(&walk.dirs).cloned().collect();
        for dir in gone {
            let _ = self.watcher.unwatch(&dir);
            self.watched.remove(&dir);
        }

        walk.documents.sort();
        self.documents = walk.documents;
        if walk.incomplete {
            // Without a watch on every folder a change can pass unseen: rescan at every read.
            lock(pending).stale = true;
            if !self.degraded {
                tracing::warn!(
                    watched_folders = self.watched.len(),
                    "some document folders could not be watched or read; the documents will be \
                     rescanned at every read"
                );
            }
        } else if self.degraded {
            tracing::info!("every document folder is watched again");
        }
        self.degraded = walk.incomplete;
    }

    /// Lists the documents of the document folders, by file descriptor: each folder is
    /// opened from its parent's descriptor with `O_NOFOLLOW | O_DIRECTORY` (the home's own
    /// path is the agent's), so a folder the visitor swapped for a link (to `/etc`, to
    /// `/root`) is never entered, at any depth and whenever the swap happens: it is the
    /// open itself that refuses the link, not an earlier look at the path. Folders on
    /// another device than the home's are not entered either. The agent runs as root:
    /// without this, the list on the visitor's screen could show another place's names.
    #[cfg(target_os = "linux")]
    fn scan_folders(&mut self, walk: &mut Walk) {
        use nix::fcntl::OFlag;
        use nix::sys::stat::{fstat, Mode};

        let home = match nix::fcntl::open(
            &self.home,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(home) => home,
            Err(_) => {
                walk.incomplete = true;
                return;
            }
        };
        let Ok(device) = fstat(&home).map(|stat| stat.st_dev) else {
            walk.incomplete = true;
            return;
        };
        for folder in DOCUMENT_FOLDERS {
            match by_fd::open_dir(&home, OsStr::new(folder), device) {
                by_fd::Opened::Dir(fd) => {
                    let dir = self.home.join(folder);
                    self.scan(fd, dir, PathBuf::from(folder), device, walk);
                }
                // Missing, a link, a file, another device: holds no documents.
                by_fd::Opened::Not => {}
                by_fd::Opened::Failed => walk.incomplete = true,
            }
        }
    }

    /// Lists the documents under the folder open as `fd`, at `dir` (`relative` to the
    /// home), watching each folder before reading it.
    #[cfg(target_os = "linux")]
    fn scan(
        &mut self,
        fd: std::os::fd::OwnedFd,
        dir: PathBuf,
        relative: PathBuf,
        device: u64,
        walk: &mut Walk,
    ) {
        // A loop rather than recursion: the visitor decides how deep folders nest.
        let mut stack = vec![(fd, dir, relative)];
        while let Some((fd, dir, relative)) = stack.pop() {
            // inotify watches by path (and follows links): the watch goes on first, then
            // the path must still name the folder we hold, else the watch may be elsewhere.
            if !self.watched.contains(&dir) {
                match self.watcher.watch(&dir, RecursiveMode::NonRecursive) {
                    Ok(()) => {
                        self.watched.insert(dir.clone());
                    }
                    // Removed meanwhile; its parent's event brings another scan.
                    Err(error) if is_not_found(&error) => continue,
                    Err(_) => walk.incomplete = true,
                }
            }
            if !by_fd::same_folder(&fd, &dir) {
                // Moved or swapped since it was opened: its parent's event brings another
                // scan; a watch that may be on something else goes.
                if self.watched.remove(&dir) {
                    let _ = self.watcher.unwatch(&dir);
                }
                continue;
            }
            walk.dirs.insert(dir.clone());
            let Some(entries) = by_fd::entries(&fd) else {
                walk.incomplete = true;
                continue;
            };
            for (name, kind) in entries {
                if is_hidden(&name) {
                    continue;
                }
                match by_fd::classify(&fd, &name, kind, device) {
                    by_fd::Entry::Dir(child) => {
                        stack.push((child, dir.join(&name), relative.join(&name)));
                    }
                    by_fd::Entry::File if !is_partial_download(&name) => {
                        walk.documents.push(relative.join(&name));
                    }
                    by_fd::Entry::File | by_fd::Entry::Other => {}
                    by_fd::Entry::Failed => walk.incomplete = true,
                }
            }
        }
    }

    /// Lists the documents of the document folders (outside Linux: by path, links not
    /// followed where the listing says what an entry is).
    #[cfg(not(target_os = "linux"))]
    fn scan_folders(&mut self, walk: &mut Walk) {
        for folder in DOCUMENT_FOLDERS {
            let dir = self.home.join(folder);
            match std::fs::symlink_metadata(&dir) {
                Ok(meta) if meta.is_dir() => self.scan(dir, PathBuf::from(folder), walk),
                // Not a folder (or a link): holds no documents.
                Ok(_) => {}
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(_) => walk.incomplete = true,
            }
        }
    }

    /// Lists the documents under `dir` (whose path relative to the home is `relative`),
    /// watching each directory before reading it.
    #[cfg(not(target_os = "linux"))]
    fn scan(&mut self, dir: PathBuf, relative: PathBuf, walk: &mut Walk) {
        let mut stack = vec![(dir, relative)];
        while let Some((dir, relative)) = stack.pop() {
            if !self.watched.contains(&dir) {
                match self.watcher.watch(&dir, RecursiveMode::NonRecursive) {
                    Ok(()) => {
                        self.watched.insert(dir.clone());
                    }
                    Err(error) if is_not_found(&error) => continue,
                    Err(_) => walk.incomplete = true,
                }
            }
            walk.dirs.insert(dir.clone());
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                Err(_) => {
                    walk.incomplete = true;
                    continue;
                }
            };
            for entry in entries {
                let Ok(entry) = entry else {
                    walk.incomplete = true;
                    continue;
                };
                let name = entry.file_name();
                if is_hidden(&name) {
                    continue;
                }
                let Ok(kind) = entry.file_type() else {
                    walk.incomplete = true;
                    continue;
                };
                if kind.is_dir() {
                    stack.push((entry.path(), relative.join(&name)));
                } else if kind.is_file() && !is_partial_download(&name) {
                    walk.documents.push(relative.join(&name));
                }
            }
        }
    }
}

/// Folders walked by file descriptor (see [`Scanner::scan_folders`]).
#[cfg(target_os = "linux")]
mod by_fd {
    use std::ffi::{OsStr, OsString};
    use std::os::fd::{AsFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt as _;
    use std::os::unix::fs::MetadataExt as _;
    use std::path::Path;

    use nix::dir::{Dir, Type};
    use nix::errno::Errno;
    use nix::fcntl::{AtFlags, OFlag};
    use nix::sys::stat::{fstat, fstatat, Mode, SFlag};

    /// What opening a name as a folder gave.
    pub(super) enum Opened {
        /// A folder of the home's device.
        Dir(OwnedFd),
        /// Missing, a link, not a folder, or on another device: not entered.
        Not,
        /// Could not tell (permissions, resources).
        Failed,
    }

    /// Opens `name` in `parent` as a folder, never through a link (`O_NOFOLLOW`: a link
    /// fails with `ELOOP`), and only on `device`.
    pub(super) fn open_dir(parent: &impl AsFd, name: &OsStr, device: u64) -> Opened {
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        match nix::fcntl::openat(parent, name, flags, Mode::empty()) {
            Ok(fd) => match fstat(&fd) {
                Ok(stat) if stat.st_dev == device => Opened::Dir(fd),
                Ok(_) => Opened::Not,
                Err(_) => Opened::Failed,
            },
            Err(Errno::ENOENT | Errno::ELOOP | Errno::ENOTDIR) => Opened::Not,
            Err(_) => Opened::Failed,
        }
    }

    /// Whether `path` (not followed at its end) is still the folder open as `fd`.
    pub(super) fn same_folder(fd: &OwnedFd, path: &Path) -> bool {
        match (fstat(fd), std::fs::symlink_metadata(path)) {
            (Ok(held), Ok(named)) => {
                named.is_dir() && held.st_dev == named.dev() && held.st_ino == named.ino()
            }
            _ => false,
        }
    }

    /// The names in the folder open as `fd` (without `.` and `..`), with what the listing
    /// says they are.
    pub(super) fn entries(fd: &OwnedFd) -> Option<Vec<(OsString, Option<Type>)>> {
        // The listing reads through its own descriptor; `fd` stays for opening children.
        let dir = Dir::from_fd(fd.try_clone().ok()?).ok()?;
        let mut entries = Vec::new();
        for entry in dir {
            let entry = entry.ok()?;
            let name = OsStr::from_bytes(entry.file_name().to_bytes());
            if name == "." || name == ".." {
                continue;
            }
            entries.push((name.to_os_string(), entry.file_type()));
        }
        Some(entries)
    }

    /// One entry of a folder.
    pub(super) enum Entry {
        /// A folder of the home's device, open.
        Dir(OwnedFd),
        /// A regular file.
        File,
        /// A link, a device, a pipe, a socket, a folder elsewhere, or gone.
        Other,
        /// Could not tell.
        Failed,
    }

    /// What `name` in the folder `parent` is. Whatever could be a folder (a folder, a link,
    /// an entry of unknown type) is opened with [`open_dir`]: the open refuses a link even
    /// if the entry was swapped after the listing.
    pub(super) fn classify(
        parent: &OwnedFd,
        name: &OsStr,
        kind: Option<Type>,
        device: u64,
    ) -> Entry {
        match kind {
            Some(Type::File) => Entry::File,
            Some(Type::Directory | Type::Symlink) | None => match open_dir(parent, name, device) {
                Opened::Dir(fd) => Entry::Dir(fd),
                Opened::Failed => Entry::Failed,
                Opened::Not if kind.is_none() => {
                    match fstatat(parent, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
                        Ok(stat)
                            if SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT
                                == SFlag::S_IFREG =>
                        {
                            Entry::File
                        }
                        Ok(_) | Err(Errno::ENOENT) => Entry::Other,
                        Err(_) => Entry::Failed,
                    }
                }
                Opened::Not => Entry::Other,
            },
            Some(_) => Entry::Other,
        }
    }
}

/// Whether a file or folder name is hidden by desktop convention.
/// Why a document could not be read for the visitor.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Not a regular file of the session's home (a link, a device, a folder, another
    /// file system), or gone.
    #[error("not a document of the session")]
    NotADocument,
    /// Over the size limit.
    #[error("the document is over the size limit")]
    TooLarge,
    /// The read failed.
    #[error("the document could not be read: {0}")]
    Io(#[from] io::Error),
}

/// Reads the document `relative` (as [`DocumentWatch::documents`] gives it) from `home`,
/// for the visitor (to send it to their phone), at most `max` bytes (see
/// [`open_document`]).
pub fn read_document(home: &Path, relative: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read as _;
    let (file, size) = open_document(home, relative)?;
    if size > max {
        return Err(ReadError::TooLarge);
    }
    let mut content = Vec::new();
    // A file growing meanwhile is cut at the limit and refused.
    file.take(max + 1).read_to_end(&mut content)?;
    if content.len() as u64 > max {
        return Err(ReadError::TooLarge);
    }
    Ok(content)
}

/// Opens the document `relative` (as [`DocumentWatch::documents`] gives it) in `home`
/// for reading, with its size.
///
/// The agent reads as root, so the path is never followed through a link: each folder is
/// opened by descriptor without following links and only on the home's own file system,
/// and the file itself must be a regular file there. A visitor who replaces a document
/// with a link to a system file (or a folder with a link elsewhere) gets nothing.
#[cfg(target_os = "linux")]
pub fn open_document(home: &Path, relative: &Path) -> Result<(std::fs::File, u64), ReadError> {
    use std::os::fd::OwnedFd;
    use std::path::Component;

    use nix::fcntl::OFlag;
    use nix::sys::stat::{fstat, Mode, SFlag};

    let mut names = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(name) => names.push(name),
            _ => return Err(ReadError::NotADocument),
        }
    }
    let Some((file, folders)) = names.split_last() else {
        return Err(ReadError::NotADocument);
    };
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    let home_fd: OwnedFd = nix::fcntl::open(home, flags, Mode::empty()).map_err(io::Error::from)?;
    let device = fstat(&home_fd).map_err(io::Error::from)?.st_dev;
    let mut parent = home_fd;
    for folder in folders {
        match by_fd::open_dir(&parent, folder, device) {
            by_fd::Opened::Dir(fd) => parent = fd,
            by_fd::Opened::Not => return Err(ReadError::NotADocument),
            by_fd::Opened::Failed => return Err(ReadError::Io(io::Error::other("folder"))),
        }
    }
    // O_NONBLOCK: a pipe put in place of the document does not hang the open.
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
    let fd = match nix::fcntl::openat(&parent, *file, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(nix::errno::Errno::ELOOP | nix::errno::Errno::ENOENT) => {
            return Err(ReadError::NotADocument)
        }
        Err(e) => return Err(ReadError::Io(e.into())),
    };
    let stat = fstat(&fd).map_err(io::Error::from)?;
    let regular = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT == SFlag::S_IFREG;
    if !regular || stat.st_dev != device {
        return Err(ReadError::NotADocument);
    }
    Ok((
        std::fs::File::from(fd),
        u64::try_from(stat.st_size).unwrap_or(u64::MAX),
    ))
}

/// Opens the document `relative` in `home` (outside Linux: by path, refusing links).
#[cfg(not(target_os = "linux"))]
pub fn open_document(home: &Path, relative: &Path) -> Result<(std::fs::File, u64), ReadError> {
    use std::path::Component;
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err(ReadError::NotADocument);
    }
    let mut at = home.to_path_buf();
    for component in relative.components() {
        at.push(component);
        let meta = std::fs::symlink_metadata(&at).map_err(|_| ReadError::NotADocument)?;
        if meta.file_type().is_symlink() {
            return Err(ReadError::NotADocument);
        }
    }
    let meta = std::fs::symlink_metadata(&at).map_err(|_| ReadError::NotADocument)?;
    if !meta.is_file() {
        return Err(ReadError::NotADocument);
    }
    Ok((std::fs::File::open(&at)?, meta.len()))
}

fn is_hidden(name: &OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

/// Whether a file name is a browser's download in progress.
fn is_partial_download(name: &OsStr) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|extension| PARTIAL_DOWNLOAD_EXTENSIONS.iter().any(|p| extension == *p))
}

fn is_not_found(error: &notify::Error) -> bool {
    match &error.kind {
        notify::ErrorKind::PathNotFound => true,
        notify::ErrorKind::Io(error) => error.kind() == io::ErrorKind::NotFound,
        _ => false,
    }
}

/// The kind of a watcher error, for logs: notify's own message would carry paths.
fn error_kind(error: &notify::Error) -> &'static str {
    match &error.kind {
        notify::ErrorKind::Generic(_) => "generic",
        notify::ErrorKind::Io(_) => "io",
        notify::ErrorKind::PathNotFound => "path not found",
        notify::ErrorKind::WatchNotFound => "watch not found",
        notify::ErrorKind::InvalidConfig(_) => "invalid configuration",
        notify::ErrorKind::MaxFilesWatch => "watch limit reached",
    }
}

/// A watcher error in words IT can act on, without paths.
fn describe(error: &notify::Error) -> String {
    match &error.kind {
        notify::ErrorKind::MaxFilesWatch => "the system's limit of watched folders is reached; \
             raise it with `sysctl fs.inotify.max_user_watches`"
            .to_owned(),
        notify::ErrorKind::Io(error) if error.raw_os_error() == Some(24) => {
            // EMFILE from inotify_init: the per-user limit of inotify instances.
            "too many file watchers are open; raise the limit with \
             `sysctl fs.inotify.max_user_instances` or check for a program leaking them"
                .to_owned()
        }
        notify::ErrorKind::Io(error) => error.to_string(),
        notify::ErrorKind::PathNotFound => "the folder disappeared".to_owned(),
        notify::ErrorKind::WatchNotFound => "the watch disappeared".to_owned(),
        notify::ErrorKind::Generic(message) => message.clone(),
        notify::ErrorKind::InvalidConfig(config) => format!("invalid configuration {config:?}"),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every state behind these locks is valid at any point (at worst a rescan too many).
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::time::{Duration, Instant};

    /// How long the watcher gets to notice a change.
    const PATIENCE: Duration = Duration::from_secs(5);

    fn home() -> tempfile::TempDir {
        let home = tempfile::tempdir().unwrap();
        for folder in DOCUMENT_FOLDERS {
            fs::create_dir(home.path().join(folder)).unwrap();
        }
        home
    }

    fn write(home: &Path, relative: &str) {
        let path = home.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, b"%PDF-1.7").unwrap();
    }

    /// Waits until the list is `expected`, failing with what it was after [`PATIENCE`].
    fn wait_for(watch: &DocumentWatch, expected: &[&str]) {
        let expected: Vec<PathBuf> = expected.iter().map(PathBuf::from).collect();
        let deadline = Instant::now() + PATIENCE;
        loop {
            let documents = watch.documents();
            if documents == expected {
                assert_eq!(watch.count() as usize, expected.len());
                return;
            }
            assert!(
                Instant::now() < deadline,
                "documents are {documents:?}, expected {expected:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<DocumentWatch>();
    }

    #[test]
    fn lists_what_the_visitor_would_lose() {
        let home = home();
        let watch = DocumentWatch::start(home.path()).unwrap();
        wait_for(&watch, &[]);

        write(home.path(), "Téléchargements/avis-impot.pdf");
        write(home.path(), "Numérisations/scan-001.jpg");
        write(home.path(), "Téléchargements/billets/train.pdf");
        wait_for(
            &watch,
            &[
                "Numérisations/scan-001.jpg",
                "Téléchargements/avis-impot.pdf",
                "Téléchargements/billets/train.pdf",
            ],
        );

        fs::remove_file(home.path().join("Numérisations/scan-001.jpg")).unwrap();
        wait_for(
            &watch,
            &[
                "Téléchargements/avis-impot.pdf",
                "Téléchargements/billets/train.pdf",
            ],
        );
        watch.stop();
    }

    #[test]
    fn a_finished_download_appears_under_its_final_name() {
        let home = home();
        let watch = DocumentWatch::start(home.path()).unwrap();
        write(home.path(), "Téléchargements/releve.pdf.part");
        write(home.path(), "Téléchargements/photo.jpg.crdownload");
        // A document written after them, so that once it shows the partial ones were seen.
        write(home.path(), "Téléchargements/cv.odt");
        wait_for(&watch, &["Téléchargements/cv.odt"]);

        fs::rename(
            home.path().join("Téléchargements/releve.pdf.part"),
            home.path().join("Téléchargements/releve.pdf"),
        )
        .unwrap();
        wait_for(
            &watch,
            &["Téléchargements/cv.odt", "Téléchargements/releve.pdf"],
        );
    }

    #[test]
    fn hidden_files_are_not_documents() {
        let home = home();
        let watch = DocumentWatch::start(home.path()).unwrap();
        write(home.path(), "Téléchargements/.~lock.lettre.odt#");
        write(home.path(), "Téléchargements/.cache/vignette.png");
        write(home.path(), "Téléchargements/lettre.odt");
        // Files of the home outside the document folders are not documents either.
        write(home.path(), "Bureau/note.txt");
        wait_for(&watch, &["Téléchargements/lettre.odt"]);
    }

    #[test]
    fn files_present_before_the_start_are_listed() {
        let home = home();
        write(home.path(), "Numérisations/carte-identite.pdf");
        write(home.path(), "Téléchargements/a/b/profond.txt");
        let watch = DocumentWatch::start(home.path()).unwrap();
        assert_eq!(
            watch.documents(),
            [
                PathBuf::from("Numérisations/carte-identite.pdf"),
                PathBuf::from("Téléchargements/a/b/profond.txt"),
            ]
        );
        assert_eq!(watch.count(), 2);
    }

    #[test]
    fn renames_and_moves_are_followed() {
        let home = home();
        let outside = tempfile::tempdir_in(home.path()).unwrap();
        let watch = DocumentWatch::start(home.path()).unwrap();

        // A folder filled elsewhere, then moved in whole: one event for all its files.
        write(outside.path(), "dossier/piece-1.pdf");
        write(outside.path(), "dossier/sous/piece-2.pdf");
        fs::rename(
            outside.path().join("dossier"),
            home.path().join("Téléchargements/dossier"),
        )
        .unwrap();
        wait_for(
            &watch,
            &[
                "Téléchargements/dossier/piece-1.pdf",
                "Téléchargements/dossier/sous/piece-2.pdf",
            ],
        );

        // Renamed inside: the watches of the old sub-folders must not linger.
        fs::rename(
            home.path().join("Téléchargements/dossier"),
            home.path().join("Téléchargements/caf"),
        )
        .unwrap();
        wait_for(
            &watch,
            &[
                "Téléchargements/caf/piece-1.pdf",
                "Téléchargements/caf/sous/piece-2.pdf",
            ],
        );
        // Still watched under the new name.
        write(home.path(), "Téléchargements/caf/sous/piece-3.pdf");
        wait_for(
            &watch,
            &[
                "Téléchargements/caf/piece-1.pdf",
                "Téléchargements/caf/sous/piece-2.pdf",
                "Téléchargements/caf/sous/piece-3.pdf",
            ],
        );

        // Moved out (as a file manager's trash does).
        fs::rename(
            home.path().join("Téléchargements/caf/sous"),
            outside.path().join("sous"),
        )
        .unwrap();
        wait_for(&watch, &["Téléchargements/caf/piece-1.pdf"]);
        fs::remove_dir_all(home.path().join("Téléchargements/caf")).unwrap();
        wait_for(&watch, &[]);
    }

    #[test]
    fn files_written_at_once_into_new_sub_folders_are_seen() {
        let home = home();
        let watch = DocumentWatch::start(home.path()).unwrap();
        let mut expected = Vec::new();
        // Each sub-folder and its file are created before any watch on them can exist.
        for i in 0..20 {
            let relative = format!("Numérisations/lot-{i:02}/x/page.pdf");
            write(home.path(), &relative);
            expected.push(relative);
        }
        expected.sort();
        let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        wait_for(&watch, &expected);
    }

    #[test]
    fn a_document_folder_created_later_is_watched() {
        let home = tempfile::tempdir().unwrap();
        let watch = DocumentWatch::start(home.path()).unwrap();
        assert_eq!(watch.count(), 0);
        write(home.path(), "Numérisations/scan.png");
        wait_for(&watch, &["Numérisations/scan.png"]);
        write(home.path(), "Numérisations/scan-2.png");
        wait_for(
            &watch,
            &["Numérisations/scan-2.png", "Numérisations/scan.png"],
        );
    }

    /// The agent lists the documents as root: a folder the visitor replaced with a link to
    /// a place outside the home (`/etc`, `/root`) must not show that place's files, whether
    /// the link is a document folder itself or a sub-folder, before or during the session.
    #[test]
    fn folders_swapped_for_links_to_elsewhere_are_not_followed() {
        use std::os::unix::fs::symlink;

        let elsewhere = tempfile::tempdir().unwrap();
        write(elsewhere.path(), "shadow");
        write(elsewhere.path(), "ssh/id_ed25519");
        let home = tempfile::tempdir().unwrap();
        // Téléchargements is a link from the start; Numérisations holds a linked sub-folder.
        symlink(elsewhere.path(), home.path().join("Téléchargements")).unwrap();
        write(home.path(), "Numérisations/scan.pdf");
        symlink(elsewhere.path(), home.path().join("Numérisations/lien")).unwrap();
        symlink(
            elsewhere.path().join("ssh"),
            home.path().join("Numérisations/lien-ssh"),
        )
        .unwrap();
        let watch = DocumentWatch::start(home.path()).unwrap();
        assert_eq!(watch.documents(), [PathBuf::from("Numérisations/scan.pdf")]);

        // During the session: a real folder swapped for a link, then a fresh file to make
        // sure the scan after the swap has happened.
        fs::remove_dir_all(home.path().join("Numérisations")).unwrap();
        symlink(elsewhere.path(), home.path().join("Numérisations")).unwrap();
        fs::remove_file(home.path().join("Téléchargements")).unwrap();
        write(home.path(), "Téléchargements/sous/vrai.pdf");
        wait_for(&watch, &["Téléchargements/sous/vrai.pdf"]);
        fs::remove_file(home.path().join("Téléchargements/sous/vrai.pdf")).unwrap();
        fs::remove_dir(home.path().join("Téléchargements/sous")).unwrap();
        symlink(
            elsewhere.path().join("ssh"),
            home.path().join("Téléchargements/sous"),
        )
        .unwrap();
        write(home.path(), "Téléchargements/dernier.pdf");
        wait_for(&watch, &["Téléchargements/dernier.pdf"]);
        for document in watch.documents() {
            let name = document.to_string_lossy();
            assert!(
                !name.contains("shadow") && !name.contains("id_ed25519"),
                "{name} is outside the home"
            );
        }
    }

    /// The open itself refuses a link (`O_NOFOLLOW`), at the top and below: what stays
    /// true even when the visitor swaps a folder between the listing and the open.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_scan_opens_no_folder_through_a_link() {
        use std::os::unix::fs::symlink;

        let elsewhere = tempfile::tempdir().unwrap();
        write(elsewhere.path(), "shadow");
        let home = home();
        symlink(elsewhere.path(), home.path().join("lien")).unwrap();
        write(home.path(), "Numérisations/scan.pdf");
        let opened = |dir: &Path| {
            nix::fcntl::open(
                dir,
                nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY,
                nix::sys::stat::Mode::empty(),
            )
            .unwrap()
        };
        let root = opened(home.path());
        let device = nix::sys::stat::fstat(&root).unwrap().st_dev;
        let name = |n: &str| OsStr::new(n).to_os_string();
        assert!(matches!(
            by_fd::open_dir(&root, &name("lien"), device),
            by_fd::Opened::Not
        ));
        assert!(matches!(
            by_fd::open_dir(&root, &name("Numérisations"), device),
            by_fd::Opened::Dir(_)
        ));
        // Whatever the listing said the entry was: a folder, a link, or unknown.
        for kind in [
            Some(nix::dir::Type::Directory),
            Some(nix::dir::Type::Symlink),
            None,
        ] {
            assert!(matches!(
                by_fd::classify(&root, &name("lien"), kind, device),
                by_fd::Entry::Other
            ));
        }
        let scans = opened(&home.path().join("Numérisations"));
        assert!(matches!(
            by_fd::classify(&scans, &name("scan.pdf"), None, device),
            by_fd::Entry::File
        ));
        // Another device than the home's is not entered either.
        assert!(matches!(
            by_fd::open_dir(&root, &name("Numérisations"), device.wrapping_add(1)),
            by_fd::Opened::Not
        ));
    }

    #[test]
    fn a_missing_home_is_an_error() {
        let home = tempfile::tempdir().unwrap();
        let missing = home.path().join("absent");
        let error = DocumentWatch::start(&missing).unwrap_err();
        assert!(matches!(error, DocumentError::Home { .. }), "{error}");
    }

    /// The inode numbers that this process's inotify descriptors watch (Linux's fdinfo).
    fn inotify_watched_inodes() -> Vec<u64> {
        let mut inodes = Vec::new();
        for entry in fs::read_dir("/proc/self/fdinfo").unwrap() {
            // A descriptor of another test may close meanwhile.
            let Ok(info) = fs::read_to_string(entry.unwrap().path()) else {
                continue;
            };
            for line in info.lines().filter(|line| line.starts_with("inotify wd:")) {
                let inode = line
                    .split_whitespace()
                    .find_map(|field| field.strip_prefix("ino:"))
                    .unwrap();
                inodes.push(u64::from_str_radix(inode, 16).unwrap());
            }
        }
        inodes
    }

    #[test]
    fn stop_releases_every_watch() {
        use std::os::unix::fs::MetadataExt;

        let home = home();
        write(home.path(), "Téléchargements/sous/document.pdf");
        let ours: Vec<u64> = [
            "",
            "Téléchargements",
            "Numérisations",
            "Téléchargements/sous",
        ]
        .iter()
        .map(|relative| fs::metadata(home.path().join(relative)).unwrap().ino())
        .collect();

        let watch = DocumentWatch::start(home.path()).unwrap();
        let watched = inotify_watched_inodes();
        for inode in &ours {
            assert!(watched.contains(inode), "folder {inode} not watched");
        }

        watch.stop();
        let watched = inotify_watched_inodes();
        for inode in &ours {
            assert!(!watched.contains(inode), "folder {inode} still watched");
        }
        home.close().unwrap();
    }

    #[test]
    fn a_document_is_read_but_never_through_a_link_or_outside_the_home() {
        use std::os::unix::fs::symlink;
        let home = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join("Numérisations/2026")).unwrap();
        std::fs::write(
            home.path().join("Numérisations/2026/fiche.pdf"),
            b"%PDF fiche",
        )
        .unwrap();
        std::fs::write(elsewhere.path().join("secret"), b"root only").unwrap();
        let read = |p: &str| read_document(home.path(), Path::new(p), 100);
        assert_eq!(read("Numérisations/2026/fiche.pdf").unwrap(), b"%PDF fiche");
        // A link in place of the document, or of a folder, or a climb out.
        symlink(
            elsewhere.path().join("secret"),
            home.path().join("Numérisations/lien.pdf"),
        )
        .unwrap();
        symlink(elsewhere.path(), home.path().join("Téléchargements")).unwrap();
        assert!(matches!(
            read("Numérisations/lien.pdf"),
            Err(ReadError::NotADocument)
        ));
        assert!(matches!(
            read("Téléchargements/secret"),
            Err(ReadError::NotADocument)
        ));
        assert!(matches!(
            read("Numérisations/../../secret"),
            Err(ReadError::NotADocument)
        ));
        assert!(matches!(read("/etc/passwd"), Err(ReadError::NotADocument)));
        assert!(matches!(
            read("Numérisations/2026"),
            Err(ReadError::NotADocument)
        ));
        // A pipe does not hang the read.
        nix::unistd::mkfifo(
            &home.path().join("Numérisations/tube"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        assert!(matches!(
            read("Numérisations/tube"),
            Err(ReadError::NotADocument)
        ));
        // Over the limit.
        std::fs::write(home.path().join("Numérisations/gros.pdf"), vec![0u8; 101]).unwrap();
        assert!(matches!(
            read("Numérisations/gros.pdf"),
            Err(ReadError::TooLarge)
        ));
    }
}
