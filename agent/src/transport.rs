//! The two ways to the controller: QUIC (the default), and TLS 1.3 over TCP for networks
//! that let no UDP through, directly or through an HTTP `CONNECT` proxy (the agent's
//! `proxy` setting, or the usual `https_proxy` environment). Both carry the same frames on
//! one bidirectional stream, with the same mutual TLS and ALPN.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;

use crate::AgentError;

/// A TLS stream over TCP, client side.
pub type TlsTcp = tokio_rustls::client::TlsStream<TcpStream>;

/// The sending half of the link's stream.
pub enum SendHalf {
    /// A QUIC send stream.
    Quic(quinn::SendStream),
    /// The writing half of the TLS stream.
    Tcp(WriteHalf<TlsTcp>),
}

impl SendHalf {
    /// Writes a whole frame.
    pub async fn write_all(&mut self, buf: &[u8]) -> Result<(), AgentError> {
        match self {
            SendHalf::Quic(s) => s.write_all(buf).await.map_err(|e| match e {
                quinn::WriteError::ConnectionLost(c) => {
                    AgentError::Connection(crate::tls::explain(&c))
                }
                e => AgentError::Connection(e.to_string()),
            }),
            SendHalf::Tcp(s) => {
                s.write_all(buf).await.map_err(lost_tcp)?;
                s.flush().await.map_err(lost_tcp)
            }
        }
    }

    /// Ends the stream (the controller sees its end).
    pub async fn finish(&mut self) {
        match self {
            SendHalf::Quic(s) => {
                let _ = s.finish();
            }
            SendHalf::Tcp(s) => {
                let _ = tokio::time::timeout(Duration::from_secs(2), s.shutdown()).await;
            }
        }
    }
}

/// The receiving half of the link's stream, as the protocol's byte source.
pub enum RecvHalf {
    /// A QUIC receive stream.
    Quic(quinn::RecvStream),
    /// The reading half of the TLS stream.
    Tcp(ReadHalf<TlsTcp>),
}

impl commune_protocol::ByteSource for RecvHalf {
    type Error = AgentError;

    async fn read(&mut self, buf: &mut [u8]) -> Result<Option<usize>, Self::Error> {
        match self {
            RecvHalf::Quic(r) => r.read(buf).await.map_err(|e| match e {
                quinn::ReadError::ConnectionLost(c) => {
                    AgentError::Connection(crate::tls::explain(&c))
                }
                e => AgentError::Connection(e.to_string()),
            }),
            RecvHalf::Tcp(r) => match r.read(buf).await.map_err(lost_tcp)? {
                0 => Ok(None),
                n => Ok(Some(n)),
            },
        }
    }
}

fn lost_tcp(e: std::io::Error) -> AgentError {
    AgentError::Connection(format!("TLS-over-TCP connection lost: {e}"))
}

/// One connection to the controller.
pub enum Connection {
    /// QUIC.
    Quic(quinn::Connection),
    /// TLS over TCP (the stream's halves carry the connection).
    Tcp,
}

impl Connection {
    /// Why the connection ended, as an error (the stream ended without one).
    pub fn lost(&self) -> AgentError {
        match self {
            Connection::Quic(c) => match c.close_reason() {
                Some(e) => AgentError::Connection(crate::tls::explain(&e)),
                None => AgentError::Connection("the controller ended the stream".into()),
            },
            Connection::Tcp => AgentError::Connection("the controller ended the stream".into()),
        }
    }

    /// Closes the connection (on TCP, dropping the halves does it).
    pub fn close(&self, code: u32, reason: &[u8]) {
        if let Connection::Quic(c) = self {
            c.close(code.into(), reason);
        }
    }

    /// The transport's name, for logs and the local status.
    pub fn transport(&self) -> &'static str {
        match self {
            Connection::Quic(_) => "quic",
            Connection::Tcp => "tcp",
        }
    }
}

/// An HTTP proxy to tunnel through with `CONNECT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    /// `host:port` of the proxy.
    pub address: String,
    /// `user:password` from the URL, sent as Basic `Proxy-Authorization`.
    pub credentials: Option<String>,
}

