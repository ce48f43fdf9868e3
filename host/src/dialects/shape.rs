//! Which dialect a client speaks, told from the request line and headers alone: for the
//! answers made before a dialect's handler runs (the ingress guard's refusals) and for the one
//! path three SDKs share, `GET /v1/models[/{id}]`, where the headers tell them apart:
//!
//! | the request carries                                              | answer     |
//! |------------------------------------------------------------------|------------|
//! | `anthropic-version` (every Anthropic SDK sends it; Anthropic's API requires it), or `x-api-key` without `Authorization` | Anthropic's |
//! | `x-goog-api-key` or `x-goog-api-client` (the Google SDKs send both), or a `key` query parameter | Gemini's |
//! | anything else                                                    | OpenAI's   |

use axum::response::Response;
use http::{HeaderMap, Method, StatusCode, Uri};

use super::Dialect;
use super::anthropic::routes::Anthropic;
use super::gemini::routes::Gemini;
use super::openai::routes::OpenAi;
use super::scri::routes::Scri;
use crate::scri::ApiErrorBody;

/// A dialect, as a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// SCRI's (`/api/v1`, and every path no dialect claims).
    Scri,
    /// OpenAI's.
    OpenAi,
    /// Anthropic's.
    Anthropic,
    /// Gemini's.
    Gemini,
}

impl Shape {
    /// The dialect of a request to `uri`, by its route (and, on `/v1/models`, its headers).
    pub fn of(method: &Method, uri: &Uri, headers: &HeaderMap) -> Shape {
        let path = uri.path();
        if path == "/v1/messages" {
            Shape::Anthropic
        } else if path.starts_with("/v1beta/")
            || (path.starts_with("/v1/models/") && method == Method::POST)
        {
            Shape::Gemini
        } else if path == "/v1/models" || path.starts_with("/v1/models/") {
            Shape::of_model_listing(headers, uri)
        } else if path.starts_with("/v1/") {
            Shape::OpenAi
        } else {
            Shape::Scri
        }
    }

    /// The dialect of a `GET /v1/models[/{id}]`, by the rule in the module doc.
    pub fn of_model_listing(headers: &HeaderMap, uri: &Uri) -> Shape {
        let has = |name: &str| headers.contains_key(name);
        if has("anthropic-version") || (has("x-api-key") && !has("authorization")) {
            return Shape::Anthropic;
        }
        let key_param = uri
            .query()
            .is_some_and(|q| q.split('&').any(|kv| kv.starts_with("key=")));
        if has("x-goog-api-key") || has("x-goog-api-client") || key_param {
            return Shape::Gemini;
        }
        Shape::OpenAi
    }

    /// An error answer in this dialect's shape.
    pub fn error(self, status: StatusCode, error: &ApiErrorBody) -> Response {
        match self {
            Shape::Scri => Scri::error(status, error),
            Shape::OpenAi => OpenAi::error(status, error),
            Shape::Anthropic => Anthropic::error(status, error),
            Shape::Gemini => Gemini::error(status, error),
        }
    }
}
