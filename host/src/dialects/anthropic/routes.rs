//! Anthropic-compatible routes, so the official Anthropic SDKs work with `base_url` pointed
//! at Aratta: `POST /v1/messages` (JSON, or Anthropic's server-sent events with
//! `"stream": true`) and the Anthropic form of `GET /v1/models`. The client's `x-api-key` is
//! accepted and ignored: Aratta holds the provider keys. Lineage travels in `x-aratta-*`
//! headers, and every error is Anthropic's `{"type": "error", "error": {...}}`.
//!
//! **Which `/v1/models`.** OpenAI's and Anthropic's SDKs both call `GET /v1/models`. A request
//! with an `anthropic-version` header (every Anthropic SDK sends one; Anthropic's API requires
//! it), or with `x-api-key` and no `Authorization`, gets Anthropic's page; any other gets
//! OpenAI's list.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, Uri};

use crate::dialects::{self, Dialect, PathArgs, Refusal, StreamEncoder, anthropic};
use crate::gateway::{Gateway, GatewayError};
use crate::scri::{ApiErrorBody, ChatRequest, ChatResponse, StreamEvent};

use super::{EventEncoder, ModelsQuery};

/// Anthropic's messages.
pub struct Anthropic;

/// Anthropic's event encoder: named events.
pub struct AnthropicEvents(EventEncoder);

impl Dialect for Anthropic {
    type Options = ();
    type Encoder = AnthropicEvents;

    fn decode(body: &[u8], _: PathArgs<'_>) -> Result<(ChatRequest, ()), Box<Refusal>> {
        anthropic::messages_request(body)
            .map(|request| (request, ()))
            .map_err(Into::into)
    }

    fn encode(answer: &ChatResponse, _: &()) -> impl serde::Serialize {
        anthropic::message_body(answer)
    }

    fn encoder(request_id: &str, model: String, _: ()) -> AnthropicEvents {
        AnthropicEvents(EventEncoder::new(
            request_id.trim_start_matches("req_"),
            model,
        ))
    }

    fn error(status: StatusCode, error: &ApiErrorBody) -> Response {
        (status, Json(anthropic::error_body(error))).into_response()
    }
}

impl StreamEncoder for AnthropicEvents {
    fn push(&mut self, event: &StreamEvent) -> Vec<Event> {
        self.0
            .push(event)
            .into_iter()
            .map(|(name, data)| Event::default().event(name).data(data))
            .collect()
    }
}

/// `POST /v1/messages`.
pub async fn messages(State(gw): State<Arc<Gateway>>, body: Bytes) -> Response {
    dialects::chat::<Anthropic>(&gw, &body, PathArgs::default()).await
}

/// `GET /v1/models` for an Anthropic client: one page, by `after_id` / `before_id` / `limit`.
pub async fn models(gw: Arc<Gateway>, uri: &Uri) -> Response {
    let query = match Query::<ModelsQuery>::try_from_uri(uri) {
        Ok(Query(query)) => query,
        Err(e) => {
            let err = GatewayError::BadRequest {
                message: format!("the query is invalid: {e}"),
                param: None,
            };
            return dialects::failure::<Anthropic>(&err);
        }
    };
    Json(anthropic::models_page(&gw.models().await, &query)).into_response()
}

/// `GET /v1/models/{model_id}` for an Anthropic client.
pub async fn model(gw: Arc<Gateway>, id: &str) -> Response {
    match anthropic::model(&gw.models().await, id) {
        Some(model) => Json(model).into_response(),
        None => dialects::failure::<Anthropic>(&GatewayError::UnknownModel {
            message: format!("no model `{id}`; GET /v1/models lists them"),
        }),
    }
}
