//! Length-prefixed frames: a 4-byte big-endian body length, then a MessagePack body with
//! named fields (a map per struct), so that unknown fields are skipped by older peers.
//!
//! The decoder is a sans-I/O state machine: bytes go in as they arrive, whole messages come
//! out. A length prefix over the limit is rejected as soon as its four bytes are seen, before
//! any of the body is buffered, so a hostile peer cannot make the other side allocate.

use serde::{de::DeserializeOwned, Serialize};

/// The hard limit on a frame's body, in bytes. A schedule for 14 days or a site's ticket
/// hashes fit many times over; anything larger is a bug or an attack.
pub const MAX_FRAME_BYTES: usize = 1024 * 1024;

const PREFIX: usize = 4;

/// Why a frame could not be encoded or decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    /// The length prefix announces a body over the limit.
    #[error("frame of {len} bytes is over the limit of {max} bytes")]
    TooLarge {
        /// Announced or encoded body length.
        len: usize,
        /// The limit in force.
        max: usize,
    },
    /// The body is not a MessagePack message of the expected shape.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// The stream ended in the middle of a frame.
    #[error("stream ended inside a frame ({buffered} bytes buffered)")]
    Truncated {
        /// Bytes received of the unfinished frame.
        buffered: usize,
    },
}

impl FrameError {
    /// A short stable label for metrics (`reason` label values).
    pub fn reason(&self) -> &'static str {
        match self {
            FrameError::TooLarge { .. } => "too_large",
            FrameError::Malformed(_) => "malformed",
            FrameError::Truncated { .. } => "truncated",
        }
    }
}

/// Encodes one message as a frame (prefix and body), refusing bodies over `MAX_FRAME_BYTES`.
pub fn encode_frame<T: Serialize>(msg: &T) -> Result<Vec<u8>, FrameError> {
    encode_frame_with_limit(msg, MAX_FRAME_BYTES)
}

/// Encodes one message as a frame with an explicit size limit.
pub fn encode_frame_with_limit<T: Serialize>(msg: &T, max: usize) -> Result<Vec<u8>, FrameError> {
    let mut out = vec![0u8; PREFIX];
    rmp_serde::encode::write_named(&mut out, msg)
        .map_err(|e| FrameError::Malformed(format!("cannot encode: {e}")))?;
    let len = out.len() - PREFIX;
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    let prefix = u32::try_from(len).map_err(|_| FrameError::TooLarge { len, max })?;
    out[..PREFIX].copy_from_slice(&prefix.to_be_bytes());
    Ok(out)
}

/// Encodes a message body without the prefix (for fixtures and hashing).
pub fn encode_body<T: Serialize>(msg: &T) -> Result<Vec<u8>, FrameError> {
    rmp_serde::to_vec_named(msg).map_err(|e| FrameError::Malformed(format!("cannot encode: {e}")))
}

/// Decodes one message body (no prefix).
pub fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, FrameError> {
    rmp_serde::from_slice(body).map_err(|e| FrameError::Malformed(e.to_string()))
}

/// Decodes exactly one whole frame from `bytes`, which must hold nothing else.
pub fn decode_frame<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, FrameError> {
    let mut decoder = FrameDecoder::new(MAX_FRAME_BYTES);
    decoder.push(bytes)?;
    match decoder.next_message()? {
        Some(msg) if decoder.buffered() == 0 => Ok(msg),
        Some(_) => Err(FrameError::Malformed(format!(
            "{} bytes after the frame",
            decoder.buffered()
        ))),
        None => Err(FrameError::Truncated {
            buffered: decoder.buffered(),
        }),
    }
}

/// Room a decoder or reader keeps between frames; more is given back once used.
const KEPT_CAPACITY: usize = 4 * 1024;

/// A reader's first read buffer: a heartbeat fits. It doubles, up to
/// [`MAX_READ_BUFFER`], each time a read fills it.
const FIRST_READ_BUFFER: usize = 256;

/// A reader's largest read buffer.
const MAX_READ_BUFFER: usize = 16 * 1024;

/// Incremental frame decoder.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    max: usize,
}

impl FrameDecoder {
    /// A decoder refusing bodies over `max` bytes.
    pub fn new(max: usize) -> Self {
        FrameDecoder {
            buf: Vec::new(),
            max,
        }
    }

