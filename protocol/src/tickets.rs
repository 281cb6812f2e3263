//! Free-access tickets: anonymous random codes, and the one way both ends normalise and
//! hash them. Only hashes are stored and sent; the code itself exists on paper and in the
//! visitor's typing.

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

#[cfg(test)]
mod tests {
    use super::*;

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
