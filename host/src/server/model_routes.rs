//! `GET /v1/models` and `GET /v1/models/{id}`, which the OpenAI, Anthropic and Google Gen AI
//! SDKs all call, each expecting its own shape. The client is told apart by its headers:
//!
//! | the request carries                                              | answer     |
//! |------------------------------------------------------------------|------------|
//! | `anthropic-version` (every Anthropic SDK sends it; Anthropic's API requires it), or `x-api-key` without `Authorization` | Anthropic's |
//! | `x-goog-api-key` or `x-goog-api-client` (the Google SDKs send both), or a `key` query parameter | Gemini's |
//! | anything else                                                    | OpenAI's   |

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, Uri};

use crate::gateway::{Gateway, GatewayError};
use crate::openai;

use super::error::error_response;
use super::{anthropic_routes, gemini_routes, openai_routes};

/// Which API's shape a client expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// OpenAI's (the default).
    OpenAi,
    /// Anthropic's.
    Anthropic,
    /// Gemini's.
    Gemini,
}

/// The dialect of a request, by the rule in the module doc.
pub fn dialect(headers: &HeaderMap, uri: &Uri) -> Dialect {
    let has = |name: &str| headers.contains_key(name);
    if has("anthropic-version") || (has("x-api-key") && !has("authorization")) {
        return Dialect::Anthropic;
    }
    let key_param = uri
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv.starts_with("key=")));
    if has("x-goog-api-key") || has("x-goog-api-client") || key_param {
        return Dialect::Gemini;
    }
    Dialect::OpenAi
}

/// `GET /v1/models`.
pub async fn list(State(gw): State<Arc<Gateway>>, headers: HeaderMap, uri: Uri) -> Response {
    match dialect(&headers, &uri) {
        Dialect::Anthropic => anthropic_routes::models(gw, &uri).await,
        Dialect::Gemini => gemini_routes::models(State(gw), uri).await,
        Dialect::OpenAi => openai_routes::models(State(gw)).await.into_response(),
    }
}

/// `GET /v1/models/{id}`.
pub async fn get(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    match dialect(&headers, &uri) {
        Dialect::Anthropic => anthropic_routes::model(gw, &id).await,
        Dialect::Gemini => gemini_routes::model(State(gw), Path(id)).await,
        Dialect::OpenAi => {
            let list = openai::models(&gw.models().await);
            let found = list["data"]
                .as_array()
                .and_then(|all| all.iter().find(|m| m["id"] == id.as_str()).cloned());
            match found {
                Some(model) => Json(model).into_response(),
                None => {
                    let err = GatewayError::UnknownModel {
                        message: format!("no model `{id}`; GET /v1/models lists them"),
                    };
                    error_response(StatusCode::NOT_FOUND, err.to_api_error())
                }
            }
        }
    }
}
