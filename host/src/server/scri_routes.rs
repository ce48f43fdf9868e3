//! SCRI routes: `/api/v1/chat` (JSON or server-sent SCRI events), `/api/v1/embed`,
//! `/api/v1/models`, `/api/v1/health`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};

use crate::gateway::{ChatStream, Gateway, HealthReport, request_id};
use crate::scri::{self, ApiError};

use super::error::Failure;
use super::with_timeout;

/// Answer a chat request; with `"stream": true`, as server-sent SCRI events.
#[utoipa::path(post, path = "/api/v1/chat", request_body = scri::ChatRequest,
    responses(
        (status = 200, description = "The answer (or, when streaming, `text/event-stream` of StreamEvent)", body = scri::ChatResponse),
        (status = 400, description = "The request is invalid", body = ApiError),
        (status = 404, description = "Unknown model or alias", body = ApiError),
        (status = 502, description = "The provider or its adapter failed", body = ApiError),
    ))]
pub async fn chat(State(gw): State<Arc<Gateway>>, body: Bytes) -> Result<Response, Failure> {
    let mut request = super::bodies::scri_chat(&body)?;
    gw.prepare_chat(&mut request).map_err(Failure)?;
    let id = request_id();
    if request.stream {
        let open = with_timeout(&gw, gw.chat_stream(&request, &id)).await?;
        return Ok(Sse::new(scri_events(open)).into_response());
    }
    let response = with_timeout(&gw, gw.chat(&request, &id)).await?;
    Ok(Json(response).into_response())
}

/// SCRI events of an open stream as server-sent events; the `stop` event carries the lineage.
pub fn scri_events(open: ChatStream) -> impl Stream<Item = Result<Event, Infallible>> {
    open.map(|event| {
        Ok(Event::default()
            .event(event.name())
            .data(serde_json::to_string(&event).expect("stream events serialise")))
    })
}

/// Embed texts.
#[utoipa::path(post, path = "/api/v1/embed", request_body = scri::EmbedRequest,
    responses((status = 200, body = scri::EmbedResponse), (status = 400, body = ApiError), (status = 502, body = ApiError)))]
pub async fn embed(
    State(gw): State<Arc<Gateway>>,
    body: Bytes,
) -> Result<Json<scri::EmbedResponse>, Failure> {
    let request = super::bodies::scri_embed(&body)?;
    if request.inputs.is_empty() {
        return Err(super::error::bad_request(
            "inputs: must hold at least one text",
            Some("inputs".into()),
        ));
    }
    let id = request_id();
    Ok(Json(with_timeout(&gw, gw.embed(&request, &id)).await?))
}

/// Every enabled provider's models, and the aliases.
#[utoipa::path(get, path = "/api/v1/models", responses((status = 200, body = scri::ModelList)))]
pub async fn models(State(gw): State<Arc<Gateway>>) -> Json<scri::ModelList> {
    Json(gw.models().await)
}

/// The state of every provider; 200 whenever the server is up.
#[utoipa::path(get, path = "/api/v1/health", responses((status = 200, body = HealthReport)))]
pub async fn health(State(gw): State<Arc<Gateway>>) -> Json<HealthReport> {
    Json(gw.health().await)
}
