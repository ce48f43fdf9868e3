//! Errors on the Anthropic route: a request Aratta cannot translate (a
//! [`RequestError`](crate::dialects::RequestError)), like every error, goes out in Anthropic's shape,
//! `{"type": "error", "error": {"type", "message"}}`, with an Anthropic error type, so the
//! SDKs raise the class they would raise for Anthropic itself (by HTTP status).

use serde_json::{Value, json};

use crate::scri::ApiErrorBody;

/// Anthropic's error `type` for an Aratta error class. Anthropic's set is closed
/// (`invalid_request_error`, `authentication_error`, `permission_error`, `not_found_error`,
/// `rate_limit_error`, `timeout_error`, `api_error`, `overloaded_error`, ...); Aratta classes
/// with no counterpart (an upstream failure, a schema drift, an adapter fault) are `api_error`,
/// and the message keeps Aratta's detail.
pub fn error_type(kind: &str) -> &'static str {
    match kind {
        "invalid_request_error" | "unsupported_error" => "invalid_request_error",
        "authentication_error" => "authentication_error",
        "permission_error" => "permission_error",
        "not_found_error" => "not_found_error",
        "rate_limit_error" => "rate_limit_error",
        "timeout_error" => "timeout_error",
        "overloaded_error" | "provider_unavailable_error" => "overloaded_error",
        _ => "api_error",
    }
}

/// `{"type": "error", "error": {"type", "message"}}` for any SCRI error: the body of an error
/// answer, and the data of a stream's `error` event.
pub fn error_body(err: &ApiErrorBody) -> Value {
    json!({
        "type": "error",
        "error": {"type": error_type(&err.kind), "message": err.message},
    })
}
