//! Anthropic's failures as SCRI adapter errors.
//!
//! Every Anthropic error body is `{"type":"error","error":{"type":"…","message":"…"},
//! "request_id":"…"}`, over HTTP or as a stream's `error` event. The HTTP status is classified
//! by the SDK's [`status`](aratta_guest::status) helpers; Anthropic's `error.type` then picks
//! the case when it names one, because it is Anthropic's own classification and also arrives
//! where no status does (a stream that fails after its `200`, a proxy that rewrote the status).
//!
//! | `error.type` | HTTP | SCRI case |
//! | --- | --- | --- |
//! | `invalid_request_error` | 400 | `invalid-request` |
//! | `authentication_error` | 401 | `unauthorized` |
//! | `billing_error` | 402 | `unauthorized` (the key works but the account cannot be billed) |
//! | `permission_error` | 403 | `unauthorized` |
//! | `not_found_error` | 404 | `invalid-request` |
//! | `request_too_large` | 413 | `invalid-request` |
//! | `rate_limit_error` | 429 | `rate-limited` with `retry-after` |
//! | `api_error` | 500 | `upstream` |
//! | `timeout_error` | 504 | `timeout` |
//! | `overloaded_error` | 529 | `overloaded` |
//!
//! Unknown types ("the type values may grow over time", per the API's errors page) fall back
//! to the status' case. The raw status and body are always kept.

use aratta_guest::error::truncate_body;
use aratta_guest::{AdapterError, ErrorDetail, RateLimit};
use serde::Deserialize;

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "type")]
    kind: Option<String>,
    error: Option<ErrorObject>,
}

#[derive(Deserialize)]
struct ErrorObject {
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<String>,
}

/// `(error.type, error.message)` when `body` is an Anthropic error body.
pub fn error_fields(body: &[u8]) -> Option<(String, Option<String>)> {
    let parsed: ErrorBody = serde_json::from_slice(body).ok()?;
    let error = parsed.error?;
    let kind = error.kind.filter(|k| !k.is_empty())?;
    Some((kind, error.message))
}

/// Whether a body is Anthropic's error envelope (`"type": "error"`).
pub fn is_error_body(body: &[u8]) -> bool {
    serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .and_then(|b| b.kind)
        .is_some_and(|k| k == "error")
}

/// The error for an HTTP response with a non-success `status`.
pub fn for_status(status: u16, retry_after_ms: Option<u64>, body: &[u8]) -> AdapterError {
    let by_status = aratta_guest::status::error_for_status(status, retry_after_ms, body);
    let Some((kind, message)) = error_fields(body) else {
        return by_status;
    };
    let detail = ErrorDetail {
        message: describe(&format!("HTTP {status} from Anthropic"), &kind, message),
        status: Some(status),
        body: Some(truncate_body(body)),
    };
    classify(&kind, detail, retry_after_ms).unwrap_or(by_status)
}

/// The error for an `error` event in a stream, or an error envelope in a `200` body. There is
/// no HTTP status to go by, so an unknown type is `upstream`.
pub fn for_event(data: &[u8], context: &str) -> AdapterError {
    let (kind, message) = error_fields(data).unwrap_or_else(|| ("unknown".to_string(), None));
    let detail = ErrorDetail::new(describe(context, &kind, message)).with_body(data);
    classify(&kind, detail.clone(), None).unwrap_or(AdapterError::Upstream(detail))
}

fn describe(context: &str, kind: &str, message: Option<String>) -> String {
    match message.filter(|m| !m.is_empty()) {
        Some(m) => format!(
            "{context} ({kind}): {}",
            m.chars().take(300).collect::<String>()
        ),
        None => format!("{context} ({kind})"),
    }
}

/// The SCRI case for an Anthropic error type, `None` for types this adapter does not know.
pub fn classify(
    kind: &str,
    detail: ErrorDetail,
    retry_after_ms: Option<u64>,
) -> Option<AdapterError> {
    Some(match kind {
        "rate_limit_error" => AdapterError::RateLimited(RateLimit {
            retry_after_ms,
            detail,
        }),
        "overloaded_error" => AdapterError::Overloaded(detail),
        "authentication_error" | "permission_error" | "billing_error" => {
            AdapterError::Unauthorized(detail)
        }
        "invalid_request_error" | "not_found_error" | "request_too_large" => {
            AdapterError::InvalidRequest(detail)
        }
        "timeout_error" => AdapterError::Timeout(detail),
        "api_error" => AdapterError::Upstream(detail),
        _ => return None,
    })
}
