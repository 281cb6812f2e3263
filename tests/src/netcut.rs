//! A UDP proxy that can cut the network, for tests of what agents and the controller do
//! when the path between them dies without a word.
//!
//! `cut` drops every datagram in both directions, like a pulled cable: no ICMP, no close,
//! so each side only learns it from its own timeouts. `restore` lets traffic flow again
//! through the same mappings, so QUIC connections that have not timed out yet survive.
//!
//! Like a NAT, each client address gets its own upstream socket, so the upstream sees one
//! peer per client and its replies can be sent back to the right one; a task per mapping
//! relays them through the listening socket.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::task::{JoinHandle, JoinSet};

/// The largest UDP payload; QUIC sends far less, but a truncated datagram would be a bug
/// of the proxy that looks like a bug of the code under test.
const MAX_DATAGRAM: usize = 65_535;

/// A running proxy. Dropping it stops its tasks.
#[derive(Debug)]
pub struct UdpProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

#[derive(Debug, Default)]
struct Shared {
    cut: AtomicBool,
    dropped: AtomicU64,
}

impl Shared {
    /// Whether a datagram may pass now; counts it if not.
    fn passes(&self) -> bool {
        if self.cut.load(Ordering::SeqCst) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            false
        } else {
            true
        }
    }
}

impl UdpProxy {
    /// Starts a proxy on a loopback port that relays to `upstream`.
    pub async fn start(upstream: SocketAddr) -> io::Result<UdpProxy> {
        let listener = Arc::new(UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?);
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let task = tokio::spawn(relay_from_clients(listener, upstream, shared.clone()));
        Ok(UdpProxy { addr, shared, task })
    }

    /// Where clients send to reach the upstream.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// From now on every datagram, in both directions, is silently dropped.
    pub fn cut(&self) {
        self.shared.cut.store(true, Ordering::SeqCst);
    }

    /// Traffic flows again; existing client mappings keep working.
    pub fn restore(&self) {
        self.shared.cut.store(false, Ordering::SeqCst);
    }

    /// Datagrams dropped so far, both directions together.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for UdpProxy {
    fn drop(&mut self) {
        // The mapping tasks live in a JoinSet owned by this task: dropping it aborts them.
        self.task.abort();
    }
}

/// Receives from clients and sends upstream, creating a mapping for each new client.
async fn relay_from_clients(listener: Arc<UdpSocket>, upstream: SocketAddr, shared: Arc<Shared>) {
    let mut mappings: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
    let mut replies = JoinSet::new();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (len, client) = match listener.recv_from(&mut buf).await {
            Ok(received) => received,
            // An ICMP error for an earlier reply to a client that went away; not fatal.
            Err(e) if is_transient(&e) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "netcut proxy: listening socket failed");
                return;
            }
        };
        if !shared.passes() {
            continue;
        }
        let socket = match mappings.get(&client) {
            Some(socket) => socket.clone(),
            None => match open_mapping(upstream).await {
                Ok(socket) => {
                    replies.spawn(relay_to_client(
                        socket.clone(),
                        listener.clone(),
                        client,
                        shared.clone(),
                    ));
                    mappings.insert(client, socket.clone());
                    socket
                }
                Err(e) => {
                    tracing::warn!(error = %e, %client, "netcut proxy: no upstream socket");
                    continue;
                }
            },
        };
        // Send errors (upstream not listening yet) are what a real network would hide too.
        let _ = socket.send(&buf[..len]).await;
    }
}

/// A socket for one client, connected to the upstream so that only its replies arrive.
async fn open_mapping(upstream: SocketAddr) -> io::Result<Arc<UdpSocket>> {
    let local: IpAddr = match (upstream.ip().is_loopback(), upstream) {
        (true, SocketAddr::V4(_)) => Ipv4Addr::LOCALHOST.into(),
        (true, SocketAddr::V6(_)) => Ipv6Addr::LOCALHOST.into(),
        (false, SocketAddr::V4(_)) => Ipv4Addr::UNSPECIFIED.into(),
        (false, SocketAddr::V6(_)) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let socket = UdpSocket::bind((local, 0)).await?;
    socket.connect(upstream).await?;
    Ok(Arc::new(socket))
}

/// Relays the upstream's replies on one mapping back to its client.
async fn relay_to_client(
    socket: Arc<UdpSocket>,
    listener: Arc<UdpSocket>,
    client: SocketAddr,
    shared: Arc<Shared>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let len = match socket.recv(&mut buf).await {
            Ok(len) => len,
            // The upstream is not listening (yet, or any more): keep the mapping, as a NAT would.
            Err(e) if is_transient(&e) => continue,
            Err(e) => {
                tracing::warn!(error = %e, %client, "netcut proxy: upstream socket failed");
                return;
            }
        };
        if !shared.passes() {
            continue;
        }
        let _ = listener.send_to(&buf[..len], client).await;
    }
}

