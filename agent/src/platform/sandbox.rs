//! Sessions as real files and processes under a directory, without accounts: the demo (many
//! simulated seats on one computer, not root) and tests on any OS.
//!
//! Layout under the root: `homes/<account>/` is a session's home; `tmp/` stands for the
//! computer's world-writable places, and each session gets `tmp/<account>/` as its `TMPDIR`.
//! Nothing here isolates a session from the host: its processes run as the agent's own user
//! and its files sit on the host's disk, which the capabilities say in so many words.
//!
//! Two files in a home let an agent that crashed wipe what it left behind:
//! `.commune-account.json` (the account) and `.commune-pgid` (the session's process group).
//! Both sit where the session can write, so they are read as untrusted input: a record whose
//! home is not its own folder is ignored, and a process group that cannot be a session's
//! (0, 1, the agent's own) is never signalled.

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use commune_protocol::messages::{WipeCheck, WipeStep};
use rand::Rng;
use tracing::warn;

use super::{Account, Capabilities, PlatformError, SessionPlatform, SessionSpec};

/// First fake uid handed out; far above any real account so logs cannot confuse the two.
const FIRST_UID: u32 = 200_000;
/// Account names: this prefix and [`NAME_RANDOM_CHARS`] characters of [`NAME_ALPHABET`].
const NAME_PREFIX: &str = "sbx-";
const NAME_RANDOM_CHARS: usize = 6;
const NAME_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// The account record kept in the home, read back by [`Sandbox::leftover_accounts`].
const RECORD_FILE: &str = ".commune-account.json";
/// The session's process-group id, read back by `terminate` after an agent restart.
const PGID_FILE: &str = ".commune-pgid";
/// Records are tiny; a bigger file was not written by us and is not read whole.
const RECORD_MAX_BYTES: u64 = 64 * 1024;
const PGID_MAX_BYTES: u64 = 64;
/// What the visitor's session runs unless [`Sandbox::with_session_script`] says otherwise: a
/// shell that keeps starting children, so ending it means ending a process group.
const DEFAULT_SESSION_SCRIPT: &str = "while :; do sleep 1; done";
/// How long a session has to end on SIGTERM before it is killed.
const TERM_GRACE: Duration = Duration::from_secs(2);
/// How long SIGKILL is repeated (a session may fork while it is being killed).
const KILL_TIMEOUT: Duration = Duration::from_secs(2);
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// `PATH` of the session; the agent's environment is not passed on (it may hold secrets).
const SESSION_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Where the sandbox records the power actions a public computer would take.
pub const POWER_LOG: &str = "power-actions.log";

/// Sessions as files and processes under one directory; see the module documentation.
pub struct Sandbox {
    root: PathBuf,
    homes: PathBuf,
    tmp: PathBuf,
    capabilities: Capabilities,
    session_script: String,
    state: Mutex<State>,
}

/// What the sandbox remembers between calls.
struct State {
    /// Next fake uid to try.
    next_uid: u32,
    /// Uids planned and not yet released, with the account name they went to.
    in_use: HashMap<u32, String>,
    /// Accounts created (or found left over) and not yet purged, by name.
    records: HashMap<String, Account>,
    /// Running sessions, by account name.
    sessions: HashMap<String, Session>,
    /// Process groups of terminated sessions, by account name, kept for `verify` until the
    /// uid is released.
    ended: HashMap<String, i32>,
    /// Last warning given to each session, in minutes left.
    warnings: HashMap<String, u32>,
}

/// A session process started by this sandbox.
struct Session {
    pgid: i32,
    /// The group leader, kept so it can be reaped; `None` once reaped.
    child: Option<std::process::Child>,
}

impl Sandbox {
    /// A sandbox under `root`, creating `root/homes` and `root/tmp` when missing.
    pub fn new(root: impl Into<PathBuf>) -> Result<Sandbox, PlatformError> {
        let root = root.into();
        let homes = root.join("homes");
        let tmp = root.join("tmp");
        for dir in [&homes, &tmp] {
            fs::create_dir_all(dir).map_err(|e| {
                PlatformError::system(format!("create the sandbox folder {}", dir.display()), e)
            })?;
        }
        let capabilities = Capabilities {
            kernel: kernel(),
            swap: "sandbox: session files are on the host's disk (demo only, not a real wipe \
                   guarantee)"
                .to_string(),
            tmpfs_noswap: false,
            cgroup: None,
            writable_places: vec![tmp.clone()],
            printing: false,
        };
        Ok(Sandbox {
            root: root.clone(),
            homes,
            tmp,
            capabilities,
            session_script: DEFAULT_SESSION_SCRIPT.to_string(),
            state: Mutex::new(State {
                next_uid: FIRST_UID,
                in_use: HashMap::new(),
                records: HashMap::new(),
                sessions: HashMap::new(),
                ended: HashMap::new(),
                warnings: HashMap::new(),
            }),
        })
    }

    /// Replaces the shell script (`/bin/sh -c`) that stands for the visitor's session, e.g. one
    /// that ignores SIGTERM. It runs in the home with `HOME`, `TMPDIR`, `PATH` and
    /// `COMMUNE_SESSION_ID` set and nothing else of the agent's environment.
    pub fn with_session_script(mut self, script: impl Into<String>) -> Sandbox {
        self.session_script = script.into();
        self
    }

