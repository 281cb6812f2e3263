//! Every message of the data flow, in both directions.
//!
//! Enums are internally tagged (`"type"`) with snake_case names, structs are maps with
//! named fields. Compatibility rules, enforced by the golden fixtures in `tests/golden.rs`:
//! fields are only ever added, with `#[serde(default)]`, never renamed or removed; a message
//! type an older peer does not know decodes as `Unknown` and is skipped, not fatal.

use serde::{Deserialize, Serialize};

use crate::health::{HealthSnapshot, Inventory};
use crate::time::UtcMillis;
use crate::version::VersionRange;

/// Messages an agent sends to the controller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentMessage {
    /// First frame of an authenticated connection.
    Hello(Hello),
    /// First and only request of an unauthenticated connection: enroll with a token.
    Enroll(EnrollRequest),
    /// Events from the agent's outbox, each with its sequence number.
    Events(EventBatch),
    /// A periodic health snapshot.
    Health(HealthSnapshot),
    /// The computer's inventory, on connect and hourly.
    Inventory(Inventory),
    /// Liveness and the seat's current state.
    Heartbeat(Heartbeat),
    /// A new certificate for the same agent, asked for over the authenticated link (at two
    /// thirds of the current one's life); only when the controller offers
    /// [`crate::version::capability::RENEW`].
    Renew(RenewRequest),
    /// A part of a sealed document for the visitor's phone; only when the controller offers
    /// [`crate::version::capability::HANDOFF`].
    Handoff(crate::handoff::HandoffPart),
    /// A message type this build does not know (sent by a newer peer); skipped.
    #[serde(other)]
    Unknown,
}

/// Messages the controller sends to an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ControllerMessage {
    /// Answer to `Hello`: the connection is accepted.
    Welcome(Welcome),
    /// The request or connection is refused; the connection closes after this frame.
    Refused(Refusal),
    /// Answer to `Enroll`: the signed certificate.
    Enrolled(Enrolled),
    /// Events up to this sequence number are stored for good and may be dropped.
    Ack(Ack),
    /// The seat's compiled schedule for the coming days.
    Schedule(crate::schedule::Schedule),
    /// Hashes of the site's valid tickets, so that tickets work offline.
    Tickets(TicketSet),
    /// A staff command to execute once.
    Command(Command),
    /// The controller is shutting down; come back after the given delay.
    Goodbye(Goodbye),
    /// Answer to `Renew`: the new certificate. The current one keeps working until the
    /// agent connects with the new one, then it is refused.
    Renewed(Renewed),
    /// How busy the site's seats are now (the wait shown on screens that cannot serve a
    /// visitor), sent when it changes.
    SiteWait(SiteWait),
    /// Answer to the last [`crate::handoff::HandoffPart`] of an upload.
    HandoffReady(crate::handoff::HandoffReady),
    /// A message type this build does not know (sent by a newer peer); skipped.
    #[serde(other)]
    Unknown,
}

/// The most reserved seats a [`SiteWait`] lists.
pub const MAX_RESERVED_SEATS: usize = 64;

/// How busy a site's seats are: free, busy, when the next one should free up, and those
/// held for a permanence. Counts and seat names only: nothing about any visitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct SiteWait {
    /// When the controller computed it.
    pub at: UtcMillis,
    /// Seats free for free access now.
    pub free_seats: u32,
    /// Seats with a visitor's session now.
    pub busy_seats: u32,
    /// When the first running session ends on its own (its length, its slot), if any.
    #[serde(default)]
    pub next_free_at: Option<UtcMillis>,
    /// Seats held for a permanence now (at most [`MAX_RESERVED_SEATS`]).
    #[serde(default)]
    pub reserved: Vec<ReservedSeat>,
}

/// A seat held for a permanence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct ReservedSeat {
    /// The seat's name (its host name).
    pub seat: String,
    /// The permanence ("Écrivain public").
    pub permanence: String,
    /// Until when.
    #[serde(default)]
    pub until: Option<UtcMillis>,
}

/// Opens an authenticated connection. The agent's identity comes from its certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Hello {
    /// Protocol versions the agent speaks.
    pub protocol: VersionRange,
    /// The agent's software version.
    pub agent_version: String,
    /// Capability names (see [`crate::version::capability`]).
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Events waiting in the agent's outbox.
    #[serde(default)]
    pub outbox_pending: u64,
}

