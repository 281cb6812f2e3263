//! Instants on the wire. The protocol never reads a clock: callers pass instants in.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC. Used for instants that cross the wire; durations
/// that decide anything on the agent are measured on its monotonic clock instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
#[serde(transparent)]
pub struct UtcMillis(pub i64);

impl UtcMillis {
    /// The instant `secs` seconds after this one (saturating).
    pub fn plus_secs(self, secs: i64) -> Self {
        UtcMillis(self.0.saturating_add(secs.saturating_mul(1000)))
    }

    /// Whole seconds since the epoch.
    pub fn as_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// From whole seconds since the epoch.
    pub fn from_secs(secs: i64) -> Self {
        UtcMillis(secs.saturating_mul(1000))
    }
}

impl std::fmt::Display for UtcMillis {
    /// RFC 3339 in UTC, to the second, computed without any time library.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.as_secs();
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60
        )
    }
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_rfc3339() {
        assert_eq!(UtcMillis(0).to_string(), "1970-01-01T00:00:00Z");
        // 2026-11-20 14:00:00 UTC
        assert_eq!(
            UtcMillis::from_secs(1_795_183_200).to_string(),
            "2026-11-20T14:00:00Z"
        );
        assert_eq!(UtcMillis(-1).to_string(), "1969-12-31T23:59:59Z");
    }
}
