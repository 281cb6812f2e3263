//! The batching ingestor: events, health snapshots and inventories from every connection go
//! through one task that commits whatever has queued up, across agents, in one transaction,
//! then answers each connection (for events, with the seq it may acknowledge). Thousands of
//! agents' data cost a few transactions.
//!
//! The ingestor also meters each seat ([`bounds::Meter`]): a health snapshot or inventory
//! sooner than its seat's spacing is dropped, and a batch of events past its seat's rate is
//! held back, unanswered, until the rate allows it. Its connection reads nothing meanwhile,
//! so a seat flooding events slows itself down; the others keep their pace. Events are never
//! dropped for rate: an honest seat with a long backlog is slowed, not robbed.

pub(crate) mod bounds;

use commune_protocol::health::{HealthSnapshot, Inventory};
use commune_protocol::messages::{AgentEvent, EventEnvelope};
use commune_protocol::UtcMillis;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Duration, Instant};
use tracing::warn;

use crate::store::{IngestBatch, Store};
use crate::{now, Controller, ControllerError};
use bounds::{Limit, Meter, Rates, Tally};

/// What the ingestor answers for a batch of events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventsStored {
    /// The agent's highest contiguous committed seq: what may be acknowledged.
    pub(crate) up_to_seq: u64,
    /// Whether the batch spent a ticket not used before (the site's seats must hear of it).
    pub(crate) spent_tickets: bool,
    /// Whether the batch waited for its seat's rate.
    pub(crate) delayed: bool,
}

/// One connection's request to the ingestor.
pub(crate) struct Job {
    agent_id: String,
    /// The seat's rates; `None` for the controller's own callers (not metered).
    rates: Option<Rates>,
    kind: JobKind,
}

enum JobKind {
    Events {
        events: Vec<EventEnvelope>,
        cost: u64,
        delayed: bool,
        reply: oneshot::Sender<Result<EventsStored, String>>,
    },
    /// Answered `Ok(false)` when dropped for rate.
    Health {
        snapshot: HealthSnapshot,
        reply: oneshot::Sender<Result<bool, String>>,
    },
    /// Answered `Ok(false)` when dropped for rate.
    Inventory {
        inventory: Inventory,
        reply: oneshot::Sender<Result<bool, String>>,
    },
}

impl Job {
    /// Answers a health snapshot or inventory dropped for rate.
    fn dropped(self) {
        match self.kind {
            JobKind::Health { reply, .. } | JobKind::Inventory { reply, .. } => {
                let _ = reply.send(Ok(false));
            }
            // Events are held back, never dropped.
            JobKind::Events { .. } => self.answer(Err("events refused".into())),
        }
    }

    /// Whether nobody waits for the answer any more (the connection is gone).
    fn abandoned(&self) -> bool {
        match &self.kind {
            JobKind::Events { reply, .. } => reply.is_closed(),
            JobKind::Health { reply, .. } | JobKind::Inventory { reply, .. } => reply.is_closed(),
        }
    }

    fn events(&self) -> usize {
        match &self.kind {
            JobKind::Events { events, .. } => events.len(),
            _ => 1,
        }
    }

    /// Answers the connection with the outcome of its commit (`up_to_seq`, spent tickets).
    fn answer(self, outcome: Result<(u64, bool), String>) {
        match self.kind {
            JobKind::Events { reply, delayed, .. } => {
                let _ = reply.send(outcome.map(|(up_to_seq, spent_tickets)| EventsStored {
                    up_to_seq,
                    spent_tickets,
                    delayed,
                }));
            }
            JobKind::Health { reply, .. } | JobKind::Inventory { reply, .. } => {
                let _ = reply.send(outcome.map(|_| true));
            }
        }
    }
}

/// A batch of events waiting for its seat's rate.
struct Parked {
    ready: Instant,
    job: Job,
}

struct Ingestor {
    store: Store,
    max_events: usize,
    meter: Meter,
    parked: Vec<Parked>,
    next_sweep: Instant,
}

/// How often seats whose rate state no longer matters are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

pub(crate) fn spawn(store: Store, max_events: usize) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel::<Job>(4096);
    tokio::spawn(Ingestor::new(store, max_events).run(rx));
    tx
}

