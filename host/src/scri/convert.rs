//! SCRI JSON ⇄ component bindings. JSON values that the WIT carries as text (tool schemas,
//! arguments, passthrough) are serialised here; arguments that are not valid JSON are kept
//! verbatim as a string rather than dropped.

use serde_json::Value;

use crate::runtime::bindings::{chat as wit, embeddings as wit_embed, models as wit_models};

use super::*;

/// Text of a JSON value the WIT carries as a string. A JSON string is taken as already being
/// JSON text (a client may send arguments the way OpenAI does).
fn json_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Parse JSON text from an adapter, keeping unparseable text as a string.
pub fn json_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// The WIT request for `model` (already resolved to the provider's own id).
pub fn chat_request(req: &ChatRequest, model: &str) -> wit::ChatRequest {
    wit::ChatRequest {
        model: model.to_owned(),
        messages: req.messages.iter().map(message).collect(),
        tools: req.tools.iter().map(tool).collect(),
        tool_choice: req.tool_choice.as_ref().map(|c| match c {
            ToolChoice::Mode(ToolChoiceMode::Auto) => wit::ToolChoice::Auto,
            ToolChoice::Mode(ToolChoiceMode::None) => wit::ToolChoice::None,
            ToolChoice::Mode(ToolChoiceMode::Required) => wit::ToolChoice::Required,
            ToolChoice::Tool { tool } => wit::ToolChoice::Tool(tool.clone()),
        }),
        parallel_tool_calls: req.parallel_tool_calls,
        response_format: req.response_format.as_ref().map(|f| match f {
            ResponseFormat::Text => wit::ResponseFormat::Text,
            ResponseFormat::JsonObject => wit::ResponseFormat::JsonObject,
            ResponseFormat::JsonSchema {
                name,
                description,
                schema,
                strict,
            } => wit::ResponseFormat::JsonSchema(wit::JsonSchemaFormat {
                name: name.clone(),
                description: description.clone(),
                schema: json_text(schema),
                strict: *strict,
            }),
        }),
        sampling: wit::Sampling {
            temperature: req.sampling.temperature,
            top_p: req.sampling.top_p,
            top_k: req.sampling.top_k,
            max_tokens: req.sampling.max_tokens,
            stop: req.sampling.stop.clone(),
            seed: req.sampling.seed,
            presence_penalty: req.sampling.presence_penalty,
            frequency_penalty: req.sampling.frequency_penalty,
        },
        reasoning: req.reasoning.as_ref().map(|r| wit::ReasoningOptions {
            effort: r.effort.clone(),
            budget_tokens: r.budget_tokens,
            include_reasoning: r.include_reasoning,
        }),
        user: req.user.clone(),
        extra: req.extra.as_ref().map(json_text),
    }
}

/// A SCRI tool as WIT.
pub fn tool(t: &Tool) -> wit::Tool {
    wit::Tool {
        name: t.name.clone(),
        description: t.description.clone(),
        parameters: json_text(&t.parameters),
    }
}

/// A WIT tool as SCRI JSON.
pub fn tool_from_wit(t: wit::Tool) -> Tool {
    Tool {
        name: t.name,
        description: t.description,
        parameters: json_value(&t.parameters),
    }
}

/// A SCRI message as WIT.
pub fn message(m: &Message) -> wit::Message {
    wit::Message {
        role: match m.role {
            Role::System => wit::Role::System,
            Role::Developer => wit::Role::Developer,
            Role::User => wit::Role::User,
            Role::Assistant => wit::Role::Assistant,
            Role::Tool => wit::Role::Tool,
        },
        content: match &m.content {
            Content::Text(t) => wit::MessageContent::Text(t.clone()),
            Content::Blocks(blocks) => {
                wit::MessageContent::Blocks(blocks.iter().map(block).collect())
            }
        },
        name: m.name.clone(),
    }
}

fn image(i: &Image) -> wit::Image {
    wit::Image {
        source: match &i.source {
            ImageSource::Url { url } => wit::ImageSource::Url(url.clone()),
            ImageSource::Base64 { media_type, data } => {
                wit::ImageSource::Base64(wit::Base64Image {
                    media_type: media_type.clone(),
                    data: data.clone(),
                })
            }
        },
        detail: i.detail.clone(),
    }
}

fn image_from_wit(i: wit::Image) -> Image {
    Image {
        source: match i.source {
            wit::ImageSource::Url(url) => ImageSource::Url { url },
            wit::ImageSource::Base64(b) => ImageSource::Base64 {
                media_type: b.media_type,
                data: b.data,
            },
        },
        detail: i.detail,
    }
}

fn block(b: &ContentBlock) -> wit::ContentBlock {
    match b {
        ContentBlock::Text { text } => wit::ContentBlock::Text(text.clone()),
        ContentBlock::Image(i) => wit::ContentBlock::Image(image(i)),
        ContentBlock::ToolUse(c) => wit::ContentBlock::ToolUse(wit::ToolCall {
            id: c.id.clone(),
            name: c.name.clone(),
            arguments: json_text(&c.arguments),
            signature: c.signature.clone(),
        }),
        ContentBlock::ToolResult(r) => wit::ContentBlock::ToolResult(wit::ToolResult {
            tool_call_id: r.tool_call_id.clone(),
            name: r.name.clone(),
            content: match &r.content {
                ToolResultContent::Text(t) => vec![wit::ToolResultPart::Text(t.clone())],
                ToolResultContent::Parts(parts) => parts
                    .iter()
                    .map(|p| match p {
                        ToolResultPart::Text { text } => wit::ToolResultPart::Text(text.clone()),
                        ToolResultPart::Image(i) => wit::ToolResultPart::Image(image(i)),
                    })
                    .collect(),
            },
            is_error: r.is_error,
        }),
        ContentBlock::Reasoning(r) => wit::ContentBlock::Reasoning(wit::Reasoning {
            text: r.text.clone(),
            signature: r.signature.clone(),
            redacted: r.redacted.clone(),
            format: r.format.clone(),
        }),
    }
}