    /// Bytes received and not yet returned as messages.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Appends received bytes. Fails as soon as a length prefix over the limit is complete.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), FrameError> {
        self.buf.extend_from_slice(bytes);
        self.check_prefix().map(|_| ())
    }

    fn check_prefix(&self) -> Result<Option<usize>, FrameError> {
        if self.buf.len() < PREFIX {
            return Ok(None);
        }
        let mut prefix = [0u8; PREFIX];
        prefix.copy_from_slice(&self.buf[..PREFIX]);
        let len = u32::from_be_bytes(prefix) as usize;
        if len > self.max {
            return Err(FrameError::TooLarge { len, max: self.max });
        }
        Ok(Some(len))
    }

    /// The next complete frame's body, if one is buffered.
    pub fn next_body(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        let Some(len) = self.check_prefix()? else {
            return Ok(None);
        };
        if self.buf.len() < PREFIX + len {
            return Ok(None);
        }
        let body = self.buf[PREFIX..PREFIX + len].to_vec();
        self.buf.drain(..PREFIX + len);
        if self.buf.is_empty() && self.buf.capacity() > KEPT_CAPACITY {
            // A large frame's room is given back: thousands of idle links hold little.
            self.buf = Vec::new();
        }
        Ok(Some(body))
    }

    /// The next complete message, if one is buffered.
    pub fn next_message<T: DeserializeOwned>(&mut self) -> Result<Option<T>, FrameError> {
        match self.next_body()? {
            Some(body) => decode_body(&body).map(Some),
            None => Ok(None),
        }
    }

    /// Call when the stream ended: an unfinished frame is an error.
    pub fn finish(&self) -> Result<(), FrameError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(FrameError::Truncated {
                buffered: self.buf.len(),
            })
        }
    }
}

/// Where a [`FrameReader`] reads bytes from: a QUIC receive stream, a TLS stream over TCP.
/// A trait of the protocol's own, so that this crate names no socket and no runtime; each
/// end wraps its streams.
pub trait ByteSource {
    /// Why reading failed (the stream's or the connection's error).
    type Error;
    /// Reads some bytes into `buf`: how many, or `None` once the peer finished the stream.
    fn read(
        &mut self,
        buf: &mut [u8],
    ) -> impl std::future::Future<Output = Result<Option<usize>, Self::Error>> + Send;
}

/// Why reading the next message failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError<E> {
    /// The peer sent a bad frame, or ended the stream in the middle of one.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The stream or connection failed.
    #[error("stream failed: {0}")]
    Source(E),
}

/// Reads whole messages from a byte source: the one reader of both ends and every
/// transport, so they agree on every edge (a truncated last frame is an error, never a
/// clean end).
pub struct FrameReader<S> {
    source: S,
    decoder: FrameDecoder,
    buf: Vec<u8>,
}

impl<S: ByteSource> FrameReader<S> {
    /// Wraps a source, refusing frames over `max_frame_bytes`.
    pub fn new(source: S, max_frame_bytes: usize) -> Self {
        FrameReader {
            source,
            decoder: FrameDecoder::new(max_frame_bytes),
            buf: vec![0u8; FIRST_READ_BUFFER],
        }
    }

