//! Aratta adapter for Google's Gemini API: the Generative Language API `v1beta`
//! (`generativelanguage.googleapis.com`), with the key in `x-goog-api-key`.
//!
//! | file | job |
//! | --- | --- |
//! | `contents.rs` | SCRI messages → `contents` / `systemInstruction`, thought signatures put back |
//! | `tools.rs` | SCRI tools ⇄ `functionDeclarations` (`parametersJsonSchema`) |
//! | `request.rs` | the `generateContent` body: tools, `toolConfig`, `generationConfig`, `extra` |
//! | `wire.rs` | the response shapes read |
//! | `response.rs` | parts → blocks, finish reasons, usage |
//! | `stream.rs` | `streamGenerateContent?alt=sse` → stream events |
//! | `errors.rs` | Google error bodies → typed errors |
//! | `embed.rs`, `models.rs` | `batchEmbedContents`, `GET models` |
//! | `client.rs` | the HTTP calls |
//!
//! The field-by-field mapping and what is not supported: `docs/providers/google.md`.

pub mod client;
pub mod contents;
pub mod embed;
pub mod errors;
pub mod models;
pub mod request;
pub mod response;
pub mod stream;
pub mod tools;
pub mod wire;

#[cfg(test)]
mod tests;

use aratta_guest::{
    Adapter, AdapterError, AdapterInfo, AuthScheme, BoxEventStream, CallContext, ChatRequest,
    ChatResponse, EmbeddingRequest, EmbeddingResponse, HealthReport, Json, Message, ModelInfo,
    Tool,
};

/// Where Google's SDKs send Gemini API requests.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com/v1beta";

/// The adapter.
pub struct Google;

impl Adapter for Google {
    fn describe() -> AdapterInfo {
        AdapterInfo {
            name: "google".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            description: "Google Gemini API (generateContent, v1beta)".to_string(),
            default_base_url: DEFAULT_BASE_URL.to_string(),
            extra_hosts: Vec::new(),
            // The host adds the key as this header; the adapter never sees it.
            auth: AuthScheme::Header("x-goog-api-key".to_string()),
        }
    }

    fn chat(ctx: CallContext, request: ChatRequest) -> Result<ChatResponse, AdapterError> {
        client::chat(&ctx, &request)
    }

    fn chat_stream(ctx: CallContext, request: ChatRequest) -> Result<BoxEventStream, AdapterError> {
        client::chat_stream(&ctx, &request)
    }

    fn embed(
        ctx: CallContext,
        request: EmbeddingRequest,
    ) -> Result<EmbeddingResponse, AdapterError> {
        client::embed(&ctx, &request)
    }

    /// `{"contents": [...], "systemInstruction": {...}}`, as in a request body.
    fn convert_messages(messages: Vec<Message>) -> Result<Json, AdapterError> {
        let conversation = contents::convert(&messages)?;
        Ok(conversation.to_value().to_string())
    }

    /// A `functionDeclarations` array.
    fn convert_tools(tools: Vec<Tool>) -> Result<Json, AdapterError> {
        tools::to_json(&tools)
    }

    fn parse_tools(native: Json) -> Result<Vec<Tool>, AdapterError> {
        tools::from_json(&native)
    }

    fn get_models(ctx: CallContext) -> Result<Vec<ModelInfo>, AdapterError> {
        client::get_models(&ctx)
    }

    fn health_check(ctx: CallContext) -> Result<HealthReport, AdapterError> {
        client::health_check(&ctx)
    }
}

aratta_guest::export_adapter!(Google);
