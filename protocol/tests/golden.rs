//! Golden fixtures: the exact bytes of every message type, committed to the repository.
//!
//! A change to a message that would make this build read old bytes differently, or write
//! bytes an older peer would read differently, fails here. Rules:
//! - `NAME.hex` is the current encoding of the sample; it must decode to the sample and the
//!   sample must encode to it.
//! - `NAME@TAG.hex` are encodings written by older releases; they must still decode.
//! - When a compatible change (a new defaulted field) changes the current encoding, rename
//!   the old file to `NAME@<old version>.hex` and create the new one with
//!   `COMMUNE_BLESS=1 cargo test -p commune-protocol --test golden`. Never edit a fixture.
//! - A new variant does not compile until `variant_index` names it, and then fails here
//!   until `samples()` holds an instance of it.

use commune_protocol::frame::{decode_body, encode_body};
use commune_protocol::handoff::{HandoffPart, HandoffReady};
use commune_protocol::health::*;
use commune_protocol::messages::*;
use commune_protocol::schedule::*;
use commune_protocol::version::VersionRange;
use commune_protocol::UtcMillis;
use std::path::PathBuf;

const T0: UtcMillis = UtcMillis(1_795_183_200_000); // 2026-11-20T14:00:00Z

fn health() -> HealthSnapshot {
    HealthSnapshot {
        at: T0,
        cpu_percent: 12.5,
        load_average: [0.5, 0.25, 0.125],
        memory_used_bytes: 2 << 30,
        memory_total_bytes: 8 << 30,
        swap_used_bytes: 0,
        swap_total_bytes: 0,
        disks: vec![DiskUsage {
            mount_point: "/".into(),
            file_system: "ext4".into(),
            total_bytes: 256 << 30,
            available_bytes: 100 << 30,
        }],
        temperatures: vec![Temperature {
            label: "Package id 0".into(),
            celsius: 48.0,
        }],
        uptime_secs: 3600,
        os: "Debian GNU/Linux 12".into(),
        kernel: "6.1.0-27-amd64".into(),
        agent_version: "0.1.0".into(),
    }
}

fn inventory() -> Inventory {
    Inventory {
        at: T0,
        hostname: "mdh-abbaye-pc03".into(),
        dmi_serial: Some("PF3ABC12".into()),
        dmi_vendor: Some("LENOVO".into()),
        dmi_product: Some("ThinkCentre M70q".into()),
        mac_addresses: vec!["52:54:00:12:34:56".into()],
        cpu_model: "Intel(R) Core(TM) i5-12400T".into(),
        cpu_count: 12,
        memory_total_bytes: 16 << 30,
        disks: vec![DiskInfo {
            name: "nvme0n1".into(),
            kind: "SSD".into(),
            total_bytes: 256 << 30,
        }],
        asset_tag: Some("GRE-MDH-0042".into()),
        funding_line: Some("FEDER AURA 2024-117".into()),
        os: "Debian GNU/Linux 12".into(),
        kernel: "6.1.0-27-amd64".into(),
        agent_version: "0.1.0".into(),
    }
}

fn event(seq: u64, event: AgentEvent) -> EventEnvelope {
    EventEnvelope { seq, at: T0, event }
}

fn command(id: &str, action: CommandAction) -> Sample {
    Sample::Controller(ControllerMessage::Command(Command {
        id: id.into(),
        issued_at: T0,
        expires_at: T0.plus_secs(600),
        action,
    }))
}

enum Sample {
    Agent(AgentMessage),
    Controller(ControllerMessage),
}

