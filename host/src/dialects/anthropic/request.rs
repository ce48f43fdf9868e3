//! An Anthropic `POST /v1/messages` body → a SCRI chat request.
//!
//! | Anthropic                                   | SCRI                                          |
//! |---------------------------------------------|-----------------------------------------------|
//! | `model`, `max_tokens`, `stream`             | the same                                      |
//! | `system` (string or text blocks)            | a leading `system` message                    |
//! | `messages` (see `content.rs`)               | `messages`                                    |
//! | `tools[]` {name, description, input_schema} | `tools[]` {name, description, parameters}     |
//! | `tool_choice` auto / any / tool / none      | `auto` / `required` / `{"tool"}` / `none`     |
//! | `tool_choice.disable_parallel_tool_use`     | `parallel_tool_calls: false`                  |
//! | `stop_sequences`, `temperature`, `top_p`, `top_k` | `stop`, `temperature`, `top_p`, `top_k` |
//! | `metadata.user_id`                          | `user`                                        |
//! | `thinking` enabled {budget_tokens, display} | `reasoning` {budget_tokens, include_reasoning}|
//! | `output_config.effort`                      | `reasoning.effort` (`xhigh`, `max` → `high`)  |
//! | `output_config.format` json_schema          | `response_format` json_schema                 |

use serde::Deserialize;
use serde_json::Value;

use super::content::{Calls, convert_message, system};
use crate::dialects::RequestError;
use crate::dialects::json::{self, parse_at};
use crate::scri::{
    ChatRequest, ReasoningOptions, ResponseFormat, Sampling, Tool, ToolChoice, ToolChoiceMode,
};

/// Top-level fields of Anthropic's API that no SCRI provider can honour, refused by name.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("container", "code-execution containers are Anthropic's own"),
    (
        "mcp_servers",
        "remote MCP servers are called by Anthropic's servers",
    ),
    (
        "context_management",
        "context editing is done by Anthropic's servers",
    ),
];

