//! Turning failures into HTTP answers: a status and `{"error": {...}}`, the same outer shape
//! on every `/api/v1` route as on OpenAI's, so every SDK surfaces Aratta's message.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use serde::de::DeserializeOwned;

use crate::dialects::RequestError;
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

/// Parse a JSON request body as `T` by the dialects' one JSON reader, naming the offending
/// field on failure (`messages[1].role: unknown variant ...`).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Failure> {
    crate::dialects::json::parse(body).map_err(Failure::from)
}

impl From<RequestError> for Failure {
    fn from(e: RequestError) -> Self {
        Failure(GatewayError::BadRequest {
            message: e.to_string(),
            param: e.param().map(str::to_owned),
        })
    }
}

/// A 400 naming the problem.
pub fn bad_request(message: &str, param: Option<String>) -> Failure {
    Failure(GatewayError::BadRequest {
        message: message.to_owned(),
        param,
    })
}
