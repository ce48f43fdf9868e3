//! Google's errors as SCRI `adapter-error`s.
//!
//! Google answers failures with `{"error": {"code", "message", "status", "details"}}` (the
//! `google.rpc.Status` shape). The HTTP status decides the case, with two refinements from the
//! body: an API key Google rejects comes back as `400 INVALID_ARGUMENT` with an `ErrorInfo`
//! reason of `API_KEY_INVALID`, which is `unauthorized`, not the caller's malformed request; and
//! a 429's `RetryInfo.retryDelay` (`"34s"`) says when to retry, which Google does not put in a
//! `retry-after` header. The raw status and body are always kept.
//!
//! | HTTP | `status` | SCRI |
//! | --- | --- | --- |
//! | 400 | `INVALID_ARGUMENT`, `FAILED_PRECONDITION` | `invalid-request` |
//! | 400 | reason `API_KEY_INVALID` / `API_KEY_EXPIRED` | `unauthorized` |
//! | 401, 403 | `UNAUTHENTICATED`, `PERMISSION_DENIED` | `unauthorized` |
//! | 404 | `NOT_FOUND` | `invalid-request` |
//! | 429 | `RESOURCE_EXHAUSTED` | `rate-limited` (+ `retryDelay` or `retry-after`) |
//! | 500 | `INTERNAL` | `upstream` |
//! | 503 | `UNAVAILABLE` | `overloaded` |
//! | 504 | `DEADLINE_EXCEEDED` | `timeout` |

use serde_json::Value;

use aratta_guest::error::truncate_body;
use aratta_guest::http::Response;
use aratta_guest::{AdapterError, ErrorDetail, RateLimit};

/// What a Google error body says.
#[derive(Debug, Default, PartialEq)]
pub struct GoogleError {
    /// `error.code`, an HTTP status.
    pub code: Option<u16>,
    /// `error.status`, e.g. `RESOURCE_EXHAUSTED`.
    pub status: Option<String>,
    /// `error.message`.
    pub message: Option<String>,
    /// The `reason`s of `ErrorInfo` details, e.g. `API_KEY_INVALID`.
    pub reasons: Vec<String>,
    /// `RetryInfo.retryDelay` in milliseconds.
    pub retry_delay_ms: Option<u64>,
}

impl GoogleError {
    /// Read `body` (`{"error": {...}}`, or a bare error object as in some stream chunks).
    pub fn parse(body: &[u8]) -> GoogleError {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return GoogleError::default();
        };
        // A JSON array of one error also occurs (responses to the non-SSE stream endpoint).
        let value = match value {
            Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
            other => other,
        };
        Self::from_value(value.get("error").unwrap_or(&value))
    }

    /// Read an `error` object.
    pub fn from_value(err: &Value) -> GoogleError {
        let details = err.get("details").and_then(Value::as_array);
        let details = details.map(Vec::as_slice).unwrap_or_default();
        GoogleError {
            code: err
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok()),
            status: err
                .get("status")
                .and_then(Value::as_str)
                .map(str::to_string),
            message: err
                .get("message")
                .and_then(Value::as_str)
                .map(|m| m.chars().take(300).collect()),
            reasons: details
                .iter()
                .filter_map(|d| d.get("reason").and_then(Value::as_str))
                .map(str::to_string)
                .collect(),
            retry_delay_ms: details
                .iter()
                .filter_map(|d| d.get("retryDelay").and_then(Value::as_str))
                .find_map(duration_ms),
        }
    }
}

/// A protobuf `Duration` in JSON (`"34s"`, `"0.5s"`, `"1.000340s"`) in milliseconds.
pub fn duration_ms(text: &str) -> Option<u64> {
    let secs: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| (secs * 1000.0).ceil() as u64)
}

/// The error for HTTP `status` with `body`; `retry_after_ms` comes from the `retry-after`
/// header and is used when the body has no `RetryInfo`.
pub fn for_status(status: u16, retry_after_ms: Option<u64>, body: &[u8]) -> AdapterError {
    classify(status, &GoogleError::parse(body), retry_after_ms, body)
}

/// The error for an `error` object found inside a 200 body or a stream chunk; its `code` is
/// the HTTP status it would have had.
pub fn embedded(error: &Value, raw: &[u8]) -> AdapterError {
    let parsed = GoogleError::from_value(error);
    match parsed.code.filter(|c| (400..600).contains(c)) {
        Some(code) => classify(code, &parsed, None, raw),
        None => AdapterError::Upstream(
            ErrorDetail::new(format!(
                "Gemini reported an error{}",
                parsed.message.map(|m| format!(": {m}")).unwrap_or_default()
            ))
            .with_body(raw),
        ),
    }
}

fn classify(
    status: u16,
    err: &GoogleError,
    retry_after_ms: Option<u64>,
    body: &[u8],
) -> AdapterError {
    let mut message = format!("HTTP {status} from Gemini");
    if let Some(s) = &err.status {
        message.push_str(&format!(" ({s})"));
    }
    if let Some(m) = &err.message {
        message.push_str(&format!(": {m}"));
    }
    let detail = ErrorDetail {
        message,
        status: Some(status),
        body: Some(truncate_body(body)),
    };
    let bad_key = err
        .reasons
        .iter()
        .any(|r| r == "API_KEY_INVALID" || r == "API_KEY_EXPIRED");
    let google_status = err.status.as_deref().unwrap_or_default();
    match status {
        _ if bad_key => AdapterError::Unauthorized(detail),
        429 => AdapterError::RateLimited(RateLimit {
            retry_after_ms: err.retry_delay_ms.or(retry_after_ms),
            detail,
        }),
        401 | 403 => AdapterError::Unauthorized(detail),
        400 | 404 | 409 | 413 | 422 => AdapterError::InvalidRequest(detail),
        408 | 504 => AdapterError::Timeout(detail),
        503 | 529 => AdapterError::Overloaded(detail),
        // A status the table does not know: Google's own status name decides.
        _ => match google_status {
            "RESOURCE_EXHAUSTED" => AdapterError::RateLimited(RateLimit {
                retry_after_ms: err.retry_delay_ms.or(retry_after_ms),
                detail,
            }),
            "UNAUTHENTICATED" | "PERMISSION_DENIED" => AdapterError::Unauthorized(detail),
            "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "NOT_FOUND" | "OUT_OF_RANGE" => {
                AdapterError::InvalidRequest(detail)
            }
            "UNAVAILABLE" => AdapterError::Overloaded(detail),
            "DEADLINE_EXCEEDED" => AdapterError::Timeout(detail),
            _ => AdapterError::Upstream(detail),
        },
    }
}

/// The response unchanged when 2xx; otherwise its body is read and classified.
pub fn check(response: Response) -> Result<Response, AdapterError> {
    if response.is_success() {
        return Ok(response);
    }
    let status = response.status();
    let retry = aratta_guest::status::retry_after_ms(
        response.header("retry-after"),
        response.header("retry-after-ms"),
    );
    let body = response.bytes().unwrap_or_default();
    Err(for_status(status, retry, &body))
}
