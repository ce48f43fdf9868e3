//! Aratta adapter for Anthropic's Messages API (Claude).
//!
//! SCRI ⇄ Anthropic translation, module by module:
//! - [`request`] and [`messages`]: SCRI → `POST /v1/messages` bodies (system hoisting, content
//!   blocks, tool results merged per turn, thinking round trips, structured output);
//! - [`tools`]: tool definitions both ways, schema text kept byte for byte;
//! - [`response`]: `Message` → SCRI response, usage and stop reasons;
//! - [`stream`]: Server-Sent Events → SCRI stream events, read incrementally;
//! - [`errors`]: HTTP statuses and Anthropic's error types → SCRI adapter errors;
//! - [`models`]: `GET /v1/models` pages → SCRI model capabilities.
//!
//! This file holds the operations themselves: the HTTP calls and their headers. The mapping is
//! documented field by field in `docs/providers/anthropic.md`.

pub mod errors;
pub mod messages;
pub mod models;
pub mod request;
pub mod response;
pub mod stream;
pub mod tools;

#[cfg(test)]
mod tests;

use aratta_guest::http::{Request, Response};
use aratta_guest::sse::SseStream;
use aratta_guest::{
    Adapter, AdapterError, AdapterInfo, AuthScheme, BoxEventStream, CallContext, ChatRequest,
    ChatResponse, EmbeddingRequest, EmbeddingResponse, ErrorDetail, HealthReport, Json, Message,
    ModelInfo, Tool, VecEventStream, peek_stream,
};

/// The API's host, as the official SDKs default to it (paths below carry the `/v1`).
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The `anthropic-version` every request sends: the Messages API's only stable version.
/// Newer behaviour arrives through the request body and `anthropic-beta`, not this header.
pub const API_VERSION: &str = "2023-06-01";

/// The header the host puts the API key in.
pub const AUTH_HEADER: &str = "x-api-key";

/// The adapter.
pub struct Anthropic;

impl Adapter for Anthropic {
    fn describe() -> AdapterInfo {
        AdapterInfo {
            name: "anthropic".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            description: "Anthropic's Messages API (Claude)".to_string(),
            default_base_url: DEFAULT_BASE_URL.to_string(),
            extra_hosts: Vec::new(),
            auth: AuthScheme::Header(AUTH_HEADER.to_string()),
        }
    }

    fn chat(ctx: CallContext, request: ChatRequest) -> Result<ChatResponse, AdapterError> {
        let body = request::chat_body(&request, false)?;
        let bytes = checked(post(&ctx, body, "application/json")?)?.bytes()?;
        response::chat_response(
            &bytes,
            &request.model,
            &response::fallback_id(&ctx.request_id),
        )
    }

    fn chat_stream(ctx: CallContext, request: ChatRequest) -> Result<BoxEventStream, AdapterError> {
        let body = request::chat_body(&request, true)?;
        let response = checked(post(&ctx, body, "text/event-stream")?)?;
        let fallback_id = response::fallback_id(&ctx.request_id);
        // A proxy that answers a streaming request with one JSON body is replayed as events.
        if response.is_json() {
            let bytes = response.bytes()?;
            let answer = response::chat_response(&bytes, &request.model, &fallback_id)?;
            return Ok(Box::new(VecEventStream::from_response(answer)));
        }
        let decoder = stream::StreamDecoder::new(fallback_id, request.model.clone());
        // An `error` event before any content (overload right after `message_start`) comes
        // back as `Err` here, where the host can still fall back.
        peek_stream(Box::new(SseStream::new(response.into_body(), decoder)))
    }

    fn embed(
        _ctx: CallContext,
        _request: EmbeddingRequest,
    ) -> Result<EmbeddingResponse, AdapterError> {
        Err(AdapterError::Unsupported(ErrorDetail::new(
            "Anthropic has no embeddings API (its documentation points to third-party \
             embedding providers); configure an OpenAI or Google provider for `embed`",
        )))
    }

    fn convert_messages(messages: Vec<Message>) -> Result<Json, AdapterError> {
        messages::conversation_json(&messages)
    }

    fn convert_tools(tools: Vec<Tool>) -> Result<Json, AdapterError> {
        tools::to_anthropic_json(&tools)
    }

    fn parse_tools(native: Json) -> Result<Vec<Tool>, AdapterError> {
        tools::from_anthropic_json(&native)
    }

    fn get_models(ctx: CallContext) -> Result<Vec<ModelInfo>, AdapterError> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..models::MAX_PAGES {
            let path = models::page_path(cursor.as_deref(), models::PAGE_LIMIT);
            let page = models::page(&get(&ctx, &path)?)?;
            all.extend(page.models);
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
        Err(AdapterError::other(format!(
            "Anthropic's model list did not end after {} pages",
            models::MAX_PAGES
        )))
    }

    fn health_check(ctx: CallContext) -> Result<HealthReport, AdapterError> {
        let page = models::page(&get(&ctx, &models::page_path(None, 1))?)?;
        Ok(HealthReport {
            // One model was asked for, so the list's length says nothing about the total.
            model_count: None,
            detail: Some(match page.models.first() {
                Some(model) => format!("credential accepted; newest model: {}", model.id),
                None => "credential accepted; no models listed".to_string(),
            }),
        })
    }
}

aratta_guest::export_adapter!(Anthropic);

/// `POST {base}/v1/messages` with `body` (JSON text).
fn post(ctx: &CallContext, body: String, accept: &str) -> Result<Response, AdapterError> {
    Request::post(ctx, "/v1/messages")
        .header("anthropic-version", API_VERSION)
        .header("accept", accept)
        .body("application/json", body.into_bytes())
        .send()
}

/// `GET {base}{path}`, checked, as bytes.
fn get(ctx: &CallContext, path: &str) -> Result<Vec<u8>, AdapterError> {
    let response = Request::get(ctx, path)
        .header("anthropic-version", API_VERSION)
        .header("accept", "application/json")
        .send()?;
    checked(response)?.bytes()
}

/// The response when 2xx; otherwise its body classified by status and Anthropic's error type.
fn checked(response: Response) -> Result<Response, AdapterError> {
    if response.is_success() {
        return Ok(response);
    }
    let status = response.status();
    let retry = aratta_guest::status::retry_after_ms(
        response.header("retry-after"),
        response.header("retry-after-ms"),
    );
    let body = response.bytes().unwrap_or_default();
    Err(errors::for_status(status, retry, &body))
}
