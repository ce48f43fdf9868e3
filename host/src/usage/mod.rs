//! Usage: one record per request the gateway answers or fails (who asked, with which client
//! key, what, who answered, how it ended, how long it took, the tokens and what they cost),
//! never its content. The gateway hands each record to the [`UsageRecorder`], which prices it
//! ([`Prices`]) and queues it for the store without waiting; `GET /api/v1/usage` and
//! `aratta usage` read the sums back.

mod prices;
mod recorder;

pub use prices::{Listed, Price, Prices};
pub use recorder::{RecorderSettings, UsageRecorder};

pub use crate::store::usage::{GroupBy, UsageGroup, UsageQuery, UsageRow};

/// A point in time as `since` / `until` take it: an RFC 3339 date-time
/// (`2026-12-01T00:00:00Z`), a date (`2026-12-01`, midnight UTC), or a duration back from `now_ms`
/// (`24h`, `7d`, `30m`). Unix milliseconds, or what is wrong.
pub fn parse_time(text: &str, now_ms: u64) -> Result<u64, String> {
    let text = text.trim();
    if let Ok(back) = humantime::parse_duration(text) {
        return Ok(now_ms.saturating_sub(back.as_millis() as u64));
    }
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_owned()
    };
    humantime::parse_rfc3339_weak(&full)
        .map(|t| {
            t.duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64)
        })
        .map_err(|_| {
            format!("`{text}` is not a time: use a duration back from now (24h, 7d), a date (2026-12-01) or an RFC 3339 date-time")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_durations_back_dates_or_date_times() {
        let now = 10 * 86_400_000;
        assert_eq!(parse_time("24h", now), Ok(9 * 86_400_000));
        assert_eq!(parse_time("1970-01-02", now), Ok(86_400_000));
        assert_eq!(
            parse_time("1970-01-02T01:00:00Z", now),
            Ok(86_400_000 + 3_600_000)
        );
        assert!(
            parse_time("yesterday", now)
                .unwrap_err()
                .contains("`yesterday`")
        );
    }
}
