//! `POST /v1/chat/completions` body → SCRI `ChatRequest`. Parameters SCRI models are mapped;
//! parameters it does not model (`logit_bias`, `logprobs`, `metadata`, `service_tier`, ...)
//! are passed through in `extra` for the adapter; the few that cannot be honoured (`n > 1`,
//! the deprecated `functions`) are refused with a message that says what to send instead.
//!
//! Tools other than `function` (provider-native ones: OpenAI's and xAI's `web_search`, xAI's
//! `x_search`, Anthropic's `web_search_20250305`, ...) have no SCRI form; they go verbatim to
//! `extra.tools`, which the adapters send next to the function tools, so an OpenAI SDK client
//! can reach a provider's search.

use serde_json::{Map, Value, json};

use super::messages;
use crate::dialects::RequestError;
use crate::dialects::json::{Obj, type_error};
use crate::scri::{
    ChatRequest, ReasoningOptions, ResponseFormat, Sampling, Tool, ToolChoice, ToolChoiceMode,
};

/// A translated OpenAI chat request: the SCRI request (with `stream` set) plus what the
/// OpenAI response encoder needs to know that SCRI does not carry.
#[derive(Debug, Clone)]
pub struct OpenAiChat {
    /// The request in SCRI form.
    pub request: ChatRequest,
    /// `stream_options.include_usage`: end the stream with a usage chunk.
    pub include_usage: bool,
}

/// Fields this module maps (or refuses); every other non-null field goes to `extra`.
const HANDLED: &[&str] = &[
    "model",
    "messages",
    "stream",
    "stream_options",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "temperature",
    "top_p",
    "top_k",
    "max_tokens",
    "max_completion_tokens",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "user",
    "reasoning_effort",
    "reasoning",
    "n",
    "functions",
    "function_call",
];

/// Parse an OpenAI Chat Completions request body into SCRI. Errors name the field at fault
/// (`messages[2].content: ...`) and map to an OpenAI-style 400 via `RequestError`.
pub fn chat_request(body: &[u8]) -> Result<OpenAiChat, RequestError> {
    let value = crate::dialects::json::object(body)?;
    let root = Obj::new(&value, "")?;
    let model = root.req_str("model")?;
    if model.is_empty() {
        return Err(RequestError::Invalid {
            param: "model".into(),
            reason: "must not be empty".into(),
        });
    }
    refuse_unsupported(&root)?;
    let messages = messages::messages(&root)?;
    let stream = root.bool("stream")?.unwrap_or(false);
    let include_usage = match root.obj("stream_options")? {
        Some(options) => options.bool("include_usage")?.unwrap_or(false),
        None => false,
    };
    let (tools, native_tools) = tools(&root)?;
    let request = ChatRequest {
        model: model.to_owned(),
        messages,
        tools,
        tool_choice: tool_choice(&root)?,
        parallel_tool_calls: root.bool("parallel_tool_calls")?,
        response_format: response_format(&root)?,
        sampling: sampling(&root)?,
        reasoning: reasoning(&root)?,
        user: root.str("user")?.map(str::to_owned),
        extra: extra(&root, native_tools),
        stream,
    };
    Ok(OpenAiChat {
        request,
        include_usage: stream && include_usage,
    })
}

fn refuse_unsupported(root: &Obj) -> Result<(), RequestError> {
    match root.u64("n")? {
        Some(0) => {
            return Err(RequestError::Invalid {
                param: "n".into(),
                reason: "must be at least 1".into(),
            });
        }
        Some(n) if n > 1 => {
            return Err(RequestError::Unsupported {
                param: "n".into(),
                reason: format!(
                    "Aratta returns one choice per request (n = 1), not {n}; send separate requests"
                ),
            });
        }
        _ => {}
    }
    for (legacy, instead) in [("functions", "tools"), ("function_call", "tool_choice")] {
        if root.get(legacy).is_some() {
            return Err(RequestError::Unsupported {
                param: legacy.into(),
                reason: format!(
                    "the deprecated `{legacy}` parameter is not supported; send `{instead}`"
                ),
            });
        }
    }
    Ok(())
}

/// The request's function tools as SCRI tools, and its other (provider-native) tools verbatim.
fn tools(root: &Obj) -> Result<(Vec<Tool>, Vec<Value>), RequestError> {
    let Some(items) = root.array("tools")? else {
        return Ok((Vec::new(), Vec::new()));
    };
    let mut tools = Vec::with_capacity(items.len());
    let mut native = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let tool = Obj::new(item, format!("tools[{i}]"))?;
        match tool.req_str("type")? {
            "function" => {}
            "" => {
                return Err(RequestError::Invalid {
                    param: tool.field("type"),
                    reason: "must not be empty; use `function`, or a provider's own tool type"
                        .into(),
                });
            }
            // Client-run like a function, but its calls carry free text SCRI has no place for.
            "custom" => {
                return Err(RequestError::Unsupported {
                    param: tool.field("type"),
                    reason: "`custom` (free-form) tools are not supported; declare a `function` \
                             tool"
                        .into(),
                });
            }
            _ => {
                native.push(item.clone());
                continue;
            }
        }
        let function = tool.obj("function")?.ok_or_else(|| RequestError::Missing {
            param: tool.field("function"),
        })?;
        // `strict` is validated but SCRI's tool has no place for it.
        function.bool("strict")?;
        let parameters = match function.get("parameters") {
            None => json!({"type": "object", "properties": {}}),
            Some(schema @ Value::Object(_)) => schema.clone(),
            Some(other) => {
                return Err(type_error(
                    &function.field("parameters"),
                    "an object",
                    other,
                ));
            }
        };
        tools.push(Tool {
            name: function.req_str("name")?.to_owned(),
            description: function.str("description")?.map(str::to_owned),
            parameters,
        });
    }
    Ok((tools, native))
}

