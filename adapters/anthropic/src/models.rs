//! `GET /v1/models` pages as SCRI model infos.
//!
//! A page is `{"data":[ModelInfo...],"has_more","first_id","last_id"}`; the next page is asked
//! for with `after_id=<last_id>`. Every Claude model takes tools, images and streams. Whether a
//! model reasons (extended thinking) comes from its `capabilities.thinking.supported` when the
//! API reports capabilities, otherwise from its id: Claude 3.7 Sonnet and every Claude 4 or
//! later model think.

use aratta_guest::json::parse;
use aratta_guest::{AdapterError, ModelCapabilities, ModelInfo};
use serde::Deserialize;
use serde_json::Value;

/// Models asked for per page: the API's maximum.
pub const PAGE_LIMIT: u32 = 1000;

/// Pages followed before giving up, so a server that always says `has_more` cannot loop us.
pub const MAX_PAGES: usize = 50;

#[derive(Deserialize)]
struct PageWire {
    data: Option<Vec<EntryWire>>,
    has_more: Option<bool>,
    last_id: Option<String>,
}

#[derive(Deserialize)]
struct EntryWire {
    id: Option<String>,
    created_at: Option<String>,
    max_input_tokens: Option<u64>,
    max_tokens: Option<u64>,
    /// Kept untyped: capability objects are new and growing, and a change in one of them
    /// must not make the whole list unreadable.
    capabilities: Option<Value>,
}

/// One page of models, and the cursor of the next page when there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The models on this page.
    pub models: Vec<ModelInfo>,
    /// `after_id` for the next page, when `has_more`.
    pub next: Option<String>,
}

/// The path (with query) of the page after `cursor`.
pub fn page_path(cursor: Option<&str>, limit: u32) -> String {
    match cursor {
        None => format!("/v1/models?limit={limit}"),
        Some(after) => format!("/v1/models?limit={limit}&after_id={}", query_escape(after)),
    }
}

fn query_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A `/v1/models` body.
pub fn page(body: &[u8]) -> Result<Page, AdapterError> {
    let wire: PageWire = parse(body)?;
    let data = wire
        .data
        .ok_or_else(|| AdapterError::missing_field("data", body))?;
    let models = data
        .into_iter()
        .enumerate()
        .map(|(i, entry)| model(i, entry, body))
        .collect::<Result<Vec<_>, _>>()?;
    let next = match (wire.has_more, wire.last_id) {
        (Some(true), Some(last)) if !last.is_empty() => Some(last),
        (Some(true), _) => return Err(AdapterError::missing_field("last_id", body)),
        _ => None,
    };
    Ok(Page { models, next })
}

fn model(i: usize, entry: EntryWire, body: &[u8]) -> Result<ModelInfo, AdapterError> {
    let id = entry
        .id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| AdapterError::missing_field(&format!("data[{i}].id"), body))?;
    let supported = |name: &str| {
        entry
            .capabilities
            .as_ref()
            .and_then(|c| c.get(name)?.get("supported")?.as_bool())
    };
    let reasoning = supported("thinking").unwrap_or_else(|| thinks_by_id(&id));
    let vision = supported("image_input").unwrap_or(true);
    Ok(ModelInfo {
        owned_by: Some("anthropic".to_string()),
        created: entry.created_at.as_deref().and_then(unix_seconds),
        capabilities: ModelCapabilities {
            context_window: entry.max_input_tokens.map(clamp),
            max_output_tokens: entry.max_tokens.map(clamp),
            tools: true,
            vision,
            streaming: true,
            embeddings: false,
            reasoning,
        },
        id,
    })
}

fn clamp(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Whether a model id names a model with extended thinking: `claude-3-7-*`, and
/// `claude-<family>-<major>…` or `claude-<major>-…` with a major version of 4 or more.
pub fn thinks_by_id(id: &str) -> bool {
    let mut parts = id.split('-');
    if parts.next() != Some("claude") {
        return false;
    }
    let (Some(first), Some(second)) = (parts.next(), parts.next()) else {
        return false;
    };
    let major = |s: &str| s.parse::<u32>().ok();
    match (major(first), major(second)) {
        (Some(3), Some(7)) => true,
        (Some(n), _) => n >= 4,
        (None, Some(n)) => n >= 4,
        (None, None) => false,
    }
}

/// Unix seconds of an RFC 3339 time (`2025-02-19T00:00:00Z`, fractions and offsets allowed).
/// The epoch itself (what the API sends for an unknown release date) and bad input are `None`.
pub fn unix_seconds(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |from: usize, to: usize| text.get(from..to)?.parse::<i64>().ok();
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hours: i64 = rest.get(1..3)?.parse().ok()?;
            let minutes: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
        _ => return None,
    };
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(60)
            - offset;
    u64::try_from(seconds).ok().filter(|&s| s > 0)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