fn samples() -> Vec<(&'static str, Sample)> {
    use Sample::*;
    let refused = |code| {
        Controller(ControllerMessage::Refused(Refusal {
            code,
            message: "example".into(),
        }))
    };
    vec![
        (
            "agent_hello",
            Agent(AgentMessage::Hello(Hello {
                protocol: VersionRange { min: 1, max: 1 },
                agent_version: "0.1.0".into(),
                capabilities: vec!["health".into(), "inventory".into()],
                outbox_pending: 3,
            })),
        ),
        (
            "agent_enroll",
            Agent(AgentMessage::Enroll(EnrollRequest {
                protocol: VersionRange { min: 1, max: 1 },
                token_secret: "c2VjcmV0c2VjcmV0c2VjcmV0cw".into(),
                csr_pem:
                    "-----BEGIN CERTIFICATE REQUEST-----\n...\n-----END CERTIFICATE REQUEST-----\n"
                        .into(),
                hostname: "mdh-abbaye-pc03".into(),
                agent_version: "0.1.0".into(),
                previous: None,
            })),
        ),
        (
            "agent_events_session",
            Agent(AgentMessage::Events(EventBatch {
                events: vec![
                    event(
                        1,
                        AgentEvent::SessionStarted(SessionStarted {
                            session_id: "s-4f2a".into(),
                            slot_kind: SlotKind::Supervised,
                            permanence_id: Some("perm-ecrivain-mardi".into()),
                            with_ticket: false,
                        }),
                    ),
                    event(
                        2,
                        AgentEvent::WarningShown(WarningShown {
                            session_id: "s-4f2a".into(),
                            minutes_left: 5,
                        }),
                    ),
                    event(
                        3,
                        AgentEvent::SessionEnded(SessionEnded {
                            session_id: "s-4f2a".into(),
                            reason: EndReason::TimeUp,
                            duration_secs: 2700,
                            documents_erased: 2,
                        }),
                    ),
                ],
            })),
        ),
        (
            "agent_events_wipe",
            Agent(AgentMessage::Events(EventBatch {
                events: vec![event(
                    4,
                    AgentEvent::WipeReport(WipeReport {
                        session_id: "s-4f2a".into(),
                        verified: true,
                        total_us: 41_000,
                        steps: vec![WipeStep {
                            name: "kill".into(),
                            duration_us: 9000,
                            count: 104,
                            ok: true,
                            detail: None,
                        }],
                        checks: vec![WipeCheck {
                            name: "processes".into(),
                            passed: true,
                            found: 0,
                            method: "/proc by numeric uid, every PID namespace".into(),
                            examined: 212,
                        }],
                        kernel: "6.1.0-27-amd64".into(),
                        swap: "no swap configured".into(),
                        handoffs: 0,
                    }),
                )],
            })),
        ),
        (
            "agent_events_misc",
            Agent(AgentMessage::Events(EventBatch {
                events: vec![
                    event(
                        5,
                        AgentEvent::TicketUsed(TicketUsed {
                            ticket_hash: "ab".repeat(32),
                            session_id: "s-77".into(),
                            offline: true,
                        }),
                    ),
                    event(
                        6,
                        AgentEvent::CommandResult(CommandResult {
                            command_id: "c-1".into(),
                            outcome: CommandOutcome::Done,
                            detail: String::new(),
                        }),
                    ),
                    event(
                        7,
                        AgentEvent::Alert(Alert {
                            kind: AlertKind::OutboxFilling,
                            message: "outbox 80% full".into(),
                        }),
                    ),
                ],
            })),
        ),
        (
            "agent_events_devices",
            Agent(AgentMessage::Events(EventBatch {
                events: vec![
                    event(
                        8,
                        AgentEvent::Alert(Alert {
                            kind: AlertKind::DeviceAttached,
                            message: "new keyboard".into(),
                        }),
                    ),
                    event(
                        9,
                        AgentEvent::DevicesChecked(DevicesChecked {
                            by: CheckedBy::MediatorPin,
                            input_devices: 3,
                            new_devices: 1,
                        }),
                    ),
                    event(
                        10,
                        AgentEvent::SessionEnded(SessionEnded {
                            session_id: "s-4f2b".into(),
                            reason: EndReason::Abandoned,
                            duration_secs: 900,
                            documents_erased: 0,
                        }),
                    ),
                ],
            })),
        ),
        (
            "agent_events_power",
            Agent(AgentMessage::Events(EventBatch {
                events: vec![event(
                    11,
                    AgentEvent::PowerChanged(PowerChanged {
                        action: AfterClosing::PowerOff,
                        ok: true,
                    }),
                )],
            })),
        ),
        (
            "agent_heartbeat_away",
            Agent(AgentMessage::Heartbeat(Heartbeat {
                seat_state: Some(SeatState::SteppedAway),
                session_seconds_left: Some(600),
            })),
        ),
        (
            "agent_events_help",
            Agent(AgentMessage::Events(EventBatch {
                events: vec![
                    event(
                        8,
                        AgentEvent::HelpCalled(HelpCalled {
                            call_id: "h-3c9e".into(),
                            need: HelpNeed::Printing,
                            session_id: Some("s-77".into()),
                        }),
                    ),
                    event(
                        9,
                        AgentEvent::HelpCancelled(HelpCancelled {
                            call_id: "h-3c9e".into(),
                        }),
                    ),
                ],
            })),
        ),
        (
            "agent_events_print",
            Agent(AgentMessage::Events(EventBatch {
                events: vec![
                    event(
                        10,
                        AgentEvent::PrintWaiting(PrintWaiting {
                            job: 17,
                            pages: Some(12),
                        }),
                    ),
                    event(
                        11,
                        AgentEvent::PrintWaiting(PrintWaiting {
                            job: 18,
                            pages: None,
                        }),
                    ),
                    event(12, AgentEvent::PrintWaitOver(PrintWaitOver { job: 17 })),
                    event(
                        13,
                        AgentEvent::PagesPrinted(PagesPrinted {
                            pages: 12,
                            released_by: ReleasedBy::Staff,
                        }),
                    ),
                    event(
                        14,
                        AgentEvent::PagesPrinted(PagesPrinted {
                            pages: 3,
                            released_by: ReleasedBy::Visitor,
                        }),
                    ),
                ],
            })),
        ),
        ("agent_health", Agent(AgentMessage::Health(health()))),
        (
            "agent_inventory",
            Agent(AgentMessage::Inventory(inventory())),
        ),
        (
            "agent_heartbeat",
            Agent(AgentMessage::Heartbeat(Heartbeat {
                seat_state: Some(SeatState::InSession),
                session_seconds_left: None,
            })),
        ),
        ("agent_unknown", Agent(AgentMessage::Unknown)),
        (
            "controller_welcome",
            Controller(ControllerMessage::Welcome(Welcome {
                protocol_version: 1,
                controller_version: "0.1.0".into(),
                capabilities: vec!["health".into()],
                agent_id: "ag-7k3m9x2p4q".into(),
                site_id: "mdh-abbaye".into(),
                acked_seq: 7,
                health_interval_secs: 60,
                inventory_interval_secs: 3600,
            })),
        ),
        (
            "agent_enroll_again",
            Agent(AgentMessage::Enroll(EnrollRequest {
                protocol: VersionRange { min: 1, max: 1 },
                token_secret: "c2VjcmV0c2VjcmV0c2VjcmV0cw".into(),
                csr_pem: "-----BEGIN CERTIFICATE REQUEST-----\n...\n".into(),
                hostname: "mdh-abbaye-pc03".into(),
                agent_version: "0.1.0".into(),
                previous: Some(PreviousIdentity {
                    certificate_pem: "-----BEGIN CERTIFICATE-----\n...\n".into(),
                    proof: "MEUCIQ".into(),
                }),
            })),
        ),
        (
            "agent_renew",
            Agent(AgentMessage::Renew(RenewRequest {
                csr_pem: "-----BEGIN CERTIFICATE REQUEST-----\n...\n".into(),
            })),
        ),
        (
            "controller_renewed",
            Controller(ControllerMessage::Renewed(Renewed {
                certificate_pem: "-----BEGIN CERTIFICATE-----\n...\n".into(),
                not_after: T0.plus_secs(90 * 86_400),
            })),
        ),
        ("controller_refused", refused(RefusalCode::Revoked)),
        (
            "controller_enrolled",
            Controller(ControllerMessage::Enrolled(Enrolled {
                agent_id: "ag-7k3m9x2p4q".into(),
                site_id: "mdh-abbaye".into(),
                certificate_pem: "-----BEGIN CERTIFICATE-----\n...\n".into(),
                ca_certificate_pem: "-----BEGIN CERTIFICATE-----\n...\n".into(),
                not_after: T0.plus_secs(90 * 86_400),
            })),
        ),
        (
            "controller_ack",
            Controller(ControllerMessage::Ack(Ack { up_to_seq: 7 })),
        ),
        (
            "controller_schedule",
            Controller(ControllerMessage::Schedule(Schedule {
                version: 12,
                generated_at: T0,
                time_zone: "Europe/Paris".into(),
                slots: vec![
                    Slot {
                        start: T0,
                        end: T0.plus_secs(10_800),
                        kind: SlotKind::Supervised,
                        permanence: Some(PermanenceRef {
                            id: "perm-ecrivain-mardi".into(),
                            name: "Écrivain public".into(),
                            programme: "ecrivain_public".into(),
                        }),
                        session_minutes: None,
                        ticket_required: false,
                    },
                    Slot {
                        start: T0.plus_secs(10_800),
                        end: T0.plus_secs(14_400),
                        kind: SlotKind::Free,
                        permanence: None,
                        session_minutes: Some(45),
                        ticket_required: true,
                    },
                ],
                mediator_pins: vec![
                    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
                ],
                seat_policy: SeatPolicy::default(),
                closing_message: String::new(),
            })),
        ),
        (
            "controller_schedule_policy",
            Controller(ControllerMessage::Schedule(Schedule {
                version: 13,
                generated_at: T0,
                time_zone: "Europe/Paris".into(),
                slots: vec![],
                mediator_pins: vec![],
                seat_policy: SeatPolicy {
                    step_away_minutes: 5,
                    usb_storage: UsbStorage::Refused,
                    after_closing: AfterClosing::Suspend,
                    power_after_closing_minutes: 20,
                    closing_warning_minutes: 15,
                    send_to_phone: true,
                    print_pages_per_session: 0,
                    print_pages_per_day: 0,
                },
                closing_message: "Pensez à reprendre vos papiers.".into(),
            })),
        ),
        (
            "controller_schedule_print",
            Controller(ControllerMessage::Schedule(Schedule {
                version: 14,
                generated_at: T0,
                time_zone: "Europe/Paris".into(),
                slots: vec![],
                mediator_pins: vec![],
                seat_policy: SeatPolicy {
                    print_pages_per_session: 10,
                    print_pages_per_day: 30,
                    ..SeatPolicy::default()
                },
                closing_message: String::new(),
            })),
        ),
        (
            "controller_tickets",
            Controller(ControllerMessage::Tickets(TicketSet {
                generated_at: T0,
                tickets: vec![TicketHash {
                    hash: "cd".repeat(32),
                    minutes: 45,
                    valid_until: T0.plus_secs(86_400),
                    used: true,
                }],
                part: 0,
                parts: 0,
            })),
        ),
        (
            "controller_command_open",
            command(
                "c-1",
                CommandAction::OpenSupervisedSlot {
                    until: T0.plus_secs(3600),
                    permanence_id: None,
                },
            ),
        ),
        (
            "controller_command_extend",
            command(
                "c-2",
                CommandAction::ExtendSlot {
                    until: T0.plus_secs(7200),
                },
            ),
        ),
        (
            "controller_command_close",
            command("c-3", CommandAction::CloseSlot),
        ),
        (
            "controller_command_start",
            command(
                "c-4",
                CommandAction::StartSession {
                    slot_kind: SlotKind::Supervised,
                },
            ),
        ),
        (
            "controller_command_end",
            command(
                "c-5",
                CommandAction::EndSession {
                    reason: "La permanence se termine.".into(),
                },
            ),
        ),
        (
            "controller_command_lock",
            command(
                "c-6",
                CommandAction::Lock {
                    message: "Poste en maintenance".into(),
                },
            ),
        ),
        (
            "controller_command_approve_devices",
            command("c-9", CommandAction::ApproveDevices),
        ),
        (
            "controller_command_unlock",
            command("c-7", CommandAction::Unlock),
        ),
        (
            "controller_command_message",
            command(
                "c-8",
                CommandAction::Message {
                    text: "Bonjour".into(),
                },
            ),
        ),
        (
            "controller_command_help_taken",
            command(
                "c-10",
                CommandAction::HelpTaken {
                    call_id: "h-3c9e".into(),
                },
            ),
        ),
        (
            "controller_command_release_print",
            command("c-11", CommandAction::ReleasePrintJob { job: 17 }),
        ),
        (
            "controller_command_cancel_print",
            command("c-12", CommandAction::CancelPrintJob { job: 18 }),
        ),
        (
            "controller_command_unknown",
            command("c-9", CommandAction::Unknown),
        ),
        (
            "controller_goodbye",
            Controller(ControllerMessage::Goodbye(Goodbye {
                reconnect_after_ms: 2500,
                reason: "upgrade".into(),
            })),
        ),
        (
            "controller_site_wait",
            Controller(ControllerMessage::SiteWait(SiteWait {
                at: T0,
                free_seats: 0,
                busy_seats: 4,
                next_free_at: Some(T0.plus_secs(420)),
                reserved: vec![ReservedSeat {
                    seat: "mdh-abbaye-pc05".into(),
                    permanence: "Écrivain public".into(),
                    until: Some(T0.plus_secs(7_200)),
                }],
            })),
        ),
        (
            "controller_schedule_no_phone",
            Controller(ControllerMessage::Schedule(Schedule {
                version: 14,
                generated_at: T0,
                time_zone: "Europe/Paris".into(),
                slots: vec![],
                mediator_pins: vec![],
                seat_policy: SeatPolicy {
                    send_to_phone: false,
                    ..SeatPolicy::default()
                },
                closing_message: String::new(),
            })),
        ),
        (
            "agent_handoff",
            Agent(AgentMessage::Handoff(HandoffPart {
                upload: 3,
                total_bytes: 70,
                data: (0u8..70).collect(),
                last: true,
                lang: "ar".into(),
            })),
        ),
        (
            "controller_handoff_ready",
            Controller(ControllerMessage::HandoffReady(HandoffReady {
                upload: 3,
                url: Some(
                    "https://commune.example/telephone/0123456789abcdef0123456789abcdef?lang=ar"
                        .into(),
                ),
                expires_at: Some(T0.plus_secs(900)),
                refused: None,
            })),
        ),
        (
            "controller_handoff_refused",
            Controller(ControllerMessage::HandoffReady(HandoffReady {
                upload: 4,
                url: None,
                expires_at: None,
                refused: Some("the controller keeps no more documents for phones now".into()),
            })),
        ),
        (
            "agent_events_wipe_handoffs",
            Agent(AgentMessage::Events(EventBatch {
                events: vec![event(
                    9,
                    AgentEvent::WipeReport(WipeReport {
                        session_id: "s-77".into(),
                        verified: true,
                        total_us: 30_000,
                        steps: vec![],
                        checks: vec![],
                        kernel: "6.1.0-27-amd64".into(),
                        swap: "noswap".into(),
                        handoffs: 2,
                    }),
                )],
            })),
        ),
        (
            "controller_command_wake",
            Controller(ControllerMessage::Command(Command {
                id: "c-wake".into(),
                issued_at: T0,
                expires_at: T0.plus_secs(3600),
                action: CommandAction::WakeNeighbours {
                    macs: vec!["52:54:00:c0:ff:ee".into()],
                },
            })),
        ),
        ("controller_unknown", Controller(ControllerMessage::Unknown)),
    ]
}

