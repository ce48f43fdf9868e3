//! OpenAI-compatible routes, so the official OpenAI SDKs work with `base_url` pointed at
//! Aratta: `/v1/chat/completions`, `/v1/embeddings`, and the OpenAI form of `/v1/models` (which
//! `model_routes` answers for each SDK in its own). Lineage travels in
//! `x-aratta-*` headers, since OpenAI's bodies have no place for it.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use crate::gateway::{Gateway, GatewayError, request_id};
use crate::openai::{self, ChunkEncoder, RequestError};
use crate::scri::{Lineage, StreamEvent};

use super::error::{Failure, error_response};
use super::scri_routes::event_stream;
use super::with_timeout;

fn request_failure(e: RequestError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    error_response(status, e.to_api_error())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// `x-aratta-*` headers carrying a response's lineage.
pub fn lineage_headers(lineage: &Lineage) -> HeaderMap {
    // Names built at compile time, and room for all seven: this runs on every answer.
    const PROVIDER: HeaderName = HeaderName::from_static("x-aratta-provider");
    const MODEL: HeaderName = HeaderName::from_static("x-aratta-model");
    const ADAPTER: HeaderName = HeaderName::from_static("x-aratta-adapter");
    const ADAPTER_VERSION: HeaderName = HeaderName::from_static("x-aratta-adapter-version");
    const LATENCY_US: HeaderName = HeaderName::from_static("x-aratta-latency-us");
    const REQUEST_ID: HeaderName = HeaderName::from_static("x-aratta-request-id");
    const ATTEMPTS: HeaderName = HeaderName::from_static("x-aratta-attempts");
    let mut headers = HeaderMap::with_capacity(8);
    let mut put = |name: HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    put(PROVIDER, &lineage.provider);
    put(MODEL, &lineage.model);
    put(ADAPTER, &lineage.adapter);
    put(ADAPTER_VERSION, &lineage.adapter_version);
    put(LATENCY_US, &lineage.latency_us.to_string());
    put(REQUEST_ID, &lineage.request_id);
    let attempts: Vec<String> = lineage
        .attempts
        .iter()
        .map(|a| format!("{}:{}={}", a.provider, a.model, a.outcome))
        .collect();
    put(ATTEMPTS, &attempts.join(", "));
    headers
}

/// `POST /v1/chat/completions`.
pub async fn chat_completions(
    State(gw): State<Arc<Gateway>>,
    body: Bytes,
) -> Result<Response, Failure> {
    let parsed = match openai::chat_request(&body) {
        Ok(parsed) => parsed,
        Err(e) => return Ok(request_failure(e)),
    };
    let mut request = parsed.request;
    super::validate_chat(&gw, &mut request)?;
    let id = request_id();
    if !request.stream {
        let response = with_timeout(&gw, gw.chat(&request, &id)).await?;
        let headers = lineage_headers(&response.lineage);
        let body = openai::chat_completion(&response, unix_now());
        return Ok((headers, Json(body)).into_response());
    }
    let open = with_timeout(&gw, gw.chat_stream(&request, &id)).await?;
    let headers = lineage_headers(&open.lineage);
    let mut encoder = ChunkEncoder::new(
        format!("chatcmpl-{}", id.trim_start_matches("req_")),
        open.lineage.model.clone(),
        unix_now(),
        parsed.include_usage,
    );
    let events = event_stream(open).flat_map(move |event: StreamEvent| {
        let mut payloads = encoder.push(&event);
        if let Some(done) = encoder.done() {
            payloads.push(done.to_owned());
        }
        futures::stream::iter(
            payloads
                .into_iter()
                .map(|p| Ok::<_, Infallible>(Event::default().data(p))),
        )
    });
    Ok((headers, Sse::new(events)).into_response())
}

/// `POST /v1/embeddings`, honouring `encoding_format` (`float` or `base64`).
pub async fn embeddings(State(gw): State<Arc<Gateway>>, body: Bytes) -> Result<Response, Failure> {
    let (request, format) = match openai::embeddings_request(&body) {
        Ok(parsed) => parsed,
        Err(e) => return Ok(request_failure(e)),
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
