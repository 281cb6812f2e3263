//! The way to one connected seat: frames encoded before they are queued, and a bounded queue
//! that nobody else ever waits on.
//!
//! Shared tasks (the periodic loop, staff actions, another seat's ticket use) only *push*:
//! they never await a seat's I/O. A seat whose queue is full is not reading its stream; it is
//! disconnected, and resynchronised from the store when it comes back (schedule, tickets,
//! pending commands are all sent again on connection). Only the seat's own task *sends*,
//! waiting for room in its own queue (its acknowledgements).

use std::sync::Arc;

use commune_protocol::messages::{ControllerMessage, RefusalCode};
use commune_protocol::{encode_frame, FrameError};
use tokio::sync::mpsc;

/// An encoded frame, shared when the same one goes to several seats.
pub(crate) type Frame = Arc<[u8]>;

/// Frames waiting for one seat's writer at most. A full ticket set is a few frames; a seat
/// further behind than this is not reading.
pub(crate) const SEAT_QUEUE_FRAMES: usize = 64;

/// Why a frame did not reach a seat's queue.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PushError {
    /// The message cannot be encoded within the frame limit: a bug or an oversized value,
    /// never "delivered".
    #[error("cannot encode: {0}")]
    Encode(#[from] FrameError),
    /// The seat is not reading; it was disconnected.
    #[error("the seat is not reading its stream; disconnected")]
    Full,
    /// The seat's connection is gone.
    #[error("the seat is disconnected")]
    Gone,
}

/// The sending half of one seat's queue, with its connection.
#[derive(Clone)]
pub(crate) struct SeatTx {
    frames: mpsc::Sender<Frame>,
    conn: crate::transport::Peer,
    /// The agent applies ticket sets sent in parts (it said so in its `Hello`).
    pub(crate) ticket_parts: bool,
}

impl SeatTx {
    /// A queue for `conn`; the receiver goes to the seat's writer task.
    pub(crate) fn new(
        conn: crate::transport::Peer,
        ticket_parts: bool,
    ) -> (SeatTx, mpsc::Receiver<Frame>) {
        let (frames, rx) = mpsc::channel(SEAT_QUEUE_FRAMES);
        (
            SeatTx {
                frames,
                conn,
                ticket_parts,
            },
            rx,
        )
    }

    /// Encodes `msg` (within the protocol's frame limit).
    pub(crate) fn encode(msg: &ControllerMessage) -> Result<Frame, FrameError> {
        Ok(encode_frame(msg)?.into())
    }

    /// Queues `msg` without waiting; see [`SeatTx::push_frame`].
    pub(crate) fn push(&self, msg: &ControllerMessage) -> Result<(), PushError> {
        self.push_frame(Self::encode(msg)?)
    }

    /// Queues an encoded frame without waiting. A full queue disconnects the seat.
    pub(crate) fn push_frame(&self, frame: Frame) -> Result<(), PushError> {
        match self.frames.try_send(frame) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(PushError::Gone),
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.conn.close(
                    RefusalCode::Busy.close_code(),
                    b"this computer is not reading its stream; reconnect to be resynchronised",
                );
                Err(PushError::Full)
            }
        }
    }

    /// Queues `msg`, waiting a little for room: only the seat's own task may call this (its
    /// acknowledgements). A seat that lets its queue stay full is disconnected all the same.
    pub(crate) async fn send(&self, msg: ControllerMessage) -> Result<(), PushError> {
        let frame = Self::encode(&msg)?;
        match tokio::time::timeout(OWN_SEND_WAIT, self.frames.send(frame.clone())).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(PushError::Gone),
            Err(_) => self.push_frame(frame),
        }
    }
}

/// How long a seat's own task waits for room in its queue.
const OWN_SEND_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