    /// The last warning given to the account's session (minutes left), if any.
    pub fn last_warning(&self, account: &Account) -> Option<u32> {
        self.state().warnings.get(&account.name).copied()
    }

    /// The state, even if a thread panicked while holding it: every update leaves it usable.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The session's temporary folder (its `TMPDIR`).
    fn tmp_dir(&self, account: &Account) -> PathBuf {
        self.tmp.join(&account.name)
    }

    /// Checks that the account's name is one folder name and its home is that folder under
    /// `homes`, so nothing outside the sandbox is ever created, signalled or removed.
    fn check_paths(&self, account: &Account) -> Result<(), String> {
        if !is_single_name(&account.name) {
            return Err("the account name is not a plain folder name".to_string());
        }
        if account.home != self.homes.join(&account.name) {
            return Err("the account's home is not its folder in the sandbox".to_string());
        }
        Ok(())
    }

    /// A fresh fake uid, recorded as in use by `name`.
    fn take_uid(state: &mut State, name: &str) -> Result<u32, PlatformError> {
        // One more try than uids in use always finds a free one unless the range is full.
        for _ in 0..=state.in_use.len() {
            let uid = state.next_uid;
            state.next_uid = uid.checked_add(1).unwrap_or(FIRST_UID);
            if let std::collections::hash_map::Entry::Vacant(slot) = state.in_use.entry(uid) {
                slot.insert(name.to_string());
                return Ok(uid);
            }
        }
        Err(PlatformError::NoFreeUid {
            first: FIRST_UID,
            last: u32::MAX,
        })
    }

    /// Whether anything of an account with this name exists on disk.
    fn name_taken_on_disk(&self, name: &str) -> bool {
        fs::symlink_metadata(self.homes.join(name)).is_ok()
            || fs::symlink_metadata(self.tmp.join(name)).is_ok()
    }

    /// The process group recorded in the home, if the file is there and names a group that
    /// may be signalled.
    fn pgid_from_file(&self, account: &Account) -> Result<Option<i32>, String> {
        let path = account.home.join(PGID_FILE);
        let Some(text) = read_small_file(&path, PGID_MAX_BYTES)
            .map_err(|e| format!("the session's process-group file is unreadable: {e}"))?
        else {
            return Ok(None);
        };
        match text.trim().parse::<i32>() {
            Ok(pgid) if group::may_signal(pgid) => Ok(Some(pgid)),
            _ => Err(
                "the session's process-group file does not name a session's process group; \
                 nothing was signalled"
                    .to_string(),
            ),
        }
    }

    /// The account whose home folder is `name`, from its record when the record is sound.
    fn leftover(&self, state: &mut State, name: &str) -> Result<Account, PlatformError> {
        let home = self.homes.join(name);
        if let Some(known) = state.records.get(name) {
            return Ok(known.clone());
        }
        let known_uid = state
            .in_use
            .iter()
            .find(|(_, owner)| owner.as_str() == name)
            .map(|(uid, _)| *uid);
        let record = match read_small_file(&home.join(RECORD_FILE), RECORD_MAX_BYTES) {
            Ok(Some(text)) => match serde_json::from_str::<Account>(&text) {
                Ok(account) if account.name == name && account.home == home => Some(account),
                Ok(_) => {
                    warn!(account = %name, "sandbox account record names another home; wiping the folder as a leftover");
                    None
                }
                Err(e) => {
                    warn!(account = %name, error = %e, "sandbox account record unreadable; wiping the folder as a leftover");
                    None
                }
            },
            Ok(None) => {
                warn!(account = %name, "sandbox home without an account record; wiping it as a leftover");
                None
            }
            Err(e) => {
                warn!(account = %name, error = %e, "sandbox account record unreadable; wiping the folder as a leftover");
                None
            }
        };
        let uid = match (known_uid, &record) {
            (Some(uid), _) => uid,
            (None, Some(account)) if !state.in_use.contains_key(&account.uid) => {
                state.in_use.insert(account.uid, name.to_string());
                account.uid
            }
            // No record, or its uid went to another account of this process: a fresh one.
            (None, _) => Self::take_uid(state, name)?,
        };
        let account = match record {
            Some(account) if account.uid == uid => account,
            _ => Account {
                name: name.to_string(),
                uid,
                gid: uid,
                home,
            },
        };
        state.records.insert(name.to_string(), account.clone());
        Ok(account)
    }
}

impl SessionPlatform for Sandbox {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    fn plan_account(&self, _spec: &SessionSpec) -> Result<Account, PlatformError> {
        let mut state = self.state();
        let mut rng = rand::rng();
        let name = (0..100)
            .map(|_| {
                let random: String = (0..NAME_RANDOM_CHARS)
                    .map(|_| char::from(NAME_ALPHABET[rng.random_range(0..NAME_ALPHABET.len())]))
                    .collect();
                format!("{NAME_PREFIX}{random}")
            })
            .find(|name| {
                !state.in_use.values().any(|taken| taken == name) && !self.name_taken_on_disk(name)
            })
            .ok_or_else(|| {
                PlatformError::system(
                    "choose a sandbox account name",
                    "100 random names were all taken",
                )
            })?;
        let uid = Self::take_uid(&mut state, &name)?;
        Ok(Account {
            home: self.homes.join(&name),
            name,
            uid,
            gid: uid,
        })
    }

