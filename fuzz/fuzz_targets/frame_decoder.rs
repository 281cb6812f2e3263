//! Feeds arbitrary bytes to the frame decoder, as a hostile or broken peer would.
//!
//! The first input byte picks where the rest is cut in two, so the fuzzer explores frames
//! arriving in pieces. Beyond "no panic", it checks what the session code relies on:
//! - whatever decodes re-encodes, and that re-encoding decodes back to the same bytes;
//! - where the stream is cut changes nothing, neither the messages nor the error;
//! - a smaller limit only ever stops the stream earlier (with `TooLarge`), it never makes a
//!   different message come out;
//! - `decode_frame` accepts exactly what the decoder yields as one frame and nothing more.
#![no_main]

use commune_protocol::frame::encode_body;
use commune_protocol::{
    decode_frame, encode_frame, AgentMessage, ControllerMessage, FrameDecoder, FrameError,
    MAX_FRAME_BYTES,
};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Small enough that many fuzzed prefixes trip it, large enough for a heartbeat to fit.
const SMALL_LIMIT: usize = 64;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, stream)) = data.split_first() else {
        return;
    };
    let cut = usize::from(selector) % (stream.len() + 1);
    let (head, tail) = stream.split_at(cut);

    check::<AgentMessage>(stream, head, tail);
    check::<ControllerMessage>(stream, head, tail);
});

/// What a decoder made of a stream: canonical re-encodings of the messages, in order, and
/// how the stream ended.
#[derive(Debug, PartialEq)]
struct Outcome {
    frames: Vec<Vec<u8>>,
    end: Result<(), FrameError>,
}

fn check<T>(stream: &[u8], head: &[u8], tail: &[u8])
where
    T: Serialize + DeserializeOwned,
{
    let whole = drive::<T>(&[stream], MAX_FRAME_BYTES);
    let split = drive::<T>(&[head, tail], MAX_FRAME_BYTES);
    assert_eq!(split, whole, "cutting the stream changed what was decoded");

    let small = drive::<T>(&[head, tail], SMALL_LIMIT);
    match &small.end {
        Err(FrameError::TooLarge { max, .. }) if *max == SMALL_LIMIT => assert!(
            whole.frames.starts_with(&small.frames),
            "a smaller limit produced different messages before refusing"
        ),
        _ => assert_eq!(
            small, whole,
            "a limit that was never hit changed the outcome"
        ),
    }

    let single_frame = whole.frames.len() == 1 && whole.end.is_ok();
    match decode_frame::<T>(stream) {
        Ok(msg) => {
            assert!(
                single_frame,
                "decode_frame accepted what is not exactly one frame"
            );
            assert_eq!(canonical(&msg), whole.frames[0]);
        }
        Err(_) => assert!(!single_frame, "decode_frame refused one whole valid frame"),
    }
}

/// Pushes `parts` one after the other, draining messages after each, as the session loop
/// does; stops at the first error, since a session closes the connection there.
fn drive<T>(parts: &[&[u8]], max: usize) -> Outcome
where
    T: Serialize + DeserializeOwned,
{
    let mut decoder = FrameDecoder::new(max);
    let mut frames = Vec::new();
    for part in parts {
        if let Err(e) = decoder.push(part) {
            return Outcome {
                frames,
                end: Err(e),
            };
        }
        loop {
            match decoder.next_message::<T>() {
                Ok(Some(msg)) => frames.push(canonical(&msg)),
                Ok(None) => break,
                Err(e) => {
                    return Outcome {
                        frames,
                        end: Err(e),
                    }
                }
            }
        }
    }
    let end = decoder.finish();
    Outcome { frames, end }
}

/// Re-encodes a decoded message and checks that the re-encoding is a fixed point. Compared
/// as bytes rather than with `PartialEq`, because a NaN health figure is not equal to itself.
fn canonical<T>(msg: &T) -> Vec<u8>
where
    T: Serialize + DeserializeOwned,
{
    let frame = match encode_frame(msg) {
        Ok(frame) => frame,
        // A peer may send structs as arrays, which grow when re-encoded with field names, so
        // a body under the limit can re-encode over it. Not a decoder bug; unreachable at
        // libFuzzer's default input size, but a long `-max_len` run must not report it.
        Err(FrameError::TooLarge { .. }) => {
            return encode_body(msg).expect("a message over the limit still encodes as a body")
        }
        Err(e) => panic!("a decoded message does not re-encode: {e}"),
    };
    let back: T = match decode_frame(&frame) {
        Ok(back) => back,
        Err(e) => panic!("a re-encoded message does not decode: {e}"),
    };
    let again = match encode_frame(&back) {
        Ok(again) => again,
        Err(e) => panic!("a twice-decoded message does not re-encode: {e}"),
    };
    assert_eq!(again, frame, "re-encoding is not stable");
    frame
}
