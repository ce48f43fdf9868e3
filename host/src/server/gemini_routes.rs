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

use crate::gateway::{Gateway, GatewayError, request_id};
use crate::gemini_api::{self, ChunkEncoder, ModelsQuery, RequestError};
use crate::scri::{ApiErrorBody, ChatRequest, ChatResponse, StreamEvent};

use super::dialect::{self, Dialect, PathArgs, Refusal, StreamEncoder};
use super::lineage::lineage_headers;
use super::with_timeout;

fn answer(status: StatusCode, err: &ApiErrorBody) -> Response {
    (status, Json(gemini_api::error_body(status.as_u16(), err))).into_response()
}

fn bad_request(e: RequestError) -> Response {
    answer(StatusCode::BAD_REQUEST, &e.to_api_error())
}

fn not_found(what: String) -> Response {
    let err = GatewayError::UnknownModel { message: what };
    answer(StatusCode::NOT_FOUND, &err.to_api_error())
}

/// `POST /v1beta/models/{model}:{method}`.
pub async fn call(
    State(gw): State<Arc<Gateway>>,
    Path(rest): Path<String>,
    body: Bytes,
) -> Response {
    let Some((model, method)) = gemini_api::split_model_method(&rest) else {
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
        gemini_api::generate_request(path.model.unwrap_or_default(), body, path.stream)
            .map(|request| (request, ()))
            .map_err(|e| Refusal::boxed(StatusCode::BAD_REQUEST, e.to_api_error()))
    }

    fn encode(answer: &ChatResponse, _: &()) -> impl serde::Serialize {
        gemini_api::generate_response(answer)
    }

    fn encoder(request_id: &str, model: String, _: ()) -> GeminiChunks {
        GeminiChunks(ChunkEncoder::new(
            request_id.trim_start_matches("req_"),
            model,
        ))
    }

    fn error(status: StatusCode, error: &ApiErrorBody) -> Response {
        answer(status, error)
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
    dialect::chat::<Gemini>(&gw, body, path).await
}

async fn embed(gw: Arc<Gateway>, model: &str, body: &[u8], batch: bool) -> Response {
    let parsed = if batch {
        gemini_api::batch_embed_request(model, body)
    } else {
        gemini_api::embed_request(model, body)
    };
    let request = match parsed {
        Ok(request) => request,
        Err(e) => return bad_request(e),
    };
    let id = request_id();
    match with_timeout(&gw, gw.embed(&request, &id)).await {
        Ok(response) => {
            let body = if batch {
                gemini_api::batch_embed_response(&response)
            } else {
                gemini_api::embed_response(&response)
            };
            (lineage_headers(&response.lineage), Json(body)).into_response()
        }
        Err(super::Failure(e)) => dialect::failure::<Gemini>(&e),
    }
}

/// `GET /v1beta/models` (and `GET /v1/models` from a Gemini client): one page, by `pageSize`
/// and `pageToken`.
pub async fn models(State(gw): State<Arc<Gateway>>, uri: Uri) -> Response {
    let query = match Query::<ModelsQuery>::try_from_uri(&uri) {
        Ok(Query(query)) => query,
        Err(e) => {
            return bad_request(RequestError::Invalid {
                param: "query".into(),
                reason: e.to_string(),
            });
        }
    };
    Json(gemini_api::models_page(&gw.models().await, &query)).into_response()
}

/// `GET /v1beta/models/{model}` (and `GET /v1/models/{model}` from a Gemini client).
pub async fn model(State(gw): State<Arc<Gateway>>, Path(name): Path<String>) -> Response {
    match gemini_api::model(&gw.models().await, &name) {
        Some(model) => Json(model).into_response(),
        None => not_found(format!(
            "no model `{name}`; GET /v1beta/models lists them (provider:model, or an alias)"
        )),
    }
}
