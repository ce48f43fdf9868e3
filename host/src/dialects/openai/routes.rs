//! OpenAI-compatible routes, so the official OpenAI SDKs work with `base_url` pointed at
//! Aratta: `/v1/chat/completions`, `/v1/embeddings`, and the OpenAI form of `/v1/models` (which
//! `dialects/models.rs` answers for each SDK in its own). Lineage travels in
//! `x-aratta-*` headers, since OpenAI's bodies have no place for it.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use crate::dialects::scri::{Failure, error_response};
use crate::dialects::{
    self, Dialect, PathArgs, Refusal, StreamEncoder, lineage_headers, openai, with_timeout,
};
use crate::gateway::{Gateway, GatewayError, request_id};
use crate::scri::{ApiErrorBody, ChatRequest, ChatResponse, StreamEvent};

use super::ChunkEncoder;

/// OpenAI's chat completions.
pub struct OpenAi;

/// OpenAI's chunk encoder, ending a cleanly stopped stream with `[DONE]`.
pub struct OpenAiChunks(ChunkEncoder);

impl Dialect for OpenAi {
    /// `stream_options.include_usage`.
    type Options = bool;
    type Encoder = OpenAiChunks;

    fn decode(body: &[u8], _: PathArgs<'_>) -> Result<(ChatRequest, bool), Box<Refusal>> {
        openai::chat_request(body)
            .map(|parsed| (parsed.request, parsed.include_usage))
            .map_err(Into::into)
    }

    fn encode(answer: &ChatResponse, _: &bool) -> impl serde::Serialize {
        openai::completion(answer, crate::clock::unix_seconds())
    }

    fn encoder(request_id: &str, model: String, include_usage: bool) -> OpenAiChunks {
        OpenAiChunks(ChunkEncoder::new(
            format!("chatcmpl-{}", request_id.trim_start_matches("req_")),
            model,
            crate::clock::unix_seconds(),
            include_usage,
        ))
    }

    fn error(status: StatusCode, error: &ApiErrorBody) -> Response {
        error_response(status, error.clone())
    }
}

impl StreamEncoder for OpenAiChunks {
    fn push(&mut self, event: &StreamEvent) -> Vec<Event> {
        let mut payloads = self.0.push(event);
        if let Some(done) = self.0.done() {
            payloads.push(done.to_owned());
        }
        payloads
            .into_iter()
            .map(|p| Event::default().data(p))
            .collect()
    }
}

/// `POST /v1/chat/completions`.
pub async fn chat_completions(State(gw): State<Arc<Gateway>>, body: Bytes) -> Response {
    dialects::chat::<OpenAi>(&gw, &body, PathArgs::default()).await
}

/// `POST /v1/embeddings`, honouring `encoding_format` (`float` or `base64`).
pub async fn embeddings(State(gw): State<Arc<Gateway>>, body: Bytes) -> Result<Response, Failure> {
    let (request, format) = match openai::embeddings_request(&body) {
        Ok(parsed) => parsed,
        Err(e) => return Ok(OpenAi::error(e.status(), &e.to_api_error())),
    };
    if request.inputs.is_empty() {
        return Err(Failure(GatewayError::BadRequest {
            message: "input: must hold at least one text".into(),
            param: Some("input".into()),
        }));
    }
    let id = request_id();
    let response = with_timeout(&gw, gw.embed(&request, &id)).await?;
    let headers = lineage_headers(&response.lineage);
    Ok((
        headers,
        Json(openai::embeddings_response(&response, format)),
    )
        .into_response())
}

/// `GET /v1/models`: every provider's models as `provider:model`, and the aliases.
pub async fn models(State(gw): State<Arc<Gateway>>) -> Json<serde_json::Value> {
    Json(openai::models(&gw.models().await))
}

/// `GET /v1/models/{id}` for an OpenAI client.
pub async fn model(gw: Arc<Gateway>, id: &str) -> Response {
    let list = openai::models(&gw.models().await);
    let found = list["data"]
        .as_array()
        .and_then(|all| all.iter().find(|m| m["id"] == id).cloned());
    match found {
        Some(model) => Json(model).into_response(),
        None => dialects::failure::<OpenAi>(&GatewayError::UnknownModel {
            message: format!("no model `{id}`; GET /v1/models lists them"),
        }),
    }
}