/// Accepts a connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Welcome {
    /// The protocol version chosen for this connection.
    pub protocol_version: u16,
    /// The controller's software version.
    pub controller_version: String,
    /// Capability names the controller supports.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// The agent's id, as the controller knows it from the certificate.
    pub agent_id: String,
    /// The site the agent belongs to.
    pub site_id: String,
    /// Highest contiguous event sequence number already stored.
    #[serde(default)]
    pub acked_seq: u64,
    /// How often to send health snapshots.
    pub health_interval_secs: u32,
    /// How often to send the inventory.
    pub inventory_interval_secs: u32,
}

/// Why a request or connection was refused. Stable codes for programs, a sentence for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Refusal {
    /// Machine-readable reason.
    pub code: RefusalCode,
    /// A sentence a person can act on.
    pub message: String,
}

/// Machine-readable refusal reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// No protocol version in common.
    UnsupportedVersion,
    /// The enrollment token is not known (mistyped, or revoked).
    TokenUnknown,
    /// The enrollment token was already used.
    TokenUsed,
    /// The enrollment token expired.
    TokenExpired,
    /// The certificate signing request is unusable.
    CsrInvalid,
    /// The certificate names no enrolled agent.
    NotEnrolled,
    /// The agent was revoked.
    Revoked,
    /// A request that needs a client certificate came without one, or the reverse.
    WrongConnectionKind,
    /// A frame could not be decoded.
    MalformedFrame,
    /// A frame was over the size limit.
    FrameTooLarge,
    /// The first frame was not the one the protocol expects.
    UnexpectedMessage,
    /// The controller is at capacity; retry later.
    Busy,
    /// The controller failed; retry later.
    Internal,
    /// A code this build does not know.
    #[serde(other)]
    Other,
}

impl RefusalCode {
    /// Stable label for metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::UnsupportedVersion => "unsupported_version",
            RefusalCode::TokenUnknown => "token_unknown",
            RefusalCode::TokenUsed => "token_used",
            RefusalCode::TokenExpired => "token_expired",
            RefusalCode::CsrInvalid => "csr_invalid",
            RefusalCode::NotEnrolled => "not_enrolled",
            RefusalCode::Revoked => "revoked",
            RefusalCode::WrongConnectionKind => "wrong_connection_kind",
            RefusalCode::MalformedFrame => "malformed",
            RefusalCode::FrameTooLarge => "too_large",
            RefusalCode::UnexpectedMessage => "unexpected_message",
            RefusalCode::Busy => "busy",
            RefusalCode::Internal => "internal",
            RefusalCode::Other => "other",
        }
    }

    /// QUIC application close code used when the connection is closed for this reason.
    pub fn close_code(self) -> u32 {
        match self {
            RefusalCode::UnsupportedVersion => 0x10,
            RefusalCode::TokenUnknown => 0x11,
            RefusalCode::TokenUsed => 0x12,
            RefusalCode::TokenExpired => 0x13,
            RefusalCode::CsrInvalid => 0x14,
            RefusalCode::NotEnrolled => 0x15,
            RefusalCode::Revoked => 0x16,
            RefusalCode::WrongConnectionKind => 0x17,
            RefusalCode::MalformedFrame => 0x18,
            RefusalCode::FrameTooLarge => 0x19,
            RefusalCode::UnexpectedMessage => 0x1a,
            RefusalCode::Busy => 0x1b,
            RefusalCode::Internal => 0x1c,
            RefusalCode::Other => 0x1f,
        }
    }

    /// The code for a QUIC application close code, if it is one of ours.
    pub fn from_close_code(code: u64) -> Option<RefusalCode> {
        ALL_REFUSAL_CODES
            .iter()
            .copied()
            .find(|c| u64::from(c.close_code()) == code)
    }
}

const ALL_REFUSAL_CODES: [RefusalCode; 14] = [
    RefusalCode::UnsupportedVersion,
    RefusalCode::TokenUnknown,
    RefusalCode::TokenUsed,
    RefusalCode::TokenExpired,
    RefusalCode::CsrInvalid,
    RefusalCode::NotEnrolled,
    RefusalCode::Revoked,
    RefusalCode::WrongConnectionKind,
    RefusalCode::MalformedFrame,
    RefusalCode::FrameTooLarge,
    RefusalCode::UnexpectedMessage,
    RefusalCode::Busy,
    RefusalCode::Internal,
    RefusalCode::Other,
];

/// QUIC application close code for an orderly close (shutdown, goodbye).
pub const CLOSE_NORMAL: u32 = 0;

