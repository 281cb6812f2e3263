//! Frames over one QUIC stream: the protocol's one frame reader on a QUIC receive stream.

/// A QUIC receive stream as the protocol's byte source.
pub struct QuicRecv(pub quinn::RecvStream);

impl commune_protocol::ByteSource for QuicRecv {
    type Error = quinn::ReadError;

    async fn read(&mut self, buf: &mut [u8]) -> Result<Option<usize>, Self::Error> {
        self.0.read(buf).await
    }
}

/// Reads whole messages from a QUIC receive stream.
pub type FrameReader = commune_protocol::FrameReader<QuicRecv>;

/// Why reading the next message failed.
pub type ReadError = commune_protocol::ReadError<quinn::ReadError>;