/// Resolves at `at`, or never.
async fn until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Ingestor {
    fn new(store: Store, max_events: usize) -> Self {
        Ingestor {
            store,
            max_events,
            meter: Meter::default(),
            parked: Vec::new(),
            next_sweep: Instant::now() + SWEEP_EVERY,
        }
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Job>) {
        loop {
            let wake = self.parked.iter().map(|p| p.ready).min();
            let first = tokio::select! {
                job = rx.recv() => match job {
                    Some(job) => Some(job),
                    // The controller is gone; parked jobs' connections hear it is stopped.
                    None => return,
                },
                () = until(wake) => None,
            };
            let at = Instant::now();
            let mut jobs = Vec::new();
            let mut events = 0;
            // Those that waited longest go first.
            let (ready, waiting): (Vec<Parked>, Vec<Parked>) = std::mem::take(&mut self.parked)
                .into_iter()
                .partition(|p| p.ready <= at);
            self.parked = waiting;
            for p in ready {
                self.admit(p.job, at, &mut jobs, &mut events);
            }
            if let Some(job) = first {
                self.admit(job, at, &mut jobs, &mut events);
            }
            while events < self.max_events {
                match rx.try_recv() {
                    Ok(job) => self.admit(job, at, &mut jobs, &mut events),
                    Err(_) => break,
                }
            }
            if at >= self.next_sweep {
                self.meter.forget_idle(at);
                self.next_sweep = at + SWEEP_EVERY;
            }
            if !jobs.is_empty() {
                self.commit(jobs).await;
            }
        }
    }

    /// Takes a job into this transaction, parks it until its seat's rate allows it, or
    /// answers it at once when it is dropped for rate.
    fn admit(&mut self, mut job: Job, at: Instant, jobs: &mut Vec<Job>, events: &mut usize) {
        let verdict = match (&job.rates, &job.kind) {
            (None, _) => Ok(true),
            (Some(rates), JobKind::Events { cost, .. }) => self
                .meter
                .events(&job.agent_id, *cost, rates, at)
                .map(|()| true),
            (Some(rates), JobKind::Health { .. }) => {
                Ok(self.meter.health(&job.agent_id, rates, at))
            }
            (Some(rates), JobKind::Inventory { .. }) => {
                Ok(self.meter.inventory(&job.agent_id, rates, at))
            }
        };
        match verdict {
            Ok(true) => {
                *events += job.events();
                jobs.push(job);
            }
            Ok(false) => job.dropped(),
            Err(ready) => {
                if let JobKind::Events { delayed, .. } = &mut job.kind {
                    *delayed = true;
                }
                // One batch waits per seat: an older one belongs to a connection the seat
                // has replaced (or that is gone). It is answered unstored, and the seat sends
                // those events again, so what waits is bounded by the number of seats.
                let (older, others): (Vec<Parked>, Vec<Parked>) = std::mem::take(&mut self.parked)
                    .into_iter()
                    .partition(|p| p.job.agent_id == job.agent_id || p.job.abandoned());
                self.parked = others;
                for p in older {
                    p.job
                        .answer(Err("superseded by a newer batch from the same seat".into()));
                }
                self.parked.push(Parked { ready, job });
            }
        }
    }

    /// Commits the jobs in one transaction. If it fails with several seats' data in it,
    /// each seat's share is tried on its own, so that data one seat sent (and will send
    /// again) cannot keep every other seat's from being stored.
    async fn commit(&self, jobs: Vec<Job>) {
        match self.store_jobs(&jobs).await {
            Ok(outcomes) => {
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    job.answer(Ok(outcome));
                }
            }
            Err(e) if jobs.len() > 1 => {
                warn!(error = %e, jobs = jobs.len(), "ingest transaction failed; storing each seat's data on its own");
                for job in jobs {
                    let outcome = self
                        .store_jobs(std::slice::from_ref(&job))
                        .await
                        .map(|o| o[0]);
                    job.answer(outcome.map_err(|e| e.to_string()));
                }
            }
            // Nothing was committed: no ack, the agent sends again.
            Err(e) => {
                for job in jobs {
                    job.answer(Err(e.to_string()));
                }
            }
        }
    }

    /// Stores the jobs' data in one transaction; for each job, `(up_to_seq, spent_tickets)`
    /// (zeros for health and inventory).
    async fn store_jobs(&self, jobs: &[Job]) -> Result<Vec<(u64, bool)>, crate::StoreError> {
        let mut batches = Vec::new();
        let mut health = Vec::new();
        let mut inventories = Vec::new();
        for job in jobs {
            match &job.kind {
                JobKind::Events { events, .. } => batches.push(IngestBatch {
                    agent_id: job.agent_id.clone(),
                    events: events.clone(),
                }),
                JobKind::Health { snapshot, .. } => {
                    health.push((job.agent_id.clone(), snapshot.clone()))
                }
                JobKind::Inventory { inventory, .. } => {
                    inventories.push((job.agent_id.clone(), inventory.clone()))
                }
            }
        }
        let outcome = self
            .store
            .ingest_work(&batches, &health, &inventories, now())
            .await?;
        let mut batch = 0;
        Ok(jobs
            .iter()
            .map(|job| match job.kind {
                JobKind::Events { .. } => {
                    batch += 1;
                    (outcome.acks[batch - 1], outcome.spent_tickets[batch - 1])
                }
                _ => (0, false),
            })
            .collect())
    }
}