impl Proxy {
    /// Reads `http://[user:password@]host[:port][/]` (no scheme means http; port 3128 by
    /// default, as squid). `None` for an empty text; an error for another scheme.
    pub fn parse(url: &str) -> Result<Option<Proxy>, AgentError> {
        let url = url.trim();
        if url.is_empty() {
            return Ok(None);
        }
        let rest = match url.split_once("://") {
            Some(("http", rest)) | Some(("HTTP", rest)) => rest,
            Some((scheme, _)) => {
                return Err(AgentError::Config(format!(
                    "proxy {url}: only http:// proxies are supported (the tunnel itself is TLS), not {scheme}://"
                )))
            }
            None => url,
        };
        let rest = rest.trim_end_matches('/');
        let (credentials, host) = match rest.rsplit_once('@') {
            Some((c, h)) => (Some(c.to_string()), h),
            None => (None, rest),
        };
        if host.is_empty() {
            return Err(AgentError::Config(format!("proxy {url}: no host")));
        }
        let has_port = host.rsplit_once(':').is_some_and(|(h, port)| {
            port.parse::<u16>().is_ok() && (!h.contains(':') || h.ends_with(']'))
        });
        let address = if has_port {
            host.to_string()
        } else {
            format!("{host}:3128")
        };
        Ok(Some(Proxy {
            address,
            credentials,
        }))
    }

    /// The proxy to use: the agent's setting when given, else `https_proxy` (or
    /// `HTTPS_PROXY`, then `all_proxy`) from the environment, unless `no_proxy` names the
    /// controller's host (or is `*`).
    pub fn for_agent(setting: &str, controller_host: &str) -> Result<Option<Proxy>, AgentError> {
        if !setting.trim().is_empty() {
            return Self::parse(setting);
        }
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let Some(url) = env("https_proxy")
            .or_else(|| env("HTTPS_PROXY"))
            .or_else(|| env("all_proxy"))
            .or_else(|| env("ALL_PROXY"))
        else {
            return Ok(None);
        };
        let no_proxy = env("no_proxy")
            .or_else(|| env("NO_PROXY"))
            .unwrap_or_default();
        let bypass = no_proxy.split(',').map(str::trim).any(|entry| {
            entry == "*"
                || (!entry.is_empty()
                    && (controller_host == entry.trim_start_matches('.')
                        || controller_host
                            .ends_with(&format!(".{}", entry.trim_start_matches('.')))))
        });
        if bypass {
            return Ok(None);
        }
        Self::parse(&url)
    }

    /// Opens a TCP connection to `target` through the proxy.
    async fn tunnel(&self, target: &str) -> Result<TcpStream, AgentError> {
        let failed =
            |what: String| AgentError::Connection(format!("proxy {}: {what}", self.address));
        let stream = TcpStream::connect(self.address.as_str())
            .await
            .map_err(|e| failed(format!("cannot connect: {e}")))?;
        let _ = stream.set_nodelay(true);
        let mut stream = tokio::io::BufReader::new(stream);
        let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some(credentials) = &self.credentials {
            use base64::Engine;
            let token = base64::engine::general_purpose::STANDARD.encode(credentials);
            request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
        }
        request.push_str("\r\n");
        stream
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .map_err(|e| failed(e.to_string()))?;
        // The answer's head, bounded: a status line, headers, an empty line. Each read is
        // bounded too: a line that never ends is not buffered past the limit.
        let mut status = String::new();
        let mut head_bytes = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            let room = (MAX_PROXY_HEAD_BYTES - head_bytes) as u64;
            let n = (&mut stream)
                .take(room)
                .read_line(&mut line)
                .await
                .map_err(|e| failed(format!("no proper answer to CONNECT ({e})")))?;
            head_bytes += n;
            if n == 0 || head_bytes >= MAX_PROXY_HEAD_BYTES {
                return Err(failed("no proper answer to CONNECT".into()));
            }
            if status.is_empty() {
                status = line.trim_end().to_string();
                continue;
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
        }
        let code = status.split_whitespace().nth(1).unwrap_or_default();
        if code != "200" {
            return Err(failed(format!("refused the tunnel to {target}: {status}")));
        }
        if !stream.buffer().is_empty() {
            return Err(failed("sent data before the tunnel was open".into()));
        }
        Ok(stream.into_inner())
    }
}

/// The head of a proxy's answer to `CONNECT`, at most.
const MAX_PROXY_HEAD_BYTES: usize = 16 * 1024;

/// TCP's own liveness, as close as it gets to QUIC's: probes after `idle` of silence, and a
/// connection whose data stays unacknowledged for `dead` is closed (instead of minutes of
/// retransmissions before the link notices a dead path).
pub fn keep_alive(stream: &TcpStream, idle: Duration, dead: Duration) {
    let socket = socket2::SockRef::from(stream);
    let probes = socket2::TcpKeepalive::new()
        .with_time(idle)
        .with_interval(idle)
        .with_retries(3);
    let _ = socket.set_tcp_keepalive(&probes);
    let _ = socket.set_tcp_user_timeout(Some(dead));
    let _ = stream.set_nodelay(true);
}

