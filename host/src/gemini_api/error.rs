//! Errors on the Gemini route: a request Aratta cannot translate is a [`RequestError`]
//! naming the field at fault, and every error goes out in Google's shape,
//! `{"error": {"code", "message", "status"}}`, which the SDK raises as `ClientError` (4xx) or
//! `ServerError` (5xx) with that code, message and status.

use serde_json::{Value, json};

use crate::scri::ApiErrorBody;

/// Why a Gemini-format request could not become SCRI: always a 400 `INVALID_ARGUMENT`.
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
        /// The field, e.g. `contents[1].parts[0]`.
        param: String,
        /// What is wrong.
        reason: String,
    },
    /// A valid Gemini feature that no SCRI provider can honour.
    #[error("{param}: {reason}")]
    Unsupported {
        /// The field.
        param: String,
        /// What is not supported, and what to send instead.
        reason: String,
    },
}

impl RequestError {
    /// A shorthand for [`RequestError::Invalid`].
    pub(crate) fn invalid(param: impl Into<String>, reason: impl Into<String>) -> Self {
        RequestError::Invalid {
            param: param.into(),
            reason: reason.into(),
        }
    }

    /// A shorthand for [`RequestError::Unsupported`].
    pub(crate) fn unsupported(param: impl Into<String>, reason: impl Into<String>) -> Self {
        RequestError::Unsupported {
            param: param.into(),
            reason: reason.into(),
        }
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