    fn create_account(&self, account: &Account) -> Result<(), PlatformError> {
        self.check_paths(account)
            .map_err(|e| PlatformError::system("create the sandbox account", e))?;
        let what = || format!("create the home of {}", account.name);
        // `create_dir`, not `create_dir_all`: a session never inherits an existing folder.
        private_dir(&account.home).map_err(|e| PlatformError::system(what(), e))?;
        let browser = account.home.join(".config").join("browser");
        for dir in [
            account.home.join("Téléchargements"),
            account.home.join("Numérisations"),
            account.home.join(".config"),
            browser.clone(),
        ] {
            fs::create_dir(&dir).map_err(|e| PlatformError::system(what(), e))?;
        }
        fs::write(browser.join("policies.json"), BROWSER_POLICIES)
            .map_err(|e| PlatformError::system(what(), e))?;
        let record =
            serde_json::to_vec_pretty(account).map_err(|e| PlatformError::system(what(), e))?;
        fs::write(account.home.join(RECORD_FILE), record)
            .map_err(|e| PlatformError::system(what(), e))?;
        private_dir(&self.tmp_dir(account)).map_err(|e| {
            PlatformError::system(
                format!("create the temporary folder of {}", account.name),
                e,
            )
        })?;
        self.state()
            .records
            .insert(account.name.clone(), account.clone());
        Ok(())
    }