/// Connects over TLS on TCP to `target` (`ip:port`), through `proxy` when given, and
/// checks the ALPN; `timeout` bounds the whole. `liveness` is (keep-alive, idle timeout).
pub async fn connect_tcp(
    tls: Arc<rustls::ClientConfig>,
    server_name: &str,
    target: SocketAddr,
    proxy: Option<&Proxy>,
    timeout: Duration,
    liveness: (Duration, Duration),
) -> Result<(SendHalf, RecvHalf), AgentError> {
    let connect = async {
        let stream = match proxy {
            Some(p) => p.tunnel(&target.to_string()).await?,
            None => TcpStream::connect(target).await.map_err(|e| {
                AgentError::Connection(format!("cannot reach {target} over TCP: {e}"))
            })?,
        };
        keep_alive(&stream, liveness.0, liveness.1);
        let name = rustls::pki_types::ServerName::try_from(server_name.to_string())
            .map_err(|e| AgentError::Config(format!("server_name {server_name}: {e}")))?;
        let tls_stream = tokio_rustls::TlsConnector::from(tls)
            .connect(name, stream)
            .await
            .map_err(|e| {
                AgentError::Connection(format!("TLS over TCP to {target} refused: {e}"))
            })?;
        if tls_stream.get_ref().1.alpn_protocol() != Some(commune_protocol::ALPN) {
            return Err(AgentError::Connection(format!(
                "the server at {target} (TCP) does not speak the Commune protocol (ALPN commune/1)"
            )));
        }
        let (read, write) = tokio::io::split(tls_stream);
        Ok((SendHalf::Tcp(write), RecvHalf::Tcp(read)))
    };
    tokio::time::timeout(timeout, connect).await.map_err(|_| {
        AgentError::Connection(format!("no TLS-over-TCP answer from {target} in time"))
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A proxy on loopback that reads the request's head and answers `answer`, then keeps
    /// the connection open.
    async fn proxy_answering(answer: Vec<u8>) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut stream = tokio::io::BufReader::new(stream);
            let mut line = String::new();
            while stream.read_line(&mut line).await.unwrap_or(0) > 2 {
                line.clear();
            }
            let _ = stream.get_mut().write_all(&answer).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        Proxy::parse(&format!("http://{address}")).unwrap().unwrap()
    }

    async fn tunnel_error(answer: &[u8]) -> String {
        let proxy = proxy_answering(answer.to_vec()).await;
        match tokio::time::timeout(Duration::from_secs(10), proxy.tunnel("10.0.0.1:443")).await {
            Ok(Err(e)) => e.to_string(),
            Ok(Ok(_)) => panic!("a tunnel through a proxy answering {answer:?}"),
            Err(_) => panic!("no answer in time"),
        }
    }

    #[tokio::test]
    async fn a_proxy_answering_garbage_or_refusing_gets_a_clear_error() {
        let e = tunnel_error(b"SSH-2.0-OpenSSH_9.2\r\n\r\n").await;
        assert!(e.contains("refused the tunnel"), "{e}");
        let e = tunnel_error(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n").await;
        assert!(e.contains("407"), "{e}");
        let e = tunnel_error(b"HTTP/1.1 200 OK\r\n\r\nearly bytes").await;
        assert!(e.contains("before the tunnel was open"), "{e}");
        let e = tunnel_error(&[0xff, 0xfe, b'\n']).await;
        assert!(e.contains("no proper answer"), "{e}");
    }

    #[tokio::test]
    async fn a_proxy_head_that_never_ends_is_not_buffered_past_the_limit() {
        // One endless line, then headers without an end.
        let e = tunnel_error(&vec![b'a'; 4 * MAX_PROXY_HEAD_BYTES]).await;
        assert!(e.contains("no proper answer"), "{e}");
        let headers: Vec<u8> = b"HTTP/1.1 200 OK\r\n"
            .iter()
            .copied()
            .chain(std::iter::repeat_n(*b"X-Pad: 1\r\n", 4_000).flatten())
            .collect();
        let e = tunnel_error(&headers).await;
        assert!(e.contains("no proper answer"), "{e}");
    }

    #[test]
    fn proxy_urls_are_read_as_people_write_them() {
        let p = |u: &str| Proxy::parse(u).unwrap().unwrap();
        assert_eq!(
            p("http://proxy.ville.fr:8080").address,
            "proxy.ville.fr:8080"
        );
        assert_eq!(
            p("http://proxy.ville.fr:8080/").address,
            "proxy.ville.fr:8080"
        );
        assert_eq!(p("proxy.ville.fr").address, "proxy.ville.fr:3128");
        let with_user = p("http://mdh:s3cret@10.0.0.1:3128");
        assert_eq!(with_user.address, "10.0.0.1:3128");
        assert_eq!(with_user.credentials.as_deref(), Some("mdh:s3cret"));
        assert_eq!(Proxy::parse("").unwrap(), None);
        assert!(Proxy::parse("socks5://10.0.0.1:1080").is_err());
    }
}