fn tool_choice(root: &Obj) -> Result<Option<ToolChoice>, RequestError> {
    let mode = |m| Ok(Some(ToolChoice::Mode(m)));
    match root.get("tool_choice") {
        None => Ok(None),
        Some(Value::String(s)) => match s.as_str() {
            "auto" => mode(ToolChoiceMode::Auto),
            "none" => mode(ToolChoiceMode::None),
            "required" => mode(ToolChoiceMode::Required),
            other => Err(RequestError::Invalid {
                param: "tool_choice".into(),
                reason: format!("unknown mode `{other}`; expected `auto`, `none` or `required`"),
            }),
        },
        Some(value @ Value::Object(_)) => {
            let choice = Obj::new(value, "tool_choice")?;
            match choice.req_str("type")? {
                "function" => {
                    let function =
                        choice
                            .obj("function")?
                            .ok_or_else(|| RequestError::Missing {
                                param: "tool_choice.function".into(),
                            })?;
                    Ok(Some(ToolChoice::Tool {
                        tool: function.req_str("name")?.to_owned(),
                    }))
                }
                other => Err(RequestError::Unsupported {
                    param: "tool_choice.type".into(),
                    reason: format!(
                        "`{other}` tool choice is not supported; use a mode or a `function`"
                    ),
                }),
            }
        }
        Some(other) => Err(type_error("tool_choice", "a string or an object", other)),
    }
}

fn response_format(root: &Obj) -> Result<Option<ResponseFormat>, RequestError> {
    let Some(format) = root.obj("response_format")? else {
        return Ok(None);
    };
    Ok(Some(match format.req_str("type")? {
        "text" => ResponseFormat::Text,
        "json_object" => ResponseFormat::JsonObject,
        "json_schema" => {
            let spec = format
                .obj("json_schema")?
                .ok_or_else(|| RequestError::Missing {
                    param: format.field("json_schema"),
                })?;
            let schema = match spec.get("schema") {
                // OpenAI lets the schema be omitted; an empty schema admits any JSON.
                None => json!({}),
                Some(schema @ Value::Object(_)) => schema.clone(),
                Some(other) => return Err(type_error(&spec.field("schema"), "an object", other)),
            };
            ResponseFormat::JsonSchema {
                name: spec.req_str("name")?.to_owned(),
                description: spec.str("description")?.map(str::to_owned),
                schema,
                strict: spec.bool("strict")?,
            }
        }
        other => {
            return Err(RequestError::Invalid {
                param: format.field("type"),
                reason: format!(
                    "unknown response format `{other}`; expected `text`, `json_object` or `json_schema`"
                ),
            });
        }
    }))
}

fn sampling(root: &Obj) -> Result<Sampling, RequestError> {
    let stop = match root.get("stop") {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(type_error(&format!("stop[{i}]"), "a string", other)),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(type_error("stop", "a string or an array of strings", other)),
    };
    let max_tokens = root.u32("max_tokens")?;
    Ok(Sampling {
        temperature: root.f32("temperature")?,
        top_p: root.f32("top_p")?,
        top_k: root.u32("top_k")?,
        max_tokens: root.u32("max_completion_tokens")?.or(max_tokens),
        stop,
        seed: root.u64("seed")?,
        presence_penalty: root.f32("presence_penalty")?,
        frequency_penalty: root.f32("frequency_penalty")?,
    })
}

/// `reasoning_effort` (OpenAI), or OpenRouter's `reasoning` object
/// (`{effort, max_tokens, exclude}`), as SCRI reasoning options.
fn reasoning(root: &Obj) -> Result<Option<ReasoningOptions>, RequestError> {
    let mut options = ReasoningOptions {
        effort: root.str("reasoning_effort")?.map(str::to_owned),
        ..ReasoningOptions::default()
    };
    if let Some(object) = root.obj("reasoning")? {
        if options.effort.is_none() {
            options.effort = object.str("effort")?.map(str::to_owned);
        }
        options.budget_tokens = object.u32("max_tokens")?;
        options.include_reasoning = object.bool("exclude")?.map(|exclude| !exclude);
    }
    let empty = options.effort.is_none()
        && options.budget_tokens.is_none()
        && options.include_reasoning.is_none();
    Ok((!empty).then_some(options))
}

/// Every non-null field this module does not handle, for the adapter to pass through, and
/// the provider-native tools as `tools`.
fn extra(root: &Obj, native_tools: Vec<Value>) -> Option<Value> {
    let mut rest: Map<String, Value> = root
        .map
        .iter()
        .filter(|(key, value)| !HANDLED.contains(&key.as_str()) && !value.is_null())
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    if !native_tools.is_empty() {
        rest.insert("tools".into(), Value::Array(native_tools));
    }
    (!rest.is_empty()).then_some(Value::Object(rest))
}
