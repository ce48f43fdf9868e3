//! The OpenAI-compatible operations over [`http`](aratta_guest::http): what an adapter's `chat`,
//! `chat-stream`, `embed`, `get-models` and `health-check` call, given a [`Dialect`].

use super::stream::StreamDecoder;
use super::{Dialect, fallbacks, request, response};
use aratta_guest::http::Request;
use aratta_guest::sse::SseStream;
use aratta_guest::{
    AdapterError, CallContext, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse,
    HealthReport, ModelInfo,
};
use aratta_guest::{BoxEventStream, VecEventStream, peek_stream};

/// `POST {base}/chat/completions` and the answer as SCRI.
pub fn chat(
    ctx: &CallContext,
    req: &ChatRequest,
    dialect: &Dialect,
) -> Result<ChatResponse, AdapterError> {
    let body = request::chat_body_json(req, dialect, false)?;
    let bytes = Request::post(ctx, "/chat/completions")
        .header("accept", "application/json")
        .body("application/json", body.into_bytes())
        .send()?
        .error_for_status()?
        .bytes()?;
    response::chat_response(&bytes, &fallbacks(ctx, &req.model))
}

/// `POST {base}/chat/completions` with `stream: true` and usage in the final chunk. Errors
/// before the body (refused connection, 4xx/5xx) are returned here so the host can fall back,
/// and so is an error event that comes before any content. A server that answers with one JSON
/// body instead of events is replayed as events.
pub fn chat_stream(
    ctx: &CallContext,
    req: &ChatRequest,
    dialect: &Dialect,
) -> Result<BoxEventStream, AdapterError> {
    let body = request::chat_body_json(req, dialect, true)?;
    let response = Request::post(ctx, "/chat/completions")
        .header("accept", "text/event-stream")
        .body("application/json", body.into_bytes())
        .send()?
        .error_for_status()?;
    let fallbacks = fallbacks(ctx, &req.model);
    if response.is_json() {
        let bytes = response.bytes()?;
        let answer = response::chat_response(&bytes, &fallbacks)?;
        return Ok(Box::new(VecEventStream::from_response(answer)));
    }
    // An error before any content (llama.cpp's context overflow comes right after the role
    // chunk) is still returned here, where the host can fall back.
    peek_stream(Box::new(SseStream::new(
        response.into_body(),
        StreamDecoder::new(fallbacks),
    )))
}

/// `POST {base}/embeddings` and the vectors in input order.
pub fn embed(ctx: &CallContext, req: &EmbeddingRequest) -> Result<EmbeddingResponse, AdapterError> {
    if req.inputs.is_empty() {
        return Ok(EmbeddingResponse {
            model: req.model.clone(),
            embeddings: Vec::new(),
            usage: None,
        });
    }
    let body = request::embeddings_body(req)?;
    let bytes = Request::post(ctx, "/embeddings")
        .header("accept", "application/json")
        .json(&body)
        .send()?
        .error_for_status()?
        .bytes()?;
    response::embedding_response(&bytes, req.inputs.len(), &req.model)
}

/// `GET {base}/models`.
pub fn models(ctx: &CallContext) -> Result<Vec<ModelInfo>, AdapterError> {
    let bytes = Request::get(ctx, "/models")
        .header("accept", "application/json")
        .send()?
        .error_for_status()?
        .bytes()?;
    response::models(&bytes)
}

/// A health check through `GET {base}/models`: reachable, credential accepted, and how many
/// models it lists.
pub fn health_check(ctx: &CallContext) -> Result<HealthReport, AdapterError> {
    let models = models(ctx)?;
    let detail = match models.len() {
        0 => Some("the server lists no models".to_string()),
        _ => None,
    };
    Ok(HealthReport {
        model_count: Some(u32::try_from(models.len()).unwrap_or(u32::MAX)),
        detail,
    })
}