    #[cfg(unix)]
    fn start_session(&self, account: &Account, spec: &SessionSpec) -> Result<(), PlatformError> {
        use std::os::unix::process::CommandExt;
        use std::process::{Command, Stdio};

        let what = || format!("start the session of {}", account.name);
        self.check_paths(account)
            .map_err(|e| PlatformError::system(what(), e))?;
        let mut state = self.state();
        if state.sessions.contains_key(&account.name) {
            return Err(PlatformError::system(
                what(),
                "a session is already running for this account",
            ));
        }
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(&self.session_script)
            .current_dir(&account.home)
            .env_clear()
            .env("PATH", SESSION_PATH)
            .env("HOME", &account.home)
            .env("TMPDIR", self.tmp_dir(account))
            .env("COMMUNE_SESSION_ID", &spec.session_id)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| PlatformError::system(what(), e))?;
        let Ok(pgid) = i32::try_from(child.id()) else {
            // Cannot happen on Unix (pids fit pid_t); never leave the process running.
            let _ = child.kill();
            let _ = child.wait();
            return Err(PlatformError::system(what(), "process id out of range"));
        };
        // Written after the spawn (the id is unknown before): an agent crash in between leaves
        // one process that the next wipe cannot find by its group.
        if let Err(e) = fs::write(account.home.join(PGID_FILE), pgid.to_string()) {
            group::signal(pgid, group::KILL).ok();
            let _ = child.wait();
            return Err(PlatformError::system(what(), e));
        }
        state.sessions.insert(
            account.name.clone(),
            Session {
                pgid,
                child: Some(child),
            },
        );
        Ok(())
    }

    #[cfg(not(unix))]
    fn start_session(&self, _account: &Account, _spec: &SessionSpec) -> Result<(), PlatformError> {
        Err(PlatformError::Unsupported(
            "the sandbox starts session processes on Unix only".to_string(),
        ))
    }

    fn power(&self, action: commune_protocol::schedule::AfterClosing) -> Result<(), PlatformError> {
        use std::io::Write as _;
        // The platform double: what a public computer would do, recorded with the
        // instant (a line per action), the machine staying on.
        let line = format!("{action:?} {}\n", crate::now().0);
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.root.join(POWER_LOG))
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .map_err(|e| PlatformError::system("record the power action", e))
    }

    fn warn(&self, account: &Account, minutes_left: u32) -> Result<(), PlatformError> {
        self.state()
            .warnings
            .insert(account.name.clone(), minutes_left);
        Ok(())
    }

    fn terminate(&self, account: &Account, _courtesy: bool) -> Vec<WipeStep> {
        let start = Instant::now();
        let step = |count: u64, detail: Option<String>| WipeStep {
            name: "terminate".to_string(),
            duration_us: micros(start),
            count,
            ok: detail.is_none(),
            detail,
        };
        if let Err(e) = self.check_paths(account) {
            return vec![step(0, Some(e))];
        }
        let session = self.state().sessions.remove(&account.name);
        let (pgid, mut child) = match session {
            Some(Session { pgid, child }) => (pgid, child),
            // After a restart only the file in the home knows the group.
            None => match self.pgid_from_file(account) {
                Ok(Some(pgid)) => (pgid, None),
                Ok(None) => return vec![step(0, None)],
                Err(e) => return vec![step(0, Some(e))],
            },
        };
        self.state().ended.insert(account.name.clone(), pgid);

        let ending = group::end(pgid, child.as_mut());
        // Reaped leaders are dropped; one still running is kept so a retry can reap it.
        if let Some(mut leader) = child {
            if matches!(leader.try_wait(), Ok(None)) {
                self.state().sessions.insert(
                    account.name.clone(),
                    Session {
                        pgid,
                        child: Some(leader),
                    },
                );
            }
        }
        let detail = match (ending.left, ending.error) {
            (0, _) => None,
            (left, Some(e)) => Some(format!(
                "{} still running after SIGKILL ({e})",
                count_of(left, "process", "processes")
            )),
            (left, None) => Some(format!(
                "{} still running after SIGKILL",
                count_of(left, "process", "processes")
            )),
        };
        vec![step(ending.signalled, detail)]
    }

    fn purge(&self, account: &Account) -> Vec<WipeStep> {
        let mut steps = Vec::with_capacity(3);
        match self.check_paths(account) {
            Ok(()) => {
                steps.push(remove_step("home", &account.home));
                steps.push(remove_step("tmp", &self.tmp_dir(account)));
            }
            Err(e) => {
                // Never remove a folder the account does not own in the sandbox.
                for name in ["home", "tmp"] {
                    steps.push(WipeStep {
                        name: name.to_string(),
                        duration_us: 0,
                        count: 0,
                        ok: false,
                        detail: Some(format!("{e}; nothing was removed")),
                    });
                }
            }
        }
        let start = Instant::now();
        let forgotten = {
            let mut state = self.state();
            state.warnings.remove(&account.name);
            state.records.remove(&account.name).is_some()
        };
        steps.push(WipeStep {
            name: "account".to_string(),
            duration_us: micros(start),
            count: u64::from(forgotten),
            ok: true,
            detail: None,
        });
        steps
    }

    fn verify(&self, account: &Account) -> Vec<WipeCheck> {
        let check = |name: &str, found: u64| {
            crate::wipe::check(
                name,
                found,
                1,
                "sandbox: the session's folders and process group (no account, no isolation)",
            )
        };
        let paths_ok = self.check_paths(account).is_ok();
        let (groups, recorded) = {
            let state = self.state();
            let groups: BTreeSet<i32> = state
                .sessions
                .get(&account.name)
                .map(|session| session.pgid)
                .into_iter()
                .chain(state.ended.get(&account.name).copied())
                .collect();
            (groups, state.records.contains_key(&account.name))
        };
        let mut groups = groups;
        // A group file that cannot be trusted is not followed; the files check counts it.
        if let (true, Ok(Some(pgid))) = (paths_ok, self.pgid_from_file(account)) {
            groups.insert(pgid);
        }
        let processes: u64 = groups.into_iter().map(group::live_count).sum();
        // With a home outside the sandbox nothing was removed: count the account as left.
        let files = if paths_ok {
            survey(&account.home, false).total() + survey(&self.tmp_dir(account), false).total()
        } else {
            1
        };
        let record_file = paths_ok && fs::symlink_metadata(account.home.join(RECORD_FILE)).is_ok();
        let account_left = u64::from(recorded) + u64::from(record_file);
        vec![
            check("processes", processes),
            check("files", files),
            check("account", account_left),
        ]
    }

    fn release(&self, account: &Account) {
        let mut state = self.state();
        if state.in_use.get(&account.uid) == Some(&account.name) {
            state.in_use.remove(&account.uid);
        }
        state.ended.remove(&account.name);
    }

    /// Every folder in `homes` is an account to wipe: from its record when the record is
    /// sound, otherwise (no record, unreadable, or naming another home) rebuilt from the
    /// folder name with a fresh fake uid, so a half-created or tampered home is wiped too.
    /// Temporary folders named like sandbox accounts whose home is gone (a crash between the
    /// two purge steps) are returned the same way. Accounts already known to this sandbox are
    /// returned as they are known. Entries that are not folders, or whose names are not
    /// UTF-8, were not made by the sandbox and are only logged.
    fn leftover_accounts(&self) -> Result<Vec<Account>, PlatformError> {
        let mut names = BTreeSet::new();
        for (dir, only_ours) in [(&self.homes, false), (&self.tmp, true)] {
            let entries = fs::read_dir(dir).map_err(|e| {
                PlatformError::system(format!("list the sandbox folder {}", dir.display()), e)
            })?;
            for entry in entries {
                let entry = entry.map_err(|e| {
                    PlatformError::system(format!("list the sandbox folder {}", dir.display()), e)
                })?;
                let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
                let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                    warn!("sandbox entry with a name that is not UTF-8 left alone");
                    continue;
                };
                if !is_dir {
                    if !only_ours {
                        warn!(account = %name, "sandbox home that is not a folder left alone");
                    }
                    continue;
                }
                if only_ours && !is_sandbox_name(&name) {
                    continue;
                }
                names.insert(name);
            }
        }
        let mut state = self.state();
        names
            .into_iter()
            .map(|name| self.leftover(&mut state, &name))
            .collect()
    }
}

/// Browser policies copied into every home: nothing of a visitor may outlive the session in
/// the browser either (saved passwords, sync accounts).
const BROWSER_POLICIES: &str = r#"{
  "policies": {
    "DisableFirefoxAccounts": true,
    "DisableTelemetry": true,
    "OfferToSaveLogins": false,
    "PasswordManagerEnabled": false,
    "SanitizeOnShutdown": true
  }
}
"#;

/// Ending a process group and seeing that nothing of it is left.
mod group {
    #[cfg(unix)]
    pub(super) use unix::*;

    #[cfg(unix)]
    mod unix {
        use std::io;
        use std::process::Child;

        use super::super::{KILL_TIMEOUT, POLL_INTERVAL, TERM_GRACE};
        use crate::wipe::Ending;

        pub(in super::super) const KILL: libc::c_int = libc::SIGKILL;