/// Every variant a sample must cover. No wildcard arm: a new variant stops the build here.
fn variant_index(sample: &Sample) -> Vec<&'static str> {
    match sample {
        Sample::Agent(m) => match m {
            AgentMessage::Hello(_) => vec!["Hello"],
            AgentMessage::Enroll(_) => vec!["Enroll"],
            AgentMessage::Events(b) => b
                .events
                .iter()
                .map(|e| match e.event {
                    AgentEvent::SessionStarted(_) => "SessionStarted",
                    AgentEvent::SessionEnded(_) => "SessionEnded",
                    AgentEvent::WipeReport(_) => "WipeReport",
                    AgentEvent::WarningShown(_) => "WarningShown",
                    AgentEvent::TicketUsed(_) => "TicketUsed",
                    AgentEvent::CommandResult(_) => "CommandResult",
                    AgentEvent::Alert(_) => "Alert",
                    AgentEvent::DevicesChecked(_) => "DevicesChecked",
                    AgentEvent::PowerChanged(_) => "PowerChanged",
                    AgentEvent::HelpCalled(_) => "HelpCalled",
                    AgentEvent::HelpCancelled(_) => "HelpCancelled",
                    AgentEvent::PrintWaiting(_) => "PrintWaiting",
                    AgentEvent::PrintWaitOver(_) => "PrintWaitOver",
                    AgentEvent::PagesPrinted(_) => "PagesPrinted",
                    AgentEvent::Unknown => "AgentEvent::Unknown",
                })
                .chain(["Events"])
                .collect(),
            AgentMessage::Health(_) => vec!["Health"],
            AgentMessage::Inventory(_) => vec!["Inventory"],
            AgentMessage::Heartbeat(_) => vec!["Heartbeat"],
            AgentMessage::Renew(_) => vec!["Renew"],
            AgentMessage::Handoff(_) => vec!["Handoff"],
            AgentMessage::Unknown => vec!["AgentMessage::Unknown"],
        },
        Sample::Controller(m) => match m {
            ControllerMessage::Welcome(_) => vec!["Welcome"],
            ControllerMessage::Refused(_) => vec!["Refused"],
            ControllerMessage::Enrolled(_) => vec!["Enrolled"],
            ControllerMessage::Ack(_) => vec!["Ack"],
            ControllerMessage::Schedule(_) => vec!["Schedule"],
            ControllerMessage::Tickets(_) => vec!["Tickets"],
            ControllerMessage::Command(c) => {
                let name = match c.action {
                    CommandAction::OpenSupervisedSlot { .. } => "OpenSupervisedSlot",
                    CommandAction::ExtendSlot { .. } => "ExtendSlot",
                    CommandAction::CloseSlot => "CloseSlot",
                    CommandAction::StartSession { .. } => "StartSession",
                    CommandAction::EndSession { .. } => "EndSession",
                    CommandAction::Lock { .. } => "Lock",
                    CommandAction::Unlock => "Unlock",
                    CommandAction::ApproveDevices => "ApproveDevices",
                    CommandAction::Message { .. } => "Message",
                    CommandAction::HelpTaken { .. } => "HelpTaken",
                    CommandAction::WakeNeighbours { .. } => "WakeNeighbours",
                    CommandAction::ReleasePrintJob { .. } => "ReleasePrintJob",
                    CommandAction::CancelPrintJob { .. } => "CancelPrintJob",
                    CommandAction::Unknown => "CommandAction::Unknown",
                };
                vec![name, "Command"]
            }
            ControllerMessage::Goodbye(_) => vec!["Goodbye"],
            ControllerMessage::Renewed(_) => vec!["Renewed"],
            ControllerMessage::SiteWait(_) => vec!["SiteWait"],
            ControllerMessage::HandoffReady(_) => vec!["HandoffReady"],
            ControllerMessage::Unknown => vec!["ControllerMessage::Unknown"],
        },
    }
}

