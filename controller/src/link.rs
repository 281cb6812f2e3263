//! Frames over one QUIC stream: the reading and writing halves the server uses.

use commune_protocol::{FrameDecoder, FrameError};
use serde::de::DeserializeOwned;

/// Why reading the next message failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The peer sent a bad frame.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The stream or connection failed.
    #[error("stream failed: {0}")]
    Stream(#[from] quinn::ReadError),
}

/// Reads whole messages from a QUIC receive stream.
pub struct FrameReader {
    recv: quinn::RecvStream,
    decoder: FrameDecoder,
    buf: Vec<u8>,
}

impl FrameReader {
    /// Wraps a stream, refusing frames over `max_frame_bytes`.
    pub fn new(recv: quinn::RecvStream, max_frame_bytes: usize) -> Self {
        FrameReader {
            recv,
            decoder: FrameDecoder::new(max_frame_bytes),
            buf: vec![0u8; 16 * 1024],
        }
    }

    /// The next message, or `None` when the peer finished the stream cleanly.
    pub async fn next<T: DeserializeOwned>(&mut self) -> Result<Option<T>, ReadError> {
        loop {
            if let Some(msg) = self.decoder.next_message()? {
                return Ok(Some(msg));
            }
            match self.recv.read(&mut self.buf).await? {
                Some(n) => self.decoder.push(&self.buf[..n])?,
                None => {
                    self.decoder.finish()?;
                    return Ok(None);
                }
            }
        }
    }
}
