//! The batching ingestor: events from every connection go through one task that commits
//! whatever has queued up, across agents, in one transaction, then answers each connection
//! with the seq it may acknowledge. Thousands of agents' events cost a few transactions.

use commune_protocol::messages::EventEnvelope;
use tokio::sync::{mpsc, oneshot};

use crate::store::{IngestBatch, Store};
use crate::{now, ControllerError};

pub(crate) struct Job {
    batch: IngestBatch,
    reply: oneshot::Sender<Result<u64, String>>,
}

pub(crate) fn spawn(store: Store, max_events: usize) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(4096);
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut events = first.batch.events.len();
            let mut jobs = vec![first];
            while events < max_events {
                match rx.try_recv() {
                    Ok(job) => {
                        events += job.batch.events.len();
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
            let batches: Vec<IngestBatch> = jobs.iter().map(|j| j.batch.clone()).collect();
            match store.ingest(&batches, now()).await {
                Ok(acks) => {
                    for (job, ack) in jobs.into_iter().zip(acks) {
                        let _ = job.reply.send(Ok(ack));
                    }
                }
                Err(e) => {
                    // Nothing was committed: no ack, the agents send again.
                    let message = e.to_string();
                    for job in jobs {
                        let _ = job.reply.send(Err(message.clone()));
                    }
                }
            }
        }
    });
    tx
}

pub(crate) async fn submit(
    ingest: &mpsc::Sender<Job>,
    agent_id: &str,
    events: Vec<EventEnvelope>,
) -> Result<u64, ControllerError> {
    let (reply, answer) = oneshot::channel();
    let job = Job {
        batch: IngestBatch {
            agent_id: agent_id.to_string(),
            events,
        },
        reply,
    };
    let stopped = || ControllerError::Config("the ingestor stopped".into());
    ingest.send(job).await.map_err(|_| stopped())?;
    answer
        .await
        .map_err(|_| stopped())?
        .map_err(|e| ControllerError::Store(crate::StoreError::Open(e)))
}
