//! Staff logins: the dashboard's unauthenticated door, with a bounded amount of work and
//! memory per request whatever the request sends.
//!
//! An attempt goes through, in order:
//! 1. length caps: a login longer than an account may have, or an absurd password, is
//!    refused as wrong with no lookup and no hash;
//! 2. a reservation in the [`Limiter`] (per login and address pair, per address, and a
//!    fleet-wide backstop), taken *before* the check so that parallel attempts cannot all
//!    pass the limit and then all be checked;
//! 3. a place in the password-check pool (`verify_threads` running, `verify_queue_max`
//!    waiting); past that the attempt is refused at once as busy;
//! 4. the account lookup and the Argon2 check (a decoy hash, computed once, when the login
//!    is unknown, so that both take the same time).
//!
//! Refusals are counted in metrics and aggregated in the audit log: one line per minute and
//! reason with a count and a few sample logins, never one row per anonymous attempt. A
//! known account's wrong password is still written on its own line (outside a flood).
//!
//! The limiter forgets on restart: that only helps someone who can restart the controller.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{BuildHasher, Hash, RandomState};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use commune_protocol::UtcMillis;
use tokio::sync::Semaphore;

use super::{
    identity_of, random_token, token_hash, LoginError, NewSession, StaffIdentity, SESSION_TTL,
};
use crate::config::LoginLimits;
use crate::store::AuditEntry;
use crate::{now, Controller, Inner};

/// Longest login an account may have (and so the longest worth looking up).
pub const LOGIN_MAX_BYTES: usize = 64;

/// Sample logins kept per aggregated audit line.
const AUDIT_SAMPLES: usize = 3;

/// A valid Argon2 hash of nothing anyone can type, with the parameters of real accounts,
/// verified when the login is unknown so that a wrong login and a wrong password take the
/// same time. Computed once: hashing it per request would be a second Argon2 run for free.
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| {
    argon2::Argon2::default()
        .hash_password(b"\x00decoy", &SaltString::generate(&mut OsRng))
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// 1 KiB blocks in 32 MiB, and one more: an allocation that large is always a mapping of
/// its own with glibc's allocator (its dynamic threshold stops at 32 MiB), so it goes back
/// to the system when freed. The 19 MiB Argon2 uses would otherwise, once the threshold has
/// risen past them, stay in each thread's heap: parallel logins left the controller at
/// 1.7 GB. Only the pages used count in resident memory.
const ALWAYS_MAPPED_BLOCKS: usize = 32 * 1024 + 1;

/// The most memory a stored hash may make a check use (256 MiB; ours use 19 MiB).
const MAX_VERIFY_BLOCKS: usize = 256 * 1024;

/// Whether `password` matches the PHC string `hash`, as argon2's `verify_password` does
/// (same parameters, constant-time comparison), with memory that is given back.
fn verify(hash: &str, password: &[u8]) -> bool {
    use argon2::password_hash::Output;
    use argon2::{Algorithm, Argon2, Block, Params, Version};
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let blocks = params.block_count();
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    if blocks > MAX_VERIFY_BLOCKS {
        return false;
    }
    let mut memory: Vec<Block> = Vec::with_capacity(blocks.max(ALWAYS_MAPPED_BLOCKS));
    memory.resize(blocks, Block::default());
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut out, &mut memory)
        .is_ok()
        && Output::new(&out).is_ok_and(|computed| computed == expected)
}

/// Why a login was refused: the closed set of the `reason` label and of the audit lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Refusal {
    /// Wrong login or password.
    Wrong,
    /// Over a limit of the limiter.
    TooMany,
    /// Every password check taken.
    Busy,
    /// Login or password (or the whole form) longer than any account's.
    TooLong,
}

impl Refusal {
    fn label(self) -> &'static str {
        match self {
            Refusal::Wrong => "wrong",
            Refusal::TooMany => "too_many",
            Refusal::Busy => "busy",
            Refusal::TooLong => "too_long",
        }
    }

    fn words(self) -> &'static str {
        match self {
            Refusal::Wrong => "wrong login or password",
            Refusal::TooMany => "too many attempts",
            Refusal::Busy => "password checks all taken",
            Refusal::TooLong => "login or password too long",
        }
    }
}