#[derive(Debug, Deserialize)]
struct Body {
    model: String,
    max_tokens: u32,
    messages: Vec<InMessage>,
    #[serde(default)]
    system: Value,
    #[serde(default)]
    tools: Option<Vec<Value>>,
    #[serde(default)]
    tool_choice: Option<InToolChoice>,
    #[serde(default)]
    stop_sequences: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::scri::float::opt_finite_f32")]
    temperature: Option<f32>,
    #[serde(default, deserialize_with = "crate::scri::float::opt_finite_f32")]
    top_p: Option<f32>,
    #[serde(default)]
    top_k: Option<u32>,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    thinking: Option<Thinking>,
    #[serde(default)]
    output_config: Option<OutputConfig>,
    #[serde(default)]
    stream: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct InMessage {
    role: String,
    content: Value,
}

#[derive(Debug, Deserialize)]
struct InTool {
    name: String,
    #[serde(default)]
    description: Option<String>,
    input_schema: Value,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum InToolChoice {
    Auto {
        #[serde(default)]
        disable_parallel_tool_use: Option<bool>,
    },
    Any {
        #[serde(default)]
        disable_parallel_tool_use: Option<bool>,
    },
    Tool {
        name: String,
        #[serde(default)]
        disable_parallel_tool_use: Option<bool>,
    },
    None,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    #[serde(default)]
    user_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Thinking {
    Enabled {
        budget_tokens: u32,
        #[serde(default)]
        display: Option<String>,
    },
    Adaptive {
        #[serde(default)]
        display: Option<String>,
    },
    Disabled,
}

#[derive(Debug, Deserialize)]
struct OutputConfig {
    #[serde(default)]
    effort: Option<String>,
    #[serde(default)]
    format: Option<OutputFormat>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum OutputFormat {
    JsonSchema { schema: Value },
}

/// Parse an Anthropic Messages request body into SCRI.
pub fn messages_request(body: &[u8]) -> Result<ChatRequest, RequestError> {
    let value = json::object(body)?;
    for (field, why) in UNSUPPORTED {
        if value.get(field).is_some_and(|v| !v.is_null()) {
            return Err(RequestError::Unsupported {
                param: (*field).into(),
                reason: format!("not supported through Aratta: {why}"),
            });
        }
    }
    let body: Body = parse_at(&value, "")?;
    if body.messages.is_empty() {
        return Err(RequestError::Invalid {
            param: "messages".into(),
            reason: "must hold at least one message".into(),
        });
    }
    let mut messages = Vec::with_capacity(body.messages.len() + 1);
    messages.extend(system(&body.system)?);
    let mut calls = Calls::default();
    for (i, m) in body.messages.iter().enumerate() {
        convert_message(i, &m.role, &m.content, &mut calls, &mut messages)?;
    }
    let tools = tools(body.tools.as_deref().unwrap_or_default())?;
    let (tool_choice, parallel_tool_calls) = match body.tool_choice {
        None => (None, None),
        Some(choice) => tool_choice(choice),
    };
    let (reasoning, response_format) = output(body.thinking, body.output_config);
    Ok(ChatRequest {
        model: body.model,
        messages,
        tools,
        tool_choice,
        parallel_tool_calls,
        response_format,
        sampling: Sampling {
            temperature: body.temperature,
            top_p: body.top_p,
            top_k: body.top_k,
            max_tokens: Some(body.max_tokens),
            stop: body.stop_sequences.unwrap_or_default(),
            ..Sampling::default()
        },
        reasoning,
        user: body.metadata.and_then(|m| m.user_id),
        extra: None,
        stream: body.stream.unwrap_or(false),
    })
}

fn tools(values: &[Value]) -> Result<Vec<Tool>, RequestError> {
    let mut tools = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let kind = value.get("type").and_then(Value::as_str);
        if let Some(kind) = kind.filter(|k| *k != "custom") {
            return Err(RequestError::Unsupported {
                param: format!("tools[{i}].type"),
                reason: format!(
                    "`{kind}` is one of Anthropic's server tools, which other providers cannot run; declare a custom tool (`name`, `description`, `input_schema`) instead"
                ),
            });
        }
        let tool: InTool = parse_at(value, &format!("tools[{i}]"))?;
        tools.push(Tool {
            name: tool.name,
            description: tool.description,
            parameters: tool.input_schema,
        });
    }
    Ok(tools)
}

fn tool_choice(choice: InToolChoice) -> (Option<ToolChoice>, Option<bool>) {
    let (choice, no_parallel) = match choice {
        InToolChoice::Auto {
            disable_parallel_tool_use,
        } => (
            ToolChoice::Mode(ToolChoiceMode::Auto),
            disable_parallel_tool_use,
        ),
        InToolChoice::Any {
            disable_parallel_tool_use,
        } => (
            ToolChoice::Mode(ToolChoiceMode::Required),
            disable_parallel_tool_use,
        ),
        InToolChoice::Tool {
            name,
            disable_parallel_tool_use,
        } => (ToolChoice::Tool { tool: name }, disable_parallel_tool_use),
        InToolChoice::None => (ToolChoice::Mode(ToolChoiceMode::None), None),
    };
    (Some(choice), no_parallel.filter(|d| *d).map(|_| false))
}

fn output(
    thinking: Option<Thinking>,
    config: Option<OutputConfig>,
) -> (Option<ReasoningOptions>, Option<ResponseFormat>) {
    let mut reasoning = match thinking {
        Some(Thinking::Enabled {
            budget_tokens,
            display,
        }) => Some(ReasoningOptions {
            budget_tokens: Some(budget_tokens),
            include_reasoning: Some(display.as_deref() != Some("omitted")),
            ..ReasoningOptions::default()
        }),
        Some(Thinking::Adaptive { display }) => Some(ReasoningOptions {
            include_reasoning: Some(display.as_deref() != Some("omitted")),
            ..ReasoningOptions::default()
        }),
        Some(Thinking::Disabled) | None => None,
    };
    let (effort, format) = match config {
        Some(c) => (c.effort, c.format),
        None => (None, None),
    };
    if let Some(effort) = effort {
        let effort = match effort.as_str() {
            "xhigh" | "max" => "high".to_owned(),
            _ => effort,
        };
        reasoning
            .get_or_insert_with(ReasoningOptions::default)
            .effort = Some(effort);
    }
    let format = format.map(
        |OutputFormat::JsonSchema { schema }| ResponseFormat::JsonSchema {
            name: "output".into(),
            description: None,
            schema,
            strict: Some(true),
        },
    );
    (reasoning, format)
}
