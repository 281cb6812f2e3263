//! The two transports a seat's frames travel on, behind one interface for the server: QUIC
//! (the default), and TLS 1.3 over TCP for networks that let no UDP through (public
//! networks, municipal firewalls, HTTP proxies). Both carry the same frames on one
//! bidirectional stream, with the same mutual TLS, the same ALPN and the same gate; a TCP
//! connection *is* its one stream.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// A TLS stream over TCP, server side.
pub type TlsTcp = tokio_rustls::server::TlsStream<TcpStream>;

/// One seat's (or enrolling computer's) connection, whatever its transport.
#[derive(Clone, Debug)]
pub enum Peer {
    /// A QUIC connection.
    Quic(quinn::Connection),
    /// A TLS connection over TCP.
    Tcp(Arc<TcpPeer>),
}

/// What the server keeps of a TCP connection: its address, and the switch that closes it.
#[derive(Debug)]
pub struct TcpPeer {
    remote: SocketAddr,
    closed: watch::Sender<bool>,
}

impl TcpPeer {
    /// A TCP peer at `remote`, open.
    pub fn new(remote: SocketAddr) -> Arc<Self> {
        Arc::new(TcpPeer {
            remote,
            closed: watch::channel(false).0,
        })
    }

    async fn wait_closed(&self) {
        let mut rx = self.closed.subscribe();
        let _ = rx.wait_for(|closed| *closed).await;
    }
}

impl Peer {
    /// Closes the connection. On QUIC the code and reason reach the peer; on TCP the
    /// refusal frame sent before (see the server's `refuse`) says why, and the socket
    /// closes once its reader and writer have stopped.
    pub fn close(&self, code: u32, reason: &[u8]) {
        match self {
            Peer::Quic(c) => c.close(code.into(), reason),
            Peer::Tcp(t) => {
                t.closed.send_replace(true);
            }
        }
    }

    /// The peer's address.
    pub fn remote_address(&self) -> SocketAddr {
        match self {
            Peer::Quic(c) => c.remote_address(),
            Peer::Tcp(t) => t.remote,
        }
    }

    /// Resolves when the connection is closed (by either side, for QUIC; by this side, for
    /// TCP: the peer's end shows as the end of its stream).
    pub async fn closed(&self) {
        match self {
            Peer::Quic(c) => {
                c.closed().await;
            }
            Peer::Tcp(t) => t.wait_closed().await,
        }
    }

    /// Why the connection closed, for the log.
    pub fn close_reason(&self) -> String {
        match self {
            Peer::Quic(c) => c
                .close_reason()
                .map(|r| r.to_string())
                .unwrap_or_else(|| "stream finished".into()),
            Peer::Tcp(t) if *t.closed.borrow() => "closed by the controller".into(),
            Peer::Tcp(_) => "stream finished".into(),
        }
    }

    /// The transport's name, for logs and metrics.
    pub fn transport(&self) -> &'static str {
        match self {
            Peer::Quic(_) => "quic",
            Peer::Tcp(_) => "tcp",
        }
    }
}

/// The sending half of a connection's stream.
pub enum SendHalf {
    /// A QUIC send stream.
    Quic(quinn::SendStream),
    /// The writing half of the TLS stream.
    Tcp(WriteHalf<TlsTcp>),
}

impl SendHalf {
    /// Writes a whole frame.
    pub async fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            SendHalf::Quic(s) => s.write_all(buf).await.map_err(std::io::Error::from),
            SendHalf::Tcp(s) => {
                s.write_all(buf).await?;
                s.flush().await
            }
        }
    }

    /// Ends the stream and waits (at most `wait`) for the peer to have read it all.
    pub async fn finish(&mut self, wait: Duration) {
        match self {
            SendHalf::Quic(s) => {
                if s.finish().is_ok() {
                    let _ = tokio::time::timeout(wait, s.stopped()).await;
                }
            }
            SendHalf::Tcp(s) => {
                let _ = tokio::time::timeout(wait, s.shutdown()).await;
            }
        }
    }
}

/// The receiving half of a connection's stream, as the protocol's byte source.
pub enum RecvHalf {
    /// A QUIC receive stream.
    Quic(quinn::RecvStream),
    /// The reading half of the TLS stream, and its peer (a read ends when it is closed).
    Tcp(ReadHalf<TlsTcp>, Arc<TcpPeer>),
}

impl commune_protocol::ByteSource for RecvHalf {
    type Error = std::io::Error;

    async fn read(&mut self, buf: &mut [u8]) -> Result<Option<usize>, Self::Error> {
        match self {
            RecvHalf::Quic(r) => r.read(buf).await.map_err(std::io::Error::from),
            RecvHalf::Tcp(r, peer) => {
                tokio::select! {
                    n = r.read(buf) => match n? {
                        0 => Ok(None),
                        n => Ok(Some(n)),
                    },
                    () = peer.wait_closed() => Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        "connection closed by the controller",
                    )),
                }
            }
        }
    }
}

/// A TLS stream over TCP split into the server's halves.
pub fn split_tcp(stream: TlsTcp, peer: &Arc<TcpPeer>) -> (SendHalf, RecvHalf) {
    let (read, write) = tokio::io::split(stream);
    (SendHalf::Tcp(write), RecvHalf::Tcp(read, peer.clone()))
}
