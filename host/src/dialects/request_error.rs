//! Why a dialect's request could not become SCRI: one error for every dialect, naming the field
//! at fault in the dialect's own notation (`messages[2].content`, `contents[1].parts[0]`). Each
//! dialect answers it in its own error shape; all of them answer 400, as the providers do for
//! an invalid request.
//!
//! | variant       | OpenAI `code`                | example message                                          |
//! |---------------|------------------------------|----------------------------------------------------------|
//! | `Json`        | none                         | `the request body is not valid JSON: ...`               |
//! | `Missing`     | `missing_required_parameter` | `messages: missing required parameter`                   |
//! | `Type`        | `invalid_type`               | `messages[2].content: expected a string or ..., got ...` |
//! | `Invalid`     | `invalid_value`              | `messages: must contain at least one message`            |
//! | `Unsupported` | `unsupported_value`          | `n: only one choice is supported ...`                    |

use http::StatusCode;

use crate::scri::ApiErrorBody;

/// Why a request could not be turned into SCRI. Every variant but `Json` carries `param`, the
/// path of the field at fault, which goes into the error body's `param`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The body is not JSON, or not a JSON object.
    #[error("the request body is not valid JSON: {reason}")]
    Json {
        /// What the parser said.
        reason: String,
    },
    /// A required field is absent (or null).
    #[error("{param}: missing required parameter")]
    Missing {
        /// The absent field.
        param: String,
    },
    /// A field has the wrong JSON type.
    #[error("{param}: expected {expected}, got {got}")]
    Type {
        /// The field.
        param: String,
        /// What the dialect accepts there.
        expected: &'static str,
        /// The JSON type that was sent (`a number`, `null`, ...).
        got: &'static str,
    },
    /// A field is present but its value is not accepted (or, from a typed parse, its shape).
    #[error("{param}: {reason}")]
    Invalid {
        /// The field.
        param: String,
        /// What is wrong and what is accepted.
        reason: String,
    },
    /// A valid feature of the dialect that Aratta's translation does not carry.
    #[error("{param}: {reason}")]
    Unsupported {
        /// The field.
        param: String,
        /// What is not supported and what to send instead.
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

    /// The field at fault.
    pub fn param(&self) -> Option<&str> {
        match self {
            RequestError::Json { .. } => None,
            RequestError::Missing { param }
            | RequestError::Type { param, .. }
            | RequestError::Invalid { param, .. }
            | RequestError::Unsupported { param, .. } => Some(param),
        }
    }

    /// OpenAI's machine-readable `error.code` for this kind of mistake (the other dialects'
    /// error shapes have no such field).
    pub fn code(&self) -> Option<&'static str> {
        match self {
            RequestError::Json { .. } => None,
            RequestError::Missing { .. } => Some("missing_required_parameter"),
            RequestError::Type { .. } => Some("invalid_type"),
            RequestError::Invalid { .. } => Some("invalid_value"),
            RequestError::Unsupported { .. } => Some("unsupported_value"),
        }
    }

    /// The HTTP status to answer with: always 400.
    pub fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }

    /// The SCRI error body, so the handler can log and answer it like any other error.
    pub fn to_api_error(&self) -> ApiErrorBody {
        ApiErrorBody {
            message: self.to_string(),
            kind: "invalid_request_error".to_owned(),
            param: self.param().map(str::to_owned),
            code: self.code().map(str::to_owned),
            provider: None,
            upstream_status: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_error_names_the_field_and_is_a_400() {
        let err = RequestError::Type {
            param: "messages[2].content".into(),
            expected: "a string or an array of content parts",
            got: "a number",
        };
        assert_eq!(
            err.to_string(),
            "messages[2].content: expected a string or an array of content parts, got a number"
        );
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        let body = err.to_api_error();
        assert_eq!(body.param.as_deref(), Some("messages[2].content"));
        assert_eq!(body.code.as_deref(), Some("invalid_type"));
        assert_eq!(body.kind, "invalid_request_error");
    }

    #[test]
    fn a_json_error_names_no_field() {
        let err = RequestError::Json {
            reason: "EOF while parsing".into(),
        };
        assert_eq!(err.to_api_error().param, None);
        assert_eq!(err.to_api_error().code, None);
    }
}