/// Where an attempt comes from, compactly: an IPv6 address counts by its /64, the block
/// one subscriber usually has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Address {
    /// No address known (the command line, tests).
    Unknown,
    V4([u8; 4]),
    V6([u8; 8]),
}

impl Address {
    fn of(ip: Option<IpAddr>) -> Address {
        match ip.map(|ip| ip.to_canonical()) {
            None => Address::Unknown,
            Some(IpAddr::V4(v4)) => Address::V4(v4.octets()),
            Some(IpAddr::V6(v6)) => {
                let mut prefix = [0u8; 8];
                prefix.copy_from_slice(&v6.octets()[..8]);
                Address::V6(prefix)
            }
        }
    }
}

/// A login and address pair; the login is kept as a keyed 64-bit hash (never the text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Pair {
    login: u64,
    address: Address,
}

/// Failures of a key within its window, and attempts being checked now.
#[derive(Debug, Clone, Copy)]
struct Count {
    since: UtcMillis,
    failures: u32,
    pending: u32,
    /// Position in the eviction order.
    seq: u64,
}

/// Counts by key, at most `cap` of them: the least recently failed (or created) go first.
#[derive(Debug)]
struct Tracked<K> {
    map: HashMap<K, Count>,
    /// Eviction order; entries whose `seq` no longer matches are stale and skipped.
    order: VecDeque<(K, u64)>,
    next: u64,
}

impl<K> Default for Tracked<K> {
    fn default() -> Self {
        Tracked {
            map: HashMap::new(),
            order: VecDeque::new(),
            next: 0,
        }
    }
}

impl<K: Hash + Eq + Copy> Tracked<K> {
    /// The key's count, its window restarted if over, created (evicting the oldest when
    /// full) if absent.
    fn entry(&mut self, key: K, at: UtcMillis, window_ms: i64, cap: usize) -> &mut Count {
        if !self.map.contains_key(&key) {
            self.evict(cap.max(1) - 1);
            let seq = self.bump();
            self.order.push_back((key, seq));
            self.map.insert(
                key,
                Count {
                    since: at,
                    failures: 0,
                    pending: 0,
                    seq,
                },
            );
        }
        let count = self.map.get_mut(&key).expect("inserted above");
        if at.0.saturating_sub(count.since.0) >= window_ms {
            count.since = at;
            count.failures = 0;
        }
        count
    }

    fn bump(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// Moves the key to the back of the eviction order (it just failed again).
    fn touch(&mut self, key: K) {
        let seq = self.bump();
        if let Some(count) = self.map.get_mut(&key) {
            count.seq = seq;
            self.order.push_back((key, seq));
        }
        self.compact();
    }

    /// Forgets the oldest keys until at most `keep` remain. A key with an attempt being
    /// checked is kept (moved back): there are only as many as requests in progress.
    fn evict(&mut self, keep: usize) {
        let mut spared = 0;
        while self.map.len() > keep && spared <= self.map.len() {
            let Some((key, seq)) = self.order.pop_front() else {
                break;
            };
            match self.map.get(&key) {
                Some(count) if count.seq == seq && count.pending > 0 => {
                    spared += 1;
                    let seq = self.bump();
                    if let Some(count) = self.map.get_mut(&key) {
                        count.seq = seq;
                    }
                    self.order.push_back((key, seq));
                }
                Some(count) if count.seq == seq => {
                    self.map.remove(&key);
                }
                _ => {}
            }
        }
        self.compact();
    }

    /// Drops stale order entries once they outnumber the live ones.
    fn compact(&mut self) {
        if self.order.len() > 2 * self.map.len() + 64 {
            let map = &self.map;
            self.order
                .retain(|(key, seq)| map.get(key).is_some_and(|c| c.seq == *seq));
        }
    }

    fn remove(&mut self, key: &K) {
        self.map.remove(key);
        self.compact();
    }
}

/// The fleet-wide backstop: failures in the current minute, and until when the limiter is
/// strict because a minute went over the limit.
#[derive(Debug)]
struct Global {
    minute: i64,
    failures: u32,
    strict_until: UtcMillis,
}

impl Default for Global {
    fn default() -> Self {
        Global {
            minute: 0,
            failures: 0,
            strict_until: UtcMillis(i64::MIN),
        }
    }
}

/// An attempt admitted by the limiter, to be settled once checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reserved {
    pair: Pair,
    address: Address,
}