fn stopped() -> ControllerError {
    ControllerError::Config("the ingestor stopped".into())
}

async fn request<T>(
    controller: &Controller,
    job: Job,
    answer: oneshot::Receiver<Result<T, String>>,
) -> Result<T, ControllerError> {
    controller
        .inner
        .ingest
        .send(job)
        .await
        .map_err(|_| stopped())?;
    answer
        .await
        .map_err(|_| stopped())?
        .map_err(|e| ControllerError::Store(crate::StoreError::Open(e)))
}

/// Stores an agent's events, unmetered and as sent (the controller's own callers); returns
/// the seq to acknowledge.
pub(crate) async fn submit(
    ingest: &mpsc::Sender<Job>,
    agent_id: &str,
    events: Vec<EventEnvelope>,
) -> Result<u64, ControllerError> {
    let (reply, answer) = oneshot::channel();
    let job = Job {
        agent_id: agent_id.to_string(),
        rates: None,
        kind: JobKind::Events {
            events,
            cost: 0,
            delayed: false,
            reply,
        },
    };
    ingest.send(job).await.map_err(|_| stopped())?;
    Ok(answer
        .await
        .map_err(|_| stopped())?
        .map_err(|e| ControllerError::Store(crate::StoreError::Open(e)))?
        .up_to_seq)
}

fn rates(controller: &Controller) -> Rates {
    Rates::new(
        &controller.config().seat,
        controller.config().health_interval_secs,
    )
}

/// Stores a seat's events within its bounds: capped, then held back past its rate. The
/// answer comes once they are committed.
pub(crate) async fn events(
    controller: &Controller,
    agent_id: &str,
    mut events: Vec<EventEnvelope>,
) -> Result<EventsStored, ControllerError> {
    let mut tally = Tally::default();
    bounds::clamp_events(&mut events, now(), &controller.config().seat, &mut tally);
    let help = help_events(&events);
    let print: Vec<AgentEvent> = events
        .iter()
        .filter(|e| {
            matches!(
                e.event,
                AgentEvent::PrintWaiting(_)
                    | AgentEvent::PrintWaitOver(_)
                    | AgentEvent::SessionStarted(_)
                    | AgentEvent::SessionEnded(_)
            )
        })
        .map(|e| e.event.clone())
        .collect();
    let (reply, answer) = oneshot::channel();
    let job = Job {
        agent_id: agent_id.to_string(),
        rates: Some(rates(controller)),
        kind: JobKind::Events {
            cost: bounds::events_cost(&events),
            events,
            delayed: false,
            reply,
        },
    };
    let stored = request(controller, job, answer).await;
    if matches!(stored, Ok(EventsStored { delayed: true, .. })) {
        tally.add(Limit::EventsDelayed, "events", 1);
    }
    if stored.is_ok() && !help.is_empty() {
        help_calls(controller, agent_id, help, &mut tally).await;
    }
    if stored.is_ok() && !print.is_empty() {
        // After the commit: the seat's page shows only what is stored.
        let changed = {
            let mut board = controller.print_board();
            print
                .iter()
                .fold(false, |changed, e| board.apply(agent_id, e) | changed)
        };
        if changed {
            controller.seats_changed();
        }
    }
    tally.record(controller.metrics());
    stored
}

/// The events that move a seat's calls for a mediator: the calls, their cancellations,
/// and the session starts and ends that end them.
fn help_events(events: &[EventEnvelope]) -> Vec<(UtcMillis, AgentEvent)> {
    events
        .iter()
        .filter(|e| {
            matches!(
                e.event,
                AgentEvent::HelpCalled(_)
                    | AgentEvent::HelpCancelled(_)
                    | AgentEvent::SessionStarted(_)
                    | AgentEvent::SessionEnded(_)
            )
        })
        .map(|e| (e.at, e.event.clone()))
        .collect()
}

