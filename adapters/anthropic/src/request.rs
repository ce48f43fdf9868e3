//! SCRI chat requests as Anthropic Messages API bodies (`POST /v1/messages`).
//!
//! The body is built from typed structs and serialized straight to JSON text, never through a
//! `serde_json::Value`: tool schemas, tool-call arguments and JSON-schema formats travel as
//! [`RawValue`]s, so their key order (which steers the model) reaches Anthropic unchanged.
//! How each SCRI field maps is tabled in `docs/providers/anthropic.md`.

use std::collections::BTreeMap;

use aratta_guest::{AdapterError, ChatRequest, ReasoningOptions, ResponseFormat, ToolChoice};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::messages::{self, BlockOut, System};
use crate::tools::{self, ToolDef};

/// `max_tokens` when the request sets none. Anthropic requires the field; 4096 fits every
/// current model's output limit and is what the API reference's examples use for chat.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Thinking budgets for SCRI effort levels when no `budget-tokens` is given. 1024 is
/// Anthropic's minimum budget; each level above roughly doubles or quadruples it.
pub const EFFORT_BUDGETS: [(&str, u32); 6] = [
    ("minimal", 1024),
    ("low", 2048),
    ("medium", 8192),
    ("high", 16384),
    ("xhigh", 32768),
    ("max", 32768),
];

/// What the JSON-object response format adds to the system prompt: Anthropic has no JSON mode
/// without a schema, so the instruction is the closest faithful translation.
pub const JSON_OBJECT_INSTRUCTION: &str =
    "Respond with a single valid JSON object and nothing else: no prose, no code fences.";

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<System>,
    messages: Vec<messages::WireMessage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<ToolDef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<ToolChoiceOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking: Option<Thinking>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_config: Option<OutputConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_k: Option<u32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
}

/// `tool_choice`: `{"type": "auto" | "any" | "tool" | "none", ...}`.
#[derive(Serialize, Debug, PartialEq)]
struct ToolChoiceOut {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disable_parallel_tool_use: Option<bool>,
}

/// `thinking: {"type": "enabled", "budget_tokens": N}` (extended thinking).
#[derive(Serialize)]
struct Thinking {
    #[serde(rename = "type")]
    kind: &'static str,
    budget_tokens: u32,
    /// `omitted` only when the caller asked not to see reasoning; the signature still comes.
    #[serde(skip_serializing_if = "Option::is_none")]
    display: Option<&'static str>,
}

/// `output_config: {"format": {"type": "json_schema", "schema": {...}}}` (structured outputs).
#[derive(Serialize)]
struct OutputConfig {
    format: OutputFormat,
}

#[derive(Serialize)]
struct OutputFormat {
    #[serde(rename = "type")]
    kind: &'static str,
    schema: Box<RawValue>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    user_id: &'a str,
}

/// The JSON text of `POST /v1/messages` for `request`; `stream` asks for Server-Sent Events.
/// `extra` is merged in last, key by key at the top level, so it can override any field.
pub fn chat_body(request: &ChatRequest, stream: bool) -> Result<String, AdapterError> {
    let conversation = messages::conversation(&request.messages)?;
    let mut system = conversation.system;
    let tools = tools::to_anthropic(&request.tools)?;
    let tool_choice = tool_choice(request, &tools)?;
    let thinking = request
        .reasoning
        .as_ref()
        .map(thinking)
        .transpose()?
        .flatten();
    let output_config = match &request.response_format {
        Some(ResponseFormat::JsonSchema(format)) => Some(OutputConfig {
            format: OutputFormat {
                kind: "json_schema",
                schema: RawValue::from_string(format.schema.clone()).map_err(|e| {
                    AdapterError::invalid_request(format!(
                        "response_format `{}` has a schema that is not JSON: {e}",
                        format.name
                    ))
                })?,
            },
        }),
        Some(ResponseFormat::JsonObject) => {
            system = Some(with_instruction(system, JSON_OBJECT_INSTRUCTION));
            None
        }
        Some(ResponseFormat::Text) | None => None,
    };
    let sampling = &request.sampling;
    // Anthropic counts thinking against `max_tokens`: without a caller's limit, leave the
    // answer its usual room on top of the thinking budget.
    let max_tokens = sampling
        .max_tokens
        .unwrap_or_else(|| DEFAULT_MAX_TOKENS + thinking.as_ref().map_or(0, |t| t.budget_tokens));
    let body = Body {
        model: &request.model,
        max_tokens,
        system,
        messages: conversation.messages,
        tools,
        tool_choice,
        thinking,
        output_config,
        temperature: sampling.temperature,
        top_p: sampling.top_p,
        top_k: sampling.top_k,
        stop_sequences: &sampling.stop,
        metadata: request.user.as_deref().map(|user_id| Metadata { user_id }),
        stream: stream.then_some(true),
    };
    let text = serde_json::to_string(&body).map_err(|e| AdapterError::other(e.to_string()))?;
    merge_extra(text, request.extra.as_deref())
}