        /// Whether `pgid` can be a session's group: 0, 1 and negative values would signal the
        /// caller's group or every process, and the agent's own group is never a session's.
        pub(in super::super) fn may_signal(pgid: i32) -> bool {
            // SAFETY: getpgrp has no preconditions and cannot fail.
            let own = unsafe { libc::getpgrp() };
            pgid > 1 && pgid != own
        }

        /// Sends `signal` to every process of the group; a group already gone is not an error.
        pub(in super::super) fn signal(pgid: i32, signal: libc::c_int) -> io::Result<()> {
            if !may_signal(pgid) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "not a session's process group",
                ));
            }
            // SAFETY: kill has no memory preconditions; pgid > 1 so -pgid names one group.
            if unsafe { libc::kill(-pgid, signal) } == 0 {
                return Ok(());
            }
            let error = io::Error::last_os_error();
            match error.raw_os_error() {
                Some(libc::ESRCH) => Ok(()),
                _ => Err(error),
            }
        }

        /// Processes of the group still alive. Zombies are not counted: they hold no memory or
        /// file of the session, and some container inits never reap the orphans they adopt.
        pub(in super::super) fn live_count(pgid: i32) -> u64 {
            if !may_signal(pgid) {
                return 0;
            }
            // SAFETY: signal 0 only checks that the group exists.
            if unsafe { libc::kill(-pgid, 0) } != 0
                && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
            {
                return 0;
            }
            match members(pgid) {
                Some(members) => members.len() as u64,
                // The group exists and its members cannot be listed here.
                None => 1,
            }
        }

        /// Reaps every exited child of this process in the group (the leader after an agent
        /// restart within the same process, as in tests).
        fn reap(pgid: i32) {
            loop {
                let mut status = 0;
                // SAFETY: status is a valid out-pointer; WNOHANG never blocks.
                if unsafe { libc::waitpid(-pgid, &mut status, libc::WNOHANG) } <= 0 {
                    return;
                }
            }
        }

        fn reap_all(pgid: i32, leader: &mut Option<&mut Child>) {
            if let Some(child) = leader {
                // Before `reap`, so std sees its own child's exit.
                let _ = child.try_wait();
            }
            reap(pgid);
        }

        /// A session's processes as the sandbox reaches them: its process group (and the
        /// leader it started, reaped through std so its exit is seen).
        struct Group<'a> {
            pgid: i32,
            leader: Option<&'a mut Child>,
        }

        impl crate::wipe::SessionProcesses for Group<'_> {
            fn alive(&mut self) -> Option<Vec<i32>> {
                reap_all(self.pgid, &mut self.leader);
                if live_count(self.pgid) == 0 {
                    return Some(Vec::new());
                }
                members(self.pgid)
            }

            fn ask_to_leave(&mut self) -> Result<(), String> {
                signal(self.pgid, libc::SIGTERM).map_err(|e| e.to_string())
            }

            fn kill_all(&mut self) -> Result<(), String> {
                signal(self.pgid, libc::SIGKILL).map_err(|e| e.to_string())
            }
        }

        /// SIGTERM, a grace period, then SIGKILL until no process of the group is left: the
        /// same sequence as every platform ([`crate::wipe::end_processes`]).
        pub(in super::super) fn end(pgid: i32, leader: Option<&mut Child>) -> Ending {
            crate::wipe::end_processes(
                &mut Group { pgid, leader },
                crate::wipe::EndTimings {
                    grace: TERM_GRACE,
                    kill_timeout: KILL_TIMEOUT,
                    poll: POLL_INTERVAL,
                },
            )
        }

        /// Live (not zombie) processes of the group, from `/proc`.
        #[cfg(target_os = "linux")]
        fn members(pgid: i32) -> Option<Vec<i32>> {
            Some(
                crate::platform::procfs::live_members_of_group(pgid)
                    .into_iter()
                    .map(|p| p.pid)
                    .collect(),
            )
        }

        /// Members cannot be listed portably off Linux; callers count the group as one.
        #[cfg(not(target_os = "linux"))]
        fn members(_pgid: i32) -> Option<Vec<i32>> {
            None
        }
    }

    #[cfg(not(unix))]
    pub(super) use other::*;

    /// Off Unix the sandbox starts no process, so there is never a group to end.
    #[cfg(not(unix))]
    mod other {
        use crate::wipe::Ending;

        pub(in super::super) fn may_signal(_pgid: i32) -> bool {
            false
        }

        pub(in super::super) fn live_count(_pgid: i32) -> u64 {
            0
        }

        pub(in super::super) fn end(
            _pgid: i32,
            _leader: Option<&mut std::process::Child>,
        ) -> Ending {
            Ending::default()
        }
    }
}

/// Files and folders found under a path, symbolic links not followed.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    files: u64,
    dirs: u64,
}

impl Tally {
    fn total(self) -> u64 {
        self.files + self.dirs
    }
}

/// Counts what is under `root` (itself included). With `open_up`, folders the session made
/// inaccessible to their owner are given back owner rights first, so they can be emptied. No
/// recursion: a session can nest folders deeper than any stack.
fn survey(root: &Path, open_up: bool) -> Tally {
    let mut tally = Tally::default();
    let mut pending = vec![root.to_path_buf()];
    while let Some(path) = pending.pop() {
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            // It exists in some form that cannot be looked at: still something left.
            Err(_) => {
                tally.files += 1;
                continue;
            }
        };
        if !meta.is_dir() {
            tally.files += 1;
            continue;
        }
        tally.dirs += 1;
        if open_up {
            give_owner_rights(&path, &meta);
        }
        if let Ok(entries) = fs::read_dir(&path) {
            pending.extend(entries.flatten().map(|entry| entry.path()));
        }
    }
    tally
}

