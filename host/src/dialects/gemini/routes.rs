//! Gemini-compatible routes, so the official Google Gen AI SDKs work with
//! `http_options.base_url` pointed at Aratta: `POST /v1beta/models/{model}:{method}` (and
//! `/v1/models/...`: the Python SDK's default API version is `v1`) for
//! `generateContent`, `streamGenerateContent` (server-sent events, as with `?alt=sse`),
//! `embedContent` and `batchEmbedContents`, and `GET /v1beta/models[/{model}]` (`GET
//! /v1/models` from a Gemini client). The model is split from the method at the last colon, so `local:llama3.2:3b:generateContent` asks
//! `local:llama3.2:3b`. The client's API key is accepted and ignored. Lineage travels in
//! `x-aratta-*` headers; every error is Google's `{"error": {"code", "message", "status"}}`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, Uri};

use crate::dialects::{
    self, Dialect, Failure, PathArgs, Refusal, RequestError, StreamEncoder, gemini,
    lineage_headers, with_timeout,
};
use crate::gateway::{Gateway, GatewayError, request_id};
use crate::scri::{ApiErrorBody, ChatRequest, ChatResponse, StreamEvent};

use super::{ChunkEncoder, ModelsQuery};

fn bad_request(e: RequestError) -> Response {
    Gemini::error(e.status(), &e.to_api_error())
}

fn not_found(what: String) -> Response {
    let err = GatewayError::UnknownModel { message: what };
    Gemini::error(StatusCode::NOT_FOUND, &err.to_api_error())
}

/// `POST /v1beta/models/{model}:{method}`.
pub async fn call(
    State(gw): State<Arc<Gateway>>,
    Path(rest): Path<String>,
    body: Bytes,
) -> Response {
    let Some((model, method)) = gemini::split_model_method(&rest) else {
        return not_found(format!(
            "no method in `models/{rest}`; call `models/{{model}}:generateContent` (or streamGenerateContent, embedContent, batchEmbedContents)"
        ));
    };
    match method {
        "generateContent" => generate(gw, model, &body, false).await,
        "streamGenerateContent" => generate(gw, model, &body, true).await,
        "embedContent" => embed(gw, model, &body, false).await,
        "batchEmbedContents" => embed(gw, model, &body, true).await,
        other => not_found(format!(
            "method `{other}` is not served; Aratta serves generateContent, streamGenerateContent, embedContent and batchEmbedContents"
        )),
    }
}

/// Gemini's generateContent and streamGenerateContent.
pub struct Gemini;

/// Gemini's chunk encoder: unnamed events, one JSON chunk each.
pub struct GeminiChunks(ChunkEncoder);

impl Dialect for Gemini {
    type Options = ();
    type Encoder = GeminiChunks;

    fn decode(body: &[u8], path: PathArgs<'_>) -> Result<(ChatRequest, ()), Box<Refusal>> {
        gemini::generate_request(path.model.unwrap_or_default(), body, path.stream)
            .map(|request| (request, ()))
            .map_err(Into::into)
    }

    fn encode(answer: &ChatResponse, _: &()) -> impl serde::Serialize {
        gemini::generate_body(answer)
    }

    fn encoder(request_id: &str, model: String, _: ()) -> GeminiChunks {
        GeminiChunks(ChunkEncoder::new(
            request_id.trim_start_matches("req_"),
            model,
        ))
    }

    fn error(status: StatusCode, error: &ApiErrorBody) -> Response {
        (status, Json(gemini::error_body(status.as_u16(), error))).into_response()
    }
}

impl StreamEncoder for GeminiChunks {
    fn push(&mut self, event: &StreamEvent) -> Vec<Event> {
        self.0
            .push(event)
            .into_iter()
            .map(|data| Event::default().data(data))
            .collect()
    }
}

async fn generate(gw: Arc<Gateway>, model: &str, body: &[u8], stream: bool) -> Response {
    let path = PathArgs {
        model: Some(model),
        stream,
    };
    dialects::chat::<Gemini>(&gw, body, path).await
}

async fn embed(gw: Arc<Gateway>, model: &str, body: &[u8], batch: bool) -> Response {
    let parsed = if batch {
        gemini::batch_embed_request(model, body)
    } else {
        gemini::embed_request(model, body)
    };
    let request = match parsed {
        Ok(request) => request,
        Err(e) => return bad_request(e),
    };
    let id = request_id();
    match with_timeout(&gw, gw.embed(&request, &id)).await {
        Ok(response) => {
            let body = if batch {
                gemini::batch_embed_response(&response)
            } else {
                gemini::embed_response(&response)
            };
            (lineage_headers(&response.lineage), Json(body)).into_response()
        }
        Err(Failure(e)) => dialects::failure::<Gemini>(&e),
    }
}

/// `GET /v1beta/models` (and `GET /v1/models` from a Gemini client): one page, by `pageSize`
/// and `pageToken`.
pub async fn models(State(gw): State<Arc<Gateway>>, uri: Uri) -> Response {
    let query = match Query::<ModelsQuery>::try_from_uri(&uri) {
        Ok(Query(query)) => query,
        Err(e) => {
            return bad_request(RequestError::invalid("query", e.to_string()));
        }
    };
    Json(gemini::models_page(&gw.models().await, &query)).into_response()
}

/// `GET /v1beta/models/{model}` (and `GET /v1/models/{model}` from a Gemini client).
pub async fn model(State(gw): State<Arc<Gateway>>, Path(name): Path<String>) -> Response {
    match gemini::model(&gw.models().await, &name) {
        Some(model) => Json(model).into_response(),
        None => not_found(format!(
            "no model `{name}`; GET /v1beta/models lists them (provider:model, or an alias)"
        )),
    }
}