/// Failed logins per login and address pair, per address, and fleet-wide. Pure: the time
/// and the limits come in as arguments. Its memory is bounded by `max_tracked_entries`.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    keys: RandomState,
    pairs: Tracked<Pair>,
    addresses: Tracked<Address>,
    global: Global,
}

fn window_ms(limits: &LoginLimits) -> i64 {
    i64::try_from(limits.window_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// Whole minutes, rounded up, until a window that began at `since` ends.
fn minutes_left(since: UtcMillis, at: UtcMillis, window_ms: i64) -> u64 {
    let left = window_ms
        .saturating_sub(at.0.saturating_sub(since.0))
        .max(0);
    u64::try_from(left / 60_000 + 1).unwrap_or(1)
}

impl Limiter {
    fn pair(&self, login: &str, ip: Option<IpAddr>) -> Pair {
        Pair {
            login: self.keys.hash_one(login.to_ascii_lowercase()),
            address: Address::of(ip),
        }
    }

    /// Whether the backstop is on at `at`.
    fn strict(&self, at: UtcMillis) -> bool {
        at < self.global.strict_until
    }

    /// Admits an attempt (counted as pending until settled), or the minutes to wait.
    fn reserve(
        &mut self,
        login: &str,
        ip: Option<IpAddr>,
        at: UtcMillis,
        limits: &LoginLimits,
    ) -> Result<Reserved, u64> {
        let window = window_ms(limits);
        let cap = limits.max_tracked_entries;
        let strict = self.strict(at);
        let pair = self.pair(login, ip);
        let address = self.addresses.entry(pair.address, at, window, cap);
        if address.failures.saturating_add(address.pending) >= limits.failures_per_address {
            return Err(minutes_left(address.since, at, window));
        }
        // Under the backstop, a pair that failed in its window waits for the window.
        let allowed = if strict { 1 } else { limits.failures_per_pair };
        let count = self.pairs.entry(pair, at, window, cap);
        if count.failures.saturating_add(count.pending) >= allowed {
            return Err(minutes_left(count.since, at, window));
        }
        count.pending += 1;
        if let Some(address) = self.addresses.map.get_mut(&pair.address) {
            address.pending += 1;
        }
        Ok(Reserved {
            pair,
            address: pair.address,
        })
    }

    /// The attempt was not checked (refused as busy, or abandoned): it does not count.
    fn release(&mut self, r: Reserved) {
        if let Some(c) = self.pairs.map.get_mut(&r.pair) {
            c.pending = c.pending.saturating_sub(1);
        }
        if let Some(c) = self.addresses.map.get_mut(&r.address) {
            c.pending = c.pending.saturating_sub(1);
        }
    }

    /// The attempt was checked and failed.
    fn fail(&mut self, r: Reserved, at: UtcMillis, limits: &LoginLimits) {
        self.release(r);
        let (window, cap) = (window_ms(limits), limits.max_tracked_entries);
        let count = self.pairs.entry(r.pair, at, window, cap);
        count.failures = count.failures.saturating_add(1);
        self.pairs.touch(r.pair);
        self.address_failed(r.address, at, limits);
    }

    /// A failure that needed no check (a login or password too long): it counts against
    /// the address and the backstop, unless the address is held off already (then the
    /// minutes to wait).
    fn fail_unchecked(
        &mut self,
        ip: Option<IpAddr>,
        at: UtcMillis,
        limits: &LoginLimits,
    ) -> Result<(), u64> {
        let window = window_ms(limits);
        let address = Address::of(ip);
        let count = self
            .addresses
            .entry(address, at, window, limits.max_tracked_entries);
        if count.failures.saturating_add(count.pending) >= limits.failures_per_address {
            return Err(minutes_left(count.since, at, window));
        }
        self.address_failed(address, at, limits);
        Ok(())
    }

    fn address_failed(&mut self, address: Address, at: UtcMillis, limits: &LoginLimits) {
        let (window, cap) = (window_ms(limits), limits.max_tracked_entries);
        let count = self.addresses.entry(address, at, window, cap);
        count.failures = count.failures.saturating_add(1);
        self.addresses.touch(address);
        let minute = at.0.div_euclid(60_000);
        if self.global.minute != minute {
            self.global.minute = minute;
            self.global.failures = 0;
        }
        self.global.failures = self.global.failures.saturating_add(1);
        if self.global.failures >= limits.global_failures_per_minute {
            self.global.strict_until = at.plus_secs(60);
        }
    }

    /// The attempt succeeded: its pair starts afresh.
    fn succeed(&mut self, r: Reserved) {
        self.release(r);
        self.pairs.remove(&r.pair);
    }

    #[cfg(test)]
    fn tracked(&self) -> (usize, usize) {
        (self.pairs.map.len(), self.addresses.map.len())
    }
}

/// Refused attempts of one minute, by reason, waiting to be written as one audit line each.
#[derive(Debug, Default)]
struct Tally {
    minute: i64,
    by_reason: BTreeMap<Refusal, (u64, Vec<String>)>,
}

impl Tally {
    /// Adds a refusal at `at`; returns the lines of an earlier minute to write now.
    fn add(&mut self, reason: Refusal, login: Option<&str>, at: UtcMillis) -> Vec<AuditEntry> {
        let minute = at.0.div_euclid(60_000);
        let earlier = if minute != self.minute {
            let lines = self.take();
            self.minute = minute;
            lines
        } else {
            Vec::new()
        };
        let (count, samples) = self.by_reason.entry(reason).or_default();
        *count += 1;
        if let Some(login) = login {
            let sample = sample(login);
            if samples.len() < AUDIT_SAMPLES && !samples.contains(&sample) {
                samples.push(sample);
            }
        }
        earlier
    }

    /// The lines of everything tallied, emptied.
    fn take(&mut self) -> Vec<AuditEntry> {
        let start = UtcMillis(self.minute.saturating_mul(60_000));
        std::mem::take(&mut self.by_reason)
            .into_iter()
            .map(|(reason, (count, samples))| {
                let mut detail = format!(
                    "{count} refused login(s) in the minute from {start} ({}, reason {})",
                    reason.words(),
                    reason.label()
                );
                if !samples.is_empty() {
                    detail.push_str("; logins tried: ");
                    detail.push_str(&samples.join(", "));
                }
                AuditEntry {
                    at: start,
                    actor: "web".into(),
                    action: "login.failed".into(),
                    site_id: None,
                    detail,
                }
            })
            .collect()
    }
}

/// A login as an audit sample: at most 64 characters, control and direction-changing
/// characters replaced (they could disguise the line where it is read), quoted.
fn sample(login: &str) -> String {
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    let cut: String = login
        .chars()
        .take(LOGIN_MAX_BYTES)
        .map(|c| if hidden(c) { '\u{fffd}' } else { c })
        .collect();
    let more = if login.chars().nth(LOGIN_MAX_BYTES).is_some() {
        "…"
    } else {
        ""
    };
    format!("«{cut}{more}»")
}

/// The password-check pool: `admitted` bounds the attempts past the limiter (running and
/// waiting), `running` the Argon2 checks at once.
#[derive(Debug)]
struct Pool {
    admitted: Arc<Semaphore>,
    jobs: std::sync::mpsc::Sender<Check>,
}

/// One piece of password work for the pool's threads (a check, or a new password's hash),
/// and the place it holds in the pool until it is done (even if its request went away).
type Check = (Box<dyn FnOnce() + Send>, tokio::sync::OwnedSemaphorePermit);

/// Nice value of the password-check threads: when the CPU is contended (a flood of
/// logins), seats' acknowledgements and staff pages, at the default 0, come first.
const VERIFY_NICE: libc::c_int = 10;

/// Starts `count` threads running password checks at [`VERIFY_NICE`].
fn verify_threads(count: usize) -> std::sync::mpsc::Sender<Check> {
    let (tx, rx) = std::sync::mpsc::channel::<Check>();
    let rx = Arc::new(Mutex::new(rx));
    for n in 0..count {
        let rx = rx.clone();
        let started = std::thread::Builder::new()
            .name(format!("commune-verify-{n}"))
            .spawn(move || {
                // SAFETY: gettid and setpriority have no preconditions; on Linux the nice
                // value is per thread, so this lowers only this thread's priority.
                unsafe {
                    let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
                    libc::setpriority(libc::PRIO_PROCESS, tid, VERIFY_NICE);
                }
                loop {
                    let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok((work, place)) = job else {
                        return;
                    };
                    work();
                    drop(place);
                }
            });
        if let Err(error) = started {
            tracing::error!(%error, "cannot start a password-check thread");
        }
    }
    tx
}

/// The login door's state, one per controller: the limiter, the password-check pool and
/// the tally of refusals for the audit log.
#[derive(Debug, Default)]
pub(crate) struct LoginLimiter {
    limiter: Mutex<Limiter>,
    pool: OnceLock<Pool>,
    tally: Mutex<Tally>,
    flush_scheduled: AtomicBool,
}

impl Controller {
    /// Runs password work (Argon2: a check or a new hash) on the login door's pool, at low
    /// priority with bounded memory; `Busy` when its queue is full. Logged-in people's
    /// password changes go through it too, so they cannot bring back the unbounded
    /// parallel Argon2 of anonymous logins.
    pub(crate) async fn password_work<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, LoginError> {
        let pool = self.inner.login_limiter.pool(&self.inner.config.login);
        let Ok(place) = pool.admitted.clone().try_acquire_owned() else {
            return Err(LoginError::Busy);
        };
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job = Box::new(move || {
            let _ = answer.send(work());
        });
        if pool.jobs.send((job, place)).is_err() {
            return Err(LoginError::Busy);
        }
        answered.await.map_err(|_| LoginError::Busy)
    }

    /// Whether `password` matches the Argon2 `hash`, on the password pool.
    pub(crate) async fn password_matches(
        &self,
        password: &str,
        hash: &str,
    ) -> Result<bool, LoginError> {
        let (password, hash) = (password.as_bytes().to_vec(), hash.to_owned());
        self.password_work(move || verify(&hash, &password)).await
    }
}

impl LoginLimiter {
    fn limiter(&self) -> MutexGuard<'_, Limiter> {
        // A panic while holding the lock leaves counts that are still usable.
        self.limiter.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn tally(&self) -> MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn pool(&self, limits: &LoginLimits) -> &Pool {
        self.pool.get_or_init(|| {
            let running = limits.verify_threads.max(1);
            Pool {
                admitted: Arc::new(Semaphore::new(running + limits.verify_queue_max)),
                jobs: verify_threads(running),
            }
        })
    }
}

/// A reservation in the limiter; released (not counted) if dropped unsettled, e.g. when
/// the browser goes away during the check.
struct Reservation<'a> {
    door: &'a LoginLimiter,
    held: Option<Reserved>,
}

impl Reservation<'_> {
    fn fail(mut self, at: UtcMillis, limits: &LoginLimits) {
        if let Some(r) = self.held.take() {
            self.door.limiter().fail(r, at, limits);
        }
    }

    fn succeed(mut self) {
        if let Some(r) = self.held.take() {
            self.door.limiter().succeed(r);
        }
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if let Some(r) = self.held.take() {
            self.door.limiter().release(r);
        }
    }
}