/// Enrollment: the token's secret and a CSR made on the computer. The key stays there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct EnrollRequest {
    /// Protocol versions the agent speaks.
    pub protocol: VersionRange,
    /// The secret part of the enrollment token (base64url).
    pub token_secret: String,
    /// PKCS#10 certificate signing request, PEM. Only its public key is used.
    pub csr_pem: String,
    /// The computer's host name, for IT's eyes.
    #[serde(default)]
    pub hostname: String,
    /// The agent's software version.
    #[serde(default)]
    pub agent_version: String,
    /// Set when a computer whose certificate expired (while it was offline) enrolls again:
    /// it keeps its agent id, and so its history and the events it has not sent yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousIdentity>,
}

/// The identity a computer held before, and the proof that it holds that identity's key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct PreviousIdentity {
    /// The previous (expired) certificate, PEM, signed by the fleet CA.
    pub certificate_pem: String,
    /// Signature by the previous certificate's key over [`reenroll_proof_message`] of this
    /// request, base64url: a token alone cannot take over another computer's identity.
    pub proof: String,
}

impl PreviousIdentity {
    /// The identity with its proof (a signature) encoded for the wire.
    pub fn new(certificate_pem: String, signature: &[u8]) -> Self {
        use base64::Engine;
        PreviousIdentity {
            certificate_pem,
            proof: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature),
        }
    }

    /// The signature bytes, or `None` when the proof is not base64url.
    pub fn signature(&self) -> Option<Vec<u8>> {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(self.proof.as_bytes())
            .ok()
    }
}

/// What the previous key signs when a computer enrolls again: binds the proof to this token
/// and this new key (a proof seen once cannot be replayed with another token or CSR).
pub fn reenroll_proof_message(token_secret: &str, csr_pem: &str) -> Vec<u8> {
    let mut m = b"commune re-enrollment v1\0".to_vec();
    m.extend_from_slice(token_secret.as_bytes());
    m.push(0);
    m.extend_from_slice(csr_pem.as_bytes());
    m
}

/// Asks for a new certificate for this agent (same agent id, new key, new serial).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct RenewRequest {
    /// PKCS#10 certificate signing request for the new key, PEM. Only its public key is used.
    pub csr_pem: String,
}

/// The renewed certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Renewed {
    /// The new certificate, PEM.
    pub certificate_pem: String,
    /// When it expires.
    pub not_after: UtcMillis,
}

/// A successful enrollment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Enrolled {
    /// The id the controller gave this agent; also the certificate's subject.
    pub agent_id: String,
    /// The site the token was bound to.
    pub site_id: String,
    /// The agent's certificate, PEM.
    pub certificate_pem: String,
    /// The fleet CA certificate, PEM.
    pub ca_certificate_pem: String,
    /// When the certificate expires.
    pub not_after: UtcMillis,
}

/// A batch of events from the outbox, in sequence order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct EventBatch {
    /// The events.
    pub events: Vec<EventEnvelope>,
}

/// One event with its delivery identity `(agent_id, seq)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct EventEnvelope {
    /// Strictly increasing per agent, persisted before the event counts as sent.
    pub seq: u64,
    /// When the event happened (agent's wall clock, UTC).
    pub at: UtcMillis,
    /// What happened.
    pub event: AgentEvent,
}

/// What an agent reports. No URL, window title, keystroke, screenshot or file name, ever.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    /// A visitor's session started.
    SessionStarted(SessionStarted),
    /// A visitor's session ended.
    SessionEnded(SessionEnded),
    /// The proof of a session's wipe.
    WipeReport(WipeReport),
    /// A T−5 or T−1 warning was shown.
    WarningShown(WarningShown),
    /// A free-access ticket was used on this seat.
    TicketUsed(TicketUsed),
    /// The outcome of a staff command.
    CommandResult(CommandResult),
    /// Something IT must look at.
    Alert(Alert),
    /// Staff looked at the seat's devices and accepted them (after a device alarm, or to
    /// record the check).
    DevicesChecked(DevicesChecked),
    /// The seat suspended or powered off after closing time (sent when it is back).
    PowerChanged(PowerChanged),
    /// A visitor called a mediator, with a coarse need (nothing else: no screen, no text).
    HelpCalled(HelpCalled),
    /// The visitor cancelled their call.
    HelpCancelled(HelpCancelled),
    /// A print job of the session waits for staff (beyond the free pages, or its pages
    /// could not be counted). Only its number on the computer and its pages: never a title.
    PrintWaiting(PrintWaiting),
    /// A job that waited for staff no longer does (printed, cancelled, or the session
    /// ended).
    PrintWaitOver(PrintWaitOver),
    /// Pages went to the printer, once confirmed by the visitor or released by staff.
    PagesPrinted(PagesPrinted),
    /// An event type this build does not know; stored raw by nobody, skipped.
    #[serde(other)]
    Unknown,
}

