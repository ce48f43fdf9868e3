//! OpenAI's errors, classified by what their bodies say rather than by status alone.
//!
//! OpenAI answers `{"error":{"message","type","param","code"}}`. The SDK already maps the
//! status (429 rate-limited, 401/403 unauthorized, 400/404 invalid-request, 503 overloaded,
//! 5xx upstream); this refines it:
//!
//! | body | case | why |
//! | --- | --- | --- |
//! | 429, `code`/`type` `insufficient_quota` | `unauthorized` | the account is out of credit or over its budget: not transient, retrying cannot help until the operator fixes billing; like a revoked key it should open the breaker and fall back |
//! | 429 `rate_limit_exceeded` without `retry-after` | `rate-limited` with the wait from the message ("Please try again in 1.896s") | OpenAI often sends the wait only in the text |
//! | an error inside a 200 stream (`data: {"error":…}`, no status) | by `code`/`type`: `rate_limit_exceeded` → `rate-limited`, `insufficient_quota` → `unauthorized`, `invalid_request_error` / `context_length_exceeded` → `invalid-request`, others `upstream` | |
//!
//! Everything else keeps the SDK's case; the status and raw body are always kept.

use aratta_guest::{AdapterError, ErrorDetail, RateLimit};
use serde_json::Value;

/// What an OpenAI error body says.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ErrorBody {
    /// `error.code` (e.g. `insufficient_quota`, `context_length_exceeded`).
    pub code: Option<String>,
    /// `error.type` (e.g. `invalid_request_error`, `insufficient_quota`, `tokens`).
    pub kind: Option<String>,
    /// `error.message`.
    pub message: Option<String>,
}

impl ErrorBody {
    /// Read `body`; fields that are absent (or a body that is not JSON) stay `None`.
    pub fn parse(body: &str) -> Self {
        let Ok(value) = serde_json::from_str::<Value>(body) else {
            return ErrorBody::default();
        };
        let error = value.get("error").unwrap_or(&value);
        let field = |name: &str| error.get(name).and_then(Value::as_str).map(str::to_string);
        ErrorBody {
            code: field("code"),
            kind: field("type"),
            message: field("message"),
        }
    }

    fn is(&self, what: &str) -> bool {
        self.code.as_deref() == Some(what) || self.kind.as_deref() == Some(what)
    }
}

/// The error, reclassified by what OpenAI's body says (see the module table).
pub fn classify(error: AdapterError) -> AdapterError {
    let body = ErrorBody::parse(error.detail().body.as_deref().unwrap_or(""));
    match error {
        AdapterError::RateLimited(r) if body.is("insufficient_quota") => quota(r.detail),
        AdapterError::RateLimited(mut r) => {
            if r.retry_after_ms.is_none() {
                r.retry_after_ms = body.message.as_deref().and_then(retry_hint_ms);
            }
            AdapterError::RateLimited(r)
        }
        // An error reported inside a 200 response or stream carries no status.
        AdapterError::Upstream(d) if d.status.is_none() => {
            if body.is("insufficient_quota") {
                quota(d)
            } else if body.is("rate_limit_exceeded") {
                AdapterError::RateLimited(RateLimit {
                    retry_after_ms: body.message.as_deref().and_then(retry_hint_ms),
                    detail: d,
                })
            } else if body.is("invalid_request_error") || body.is("context_length_exceeded") {
                AdapterError::InvalidRequest(d)
            } else {
                AdapterError::Upstream(d)
            }
        }
        other => other,
    }
}

fn quota(detail: ErrorDetail) -> AdapterError {
    AdapterError::Unauthorized(ErrorDetail {
        message: format!(
            "OpenAI quota exhausted (insufficient_quota): the account has no credit left or \
             reached its budget, which retrying does not fix; check the plan and billing. {}",
            detail.message
        ),
        ..detail
    })
}

/// The wait OpenAI names in a rate-limit message ("Please try again in 1.896s", "in 20ms",
/// "in 6m0s", "in 1h2m3s"), in milliseconds, rounded up.
pub fn retry_hint_ms(message: &str) -> Option<u64> {
    let rest = &message[message.find("try again in ")? + "try again in ".len()..];
    let token: &str = rest
        .split(|c: char| c.is_whitespace() || c == ',')
        .next()?
        .trim_end_matches('.');
    let mut total_ms = 0.0_f64;
    let mut number = String::new();
    let mut chars = token.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let unit = match (c, chars.peek()) {
            ('m', Some('s')) => {
                chars.next();
                1.0
            }
            ('h', _) => 3_600_000.0,
            ('m', _) => 60_000.0,
            ('s', _) => 1000.0,
            _ => return None,
        };
        total_ms += number.parse::<f64>().ok()? * unit;
        number.clear();
        any = true;
    }
    // Decimal seconds are not exact in binary: 1.896 s must read as 1896 ms, not 1897.
    (any && number.is_empty() && total_ms.is_finite())
        .then(|| (total_ms - 1e-6).ceil().max(0.0) as u64)
}
