//! Aratta adapter for local OpenAI-compatible servers: Ollama, vLLM and llama.cpp's
//! `llama-server`. Everything goes through the SDK's OpenAI module; this crate only picks the
//! [`Dialect`] these servers understand. Their quirks (see README.md) are handled by the SDK's
//! lenient parsing, so the OpenAI and xAI adapters benefit too.

use aratta_guest::{
    Adapter, AdapterError, AdapterInfo, AuthScheme, BoxEventStream, CallContext, ChatRequest,
    ChatResponse, EmbeddingRequest, EmbeddingResponse, HealthReport, Json, Message, ModelInfo,
    Tool,
};
use aratta_openai_compatible::{Dialect, client, request, tools};

/// Ollama's OpenAI-compatible endpoint, the most common local server.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:11434/v1";

/// The request dialect of local servers.
pub const LOCAL: Dialect = Dialect {
    // Chat templates of local models know `system`, rarely `developer`.
    developer_role: false,
    // Ollama reads only `max_tokens`; vLLM and llama.cpp read both.
    max_completion_tokens: false,
    // vLLM and llama.cpp sample with it; Ollama's OpenAI layer ignores it.
    top_k: true,
    // llama.cpp silently turns the object form into `auto`; Ollama ignores `tool_choice`.
    named_tool_choice_as_required: true,
};

/// The adapter.
pub struct Local;

impl Adapter for Local {
    fn describe() -> AdapterInfo {
        AdapterInfo {
            name: "local".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            description: "Local OpenAI-compatible servers: Ollama, vLLM, llama.cpp".to_string(),
            default_base_url: DEFAULT_BASE_URL.to_string(),
            extra_hosts: Vec::new(),
            // Local servers need no key; the host may still add an optional bearer key
            // (vLLM --api-key, llama-server --api-key).
            auth: AuthScheme::None,
        }
    }

    fn chat(ctx: CallContext, request: ChatRequest) -> Result<ChatResponse, AdapterError> {
        client::chat(&ctx, &request, &LOCAL)
    }

    fn chat_stream(ctx: CallContext, request: ChatRequest) -> Result<BoxEventStream, AdapterError> {
        client::chat_stream(&ctx, &request, &LOCAL)
    }

    fn embed(
        ctx: CallContext,
        request: EmbeddingRequest,
    ) -> Result<EmbeddingResponse, AdapterError> {
        client::embed(&ctx, &request)
    }

    fn convert_messages(messages: Vec<Message>) -> Result<Json, AdapterError> {
        request::messages_json(&messages, &LOCAL)
    }

    fn convert_tools(tools: Vec<Tool>) -> Result<Json, AdapterError> {
        tools::to_openai_json(&tools)
    }

    fn parse_tools(native: Json) -> Result<Vec<Tool>, AdapterError> {
        tools::from_openai_json(&native)
    }

    fn get_models(ctx: CallContext) -> Result<Vec<ModelInfo>, AdapterError> {
        client::models(&ctx)
    }

    fn health_check(ctx: CallContext) -> Result<HealthReport, AdapterError> {
        client::health_check(&ctx)
    }
}

aratta_guest::export_adapter!(Local);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_itself_as_local_with_ollamas_url() {
        let info = Local::describe();
        assert_eq!(info.name, "local");
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(info.default_base_url, "http://127.0.0.1:11434/v1");
        assert_eq!(info.auth, AuthScheme::None);
    }

    #[test]
    fn tools_round_trip() {
        let tools = vec![Tool {
            name: "get_weather".into(),
            description: Some("Weather for a city".into()),
            parameters:
                r#"{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"#
                    .into(),
        }];
        let native = Local::convert_tools(tools.clone()).unwrap();
        assert_eq!(Local::parse_tools(native).unwrap(), tools);
    }

    #[test]
    fn developer_messages_go_out_as_system() {
        let json = Local::convert_messages(vec![Message {
            role: aratta_guest::Role::Developer,
            content: aratta_guest::MessageContent::Text("be terse".into()),
            name: None,
        }])
        .unwrap();
        assert_eq!(json, r#"[{"role":"system","content":"be terse"}]"#);
    }

    #[test]
    fn parse_tools_reports_drift() {
        assert!(matches!(
            Local::parse_tools(r#"[{"type":"code_interpreter"}]"#.into()),
            Err(AdapterError::SchemaMismatch(_))
        ));
    }
}
