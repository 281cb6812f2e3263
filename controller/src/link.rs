//! Frames over one connection's stream: the protocol's one frame reader, on either
//! transport (see [`crate::transport`]).

/// Reads whole messages from a connection's stream.
pub type FrameReader = commune_protocol::FrameReader<crate::transport::RecvHalf>;

/// Why reading the next message failed.
pub type ReadError = commune_protocol::ReadError<std::io::Error>;