/// An adapter's content block as SCRI JSON.
pub fn block_from_wit(b: wit::ContentBlock) -> ContentBlock {
    match b {
        wit::ContentBlock::Text(text) => ContentBlock::Text { text },
        wit::ContentBlock::Image(i) => ContentBlock::Image(image_from_wit(i)),
        wit::ContentBlock::ToolUse(c) => ContentBlock::ToolUse(ToolCall {
            id: c.id,
            name: c.name,
            arguments: json_value(&c.arguments),
            signature: c.signature,
        }),
        wit::ContentBlock::ToolResult(r) => ContentBlock::ToolResult(ToolResult {
            tool_call_id: r.tool_call_id,
            name: r.name,
            content: ToolResultContent::Parts(
                r.content
                    .into_iter()
                    .map(|p| match p {
                        wit::ToolResultPart::Text(text) => ToolResultPart::Text { text },
                        wit::ToolResultPart::Image(i) => ToolResultPart::Image(image_from_wit(i)),
                    })
                    .collect(),
            ),
            is_error: r.is_error,
        }),
        wit::ContentBlock::Reasoning(r) => ContentBlock::Reasoning(Reasoning {
            text: r.text,
            signature: r.signature,
            redacted: r.redacted,
            format: r.format,
        }),
    }
}

/// A WIT finish reason as SCRI's reason plus the raw provider value when unknown.
pub fn finish_reason(r: wit::FinishReason) -> (FinishReason, Option<String>) {
    match r {
        wit::FinishReason::Stop => (FinishReason::Stop, None),
        wit::FinishReason::Length => (FinishReason::Length, None),
        wit::FinishReason::ToolCalls => (FinishReason::ToolCalls, None),
        wit::FinishReason::ContentFilter => (FinishReason::ContentFilter, None),
        wit::FinishReason::Unknown(raw) => (FinishReason::Unknown, Some(raw)),
    }
}

/// WIT usage as SCRI JSON.
pub fn usage(u: wit::Usage) -> Usage {
    Usage {
        input_tokens: u.input_tokens,
        output_tokens: u.output_tokens,
        cache_read_tokens: u.cache_read_tokens,
        cache_write_tokens: u.cache_write_tokens,
        reasoning_tokens: u.reasoning_tokens,
    }
}

/// An adapter's answer as SCRI JSON, with the host's lineage.
pub fn chat_response(r: wit::ChatResponse, lineage: Lineage) -> ChatResponse {
    let (finish_reason, finish_reason_raw) = finish_reason(r.finish_reason);
    ChatResponse {
        id: r.id,
        model: r.model,
        content: r.content.into_iter().map(block_from_wit).collect(),
        finish_reason,
        finish_reason_raw,
        usage: r.usage.map(usage),
        lineage,
    }
}

/// The WIT embedding request for `model` (already resolved).
pub fn embed_request(req: &EmbedRequest, model: &str) -> wit_embed::EmbeddingRequest {
    wit_embed::EmbeddingRequest {
        model: model.to_owned(),
        inputs: req.inputs.clone(),
        dimensions: req.dimensions,
        extra: req.extra.as_ref().map(json_text),
    }
}

/// WIT model capabilities as SCRI JSON.
pub fn capabilities(c: wit_models::ModelCapabilities) -> ModelCapabilities {
    ModelCapabilities {
        context_window: c.context_window,
        max_output_tokens: c.max_output_tokens,
        tools: c.tools,
        vision: c.vision,
        streaming: c.streaming,
        embeddings: c.embeddings,
        reasoning: c.reasoning,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_parameters_survive_the_boundary() {
        let t = Tool {
            name: "get_weather".into(),
            description: Some("Weather for a city".into()),
            parameters: serde_json::json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
        };
        assert_eq!(tool_from_wit(tool(&t)), t);
    }

    #[test]
    fn invalid_arguments_are_kept_verbatim() {
        assert_eq!(json_value("{\"a\":"), Value::String("{\"a\":".into()));
        assert_eq!(json_value("{\"a\":1}"), serde_json::json!({"a": 1}));
    }

    #[test]
    fn string_content_and_blocks_both_parse() {
        let m: Message = serde_json::from_str(r#"{"role":"user","content":"hi"}"#).unwrap();
        assert!(matches!(m.content, Content::Text(ref t) if t == "hi"));
        let m: Message = serde_json::from_str(
            r#"{"role":"assistant","content":[{"type":"reasoning","text":"hm","signature":"sig"},
                {"type":"tool_use","id":"c1","name":"f","arguments":{"x":1}}]}"#,
        )
        .unwrap();
        let wit::MessageContent::Blocks(blocks) = message(&m).content else {
            panic!("blocks expected")
        };
        assert!(
            matches!(&blocks[0], wit::ContentBlock::Reasoning(r) if r.signature.as_deref() == Some("sig"))
        );
        assert!(matches!(&blocks[1], wit::ContentBlock::ToolUse(c) if c.arguments == r#"{"x":1}"#));
    }

    #[test]
    fn unknown_finish_reason_keeps_the_raw_value() {
        let (r, raw) = finish_reason(wit::FinishReason::Unknown("SAFETY".into()));
        assert_eq!(r, FinishReason::Unknown);
        assert_eq!(raw.as_deref(), Some("SAFETY"));
    }
}