/// After a seat's events are committed: its calls for a mediator, bounded (see
/// [`crate::help`]), on the live board and in the store (each call counted once).
async fn help_calls(
    controller: &Controller,
    agent_id: &str,
    events: Vec<(UtcMillis, AgentEvent)>,
    tally: &mut Tally,
) {
    let store = controller.store();
    let mut changed = false;
    for (at, event) in events {
        let outcome = match &event {
            AgentEvent::HelpCalled(call) => {
                let admitted = controller.help_board().admit(agent_id, call, at, now());
                match admitted {
                    Err(limit) => {
                        tally.add(Limit::Help(limit), "help_called", 1);
                        Ok(())
                    }
                    Ok(()) => {
                        let stored = store
                            .help_called(agent_id, &call.call_id, call.need.as_str(), at)
                            .await;
                        if !matches!(stored, Ok(true)) {
                            // Known already (delivered again after it ended), or not stored.
                            controller.help_board().remove(agent_id, &call.call_id);
                        }
                        changed |= matches!(stored, Ok(true));
                        stored.map(|_| ())
                    }
                }
            }
            AgentEvent::HelpCancelled(c) => {
                changed |= controller.help_board().remove(agent_id, &c.call_id);
                store
                    .help_ended(agent_id, Some(&c.call_id), at)
                    .await
                    .map(|_| ())
            }
            _ => {
                let had = controller.help_board().session_changed(agent_id);
                if had {
                    changed = true;
                    store.help_ended(agent_id, None, at).await.map(|_| ())
                } else {
                    Ok(())
                }
            }
        };
        if let Err(error) = outcome {
            warn!(agent = %agent_id, %error, "a call for a mediator was not stored");
        }
    }
    if changed {
        controller.seats_changed();
    }
}

/// Stores a seat's health snapshot within its bounds: capped, and dropped when sooner than
/// its interval allows.
pub(crate) async fn health(controller: &Controller, agent_id: &str, mut snapshot: HealthSnapshot) {
    let mut tally = Tally::default();
    bounds::clamp_health(&mut snapshot, now(), &controller.config().seat, &mut tally);
    let (reply, answer) = oneshot::channel();
    let job = Job {
        agent_id: agent_id.to_string(),
        rates: Some(rates(controller)),
        kind: JobKind::Health { snapshot, reply },
    };
    match request(controller, job, answer).await {
        Ok(true) => {
            controller.metrics().health_snapshots.inc();
        }
        Ok(false) => tally.add(Limit::HealthRate, "health", 1),
        Err(e) => warn!(agent = %agent_id, error = %e, "health not stored"),
    }
    tally.record(controller.metrics());
}

