//! Errors on the Anthropic route: a request Aratta cannot translate is a [`RequestError`]
//! naming the field at fault, and every error goes out in Anthropic's shape,
//! `{"type": "error", "error": {"type", "message"}}`, with an Anthropic error type, so the
//! SDKs raise the class they would raise for Anthropic itself (by HTTP status).

use serde_json::{Value, json};

use crate::scri::ApiErrorBody;

/// Why an Anthropic-format request could not become SCRI. Always a 400
/// `invalid_request_error`, as Anthropic answers malformed requests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The body is not JSON.
    #[error("the request body is not valid JSON: {reason}")]
    Json {
        /// What the parser said.
        reason: String,
    },
    /// A field is missing, of the wrong type, or has a value that is not accepted.
    #[error("{param}: {reason}")]
    Invalid {
        /// The field, e.g. `messages[1].content[0].type`.
        param: String,
        /// What is wrong.
        reason: String,
    },
    /// A valid Anthropic feature that no SCRI provider can honour.
    #[error("{param}: {reason}")]
    Unsupported {
        /// The field.
        param: String,
        /// What is not supported, and what to send instead.
        reason: String,
    },
}

impl RequestError {
    /// The HTTP status: 400, as Anthropic answers invalid requests.
    pub fn status(&self) -> u16 {
        400
    }

    /// The SCRI error body, so the handler can log and answer it like any other error.
    pub fn to_api_error(&self) -> ApiErrorBody {
        let param = match self {
            RequestError::Json { .. } => None,
            RequestError::Invalid { param, .. } | RequestError::Unsupported { param, .. } => {
                Some(param.clone())
            }
        };
        ApiErrorBody {
            message: self.to_string(),
            kind: "invalid_request_error".to_owned(),
            param,
            code: None,
            provider: None,
            upstream_status: None,
        }
    }
}

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