#[cfg(unix)]
fn give_owner_rights(path: &Path, meta: &fs::Metadata) {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode();
    if mode & 0o700 != 0o700 {
        // Best effort: a failure shows up as files that could not be removed.
        let _ = fs::set_permissions(path, fs::Permissions::from_mode(mode | 0o700));
    }
}

#[cfg(not(unix))]
fn give_owner_rights(_path: &Path, _meta: &fs::Metadata) {}

/// Removes `path` and everything under it as the wipe step `name`; `count` is the files (not
/// folders) removed. The detail gives counts only, never a name found in the folder.
fn remove_step(name: &str, path: &Path) -> WipeStep {
    let start = Instant::now();
    let before = survey(path, true);
    let error = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        // Does not follow symbolic links, also inside the tree.
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path).err(),
        _ => fs::remove_file(path).err(),
    };
    let after = survey(path, false);
    let detail = (after.total() > 0).then(|| {
        let left = format!(
            "{} and {} could not be removed",
            count_of(after.files, "file", "files"),
            count_of(after.dirs, "folder", "folders")
        );
        match error {
            Some(e) => format!("{left} ({e})"),
            None => left,
        }
    });
    WipeStep {
        name: name.to_string(),
        duration_us: micros(start),
        count: before.files.saturating_sub(after.files),
        ok: detail.is_none(),
        detail,
    }
}

/// Creates a folder only its owner can enter; fails if anything is already there.
fn private_dir(path: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// Reads a small regular file as text: `None` if it does not exist; an error if it is not a
/// regular file (a FIFO would block, a link could point anywhere) or is larger than `max`.
fn read_small_file(path: &Path, max: u64) -> io::Result<Option<String>> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a regular file",
        ));
    }
    let mut text = String::new();
    fs::File::open(path)?
        .take(max + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > max {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "too large"));
    }
    Ok(Some(text))
}

/// Whether `name` is exactly one plain path component (no `/`, not `.` or `..`).
fn is_single_name(name: &str) -> bool {
    let mut components = Path::new(name).components();
    matches!(
        (components.next(), components.next()),
        (Some(Component::Normal(first)), None) if first == OsStr::new(name)
    )
}

/// Whether `name` has the shape of the names [`Sandbox::plan_account`] gives.
fn is_sandbox_name(name: &str) -> bool {
    name.strip_prefix(NAME_PREFIX).is_some_and(|random| {
        random.len() == NAME_RANDOM_CHARS && random.bytes().all(|b| NAME_ALPHABET.contains(&b))
    })
}