const ALL_VARIANTS: &[&str] = &[
    "Hello",
    "Enroll",
    "Events",
    "Health",
    "Inventory",
    "Heartbeat",
    "AgentMessage::Unknown",
    "SessionStarted",
    "SessionEnded",
    "WipeReport",
    "WarningShown",
    "TicketUsed",
    "CommandResult",
    "Alert",
    "DevicesChecked",
    "PowerChanged",
    "HelpCalled",
    "HelpCancelled",
    "PrintWaiting",
    "PrintWaitOver",
    "PagesPrinted",
    "Welcome",
    "Refused",
    "Enrolled",
    "Ack",
    "Schedule",
    "Tickets",
    "OpenSupervisedSlot",
    "ExtendSlot",
    "CloseSlot",
    "StartSession",
    "EndSession",
    "Lock",
    "Unlock",
    "ApproveDevices",
    "Message",
    "HelpTaken",
    "WakeNeighbours",
    "ReleasePrintJob",
    "CancelPrintJob",
    "CommandAction::Unknown",
    "Command",
    "Goodbye",
    "SiteWait",
    "HandoffReady",
    "Handoff",
    "ControllerMessage::Unknown",
];

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn read_hex(path: &PathBuf) -> Vec<u8> {
    let text = std::fs::read_to_string(path).unwrap();
    hex::decode(text.trim()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_variant_has_a_sample() {
    let covered: std::collections::BTreeSet<&str> = samples()
        .iter()
        .flat_map(|(_, s)| variant_index(s))
        .collect();
    // AgentEvent::Unknown cannot be produced in a batch sample meaningfully; it is covered by
    // `unknown_types_from_newer_peers_are_skipped`.
    let missing: Vec<_> = ALL_VARIANTS
        .iter()
        .filter(|v| !covered.contains(*v))
        .collect();
    assert!(
        missing.is_empty(),
        "variants without a golden sample: {missing:?}"
    );
}

#[test]
fn current_encodings_match_the_fixtures() {
    let bless = std::env::var_os("COMMUNE_BLESS").is_some();
    let mut problems = Vec::new();
    for (name, sample) in samples() {
        let path = fixtures_dir().join(format!("{name}.hex"));
        let body = match &sample {
            Sample::Agent(m) => encode_body(m).unwrap(),
            Sample::Controller(m) => encode_body(m).unwrap(),
        };
        if !path.exists() {
            if bless {
                std::fs::write(&path, hex::encode(&body) + "\n").unwrap();
                continue;
            }
            problems.push(format!(
                "{name}: no fixture; create it with COMMUNE_BLESS=1"
            ));
            continue;
        }
        let fixture = read_hex(&path);
        if fixture != body {
            problems.push(format!(
                "{name}: encoding changed; an older peer reads the fixture's bytes. \
                 Keep the old file as {name}@<version>.hex and bless a new one only if the change is compatible"
            ));
        }
        match &sample {
            Sample::Agent(m) => {
                let back: AgentMessage = decode_body(&fixture).unwrap();
                if &back != m && fixture == body {
                    problems.push(format!("{name}: fixture decodes to another value"));
                }
            }
            Sample::Controller(m) => {
                let back: ControllerMessage = decode_body(&fixture).unwrap();
                if &back != m && fixture == body {
                    problems.push(format!("{name}: fixture decodes to another value"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn older_encodings_still_decode() {
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = read_hex(&path);
        let ok = if name.starts_with("agent_") {
            decode_body::<AgentMessage>(&bytes).is_ok()
        } else {
            decode_body::<ControllerMessage>(&bytes).is_ok()
        };
        assert!(
            ok,
            "{name} no longer decodes: this build would break older peers"
        );
    }
}

#[test]
fn unknown_types_and_fields_from_newer_peers_are_skipped() {
    // A newer agent sends a message type and an event type this build does not know, and
    // an extra field in a known message.
    #[derive(serde::Serialize)]
    struct Future {
        r#type: &'static str,
        surprise: u32,
    }
    let body = rmp_serde::to_vec_named(&Future {
        r#type: "teleport",
        surprise: 1,
    })
    .unwrap();
    assert_eq!(
        decode_body::<AgentMessage>(&body).unwrap(),
        AgentMessage::Unknown
    );

    #[derive(serde::Serialize)]
    struct FutureAck {
        r#type: &'static str,
        up_to_seq: u64,
        compressed: bool,
    }
    let body = rmp_serde::to_vec_named(&FutureAck {
        r#type: "ack",
        up_to_seq: 9,
        compressed: true,
    })
    .unwrap();
    assert_eq!(
        decode_body::<ControllerMessage>(&body).unwrap(),
        ControllerMessage::Ack(Ack { up_to_seq: 9 })
    );
}

#[test]
fn a_need_from_a_newer_agent_decodes_as_unknown_and_the_batch_still_decodes() {
    #[derive(serde::Serialize)]
    struct FutureCall {
        r#type: &'static str,
        call_id: &'static str,
        need: &'static str,
    }
    let body = rmp_serde::to_vec_named(&FutureCall {
        r#type: "help_called",
        call_id: "h-1",
        need: "scanner",
    })
    .unwrap();
    let event: AgentEvent = rmp_serde::from_slice(&body).unwrap();
    assert_eq!(
        event,
        AgentEvent::HelpCalled(HelpCalled {
            call_id: "h-1".into(),
            need: HelpNeed::Unknown,
            session_id: None,
        })
    );
    assert_eq!(HelpNeed::parse("printing"), Some(HelpNeed::Printing));
    assert_eq!(HelpNeed::parse("unknown"), None);
}