/// `body` with the members of the JSON object `extra` set at its top level (extra wins),
/// except `tools`: server tools in `extra.tools` are appended to the request's function tools,
/// so asking for `web_search` does not drop them. Values stay raw text, so nested key order
/// survives the merge.
pub fn merge_extra(body: String, extra: Option<&str>) -> Result<String, AdapterError> {
    let Some(extra) = extra.filter(|e| !e.trim().is_empty()) else {
        return Ok(body);
    };
    let mut extra: BTreeMap<String, Box<RawValue>> = serde_json::from_str(extra).map_err(|e| {
        AdapterError::invalid_request(format!("`extra` must be a JSON object: {e}"))
    })?;
    let mut merged: BTreeMap<String, Box<RawValue>> =
        serde_json::from_str(&body).map_err(|e| AdapterError::other(e.to_string()))?;
    if let Some(server_tools) = extra.remove("tools") {
        let server_tools: Vec<Box<RawValue>> =
            serde_json::from_str(server_tools.get()).map_err(|e| {
                AdapterError::invalid_request(format!("`extra.tools` must be an array: {e}"))
            })?;
        let mut tools: Vec<Box<RawValue>> = match merged.get("tools") {
            Some(own) => {
                serde_json::from_str(own.get()).map_err(|e| AdapterError::other(e.to_string()))?
            }
            None => Vec::new(),
        };
        tools.extend(server_tools);
        let tools = serde_json::value::to_raw_value(&tools)
            .map_err(|e| AdapterError::other(e.to_string()))?;
        merged.insert("tools".to_string(), tools);
    }
    merged.extend(extra);
    serde_json::to_string(&merged).map_err(|e| AdapterError::other(e.to_string()))
}

/// Anthropic's `tool_choice`, or none when no tools are offered (the API rejects a choice
/// without tools). SCRI `required` is Anthropic's `any`; `parallel-tool-calls: false` becomes
/// `disable_parallel_tool_use`, on an explicit `auto` when the caller chose nothing else.
fn tool_choice(
    request: &ChatRequest,
    tools: &[ToolDef],
) -> Result<Option<ToolChoiceOut>, AdapterError> {
    if tools.is_empty() {
        return Ok(None);
    }
    let serial = request.parallel_tool_calls == Some(false);
    let (kind, name) = match &request.tool_choice {
        None if !serial => return Ok(None),
        None | Some(ToolChoice::Auto) => ("auto", None),
        Some(ToolChoice::None) => ("none", None),
        Some(ToolChoice::Required) => ("any", None),
        Some(ToolChoice::Tool(name)) => {
            if !tools.iter().any(|t| &t.name == name) {
                return Err(AdapterError::invalid_request(format!(
                    "tool_choice names `{name}`, which is not among the request's tools"
                )));
            }
            ("tool", Some(name.clone()))
        }
    };
    Ok(Some(ToolChoiceOut {
        kind,
        name,
        // `none` has no such field: with no calls at all there is nothing to serialize.
        disable_parallel_tool_use: (serial && kind != "none").then_some(true),
    }))
}

/// Extended thinking for SCRI reasoning options: an explicit budget wins, otherwise the effort
/// level's budget from [`EFFORT_BUDGETS`]; effort `none` (or no budget at all) is no thinking.
fn thinking(options: &ReasoningOptions) -> Result<Option<Thinking>, AdapterError> {
    let budget = match (options.budget_tokens, options.effort.as_deref()) {
        (Some(budget), _) => budget,
        (None, None) | (None, Some("none")) => return Ok(None),
        (None, Some(effort)) => EFFORT_BUDGETS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(effort))
            .map(|(_, budget)| *budget)
            .ok_or_else(|| {
                AdapterError::invalid_request(format!(
                    "reasoning effort `{effort}` is not one of none, minimal, low, medium, high, \
                     xhigh, max"
                ))
            })?,
    };
    Ok(Some(Thinking {
        kind: "enabled",
        budget_tokens: budget,
        display: (options.include_reasoning == Some(false)).then_some("omitted"),
    }))
}

/// `system` with one more text block at its end.
fn with_instruction(system: Option<System>, instruction: &str) -> System {
    let mut blocks = match system {
        None => Vec::new(),
        Some(System::Text(text)) => vec![BlockOut::Text { text }],
        Some(System::Blocks(blocks)) => blocks,
    };
    blocks.push(BlockOut::Text {
        text: instruction.to_string(),
    });
    match blocks.len() {
        1 => System::Text(instruction.to_string()),
        _ => System::Blocks(blocks),
    }
}