/// Errors a UDP socket reports for an ICMP message about an earlier datagram.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A UDP echo server on loopback; stops when the returned task is aborted.
    async fn echo_server() -> (SocketAddr, JoinHandle<()>) {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = socket.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; MAX_DATAGRAM];
            while let Ok((len, from)) = socket.recv_from(&mut buf).await {
                let _ = socket.send_to(&buf[..len], from).await;
            }
        });
        (addr, task)
    }

    async fn client(proxy: &UdpProxy) -> UdpSocket {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        socket.connect(proxy.addr()).await.unwrap();
        socket
    }

    async fn recv_within(socket: &UdpSocket, wait: Duration) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        match tokio::time::timeout(wait, socket.recv(&mut buf)).await {
            Ok(Ok(len)) => Some(buf[..len].to_vec()),
            Ok(Err(e)) => panic!("recv failed: {e}"),
            Err(_) => None,
        }
    }

    async fn until_dropped(proxy: &UdpProxy, n: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while proxy.dropped() < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "dropped {} datagrams, expected {n}",
                proxy.dropped()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    const LONG: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn datagrams_pass_are_dropped_while_cut_and_pass_again_after_restore() {
        let (echo, server) = echo_server().await;
        let proxy = UdpProxy::start(echo).await.unwrap();
        let client = client(&proxy).await;

        client.send(b"one").await.unwrap();
        assert_eq!(
            recv_within(&client, LONG).await.as_deref(),
            Some(&b"one"[..])
        );

        proxy.cut();
        client.send(b"lost").await.unwrap();
        until_dropped(&proxy, 1).await;
        assert_eq!(
            recv_within(&client, Duration::from_millis(300)).await,
            None,
            "a datagram crossed a cut network"
        );
        assert_eq!(proxy.dropped(), 1);

        proxy.restore();
        client.send(b"two").await.unwrap();
        // The first thing back is the reply to "two": "lost" never reached the echo server.
        assert_eq!(
            recv_within(&client, LONG).await.as_deref(),
            Some(&b"two"[..])
        );
        assert_eq!(proxy.dropped(), 1);
        server.abort();
    }

    #[tokio::test]
    async fn replies_from_upstream_are_dropped_while_cut() {
        // The test plays the upstream itself, to send while the proxy is cut.
        let upstream = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let proxy = UdpProxy::start(upstream.local_addr().unwrap())
            .await
            .unwrap();
        let client = client(&proxy).await;

        client.send(b"hello").await.unwrap();
        let mut buf = [0u8; 64];
        let (len, mapping) = tokio::time::timeout(LONG, upstream.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..len], b"hello");

        proxy.cut();
        upstream.send_to(b"lost", mapping).await.unwrap();
        until_dropped(&proxy, 1).await;
        proxy.restore();
        upstream.send_to(b"back", mapping).await.unwrap();
        assert_eq!(
            recv_within(&client, LONG).await.as_deref(),
            Some(&b"back"[..])
        );
        assert_eq!(proxy.dropped(), 1);
    }

    #[tokio::test]
    async fn each_client_gets_its_own_replies() {
        let (echo, server) = echo_server().await;
        let proxy = UdpProxy::start(echo).await.unwrap();
        let mut clients = Vec::new();
        for _ in 0..60 {
            clients.push(client(&proxy).await);
        }
        for (i, c) in clients.iter().enumerate() {
            c.send(format!("client {i}").as_bytes()).await.unwrap();
        }
        for (i, c) in clients.iter().enumerate() {
            let got = recv_within(c, LONG).await.expect("no reply");
            assert_eq!(String::from_utf8(got).unwrap(), format!("client {i}"));
        }
        server.abort();
    }

    #[tokio::test]
    async fn dropping_the_proxy_stops_its_tasks() {
        let (echo, server) = echo_server().await;
        let proxy = UdpProxy::start(echo).await.unwrap();
        let client = client(&proxy).await;
        client.send(b"one").await.unwrap();
        assert!(recv_within(&client, LONG).await.is_some());

        let addr = proxy.addr();
        drop(proxy);
        // The listening socket is shared with every mapping task: the port is free again
        // only once all of them are gone.
        let deadline = tokio::time::Instant::now() + LONG;
        while UdpSocket::bind(addr).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "proxy tasks still running"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.abort();
    }
}