/// Kind of time slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum SlotKind {
    /// Free access (libre-service).
    Free,
    /// Supervised (a permanence).
    Supervised,
    /// Closed: seats locked.
    Closed,
}

/// A session start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct SessionStarted {
    /// Random session id (not tied to any person).
    pub session_id: String,
    /// The kind of slot the session runs in.
    pub slot_kind: SlotKind,
    /// The permanence, for supervised sessions.
    #[serde(default)]
    pub permanence_id: Option<String>,
    /// Whether a ticket opened the session.
    #[serde(default)]
    pub with_ticket: bool,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The session's own length ran out.
    TimeUp,
    /// Its slot ended (closing time, a permanence starting).
    SlotEnded,
    /// The visitor ended it.
    Visitor,
    /// A staff member or mediator ended it.
    Staff,
    /// The agent restarted during the session.
    AgentRestart,
    /// The visitor stepped away and did not come back in time, or the session's code was
    /// typed wrong five times.
    Abandoned,
    /// A reason this build does not know.
    #[serde(other)]
    Other,
}

/// A session end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct SessionEnded {
    /// The session.
    pub session_id: String,
    /// Why it ended.
    pub reason: EndReason,
    /// Its length on the monotonic clock.
    pub duration_secs: u64,
    /// How many documents (downloads, scans) were left to erase. A count, never names.
    #[serde(default)]
    pub documents_erased: u32,
}

/// One step of a wipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct WipeStep {
    /// Step name (`kill`, `unmount`, `ipc`, `keys`, `print`, `files`, `account`…).
    pub name: String,
    /// How long it took.
    pub duration_us: u64,
    /// How many things it removed.
    pub count: u64,
    /// Whether it succeeded.
    pub ok: bool,
    /// What went wrong, if anything (never a visitor's file name).
    #[serde(default)]
    pub detail: Option<String>,
}

/// One verification check after a wipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct WipeCheck {
    /// Check name (`processes`, `mounts`, `ipc`, `keys`, `print_jobs`, `account`, `files`…).
    pub name: String,
    /// Whether nothing of the session was found.
    pub passed: bool,
    /// How many leftovers were found.
    pub found: u64,
    /// What was read and how (the source of truth, never the purge's own list), for IT to
    /// judge what "verified" means: e.g. `walk of 7 writable directories on 4 file systems`.
    #[serde(default)]
    pub method: String,
    /// How many things the check examined (processes, mount tables, directories, queues…).
    #[serde(default)]
    pub examined: u64,
}

/// The proof that a session was wiped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct WipeReport {
    /// The session wiped.
    pub session_id: String,
    /// True when every check passed.
    pub verified: bool,
    /// From end of session to verified.
    pub total_us: u64,
    /// Steps in the order they ran.
    pub steps: Vec<WipeStep>,
    /// Checks after the teardown.
    pub checks: Vec<WipeCheck>,
    /// Kernel release.
    #[serde(default)]
    pub kernel: String,
    /// How session data was kept off swap (`noswap`, `no swap configured`, …).
    #[serde(default)]
    pub swap: String,
    /// Documents the visitor sent to their phone during the session (sealed, through the
    /// controller; see [`crate::handoff`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub handoffs: u32,
}

/// A warning shown to the visitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct WarningShown {
    /// The session.
    pub session_id: String,
    /// Minutes left when shown.
    pub minutes_left: u32,
}

/// A ticket used on this seat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct TicketUsed {
    /// Hex SHA-256 of the ticket code; the code itself never leaves the computer.
    pub ticket_hash: String,
    /// The session it opened.
    pub session_id: String,
    /// Whether the seat was offline when the ticket was accepted.
    #[serde(default)]
    pub offline: bool,
}

/// Outcome of a staff command, reported once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct CommandResult {
    /// The command's id.
    pub command_id: String,
    /// What happened.
    pub outcome: CommandOutcome,
    /// A sentence for staff.
    #[serde(default)]
    pub detail: String,
}

/// Outcomes of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum CommandOutcome {
    /// Executed.
    Done,
    /// Not executed, on purpose (e.g. no session to end).
    Refused,
    /// Tried and failed.
    Failed,
    /// Arrived after its expiry.
    Expired,
    /// An outcome this build does not know.
    #[serde(other)]
    Other,
}

