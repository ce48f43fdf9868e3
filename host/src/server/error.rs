//! Turning failures into HTTP answers: a status and `{"error": {...}}`, the same outer shape
//! on the SCRI and OpenAI routes, so every SDK surfaces Aratta's message.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use serde::de::DeserializeOwned;

use crate::gateway::GatewayError;
use crate::scri::{ApiError, ApiErrorBody};

/// A failed request, ready to answer.
pub struct Failure(pub GatewayError);

impl From<GatewayError> for Failure {
    fn from(e: GatewayError) -> Self {
        Failure(e)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = error_response(self.0.status(), self.0.to_api_error());
        if let Some(seconds) = self.0.retry_after_seconds() {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// An error answer with `status` and `body`.
pub fn error_response(status: StatusCode, body: ApiErrorBody) -> Response {
    (status, Json(ApiError { error: body })).into_response()
}

/// Parse a JSON request body, naming the offending field on failure
/// (`messages[1].role: unknown variant ...`).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Failure> {
    if body.is_empty() {
        return Err(bad_request(
            "the request body is empty; send a JSON object",
            None,
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            bad_request(
                &format!("the request body is not valid JSON: {inner}"),
                None,
            )
        } else if path == "." {
            bad_request(&format!("invalid request: {inner}"), None)
        } else {
            bad_request(&format!("{path}: {inner}"), Some(path))
        }
    })
}

/// A 400 naming the problem.
pub fn bad_request(message: &str, param: Option<String>) -> Failure {
    Failure(GatewayError::BadRequest {
        message: message.to_owned(),
        param,
    })
}
