//! SCRI routes: `/api/v1/chat` (JSON or server-sent SCRI events), `/api/v1/embed`,
//! `/api/v1/models`, `/api/v1/health`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::response::sse::Event;
use http::StatusCode;

use crate::gateway::{Gateway, HealthReport, request_id};
use crate::scri::{self, ApiError, ApiErrorBody, StreamEvent};

use super::{Failure, bad_request, chat_request, embed_request, error_response};
use crate::dialects::{self, Dialect, PathArgs, Refusal, StreamEncoder, with_timeout};

/// Answer a chat request; with `"stream": true`, as server-sent SCRI events.
#[utoipa::path(post, path = "/api/v1/chat", request_body = scri::ChatRequest,
    responses(
        (status = 200, description = "The answer (or, when streaming, `text/event-stream` of StreamEvent)", body = scri::ChatResponse),
        (status = 400, description = "The request is invalid", body = ApiError),
        (status = 404, description = "Unknown model or alias", body = ApiError),
        (status = 502, description = "The provider or its adapter failed", body = ApiError),
    ))]
pub async fn chat(State(gw): State<Arc<Gateway>>, body: Bytes) -> Response {
    dialects::chat::<Scri>(&gw, &body, PathArgs::default()).await
}

/// SCRI itself: the answer's body carries its lineage, the stream's events are named by type.
pub struct Scri;

/// SCRI's stream encoder: each event as itself.
pub struct ScriEvents;

impl Dialect for Scri {
    type Options = ();
    type Encoder = ScriEvents;

    fn decode(body: &[u8], _: PathArgs<'_>) -> Result<(scri::ChatRequest, ()), Box<Refusal>> {
        chat_request(body)
            .map(|request| (request, ()))
            .map_err(|Failure(e)| Refusal::boxed(e.status(), e.to_api_error()))
    }

    fn encode(answer: &scri::ChatResponse, _: &()) -> impl serde::Serialize {
        answer
    }

    fn encoder(_: &str, _: String, _: ()) -> ScriEvents {
        ScriEvents
    }

    fn error(status: StatusCode, error: &ApiErrorBody) -> Response {
        error_response(status, error.clone())
    }
}

impl StreamEncoder for ScriEvents {
    fn push(&mut self, event: &StreamEvent) -> Vec<Event> {
        vec![
            Event::default()
                .event(event.name())
                .data(serde_json::to_string(event).expect("stream events serialise")),
        ]
    }
}

/// Embed texts.
#[utoipa::path(post, path = "/api/v1/embed", request_body = scri::EmbedRequest,
    responses((status = 200, body = scri::EmbedResponse), (status = 400, body = ApiError), (status = 502, body = ApiError)))]
pub async fn embed(
    State(gw): State<Arc<Gateway>>,
    body: Bytes,
) -> Result<Json<scri::EmbedResponse>, Failure> {
    let request = embed_request(&body)?;
    if request.inputs.is_empty() {
        return Err(bad_request(
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