/// Alert kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A wipe's verification failed; the seat is blocked.
    WipeFailed,
    /// The local outbox is nearly full.
    OutboxFilling,
    /// A ticket was used twice while offline.
    TicketDoubleUse,
    /// A disk is nearly full.
    DiskFull,
    /// A keyboard or another input device was plugged in since the seat was checked: the
    /// seat is locked until staff look at it.
    DeviceAttached,
    /// A kind this build does not know.
    #[serde(other)]
    Other,
}

/// An alert for IT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Alert {
    /// Kind.
    pub kind: AlertKind,
    /// A sentence for IT.
    pub message: String,
}

/// A seat's power action after closing time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct PowerChanged {
    /// What it did.
    pub action: crate::schedule::AfterClosing,
    /// Whether the platform did it.
    pub ok: bool,
}

/// Who accepted a seat's devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum CheckedBy {
    /// The devices found when the agent first ran (the installation).
    Installation,
    /// A staff member, from the dashboard (the command's audit names them).
    Staff,
    /// A mediator, at the computer, with the site's mediator PIN.
    MediatorPin,
    /// Someone this build does not know.
    #[serde(other)]
    Other,
}

/// The seat's devices were looked at and accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct DevicesChecked {
    /// Who accepted them.
    pub by: CheckedBy,
    /// How many input devices the seat has now (keyboards, pointers, others).
    pub input_devices: u32,
    /// How many of them were new since the previous check.
    #[serde(default)]
    pub new_devices: u32,
}

/// What a visitor needs a mediator for: a closed list, so that nothing a visitor types
/// ever leaves the computer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum HelpNeed {
    /// Printing or scanning.
    Printing,
    /// An account or a password.
    Account,
    /// A form to fill in.
    Form,
    /// Anything else.
    Other,
    /// A need this build does not know (from a newer agent): refused by the controller.
    #[serde(other)]
    Unknown,
}

impl HelpNeed {
    /// The needs a visitor may choose, in the order the screens show them.
    pub const CHOICES: [HelpNeed; 4] = [
        HelpNeed::Printing,
        HelpNeed::Account,
        HelpNeed::Form,
        HelpNeed::Other,
    ];

    /// Stable name, as on the wire and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            HelpNeed::Printing => "printing",
            HelpNeed::Account => "account",
            HelpNeed::Form => "form",
            HelpNeed::Other => "other",
            HelpNeed::Unknown => "unknown",
        }
    }

    /// The need of a stable name; `None` for a name this build does not know.
    pub fn parse(name: &str) -> Option<HelpNeed> {
        HelpNeed::CHOICES.into_iter().find(|n| n.as_str() == name)
    }
}

/// A call for a mediator from the visitor's screens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct HelpCalled {
    /// Random id of the call (not tied to any person).
    pub call_id: String,
    /// What the visitor needs.
    pub need: HelpNeed,
    /// The session the call was made in; none from the welcome screens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

/// A call the visitor cancelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct HelpCancelled {
    /// The call.
    pub call_id: String,
}

/// A print job waiting for staff. The number is the job's on the computer's print queue
/// (it means nothing elsewhere); nothing about the document is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct PrintWaiting {
    /// The job's number on the seat.
    pub job: u32,
    /// Pages it would print (copies included); none when they could not be counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
}

/// A print job no longer waiting for staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct PrintWaitOver {
    /// The job's number on the seat.
    pub job: u32,
}

/// Who let a print job go to the printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum ReleasedBy {
    /// The visitor, within the site's free pages, on the notice.
    Visitor,
    /// A staff member, from the dashboard (the command's audit names them).
    Staff,
    /// Someone this build does not know.
    #[serde(other)]
    Other,
}

impl ReleasedBy {
    /// Stable name, as on the wire and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            ReleasedBy::Visitor => "visitor",
            ReleasedBy::Staff => "staff",
            ReleasedBy::Other => "other",
        }
    }
}

/// Pages sent to the printer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct PagesPrinted {
    /// Pages (copies included), as counted before the job was released.
    pub pages: u32,
    /// Who released the job.
    pub released_by: ReleasedBy,
}