    /// The next message, or `None` when the peer finished the stream after a whole frame.
    /// Cancel-safe: bytes read stay in the decoder.
    pub async fn next<T: DeserializeOwned>(&mut self) -> Result<Option<T>, ReadError<S::Error>> {
        loop {
            if let Some(msg) = self.decoder.next_message()? {
                return Ok(Some(msg));
            }
            match self.source.read(&mut self.buf).await {
                Ok(Some(n)) => {
                    self.decoder.push(&self.buf[..n])?;
                    if n == self.buf.len() && n < MAX_READ_BUFFER {
                        // Larger frames arrive: read them in fewer pieces.
                        self.buf.resize(2 * n, 0);
                    }
                }
                Ok(None) => {
                    self.decoder.finish()?;
                    return Ok(None);
                }
                Err(e) => return Err(ReadError::Source(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::{AgentMessage, Heartbeat};

    /// Bytes handed out in the given pieces, then the end of the stream.
    struct Pieces(std::collections::VecDeque<Vec<u8>>);

    impl ByteSource for Pieces {
        type Error = std::convert::Infallible;
        async fn read(&mut self, buf: &mut [u8]) -> Result<Option<usize>, Self::Error> {
            Ok(self.0.pop_front().map(|piece| {
                buf[..piece.len()].copy_from_slice(&piece);
                piece.len()
            }))
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        // The sources here never wait: one poll with a no-op waker finishes them.
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(out) => out,
            std::task::Poll::Pending => panic!("a test source never waits"),
        }
    }

    #[test]
    fn the_reader_ends_cleanly_only_after_a_whole_frame() {
        let msg = AgentMessage::Heartbeat(Heartbeat {
            seat_state: None,
            session_seconds_left: None,
        });
        let frame = encode_frame(&msg).unwrap();
        let (head, tail) = frame.split_at(3);
        let whole = Pieces([head.to_vec(), tail.to_vec()].into());
        let mut reader = FrameReader::new(whole, MAX_FRAME_BYTES);
        assert_eq!(block_on(reader.next::<AgentMessage>()).unwrap(), Some(msg));
        assert_eq!(block_on(reader.next::<AgentMessage>()).unwrap(), None);
        let cut = Pieces([frame[..frame.len() - 1].to_vec()].into());
        let mut reader = FrameReader::new(cut, MAX_FRAME_BYTES);
        assert!(matches!(
            block_on(reader.next::<AgentMessage>()),
            Err(ReadError::Frame(FrameError::Truncated { .. }))
        ));
    }

    /// A stream handing out as much as each read's buffer holds.
    struct Stream(std::collections::VecDeque<u8>);

    impl ByteSource for Stream {
        type Error = std::convert::Infallible;
        async fn read(&mut self, buf: &mut [u8]) -> Result<Option<usize>, Self::Error> {
            if self.0.is_empty() {
                return Ok(None);
            }
            let n = buf.len().min(self.0.len());
            for (slot, byte) in buf.iter_mut().zip(self.0.drain(..n)) {
                *slot = byte;
            }
            Ok(Some(n))
        }
    }

    #[test]
    fn a_large_frame_grows_the_reader_and_its_room_is_given_back() {
        let big: Vec<String> = (0..20_000).map(|i| format!("line {i}")).collect();
        let beat = AgentMessage::Heartbeat(Heartbeat {
            seat_state: None,
            session_seconds_left: None,
        });
        let mut bytes = encode_frame(&beat).unwrap();
        bytes.extend(encode_frame(&big).unwrap());
        bytes.extend(encode_frame(&beat).unwrap());
        let beats: Vec<u8> = (0..3).flat_map(|_| encode_frame(&beat).unwrap()).collect();
        let mut idle = FrameReader::new(Stream(beats.into()), MAX_FRAME_BYTES);
        while block_on(idle.next::<AgentMessage>()).unwrap().is_some() {}
        assert_eq!(
            idle.buf.len(),
            FIRST_READ_BUFFER,
            "a link of heartbeats holds little"
        );
        let mut reader = FrameReader::new(Stream(bytes.into()), MAX_FRAME_BYTES);
        assert_eq!(
            block_on(reader.next::<AgentMessage>()).unwrap(),
            Some(beat.clone())
        );
        assert_eq!(block_on(reader.next::<Vec<String>>()).unwrap(), Some(big));
        assert_eq!(reader.buf.len(), MAX_READ_BUFFER);
        assert_eq!(block_on(reader.next::<AgentMessage>()).unwrap(), Some(beat));
        assert!(reader.decoder.buf.capacity() <= KEPT_CAPACITY);
        assert_eq!(block_on(reader.next::<AgentMessage>()).unwrap(), None);
    }

    #[test]
    fn oversized_prefix_is_refused_before_the_body_arrives() {
        let mut d = FrameDecoder::new(16);
        let err = d.push(&17u32.to_be_bytes()).unwrap_err();
        assert_eq!(err, FrameError::TooLarge { len: 17, max: 16 });
    }

    #[test]
    fn frames_split_anywhere_decode_the_same() {
        let msg = AgentMessage::Heartbeat(Heartbeat {
            seat_state: None,
            session_seconds_left: None,
        });
        let frame = encode_frame(&msg).unwrap();
        let mut two = frame.clone();
        two.extend_from_slice(&frame);
        for split in 0..two.len() {
            let mut d = FrameDecoder::new(MAX_FRAME_BYTES);
            d.push(&two[..split]).unwrap();
            let mut got = Vec::new();
            while let Some(m) = d.next_message::<AgentMessage>().unwrap() {
                got.push(m);
            }
            d.push(&two[split..]).unwrap();
            while let Some(m) = d.next_message::<AgentMessage>().unwrap() {
                got.push(m);
            }
            assert_eq!(got, vec![msg.clone(), msg.clone()], "split at {split}");
            d.finish().unwrap();
        }
    }

    #[test]
    fn garbage_body_is_malformed_not_a_panic() {
        let mut bytes = 3u32.to_be_bytes().to_vec();
        bytes.extend_from_slice(&[0xc1, 0xff, 0x00]);
        assert!(matches!(
            decode_frame::<AgentMessage>(&bytes),
            Err(FrameError::Malformed(_))
        ));
    }

    #[test]
    fn encoder_refuses_what_the_decoder_would() {
        let msg = AgentMessage::Heartbeat(Heartbeat {
            seat_state: None,
            session_seconds_left: None,
        });
        assert!(matches!(
            encode_frame_with_limit(&msg, 2),
            Err(FrameError::TooLarge { .. })
        ));
    }
}