/// Stores a seat's inventory within its bounds: capped, and dropped when sooner than
/// `inventory_min_interval_secs` after the previous one.
pub(crate) async fn inventory(controller: &Controller, agent_id: &str, mut inventory: Inventory) {
    let mut tally = Tally::default();
    bounds::clamp_inventory(&mut inventory, now(), &controller.config().seat, &mut tally);
    let (reply, answer) = oneshot::channel();
    let job = Job {
        agent_id: agent_id.to_string(),
        rates: Some(rates(controller)),
        kind: JobKind::Inventory { inventory, reply },
    };
    match request(controller, job, answer).await {
        Ok(true) => {}
        Ok(false) => tally.add(Limit::InventoryRate, "inventory", 1),
        Err(e) => warn!(agent = %agent_id, error = %e, "inventory not stored"),
    }
    tally.record(controller.metrics());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SeatLimits;
    use commune_protocol::messages::{AgentEvent, Alert, AlertKind};

    async fn store_with(agents: &[&str]) -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("commune.db").to_str().unwrap())
            .await
            .unwrap();
        let at = now();
        store.add_site("mdh", "MDH", at).await.unwrap();
        for (i, id) in agents.iter().enumerate() {
            let hash = [i as u8; 32];
            store
                .create_token(&hash, "mdh", at, at.plus_secs(60))
                .await
                .unwrap();
            store
                .enroll(&hash, at, id, "pc", "1", |_| {
                    Ok::<_, String>(((), "01".into(), at.plus_secs(60)))
                })
                .await
                .unwrap()
                .unwrap();
        }
        (store, dir)
    }

    type Answer = oneshot::Receiver<Result<EventsStored, String>>;

    fn job(
        agent_id: &str,
        seqs: std::ops::RangeInclusive<u64>,
        rates: Option<Rates>,
    ) -> (Job, Answer) {
        let events: Vec<EventEnvelope> = seqs
            .map(|seq| EventEnvelope {
                seq,
                at: now(),
                event: AgentEvent::Alert(Alert {
                    kind: AlertKind::DiskFull,
                    message: format!("e{seq}"),
                }),
            })
            .collect();
        let (reply, answer) = oneshot::channel();
        let job = Job {
            agent_id: agent_id.to_string(),
            rates,
            kind: JobKind::Events {
                cost: bounds::events_cost(&events),
                events,
                delayed: false,
                reply,
            },
        };
        (job, answer)
    }

    fn health_job(
        agent_id: &str,
        rates: Option<Rates>,
    ) -> (Job, oneshot::Receiver<Result<bool, String>>) {
        let (reply, answer) = oneshot::channel();
        let snapshot = HealthSnapshot {
            at: now(),
            cpu_percent: 0.0,
            load_average: [0.0; 3],
            memory_used_bytes: 0,
            memory_total_bytes: 0,
            swap_used_bytes: 0,
            swap_total_bytes: 0,
            disks: vec![],
            temperatures: vec![],
            uptime_secs: 0,
            os: String::new(),
            kernel: String::new(),
            agent_version: String::new(),
        };
        let job = Job {
            agent_id: agent_id.to_string(),
            rates,
            kind: JobKind::Health { snapshot, reply },
        };
        (job, answer)
    }

    #[tokio::test]
    async fn one_seats_bad_data_does_not_fail_the_others() {
        let (store, _dir) = store_with(&["a", "b"]).await;
        let ingestor = Ingestor::new(store.clone(), 100);
        // "ghost" is not enrolled: its rows break the transaction (foreign key), every time
        // it sends them again.
        let (a, a_answer) = job("a", 1..=2, None);
        let (ghost, ghost_answer) = job("ghost", 1..=1, None);
        let (b, b_answer) = job("b", 1..=3, None);
        ingestor.commit(vec![a, ghost, b]).await;
        assert_eq!(a_answer.await.unwrap().unwrap().up_to_seq, 2);
        assert!(ghost_answer.await.unwrap().is_err());
        assert_eq!(b_answer.await.unwrap().unwrap().up_to_seq, 3);
        assert_eq!(store.event_seqs("b").await.unwrap(), vec![1, 2, 3]);
    }

    #[tokio::test]
    async fn a_seat_past_its_rate_waits_alone_one_batch_at_a_time() {
        let (store, _dir) = store_with(&[]).await;
        let mut ingestor = Ingestor::new(store, 100);
        let limits = SeatLimits {
            events_per_minute: 60,
            events_burst: 2,
            ..SeatLimits::default()
        };
        let rates = Some(Rates::new(&limits, 60));
        let t0 = Instant::now();
        let (mut jobs, mut events) = (Vec::new(), 0);
        let (first, _first) = job("a", 1..=2, rates);
        ingestor.admit(first, t0, &mut jobs, &mut events);
        assert_eq!((jobs.len(), ingestor.parked.len()), (1, 0));
        // Past the burst: held back a second per event.
        let (second, mut second_answer) = job("a", 3..=3, rates);
        ingestor.admit(second, t0, &mut jobs, &mut events);
        assert_eq!(ingestor.parked.len(), 1);
        assert_eq!(ingestor.parked[0].ready, t0 + Duration::from_secs(1));
        // Another seat is not held back.
        let (other, _other) = job("b", 1..=2, rates);
        ingestor.admit(other, t0, &mut jobs, &mut events);
        assert_eq!((jobs.len(), ingestor.parked.len()), (2, 1));
        // A newer batch from the same seat replaces the waiting one, answered unstored.
        let (third, _third) = job("a", 3..=4, rates);
        ingestor.admit(third, t0, &mut jobs, &mut events);
        assert_eq!(ingestor.parked.len(), 1);
        assert!(matches!(second_answer.try_recv(), Ok(Err(_))));
        // Health is dropped, not held back, when too soon.
        let (health, _kept) = health_job("a", rates);
        ingestor.admit(health, t0, &mut jobs, &mut events);
        assert_eq!(jobs.len(), 3);
        let (too_soon, dropped) = health_job("a", rates);
        ingestor.admit(
            too_soon,
            t0 + Duration::from_secs(1),
            &mut jobs,
            &mut events,
        );
        assert_eq!(jobs.len(), 3);
        assert_eq!(dropped.await.unwrap(), Ok(false));
    }
}
