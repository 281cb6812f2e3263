//! Simulated visitors, for the demo and for load and fault tests: sessions start and end at
//! a given rate and are recorded through the same outbox, link and controller path as real
//! ones. Nothing runs on the computer; only the events are produced.

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

/// Visitors on a real session platform (the demo's sandbox): sessions start through the
/// manager, write a few documents into Téléchargements, and end by the visitor's choice or
/// when their time is up; every end is a real wipe with its report.
pub async fn sessions(manager: crate::manager::ManagerHandle, per_minute: f64) {
    let mean = Duration::from_secs_f64(60.0 / per_minute.max(0.01));
    loop {
        let (gap, length, supervised, documents) = {
            let mut rng = rand::rng();
            (
                mean.mul_f64(rng.random_range(0.2..1.0)),
                mean.mul_f64(rng.random_range(0.5..1.5)),
                rng.random_bool(0.3),
                rng.random_range(0..4u32),
            )
        };
        tokio::time::sleep(gap).await;
        let kind = if supervised {
            SlotKind::Supervised
        } else {
            SlotKind::Free
        };
        let info = match manager.start_session(kind, None).await {
            Ok(info) => info,
            Err(e) => {
                warn!(error = %e, "simulated visitor could not start a session");
                continue;
            }
        };
        let downloads = info.home.join("Téléchargements");
        for i in 0..documents {
            let _ = std::fs::write(
                downloads.join(format!("document-{i}.pdf")),
                b"%PDF-1.4 simulated\n",
            );
        }
        tokio::time::sleep(length).await;
        if manager.status().session.is_some() {
            if let Err(e) = manager.end_session(EndReason::Visitor).await {
                warn!(error = %e, "simulated visitor could not end the session");
            }
        }
    }
}