fn count_of(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn micros(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// The OS name, with the kernel release on Linux.
fn kernel() -> String {
    let os = std::env::consts::OS;
    if cfg!(target_os = "linux") {
        if let Ok(release) = fs::read_to_string("/proc/sys/kernel/osrelease") {
            return format!("{os} {}", release.trim());
        }
    }
    os.to_string()
}

#[cfg(all(test, unix))]
mod tests {
    use commune_protocol::messages::SlotKind;

    use super::*;

    fn spec() -> SessionSpec {
        SessionSpec {
            session_id: "s-test".to_string(),
            kind: SlotKind::Free,
        }
    }

    /// Kills the session's group when a test ends, passed or not, so no test leaves processes.
    struct KillOnDrop(i32);

    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = group::signal(self.0, libc::SIGKILL);
        }
    }

    fn recorded_pgid(account: &Account) -> KillOnDrop {
        let text = fs::read_to_string(account.home.join(PGID_FILE)).expect("pgid file");
        KillOnDrop(text.trim().parse().expect("pgid"))
    }

    fn started(sandbox: &Sandbox) -> (Account, KillOnDrop) {
        let account = sandbox.plan_account(&spec()).expect("plan");
        sandbox.create_account(&account).expect("create");
        sandbox.start_session(&account, &spec()).expect("start");
        let guard = recorded_pgid(&account);
        (account, guard)
    }

    fn assert_all_ok(steps: &[WipeStep]) {
        for step in steps {
            assert!(step.ok, "step {step:?} failed");
        }
    }

    fn failed_checks(checks: &[WipeCheck]) -> Vec<&str> {
        checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name.as_str())
            .collect()
    }

    #[test]
    fn sandbox_is_a_platform_shared_between_threads() {
        fn shared<T: SessionPlatform + Send + Sync>() {}
        shared::<Sandbox>();
    }

    #[test]
    fn a_whole_session_is_given_and_wiped() {
        let root = tempfile::tempdir().expect("tempdir");
        let sandbox = Sandbox::new(root.path()).expect("sandbox");
        assert_eq!(
            sandbox.capabilities().writable_places,
            vec![root.path().join("tmp")]
        );
        assert!(sandbox
            .capabilities()
            .kernel
            .starts_with(std::env::consts::OS));

        let (account, guard) = started(&sandbox);
        assert!(is_sandbox_name(&account.name), "{}", account.name);
        assert!(account.uid >= FIRST_UID);
        assert_eq!(account.gid, account.uid);
        assert_eq!(account.home, root.path().join("homes").join(&account.name));
        assert!(account.home.join("Téléchargements").is_dir());
        assert!(account.home.join("Numérisations").is_dir());
        assert!(account.home.join(".config/browser/policies.json").is_file());
        assert!(
            group::live_count(guard.0) >= 1,
            "session process not running"
        );
        #[cfg(target_os = "linux")]
        assert_eq!(
            fs::read_link(format!("/proc/{}/cwd", guard.0)).expect("cwd"),
            account.home
        );

        // What a visitor leaves behind.
        fs::write(account.home.join("Téléchargements/relevé.pdf"), b"%PDF").expect("write");
        fs::write(account.home.join("lettre.odt"), b"odt").expect("write");
        fs::write(sandbox.tmp_dir(&account).join("cache.bin"), b"x").expect("write");
        sandbox.warn(&account, 5).expect("warn");
        assert_eq!(sandbox.last_warning(&account), Some(5));

        let terminate = sandbox.terminate(&account, true);
        assert_all_ok(&terminate);
        assert!(terminate[0].count >= 1, "{terminate:?}");
        assert_eq!(group::live_count(guard.0), 0);

        let purge = sandbox.purge(&account);
        assert_all_ok(&purge);
        let names: Vec<&str> = purge.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["home", "tmp", "account"]);
        // Two files written, plus the skeleton's policies, record and pgid files.
        assert_eq!(purge[0].count, 5, "{purge:?}");
        assert_eq!(purge[1].count, 1, "{purge:?}");
        assert!(!account.home.exists());
        assert!(!sandbox.tmp_dir(&account).exists());

        let checks = sandbox.verify(&account);
        assert_eq!(failed_checks(&checks), Vec::<&str>::new(), "{checks:?}");
        assert_eq!(checks.len(), 3);
        sandbox.release(&account);
        assert!(sandbox.leftover_accounts().expect("leftovers").is_empty());
    }

    #[test]
    fn uids_are_not_reused_while_in_use() {
        let root = tempfile::tempdir().expect("tempdir");
        let sandbox = Sandbox::new(root.path()).expect("sandbox");
        let first = sandbox.plan_account(&spec()).expect("plan");
        let second = sandbox.plan_account(&spec()).expect("plan");
        assert_ne!(first.uid, second.uid);
        assert_ne!(first.name, second.name);
        sandbox.release(&first);
        let third = sandbox.plan_account(&spec()).expect("plan");
        assert_ne!(third.uid, second.uid);
    }

    #[test]
    fn a_session_ignoring_sigterm_is_killed() {
        let root = tempfile::tempdir().expect("tempdir");
        let sandbox = Sandbox::new(root.path())
            .expect("sandbox")
            .with_session_script("trap '' TERM; while :; do sleep 1; done");
        let (account, guard) = started(&sandbox);
        // Let the shell install its trap before it is signalled.
        std::thread::sleep(Duration::from_millis(200));

        let terminate = sandbox.terminate(&account, true);
        assert_all_ok(&terminate);
        assert!(terminate[0].duration_us >= TERM_GRACE.as_micros() as u64);
        assert_eq!(group::live_count(guard.0), 0);
        assert_all_ok(&sandbox.purge(&account));
        let checks = sandbox.verify(&account);
        assert_eq!(failed_checks(&checks), Vec::<&str>::new(), "{checks:?}");
    }

    /// A zombie is not a process left running: it holds nothing of the session, and an init
    /// that never reaps orphans would otherwise fail every wipe.
    #[cfg(target_os = "linux")]
    #[test]
    fn zombies_are_not_counted_as_running() {
        let root = tempfile::tempdir().expect("tempdir");
        // `sleep 1000000` becomes the parent of an exited `true` and never reaps it.
        let sandbox = Sandbox::new(root.path())
            .expect("sandbox")
            .with_session_script("true & exec sleep 1000000");
        let (account, guard) = started(&sandbox);
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(group::live_count(guard.0), 1);
        assert_all_ok(&sandbox.terminate(&account, true));
        assert_eq!(group::live_count(guard.0), 0);
    }

    #[test]
    fn a_new_sandbox_wipes_what_a_crashed_one_left() {
        let root = tempfile::tempdir().expect("tempdir");
        let sandbox = Sandbox::new(root.path()).expect("sandbox");
        let (account, guard) = started(&sandbox);
        fs::write(account.home.join("Numérisations/passeport.jpg"), b"jpg").expect("write");
        drop(sandbox); // The agent dies: no terminate, no purge.
        assert!(group::live_count(guard.0) >= 1);

        let restarted = Sandbox::new(root.path()).expect("sandbox");
        let leftovers = restarted.leftover_accounts().expect("leftovers");
        assert_eq!(leftovers, vec![account.clone()]);
        let terminate = restarted.terminate(&account, true);
        assert_all_ok(&terminate);
        assert!(terminate[0].count >= 1, "{terminate:?}");
        assert_eq!(group::live_count(guard.0), 0);
        assert_all_ok(&restarted.purge(&account));
        let checks = restarted.verify(&account);
        assert_eq!(failed_checks(&checks), Vec::<&str>::new(), "{checks:?}");
        restarted.release(&account);
        assert!(restarted.leftover_accounts().expect("leftovers").is_empty());
    }

    #[test]
    fn a_home_without_record_is_found_and_wiped() {
        let root = tempfile::tempdir().expect("tempdir");
        let sandbox = Sandbox::new(root.path()).expect("sandbox");
        let home = root.path().join("homes/sbx-half00");
        fs::create_dir_all(home.join("Téléchargements")).expect("mkdir");
        fs::write(home.join("Téléchargements/facture.pdf"), b"pdf").expect("write");
        fs::create_dir(root.path().join("tmp/sbx-orphn1")).expect("mkdir");

        let leftovers = sandbox.leftover_accounts().expect("leftovers");
        let names: Vec<&str> = leftovers.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["sbx-half00", "sbx-orphn1"]);
        assert_ne!(leftovers[0].uid, leftovers[1].uid);
        for account in &leftovers {
            assert_all_ok(&sandbox.terminate(account, true));
            assert_all_ok(&sandbox.purge(account));
            let checks = sandbox.verify(account);
            assert_eq!(failed_checks(&checks), Vec::<&str>::new(), "{checks:?}");
        }
        assert!(!home.exists());
    }

    #[test]
    fn a_record_pointing_outside_the_sandbox_is_not_followed() {
        let root = tempfile::tempdir().expect("tempdir");
        let outside = tempfile::tempdir().expect("tempdir");
        fs::write(outside.path().join("keep.txt"), b"not the session's").expect("write");
        let sandbox = Sandbox::new(root.path()).expect("sandbox");
        let home = root.path().join("homes/sbx-evil00");
        fs::create_dir(&home).expect("mkdir");
        let forged = Account {
            name: "sbx-evil00".to_string(),
            uid: 1,
            gid: 1,
            home: outside.path().to_path_buf(),
        };
        fs::write(
            home.join(RECORD_FILE),
            serde_json::to_vec(&forged).expect("json"),
        )
        .expect("write");

        let leftovers = sandbox.leftover_accounts().expect("leftovers");
        assert_eq!(leftovers.len(), 1);
        assert_eq!(leftovers[0].home, home);
        assert_all_ok(&sandbox.purge(&leftovers[0]));
        assert!(outside.path().join("keep.txt").exists());

        // Handed directly, such an account is refused rather than wiped.
        let purge = sandbox.purge(&forged);
        assert!(!purge[0].ok);
        assert!(outside.path().join("keep.txt").exists());
        assert!(!sandbox.verify(&forged)[1].passed);
    }

    #[test]
    fn a_forged_process_group_is_never_signalled() {
        assert!(!group::may_signal(0));
        assert!(!group::may_signal(1));
        assert!(!group::may_signal(-1));
        // SAFETY: getpgrp has no preconditions.
        assert!(!group::may_signal(unsafe { libc::getpgrp() }));

        let root = tempfile::tempdir().expect("tempdir");
        let sandbox = Sandbox::new(root.path()).expect("sandbox");
        let account = sandbox.plan_account(&spec()).expect("plan");
        sandbox.create_account(&account).expect("create");
        for forged in ["1", "-1", "0", "garbage"] {
            fs::write(account.home.join(PGID_FILE), forged).expect("write");
            let terminate = Sandbox::new(root.path())
                .expect("sandbox")
                .terminate(&account, true);
            assert!(!terminate[0].ok, "{forged}: {terminate:?}");
            assert_eq!(terminate[0].count, 0);
        }
    }

    #[test]
    fn folders_the_session_locked_are_still_removed() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().expect("tempdir");
        let sandbox = Sandbox::new(root.path()).expect("sandbox");
        let account = sandbox.plan_account(&spec()).expect("plan");
        sandbox.create_account(&account).expect("create");
        let locked = account.home.join("Téléchargements/privé");
        fs::create_dir(&locked).expect("mkdir");
        fs::write(locked.join("secret.txt"), b"s").expect("write");
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).expect("chmod");

        let purge = sandbox.purge(&account);
        assert_all_ok(&purge);
        let checks = sandbox.verify(&account);
        assert_eq!(failed_checks(&checks), Vec::<&str>::new(), "{checks:?}");
    }

    #[test]
    fn verify_fails_when_a_file_is_left() {
        let root = tempfile::tempdir().expect("tempdir");
        let sandbox = Sandbox::new(root.path()).expect("sandbox");
        let (account, _guard) = started(&sandbox);
        assert_all_ok(&sandbox.terminate(&account, true));
        assert_all_ok(&sandbox.purge(&account));

        fs::create_dir(&account.home).expect("mkdir");
        fs::write(account.home.join("oublié.txt"), b"x").expect("write");
        let checks = sandbox.verify(&account);
        assert_eq!(failed_checks(&checks), ["files"], "{checks:?}");
        assert_eq!(checks[1].found, 2, "the home and its file");
    }

    #[test]
    fn verify_fails_when_a_process_is_left() {
        let root = tempfile::tempdir().expect("tempdir");
        let sandbox = Sandbox::new(root.path()).expect("sandbox");
        let (account, _guard) = started(&sandbox);
        // Purge without terminate: the files go, the session keeps running.
        assert_all_ok(&sandbox.purge(&account));
        let checks = sandbox.verify(&account);
        assert_eq!(failed_checks(&checks), ["processes"], "{checks:?}");
        assert_all_ok(&sandbox.terminate(&account, true));
        let checks = sandbox.verify(&account);
        assert_eq!(failed_checks(&checks), Vec::<&str>::new(), "{checks:?}");
    }
}
