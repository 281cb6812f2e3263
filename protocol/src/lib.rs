//! The Commune wire protocol, shared by the agent and the controller.
//!
//! This crate is pure: it knows nothing about sockets, async runtimes, clocks or databases.
//! It defines every message exchanged over the one long-lived bidirectional stream of a
//! connection, the length-prefixed MessagePack framing with its hard size limit, the version
//! and capability handshake, the enrollment token format, and the plain data types (health,
//! inventory, schedule, commands) both ends agree on. Time always comes in as an argument.
#![deny(unreachable_pub)]
#![warn(missing_docs)]

pub mod enroll;
pub mod frame;
pub mod handoff;
pub mod health;
pub mod messages;
pub mod schedule;
pub mod slots;
pub mod tickets;
pub mod time;
pub mod version;
pub mod wol;

pub use frame::{
    decode_frame, encode_frame, ByteSource, FrameDecoder, FrameError, FrameReader, ReadError,
    MAX_FRAME_BYTES,
};
pub use messages::{AgentMessage, ControllerMessage};
pub use time::UtcMillis;

/// ALPN identifier negotiated by TLS; a peer that does not offer it is refused.
pub const ALPN: &[u8] = b"commune/1";

/// The TLS alert carried by a QUIC transport error code, if it is one: QUIC reports a TLS
/// alert as CRYPTO_ERROR `0x100 + alert` (RFC 9001 §4.8).
pub fn tls_alert(quic_error_code: u64) -> Option<u64> {
    quic_error_code.checked_sub(0x100).filter(|a| *a < 0x100)
}

/// The logical DNS name the fleet CA puts in the controller's certificate and that agents
/// verify. Agents reach the controller by whatever address their configuration says; the
/// name checked is always this one, because the CA is private to the fleet.
pub const CONTROLLER_SERVER_NAME: &str = "controller.commune.internal";

#[cfg(test)]
mod alerts {
    #[test]
    fn crypto_errors_carry_tls_alerts() {
        assert_eq!(super::tls_alert(0x100 + 48), Some(48));
        assert_eq!(super::tls_alert(0x0a), None);
        assert_eq!(super::tls_alert(0x200), None);
    }
}

#[cfg(test)]
mod round_trip {
    use super::*;
    use proptest::prelude::*;

    fn reencodes<T>(msg: &T) -> Result<(), TestCaseError>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        let frame = encode_frame(msg).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: T = decode_frame(&frame).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Compared as bytes so that NaN health figures still count as equal.
        prop_assert_eq!(encode_frame(&back).unwrap(), frame);
        Ok(())
    }

    proptest! {
        #[test]
        fn agent_messages_round_trip(msg in any::<AgentMessage>()) {
            reencodes(&msg)?;
        }

        #[test]
        fn controller_messages_round_trip(msg in any::<ControllerMessage>()) {
            reencodes(&msg)?;
        }

        #[test]
        fn any_bytes_decode_to_an_error_or_a_message(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = decode_frame::<AgentMessage>(&bytes);
            let _ = decode_frame::<ControllerMessage>(&bytes);
        }

        #[test]
        fn valid_frames_with_noise_appended_are_not_accepted_whole(msg in any::<AgentMessage>(), tail in proptest::collection::vec(any::<u8>(), 1..16)) {
            let mut frame = encode_frame(&msg).unwrap();
            frame.extend_from_slice(&tail);
            prop_assert!(decode_frame::<AgentMessage>(&frame).is_err());
        }
    }
}
