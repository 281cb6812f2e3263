//! A seat speaking the protocol by hand with a real enrolled certificate: the hostile
//! suites use it to do what the real agent never does (stop reading, send odd values).

use commune_agent::link::FrameReader;
use commune_agent::AgentConfig;
use commune_protocol::messages::{AgentMessage, ControllerMessage, Hello, Welcome};
use commune_protocol::version::VersionRange;

/// One authenticated connection and its stream, after the Welcome.
pub struct RawSeat {
    /// The client endpoint (kept open with the connection).
    pub endpoint: quinn::Endpoint,
    /// The connection.
    pub conn: quinn::Connection,
    /// The sending half of the stream.
    pub send: quinn::SendStream,
    /// The receiving half.
    pub reader: FrameReader,
    /// What the controller said first.
    pub welcome: Welcome,
}

impl RawSeat {
    /// Connects as the enrolled agent of `config` and exchanges Hello and Welcome,
    /// announcing what this build's agent announces of ticket sets (parts).
    pub async fn connect(config: &AgentConfig) -> RawSeat {
        Self::connect_with(
            config,
            vec![commune_protocol::version::capability::TICKET_PARTS.into()],
        )
        .await
    }

    /// [`RawSeat::connect`] announcing `capabilities` (an older agent announces fewer).
    pub async fn connect_with(config: &AgentConfig, capabilities: Vec<String>) -> RawSeat {
        let client = commune_agent::tls::client_config(config).expect("client configuration");
        let (endpoint, conn) = commune_agent::link::connect(config, client)
            .await
            .expect("connect as the seat");
        let (mut send, recv) = conn.open_bi().await.expect("open the stream");
        let mut reader = FrameReader::new(recv);
        let hello = AgentMessage::Hello(Hello {
            protocol: VersionRange::CURRENT,
            agent_version: "raw".into(),
            capabilities,
            outbox_pending: 0,
        });
        write(&mut send, &hello).await;
        let welcome = match reader.next::<ControllerMessage>().await {
            Ok(Some(ControllerMessage::Welcome(w))) => w,
            other => panic!("expected a Welcome, got {other:?}"),
        };
        RawSeat {
            endpoint,
            conn,
            send,
            reader,
            welcome,
        }
    }

    /// Sends one message.
    pub async fn send(&mut self, msg: &AgentMessage) {
        write(&mut self.send, msg).await;
    }

    /// The next message from the controller (`None` when the stream ends).
    pub async fn recv(&mut self) -> Option<ControllerMessage> {
        self.reader.next::<ControllerMessage>().await.ok().flatten()
    }
}

async fn write(send: &mut quinn::SendStream, msg: &AgentMessage) {
    let frame = commune_protocol::encode_frame(msg).expect("encode");
    send.write_all(&frame).await.expect("send a frame");
}
