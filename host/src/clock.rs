//! Wall-clock time as Aratta writes it: in records kept on disk (history, approvals, heal
//! cycles, error samples) and in wire formats (OpenAI's `created`). One place, so every
//! record agrees on the epoch and on what a clock before 1970 reads as (zero).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now.
pub fn unix_seconds() -> u64 {
    seconds_at(SystemTime::now())
}

/// Milliseconds since the Unix epoch, now: ids that sort in the order they were made.
pub fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Seconds since the Unix epoch at `at` (a file's or an adapter's load time).
pub fn seconds_at(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn readings_agree_and_the_past_before_1970_reads_as_zero() {
        let (s, ms) = (unix_seconds(), unix_millis());
        assert!(ms / 1000 >= s && ms / 1000 - s <= 1, "{s} s vs {ms} ms");
        assert_eq!(seconds_at(UNIX_EPOCH + Duration::from_secs(42)), 42);
        assert_eq!(seconds_at(UNIX_EPOCH - Duration::from_secs(1)), 0);
    }
}
