//! `GET /v1/models` and `GET /v1/models/{id}`, which the OpenAI, Anthropic and Google Gen AI
//! SDKs all call, each expecting its own shape; [`Shape::of_model_listing`] tells them apart.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Uri};

use crate::gateway::Gateway;

use super::{Shape, anthropic, gemini, openai};

/// `GET /v1/models`.
pub async fn list(State(gw): State<Arc<Gateway>>, headers: HeaderMap, uri: Uri) -> Response {
    match Shape::of_model_listing(&headers, &uri) {
        Shape::Anthropic => anthropic::routes::models(gw, &uri).await,
        Shape::Gemini => gemini::routes::models(State(gw), uri).await,
        Shape::OpenAi | Shape::Scri => openai::routes::models(State(gw)).await.into_response(),
    }
}

/// `GET /v1/models/{id}`.
pub async fn get(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    match Shape::of_model_listing(&headers, &uri) {
        Shape::Anthropic => anthropic::routes::model(gw, &id).await,
        Shape::Gemini => gemini::routes::model(State(gw), Path(id)).await,
        Shape::OpenAi | Shape::Scri => openai::routes::model(gw, &id).await,
    }
}
