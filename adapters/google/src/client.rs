//! The operations over HTTP: what `lib.rs` exports as `chat`, `chat-stream`, `embed`,
//! `get-models` and `health-check`. Everything here is I/O; the translation lives in the other
//! modules, where the tests reach it without a network.

use aratta_guest::http::Request;
use aratta_guest::sse::SseStream;
use aratta_guest::{
    AdapterError, BoxEventStream, CallContext, ChatRequest, ChatResponse, EmbeddingRequest,
    EmbeddingResponse, HealthReport, ModelInfo, VecEventStream, peek_stream,
};

use crate::errors::check;
use crate::stream::{StreamDecoder, json_events};
use crate::{embed, models, request, response};

/// `POST {base}/models/{model}:generateContent`.
pub fn chat(ctx: &CallContext, req: &ChatRequest) -> Result<ChatResponse, AdapterError> {
    let body = request::chat_body(req)?;
    let path = request::model_path(&req.model, "generateContent")?;
    let response = Request::post(ctx, &path)
        .header("accept", "application/json")
        .json(&body)
        .send()?;
    let bytes = check(response)?.bytes()?;
    response::chat_response(&bytes, &response::fallbacks(ctx, &req.model))
}

/// `POST {base}/models/{model}:streamGenerateContent?alt=sse`. Failures before the first
/// event (a refused connection, a 4xx/5xx, an error chunk first) are returned here, where the
/// host can still fall back to another provider.
pub fn chat_stream(ctx: &CallContext, req: &ChatRequest) -> Result<BoxEventStream, AdapterError> {
    let body = request::chat_body(req)?;
    let path = format!(
        "{}?alt=sse",
        request::model_path(&req.model, "streamGenerateContent")?
    );
    let response = Request::post(ctx, &path)
        .header("accept", "text/event-stream")
        .json(&body)
        .send()?;
    let response = check(response)?;
    let fallbacks = response::fallbacks(ctx, &req.model);
    if response.is_json() {
        let bytes = response.bytes()?;
        return peek_stream(Box::new(VecEventStream::new(json_events(
            &bytes, fallbacks,
        ))));
    }
    let decoder = StreamDecoder::new(fallbacks);
    peek_stream(Box::new(SseStream::new(response.into_body(), decoder)))
}

/// `POST {base}/models/{model}:batchEmbedContents`.
pub fn embed(ctx: &CallContext, req: &EmbeddingRequest) -> Result<EmbeddingResponse, AdapterError> {
    if req.inputs.is_empty() {
        return Ok(EmbeddingResponse {
            model: req.model.clone(),
            embeddings: Vec::new(),
            usage: None,
        });
    }
    let body = embed::body(req)?;
    let path = request::model_path(&req.model, "batchEmbedContents")?;
    let response = Request::post(ctx, &path)
        .header("accept", "application/json")
        .json(&body)
        .send()?;
    embed::response(&check(response)?.bytes()?, req)
}

/// `GET {base}/models`, every page.
pub fn get_models(ctx: &CallContext) -> Result<Vec<ModelInfo>, AdapterError> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..models::MAX_PAGES {
        let response = Request::get(ctx, &models::page_path(token.as_deref()))
            .header("accept", "application/json")
            .send()?;
        let (page, next) = models::page(&check(response)?.bytes()?)?;
        all.extend(page);
        match next {
            Some(next) if Some(&next) != token.as_ref() => token = Some(next),
            _ => return Ok(all),
        }
    }
    Ok(all)
}

/// `GET {base}/models?pageSize=1`: reachable, and the key is accepted. One model is asked
/// for, so the report carries no total.
pub fn health_check(ctx: &CallContext) -> Result<HealthReport, AdapterError> {
    let response = Request::get(ctx, "/models?pageSize=1")
        .header("accept", "application/json")
        .send()?;
    let (page, _) = models::page(&check(response)?.bytes()?)?;
    let detail = if page.is_empty() {
        "Gemini accepted the key but lists no models"
    } else {
        "Gemini accepted the key and lists models"
    };
    Ok(HealthReport {
        model_count: None,
        detail: Some(detail.to_string()),
    })
}
