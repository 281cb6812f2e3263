//! Simulated visitors, for the demo and for load and fault tests: sessions start and end at
//! a given rate and are recorded through the same outbox, link and controller path as real
//! ones. On a session platform ([`sessions`]) they are real sessions through the manager,
//! wiped at their end; without one ([`visitors`]) only the events are produced.
//!
//! Only in an agent built with the `demo` feature: the package for public computers has no
//! simulated visitors (`run --simulate-sessions-per-minute` is refused there).

use std::time::Duration;

use commune_protocol::messages::{AgentEvent, EndReason, SessionEnded, SessionStarted, SlotKind};
use rand::Rng;
use tracing::warn;

use crate::outbox::Outbox;

/// Produces sessions at `per_minute` on average until the task is dropped.
pub async fn visitors(outbox: Outbox, per_minute: f64) {
    let mean = Duration::from_secs_f64(60.0 / per_minute.max(0.01));
    loop {
        let (gap, length, supervised, ticket, visitor_ended) = {
            let mut rng = rand::rng();
            (
                mean.mul_f64(rng.random_range(0.2..1.0)),
                mean.mul_f64(rng.random_range(0.5..1.5)),
                rng.random_bool(0.3),
                rng.random_bool(0.5),
                rng.random_bool(0.4),
            )
        };
        tokio::time::sleep(gap).await;
        let session_id = format!("s-{:012x}", rand::rng().random::<u64>() & 0xffff_ffff_ffff);
        let started = AgentEvent::SessionStarted(SessionStarted {
            session_id: session_id.clone(),
            slot_kind: if supervised {
                SlotKind::Supervised
            } else {
                SlotKind::Free
            },
            permanence_id: supervised.then(|| "perm-demo".to_string()),
            with_ticket: !supervised && ticket,
        });
        if let Err(e) = outbox.emit(crate::now(), started).await {
            warn!(error = %e, "simulated session not recorded");
            continue;
        }
        let clock = tokio::time::Instant::now();
        tokio::time::sleep(length).await;
        let ended = AgentEvent::SessionEnded(SessionEnded {
            session_id,
            reason: if visitor_ended {
                EndReason::Visitor
            } else {
                EndReason::TimeUp
            },
            duration_secs: clock.elapsed().as_secs(),
            documents_erased: 0,
        });
        if let Err(e) = outbox.emit(crate::now(), ended).await {
            warn!(error = %e, "simulated session end not recorded");
        }
    }
}

/// Visitors on a real session platform (the demo's sandbox), acting on what the seat
/// offers now: during free access a visitor opens a session (with a ticket from
/// `tickets`, one code a line, when the site asks for one: `COMMUNE_DEMO_TICKETS`);
/// during a permanence the mediator opens a supervised one; a closed or blocked seat is
/// left alone. Each session downloads and scans a few documents, then ends by the
/// visitor's choice (or when its time is up); every end is a real wipe with its report.
pub async fn sessions(
    manager: crate::manager::ManagerHandle,
    per_minute: f64,
    tickets: Option<std::path::PathBuf>,
) {
    use commune_protocol::messages::SeatState;
    let mean = Duration::from_secs_f64(60.0 / per_minute.max(0.01));
    loop {
        let (gap, length, documents, scans) = {
            let mut rng = rand::rng();
            (
                mean.mul_f64(rng.random_range(0.2..1.0)),
                mean.mul_f64(rng.random_range(0.5..1.5)),
                rng.random_range(0..4u32),
                rng.random_range(0..2u32),
            )
        };
        tokio::time::sleep(gap).await;
        let status = manager.status();
        let started = match status.state {
            SeatState::Supervised => manager.start_session(SlotKind::Supervised, None).await,
            SeatState::Ready if status.greeter.ticket_required => {
                let Some(code) = tickets.as_deref().and_then(pick_ticket) else {
                    warn!("free access here needs a ticket and the demo has none");
                    continue;
                };
                manager
                    .start_session_with_ticket(SlotKind::Free, None, Some(code))
                    .await
            }
            SeatState::Ready => manager.start_session(SlotKind::Free, None).await,
            _ => continue,
        };
        let info = match started {
            Ok(info) => info,
            Err(e) => {
                // A ticket another seat used first, a slot that just changed: next visitor.
                tracing::info!(error = %e, "simulated visitor could not start a session");
                continue;
            }
        };
        for (folder, count, name) in [
            ("Téléchargements", documents, "attestation"),
            ("Numérisations", scans, "scan"),
        ] {
            let dir = info.home.join(folder);
            let _ = std::fs::create_dir_all(&dir);
            for i in 0..count {
                let _ =
                    std::fs::write(dir.join(format!("{name}-{i}.pdf")), b"%PDF-1.4 simulated\n");
            }
        }
        tokio::time::sleep(length).await;
        if manager.status().session.is_some() {
            if let Err(e) = manager.end_session(EndReason::Visitor).await {
                warn!(error = %e, "simulated visitor could not end the session");
            }
        }
    }
}

/// A random code of the file (one a line); `None` when there is none.
fn pick_ticket(path: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let codes: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if codes.is_empty() {
        return None;
    }
    Some(codes[rand::rng().random_range(0..codes.len())].to_string())
}
