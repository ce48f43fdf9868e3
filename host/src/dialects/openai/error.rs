//! Errors on the OpenAI routes: any SCRI error (a [`RequestError`](crate::dialects::RequestError)
//! among them) becomes OpenAI's `{"error": {...}}` body, so the official SDKs raise
//! `BadRequestError` (or the matching class) with Aratta's message.

use serde_json::{Value, json};

use crate::scri::ApiErrorBody;

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
    use crate::dialects::RequestError;

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