impl Controller {
    /// Checks a login and password from `ip` and opens a browser session. The work is
    /// bounded whatever is sent (see the module's documentation); refusals are counted in
    /// metrics and aggregated in the audit log.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        ip: Option<IpAddr>,
    ) -> Result<(StaffIdentity, NewSession), LoginError> {
        let at = now();
        let limits = &self.inner.config.login;
        let door = &self.inner.login_limiter;
        if login.len() > LOGIN_MAX_BYTES || password.len() > limits.max_password_bytes {
            let held = door.limiter().fail_unchecked(ip, at, limits);
            if let Err(minutes) = held {
                self.login_refused(Refusal::TooMany, Some(login), at).await;
                return Err(LoginError::TooManyAttempts(minutes));
            }
            self.login_refused(Refusal::TooLong, Some(login), at).await;
            return Err(LoginError::Wrong);
        }
        let reserved = door.limiter().reserve(login, ip, at, limits);
        let reservation = match reserved {
            Ok(r) => Reservation {
                door,
                held: Some(r),
            },
            Err(minutes) => {
                self.login_refused(Refusal::TooMany, Some(login), at).await;
                return Err(LoginError::TooManyAttempts(minutes));
            }
        };
        let pool = door.pool(limits);
        let Ok(admitted) = pool.admitted.clone().try_acquire_owned() else {
            drop(reservation);
            self.login_refused(Refusal::Busy, Some(login), at).await;
            return Err(LoginError::Busy);
        };
        let record = self.store().staff(login).await.ok().flatten();
        let hash = record
            .as_ref()
            .filter(|r| !r.disabled)
            .map(|r| r.password_hash.clone());
        let password = password.as_bytes().to_vec();
        let hash = hash.unwrap_or_else(|| DECOY_HASH.clone());
        // The place goes with the check: if this request is dropped, the check still holds
        // it until it ends, so no more than the pool's threads and queue are ever busy.
        let (answer, answered) = tokio::sync::oneshot::channel();
        let work = Box::new(move || {
            let _ = answer.send(verify(&hash, &password));
        });
        if pool.jobs.send((work, admitted)).is_err() {
            return Err(LoginError::Busy);
        }
        let ok = answered.await.unwrap_or(false);
        let at = now();
        let known = record.as_ref().map(|r| r.login.clone());
        let Some(record) = record.filter(|r| ok && !r.disabled) else {
            let strict = door.limiter().strict(at);
            reservation.fail(at, limits);
            match known {
                // A known account's failure on its own line, except in a flood.
                Some(known) if !strict => {
                    self.inner.metrics.login_refused(Refusal::Wrong.label());
                    self.record(&known, "login.failed", None, "wrong password")
                        .await;
                }
                _ => self.login_refused(Refusal::Wrong, Some(login), at).await,
            }
            return Err(LoginError::Wrong);
        };
        reservation.succeed();
        let Some(identity) = identity_of(&record, "web".into()) else {
            return Err(LoginError::Wrong);
        };
        let session = NewSession {
            token: random_token(),
            csrf: random_token(),
        };
        let ttl = i64::try_from(SESSION_TTL.as_secs()).unwrap_or(36_000);
        if self
            .store()
            .create_staff_session(
                &token_hash(&session.token),
                &record.login,
                &session.csrf,
                at,
                at.plus_secs(ttl),
            )
            .await
            .is_err()
        {
            return Err(LoginError::Wrong);
        }
        self.record(&record.login, "login", None, "").await;
        Ok((identity, session))
    }

    /// A login form refused before it was read (a body larger than any login form): it
    /// counts against the address like a login too long.
    pub async fn login_form_too_large(&self, ip: Option<IpAddr>) {
        let at = now();
        let held =
            self.inner
                .login_limiter
                .limiter()
                .fail_unchecked(ip, at, &self.inner.config.login);
        let reason = match held {
            Ok(()) => Refusal::TooLong,
            Err(_) => Refusal::TooMany,
        };
        self.login_refused(reason, None, at).await;
    }

    /// Writes the refused logins tallied so far to the audit log now (each minute's are
    /// written on their own once the minute is over).
    pub async fn flush_login_audit(&self) {
        let lines = self.inner.login_limiter.tally().take();
        self.write_audit(lines).await;
    }

    async fn login_refused(&self, reason: Refusal, login: Option<&str>, at: UtcMillis) {
        self.inner.metrics.login_refused(reason.label());
        let door = &self.inner.login_limiter;
        let earlier = door.tally().add(reason, login, at);
        self.write_audit(earlier).await;
        if !door.flush_scheduled.swap(true, Ordering::AcqRel) {
            schedule_flush(Arc::downgrade(&self.inner), at);
        }
    }

    async fn write_audit(&self, lines: Vec<AuditEntry>) {
        for entry in lines {
            if let Err(error) = self.store().audit(&entry).await {
                tracing::error!(%error, action = %entry.action, "audit log not written");
            }
        }
    }
}

