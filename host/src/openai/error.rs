//! Errors of the OpenAI route: a request Aratta cannot translate becomes a `RequestError`
//! naming the field at fault, and any SCRI error becomes OpenAI's `{"error": {...}}` body, so
//! the official SDKs raise `BadRequestError` (or the matching class) with Aratta's message.
//!
//! | variant       | `code`                       | example message                                          |
//! |---------------|------------------------------|----------------------------------------------------------|
//! | `Json`        | none                         | `the request body is not valid JSON: ...`               |
//! | `Missing`     | `missing_required_parameter` | `messages: missing required parameter`                   |
//! | `Type`        | `invalid_type`               | `messages[2].content: expected a string or ..., got ...` |
//! | `Value`       | `invalid_value`              | `messages: must contain at least one message`            |
//! | `Unsupported` | `unsupported_value`          | `n: only one choice is supported ...`                    |

use serde_json::{Value, json};

use crate::scri::ApiErrorBody;

/// Why an OpenAI-format request could not be turned into SCRI. Every variant but `Json`
/// carries `param`, the path of the field at fault in OpenAI's notation
/// (`messages[2].content`), which goes into the error body's `param`.
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
        /// What OpenAI's API accepts there.
        expected: &'static str,
        /// The JSON type that was sent (`a number`, `null`, ...).
        got: &'static str,
    },
    /// A field has the right type but a value that is not accepted.
    #[error("{param}: {reason}")]
    Value {
        /// The field.
        param: String,
        /// What is wrong and what is accepted.
        reason: String,
    },
    /// A valid OpenAI feature that Aratta's translation does not carry.
    #[error("{param}: {reason}")]
    Unsupported {
        /// The field.
        param: String,
        /// What is not supported and what to send instead.
        reason: String,
    },
}

impl RequestError {
    /// The field at fault, as OpenAI reports it in `error.param`.
    pub fn param(&self) -> Option<&str> {
        match self {
            RequestError::Json { .. } => None,
            RequestError::Missing { param }
            | RequestError::Type { param, .. }
            | RequestError::Value { param, .. }
            | RequestError::Unsupported { param, .. } => Some(param),
        }
    }

    /// OpenAI's machine-readable `error.code` for this kind of mistake.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            RequestError::Json { .. } => None,
            RequestError::Missing { .. } => Some("missing_required_parameter"),
            RequestError::Type { .. } => Some("invalid_type"),
            RequestError::Value { .. } => Some("invalid_value"),
            RequestError::Unsupported { .. } => Some("unsupported_value"),
        }
    }

    /// The HTTP status to answer with: always 400, as OpenAI does for invalid requests.
    pub fn status(&self) -> u16 {
        400
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

/// OpenAI's error shape, `{"error": {"message", "type", "param", "code"}}`, for any SCRI
/// error. The SDKs read exactly these four fields; `param` and `code` are `null` when unknown.
pub fn error_body(err: &ApiErrorBody) -> Value {
    json!({
        "error": {
            "message": err.message,
            "type": err.kind,
            "param": err.param,
            "code": err.code,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_error_names_the_field_and_maps_to_openai_400() {
        let err = RequestError::Type {
            param: "messages[2].content".into(),
            expected: "a string or an array of content parts",
            got: "a number",
        };
        assert_eq!(
            err.to_string(),
            "messages[2].content: expected a string or an array of content parts, got a number"
        );
        assert_eq!(err.status(), 400);
        let body = error_body(&err.to_api_error());
        assert_eq!(
            body,
            json!({"error": {
                "message": "messages[2].content: expected a string or an array of content parts, got a number",
                "type": "invalid_request_error",
                "param": "messages[2].content",
                "code": "invalid_type",
            }})
        );
    }

    #[test]
    fn json_error_has_no_param() {
        let err = RequestError::Json {
            reason: "EOF while parsing".into(),
        };
        let body = error_body(&err.to_api_error());
        assert_eq!(body["error"]["param"], Value::Null);
        assert_eq!(body["error"]["code"], Value::Null);
    }

    #[test]
    fn error_body_keeps_only_openai_fields() {
        let err = ApiErrorBody {
            message: "rate limited by openai".into(),
            kind: "rate_limit_error".into(),
            param: None,
            code: Some("rate_limited".into()),
            provider: Some("openai".into()),
            upstream_status: Some(429),
        };
        let body = error_body(&err);
        let inner = body["error"].as_object().unwrap();
        assert_eq!(inner.len(), 4);
        assert_eq!(inner["type"], "rate_limit_error");
        assert_eq!(inner["code"], "rate_limited");
    }
}
