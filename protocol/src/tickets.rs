//! Free-access tickets: anonymous random codes, and the one way both ends normalise and
//! hash them. Only hashes are stored and sent; the code itself exists on paper and in the
//! visitor's typing.

use crate::messages::{TicketHash, TicketSet};
use crate::UtcMillis;

/// Characters of a code: capitals and digits without look-alikes (no 0/O/Q/D, 1/I/L/J,
/// 2/Z, 5/S, 6/G, 8/B, U/V).
pub const ALPHABET: &[u8] = b"ACEFHKMNPRTWXY3479";

/// Length of a code, without its separator (18^8 ≈ 1.1 × 10^10 codes).
pub const CODE_LEN: usize = 8;

/// A code from `CODE_LEN` random indexes (each taken modulo the alphabet's size), printed
/// as two groups of four: `K7MN-3XPA`.
pub fn format_code(random: &[u8; CODE_LEN]) -> String {
    let chars: String = random
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// What the visitor typed, reduced to the code's characters: capitals, no spaces or
/// dashes. `None` when it cannot be a code (wrong length or a character not in the
/// alphabet), so a typo gets its own message.
pub fn normalize(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// Hex SHA-256 of a normalised code.
pub fn ticket_hash(normalized: &str) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        normalized.as_bytes(),
    ))
}

/// Tickets in one part of a set at most: 4,096 tickets encode to about 450 KiB, well within
/// [`crate::MAX_FRAME_BYTES`] (checked by a test with the longest values).
pub const TICKETS_PER_PART: usize = 4_096;

/// Parts of one set at most (a site's set is 10,000 tickets per batch, a few batches).
pub const MAX_PARTS: u32 = 256;

impl TicketSet {
    /// The set as parts of at most `per_part` tickets; a set that fits is one whole part.
    pub fn into_parts(self, per_part: usize) -> Vec<TicketSet> {
        let per_part = per_part.max(1);
        if self.tickets.len() <= per_part {
            return vec![TicketSet {
                part: 0,
                parts: 0,
                ..self
            }];
        }
        let chunks: Vec<Vec<TicketHash>> = self
            .tickets
            .chunks(per_part)
            .map(<[TicketHash]>::to_vec)
            .collect();
        let parts = u32::try_from(chunks.len()).unwrap_or(u32::MAX);
        chunks
            .into_iter()
            .zip(0..)
            .map(|(tickets, part)| TicketSet {
                generated_at: self.generated_at,
                tickets,
                part,
                parts,
            })
            .collect()
    }
}

/// Gathers the parts of a ticket set; a set is applied only whole, so a seat never holds
/// half of its site's tickets. A part of a newer set drops an unfinished older one.
#[derive(Debug, Default)]
pub struct TicketSetParts {
    generated_at: Option<UtcMillis>,
    parts: Vec<Option<Vec<TicketHash>>>,
}

impl TicketSetParts {
    /// Takes one message; returns the whole set once every part of it has come.
    /// Parts out of range, or announcing more than [`MAX_PARTS`], are ignored.
    pub fn add(&mut self, set: TicketSet) -> Option<TicketSet> {
        if set.parts <= 1 {
            *self = TicketSetParts::default();
            return Some(TicketSet {
                part: 0,
                parts: 0,
                ..set
            });
        }
        if set.parts > MAX_PARTS || set.part >= set.parts {
            return None;
        }
        let count = set.parts as usize;
        if self.generated_at != Some(set.generated_at) || self.parts.len() != count {
            self.generated_at = Some(set.generated_at);
            self.parts = vec![None; count];
        }
        self.parts[set.part as usize] = Some(set.tickets);
        if self.parts.iter().any(Option::is_none) {
            return None;
        }
        let tickets = std::mem::take(&mut self.parts)
            .into_iter()
            .flatten()
            .flatten()
            .collect();
        self.generated_at = None;
        Some(TicketSet {
            generated_at: set.generated_at,
            tickets,
            part: 0,
            parts: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::ControllerMessage;

    fn set(n: usize, at: i64) -> TicketSet {
        TicketSet {
            generated_at: UtcMillis(at),
            tickets: (0..n)
                .map(|i| TicketHash {
                    hash: format!("{i:064x}"),
                    minutes: 24 * 60,
                    valid_until: UtcMillis(i64::MAX),
                    used: true,
                })
                .collect(),
            part: 0,
            parts: 0,
        }
    }

    #[test]
    fn a_full_part_fits_in_a_frame() {
        let part = set(TICKETS_PER_PART, i64::MAX);
        let frame = crate::encode_frame(&ControllerMessage::Tickets(TicketSet {
            part: MAX_PARTS - 1,
            parts: MAX_PARTS,
            ..part
        }))
        .expect("a part encodes");
        assert!(
            frame.len() < crate::MAX_FRAME_BYTES / 2,
            "{} bytes",
            frame.len()
        );
    }

    #[test]
    fn parts_are_applied_whole_and_in_any_order() {
        let whole = set(10_000, 7);
        let mut parts = whole.clone().into_parts(TICKETS_PER_PART);
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.parts == 3));
        let mut gather = TicketSetParts::default();
        // An unfinished older set is dropped by a newer one.
        assert_eq!(
            gather.add(set(20_000, 3).into_parts(TICKETS_PER_PART)[0].clone()),
            None
        );
        parts.reverse();
        let last = parts.pop().unwrap();
        for p in parts {
            assert_eq!(gather.add(p), None, "not whole yet");
        }
        let done = gather.add(last).expect("whole");
        assert_eq!(done.tickets, whole.tickets);
        assert_eq!((done.part, done.parts), (0, 0));
        // A small set is one whole message, as before parts existed.
        let small = set(3, 9).into_parts(TICKETS_PER_PART);
        assert_eq!(small.len(), 1);
        assert_eq!(gather.add(small[0].clone()), Some(set(3, 9)));
    }

    #[test]
    fn parts_out_of_range_are_ignored() {
        let mut gather = TicketSetParts::default();
        let mut p = set(1, 1);
        p.parts = 2;
        p.part = 2;
        assert_eq!(gather.add(p.clone()), None);
        p.parts = MAX_PARTS + 1;
        p.part = 0;
        assert_eq!(gather.add(p), None);
    }

    #[test]
    fn codes_are_readable_and_typing_variants_hash_alike() {
        let code = format_code(&[0, 1, 2, 3, 4, 5, 6, 200]);
        assert_eq!(code.len(), 9);
        let typed = format!(" {} ", code.to_lowercase().replace('-', " "));
        assert_eq!(
            normalize(&typed).as_deref(),
            Some(code.replace('-', "").as_str())
        );
        assert_eq!(
            ticket_hash(&normalize(&code).unwrap()),
            ticket_hash(&normalize(&typed).unwrap())
        );
        assert_eq!(normalize("K7MN-3XP"), None, "too short");
        assert_eq!(normalize("K0MN-3XPA"), None, "0 is not in the alphabet");
    }

    #[test]
    fn no_look_alikes() {
        for c in b"0OQD1ILJ2Z5S6G8BUV" {
            assert!(!ALPHABET.contains(c), "{}", *c as char);
        }
    }
}