/// Returns the allocator's free memory to the system (glibc keeps freed memory in each
/// thread's arena).
fn give_back_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim has no preconditions; it only releases free memory.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Writes each minute's tally once the minute is over, for as long as refusals keep
/// coming; holds the controller only while writing.
fn schedule_flush(inner: Weak<Inner>, mut at: UtcMillis) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        loop {
            let into_minute = u64::try_from(at.0.rem_euclid(60_000)).unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(60_000 - into_minute + 100)).await;
            let Some(inner) = inner.upgrade() else {
                return;
            };
            let controller = Controller { inner };
            let door = &controller.inner.login_limiter;
            at = now();
            let lines = {
                let mut tally = door.tally();
                if tally.minute < at.0.div_euclid(60_000) {
                    tally.take()
                } else {
                    Vec::new()
                }
            };
            controller.write_audit(lines).await;
            // Stop unless this minute has refusals of its own; a refusal after the flag
            // is down schedules its own flush.
            door.flush_scheduled.store(false, Ordering::Release);
            let pending = !door.tally().by_reason.is_empty();
            if !pending {
                // The flood is over: what its connections and checks used goes back to the
                // system instead of staying in the allocator's free lists.
                give_back_memory();
                return;
            }
            if door.flush_scheduled.swap(true, Ordering::AcqRel) {
                return;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    const T0: UtcMillis = UtcMillis(1_800_000_000_000);

    fn fail(l: &mut Limiter, login: &str, from: Option<IpAddr>, limits: &LoginLimits) {
        let r = l.reserve(login, from, T0, limits).expect("admitted");
        l.fail(r, T0, limits);
    }

    #[test]
    fn five_failures_block_the_pair_not_the_login_elsewhere_nor_the_address() {
        let limits = LoginLimits::default();
        let mut l = Limiter::default();
        let from = ip("192.0.2.7");
        for _ in 0..limits.failures_per_pair {
            fail(&mut l, "marie", from, &limits);
        }
        assert_eq!(l.reserve("Marie", from, T0, &limits), Err(16));
        // Marie from her own MDH gets in; another login from the same address is checked.
        assert!(l.reserve("marie", ip("198.51.100.1"), T0, &limits).is_ok());
        assert!(l.reserve("paul", from, T0, &limits).is_ok());
        // After the window, free again.
        let later = T0.plus_secs(15 * 60);
        assert!(l.reserve("marie", from, later, &limits).is_ok());
    }

    #[test]
    fn an_address_is_blocked_after_its_failures_whatever_the_logins() {
        let limits = LoginLimits::default();
        let mut l = Limiter::default();
        let attacker = ip("203.0.113.9");
        for i in 0..limits.failures_per_address {
            fail(&mut l, &format!("guess{i}"), attacker, &limits);
        }
        assert!(l.reserve("marie", attacker, T0, &limits).is_err());
        assert!(l.reserve("marie", ip("198.51.100.1"), T0, &limits).is_ok());
        // An IPv6 attacker counts by its /64.
        for i in 0..limits.failures_per_address {
            fail(
                &mut l,
                &format!("x{i}"),
                ip(&format!("2001:db8:1:2::{:x}", i + 1)),
                &limits,
            );
        }
        assert!(l
            .reserve("y", ip("2001:db8:1:2::ffff"), T0, &limits)
            .is_err());
        assert!(l.reserve("y", ip("2001:db8:1:3::1"), T0, &limits).is_ok());
    }

    #[test]
    fn reservations_count_before_the_check_and_are_released_unchecked() {
        let limits = LoginLimits::default();
        let mut l = Limiter::default();
        let from = ip("192.0.2.7");
        let held: Vec<_> = (0..limits.failures_per_pair)
            .map(|_| l.reserve("marie", from, T0, &limits).expect("admitted"))
            .collect();
        // Parallel attempts past the limit are refused before any is checked.
        assert!(l.reserve("marie", from, T0, &limits).is_err());
        for r in held {
            l.release(r);
        }
        let r = l.reserve("marie", from, T0, &limits).expect("free again");
        l.succeed(r);
        assert_eq!(l.tracked().0, 0, "a success forgets the pair");
    }

    #[test]
    fn the_backstop_leaves_one_try_per_pair_and_lets_fresh_pairs_in() {
        let limits = LoginLimits {
            global_failures_per_minute: 50,
            ..LoginLimits::default()
        };
        let mut l = Limiter::default();
        fail(&mut l, "marie", ip("192.0.2.7"), &limits);
        assert!(l
            .reserve("marie", ip("192.0.2.7"), T0, &limits)
            .is_ok_and(|r| {
                l.release(r);
                true
            }));
        // A flood from many addresses.
        for i in 0..50u32 {
            let from = ip(&format!("10.0.{}.{}", i / 250, i % 250 + 1));
            fail(&mut l, &format!("guess{i}"), from, &limits);
        }
        assert!(l.strict(T0));
        // Marie, who failed once, waits; Karim, who has not, is checked.
        assert!(l.reserve("marie", ip("192.0.2.7"), T0, &limits).is_err());
        assert!(l.reserve("karim", ip("192.0.2.8"), T0, &limits).is_ok());
        // A quiet minute later, the usual limits again.
        let later = T0.plus_secs(61);
        assert!(!l.strict(later));
        assert!(l.reserve("marie", ip("192.0.2.7"), later, &limits).is_ok());
    }

    #[test]
    fn memory_stays_within_the_cap_under_a_flood_of_addresses() {
        let limits = LoginLimits {
            max_tracked_entries: 100,
            global_failures_per_minute: u32::MAX,
            ..LoginLimits::default()
        };
        let mut l = Limiter::default();
        for i in 0..20_000u32 {
            let from = ip(&format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255));
            fail(&mut l, &format!("random-{i}"), from, &limits);
            let (pairs, addresses) = l.tracked();
            assert!(pairs <= 100 && addresses <= 100, "{pairs} {addresses}");
            assert!(l.pairs.order.len() <= 2 * 100 + 64 + 1);
            assert!(l.addresses.order.len() <= 2 * 100 + 64 + 1);
        }
        // The most recent are remembered, the oldest forgotten.
        let last = ip("10.0.78.31"); // i = 19_999
        assert_eq!(l.addresses.map[&Address::of(last)].failures, 1);
        assert!(!l.addresses.map.contains_key(&Address::of(ip("10.0.0.0"))));
    }

    #[test]
    fn an_entry_being_checked_is_not_evicted() {
        let limits = LoginLimits {
            max_tracked_entries: 4,
            ..LoginLimits::default()
        };
        let mut l = Limiter::default();
        let r = l.reserve("marie", ip("192.0.2.7"), T0, &limits).unwrap();
        for i in 0..10 {
            fail(&mut l, "x", ip(&format!("10.0.0.{i}")), &limits);
        }
        assert!(l.pairs.map.contains_key(&r.pair));
        l.fail(r, T0, &limits);
        assert_eq!(l.pairs.map[&r.pair].failures, 1);
    }

    #[test]
    fn the_check_matches_argon2_and_the_decoy_matches_nothing() {
        let hash = argon2::Argon2::default()
            .hash_password(b"un mot de passe long", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify(&hash, b"un mot de passe long"));
        assert!(!verify(&hash, b"un mot de passe lonG"));
        assert!(!verify(&DECOY_HASH, b""));
        assert!(!verify("not a hash", b"x"));
    }

    #[test]
    fn refusals_are_tallied_per_minute_and_reason_with_a_few_short_samples() {
        let mut tally = Tally::default();
        assert!(tally.add(Refusal::Wrong, Some("a"), T0).is_empty());
        let long = "x".repeat(200_000);
        for _ in 0..1000 {
            assert!(tally.add(Refusal::TooLong, Some(&long), T0).is_empty());
        }
        tally.add(Refusal::Wrong, Some("b\nforged line"), T0);
        tally.add(Refusal::Wrong, Some("c"), T0);
        tally.add(Refusal::Wrong, Some("d"), T0);
        let lines = tally.add(Refusal::Busy, None, T0.plus_secs(60));
        assert_eq!(lines.len(), 2, "one line per reason: {lines:?}");
        let wrong = &lines[0].detail;
        assert!(wrong.starts_with("4 refused login(s)"), "{wrong}");
        assert!(wrong.contains("«a»") && wrong.contains("«b\u{fffd}forged line»"));
        assert!(!wrong.contains("«d»"), "at most three samples: {wrong}");
        let too_long = &lines[1].detail;
        assert!(too_long.starts_with("1000 refused"), "{too_long}");
        assert!(too_long.len() < 400, "samples are cut: {too_long}");
        assert_eq!(tally.take().len(), 1, "the busy one is left");
    }
}
