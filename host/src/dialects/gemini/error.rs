//! Errors on the Gemini route: a request Aratta cannot translate (a
//! [`RequestError`](crate::dialects::RequestError)), like every error, goes out in Google's shape,
//! `{"error": {"code", "message", "status"}}`, which the SDK raises as `ClientError` (4xx) or
//! `ServerError` (5xx) with that code, message and status.

use serde_json::{Value, json};

use crate::scri::ApiErrorBody;

/// Google's canonical status name for an HTTP status (`google.rpc.Code` as the REST API
/// reports it).
pub fn status_name(http: u16) -> &'static str {
    match http {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        502 | 503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

/// `{"error": {"code", "message", "status"}}` for any SCRI error answered with `http`: an
/// error answer's body, and a failing stream's last chunk.
pub fn error_body(http: u16, err: &ApiErrorBody) -> Value {
    json!({"error": {"code": http, "message": err.message, "status": status_name(http)}})
}

/// The HTTP status Aratta answers an error class with (for a failing stream, whose status
/// line was already sent as 200).
pub(crate) fn http_for_kind(kind: &str) -> u16 {
    match kind {
        "invalid_request_error" | "unsupported_error" => 400,
        "not_found_error" => 404,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" | "provider_unavailable_error" => 503,
        _ => 502,
    }
}