/// Seat states an agent reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum SeatState {
    /// Free for the next visitor.
    Ready,
    /// A visitor's session is running.
    InSession,
    /// The session is ending (warnings, saving documents).
    Ending,
    /// Wiping the last session.
    Wiping,
    /// Closed hours: locked.
    Closed,
    /// Blocked after a failed wipe: IT must look.
    Blocked,
    /// Free, in a supervised slot: the mediator opens the next session.
    Supervised,
    /// The visitor stepped away: their session runs on, locked with their code.
    SteppedAway,
    /// A device was plugged in since the seat was checked: locked until staff check it.
    DeviceAlarm,
    /// A state this build does not know.
    #[serde(other)]
    Other,
}

/// Liveness plus state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Heartbeat {
    /// The seat's state, when the agent manages sessions.
    #[serde(default)]
    pub seat_state: Option<SeatState>,
    /// Seconds until the running session ends on its own (its length, its slot's end),
    /// when a session with a limit is running: staff see who must leave soon. Seconds
    /// rather than an instant, so a seat's wrong clock does not move it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_seconds_left: Option<u64>,
}

/// Acknowledgement of stored events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Ack {
    /// Every event with `seq <= up_to_seq` is committed.
    pub up_to_seq: u64,
}

/// Hash of one valid ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct TicketHash {
    /// Hex SHA-256 of the code.
    pub hash: String,
    /// Session length the ticket grants.
    pub minutes: u32,
    /// Until when it may be used.
    pub valid_until: UtcMillis,
    /// Already used (kept in the set until it expires, so the visitor is told "already
    /// used" rather than "unknown").
    #[serde(default)]
    pub used: bool,
}

/// The site's valid tickets, whole or in parts: a set too big for one frame is sent as
/// `parts` messages sharing `generated_at`, which the agent applies once it has them all
/// (see [`crate::tickets::TicketSetParts`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct TicketSet {
    /// When the set was computed.
    pub generated_at: UtcMillis,
    /// The tickets (of this part).
    pub tickets: Vec<TicketHash>,
    /// This part's index, from 0 (absent: the whole set).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub part: u32,
    /// How many parts the set has (absent or 0: one).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub parts: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A staff command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Command {
    /// Unique id; the agent executes each id once.
    pub id: String,
    /// When staff issued it.
    pub issued_at: UtcMillis,
    /// After this instant the agent does not execute it.
    pub expires_at: UtcMillis,
    /// What to do.
    pub action: CommandAction,
}

/// What a command asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum CommandAction {
    /// Open a supervised slot now, until the given instant.
    OpenSupervisedSlot {
        /// End of the slot.
        until: UtcMillis,
        /// The permanence it belongs to, if any.
        #[serde(default)]
        permanence_id: Option<String>,
    },
    /// Move the end of the current supervised slot.
    ExtendSlot {
        /// New end.
        until: UtcMillis,
    },
    /// Close the current supervised slot now.
    CloseSlot,
    /// Start a visitor's session (mediator's action).
    StartSession {
        /// Slot kind to start.
        slot_kind: SlotKind,
    },
    /// End the visitor's session, showing the reason.
    EndSession {
        /// Shown to the visitor.
        reason: String,
    },
    /// Lock the seat.
    Lock {
        /// Shown on the locked screen.
        message: String,
    },
    /// Unlock the seat.
    Unlock,
    /// Staff looked at the seat's devices (the cable, the keyboard): accept what is
    /// plugged in now and lift a device alarm.
    ApproveDevices,
    /// Show a message to the visitor.
    Message {
        /// The text.
        text: String,
    },
    /// A staff member took the visitor's call for a mediator: the screens say someone is
    /// coming.
    HelpTaken {
        /// The call.
        call_id: String,
    },
    /// Send Wake-on-LAN magic packets on this seat's network for a sleeping seat of the
    /// same site (the controller's own packets may not reach it): its MAC addresses, at
    /// most [`crate::wol::MAX_WAKE_MACS`].
    WakeNeighbours {
        /// The sleeping seat's MAC addresses.
        macs: Vec<String>,
    },
    /// A staff member lets a print job that waits for staff go to the printer.
    ReleasePrintJob {
        /// The job's number on the seat (from `PrintWaiting`).
        job: u32,
    },
    /// A staff member cancels a print job of the session.
    CancelPrintJob {
        /// The job's number on the seat.
        job: u32,
    },
    /// An action this build does not know; reported as refused.
    #[serde(other)]
    Unknown,
}

/// The controller is going away.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Goodbye {
    /// Wait this long before reconnecting, so that a fleet does not come back all at once.
    pub reconnect_after_ms: u32,
    /// Why.
    #[serde(default)]
    pub reason: String,
}
