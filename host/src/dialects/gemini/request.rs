//! A Gemini `generateContent` body → a SCRI chat request.
//!
//! | Gemini                                            | SCRI                                      |
//! |---------------------------------------------------|-------------------------------------------|
//! | the model in the path                             | `model`                                   |
//! | `systemInstruction.parts[].text`                  | a leading `system` message                |
//! | `contents` (see `contents.rs`)                    | `messages`                                |
//! | `tools[].functionDeclarations[]` {name, description, parameters / parametersJsonSchema} | `tools[]` (schemas as JSON Schema) |
//! | `toolConfig.functionCallingConfig.mode` AUTO / VALIDATED / ANY / NONE | `auto` / `auto` / `required` / `none` |
//! | ANY with `allowedFunctionNames`                   | `{"tool": name}` for one name; otherwise only those tools, `required` |
//! | `generationConfig` temperature, topP, topK, maxOutputTokens, stopSequences, seed, presencePenalty, frequencyPenalty | the same sampling fields |
//! | `responseMimeType: application/json` (+ `responseSchema` / `responseJsonSchema`) | `response_format` json_object / json_schema |
//! | `thinkingConfig` {thinkingBudget, includeThoughts, thinkingLevel} | `reasoning` {budget_tokens, include_reasoning, effort} |

use serde::Deserialize;
use serde_json::Value;

use super::contents::{Calls, InContent, convert_content};
use super::schema::to_json_schema;
use crate::dialects::RequestError;
use crate::dialects::json::{self, parse_at};
use crate::scri::{
    ChatRequest, Content, ContentBlock, Message, ReasoningOptions, ResponseFormat, Role, Sampling,
    Tool, ToolChoice, ToolChoiceMode,
};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    #[serde(default)]
    contents: Vec<InContent>,
    #[serde(default, alias = "system_instruction")]
    system_instruction: Option<InContent>,
    #[serde(default)]
    tools: Option<Vec<Value>>,
    #[serde(default, alias = "tool_config")]
    tool_config: Option<ToolConfig>,
    #[serde(default, alias = "generation_config")]
    generation_config: Option<GenerationConfig>,
    #[serde(default, alias = "cached_content")]
    cached_content: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolConfig {
    #[serde(default, alias = "function_calling_config")]
    function_calling_config: Option<FunctionCallingConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FunctionCallingConfig {
    #[serde(default)]
    mode: Option<String>,
    #[serde(default, alias = "allowed_function_names")]
    allowed_function_names: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerationConfig {
    #[serde(default, deserialize_with = "crate::scri::float::opt_finite_f32")]
    temperature: Option<f32>,
    #[serde(
        default,
        deserialize_with = "crate::scri::float::opt_finite_f32",
        alias = "top_p"
    )]
    top_p: Option<f32>,
    #[serde(default, alias = "top_k")]
    top_k: Option<f64>,
    #[serde(default, alias = "max_output_tokens")]
    max_output_tokens: Option<u32>,
    #[serde(default, alias = "stop_sequences")]
    stop_sequences: Option<Vec<String>>,
    #[serde(default)]
    seed: Option<i64>,
    #[serde(
        default,
        deserialize_with = "crate::scri::float::opt_finite_f32",
        alias = "presence_penalty"
    )]
    presence_penalty: Option<f32>,
    #[serde(
        default,
        deserialize_with = "crate::scri::float::opt_finite_f32",
        alias = "frequency_penalty"
    )]
    frequency_penalty: Option<f32>,
    #[serde(default, alias = "candidate_count")]
    candidate_count: Option<u32>,
    #[serde(default, alias = "response_mime_type")]
    response_mime_type: Option<String>,
    #[serde(default, alias = "response_schema")]
    response_schema: Option<Value>,
    #[serde(default, alias = "response_json_schema", alias = "_responseJsonSchema")]
    response_json_schema: Option<Value>,
    #[serde(default, alias = "response_modalities")]
    response_modalities: Option<Vec<String>>,
    #[serde(default, alias = "response_logprobs")]
    response_logprobs: Option<bool>,
    #[serde(default, alias = "thinking_config")]
    thinking_config: Option<ThinkingConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThinkingConfig {
    #[serde(default, alias = "include_thoughts")]
    include_thoughts: Option<bool>,
    #[serde(default, alias = "thinking_budget")]
    thinking_budget: Option<i64>,
    #[serde(default, alias = "thinking_level")]
    thinking_level: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Declaration {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<Value>,
    #[serde(default, alias = "parameters_json_schema")]
    parameters_json_schema: Option<Value>,
}

/// Parse a `generateContent` / `streamGenerateContent` body for `model` into SCRI.
pub fn generate_request(
    model: &str,
    body: &[u8],
    stream: bool,
) -> Result<ChatRequest, RequestError> {
    let value = json::object(body)?;
    let body: Body = parse_at(&value, "")?;
    if body.cached_content.is_some() {
        return Err(RequestError::unsupported(
            "cachedContent",
            "Gemini's explicit caches live at Google; send the content itself",
        ));
    }
    if body.contents.is_empty() {
        return Err(RequestError::invalid(
            "contents",
            "must hold at least one content",
        ));
    }
    let mut messages = Vec::with_capacity(body.contents.len() + 1);
    if let Some(system) = &body.system_instruction {
        messages.push(system_message(system)?);
    }
    let mut calls = Calls::default();
    for (i, content) in body.contents.iter().enumerate() {
        convert_content(i, content, &mut calls, &mut messages)?;
    }
    let mut tools = tools(body.tools.as_deref().unwrap_or_default())?;
    let tool_choice = match body.tool_config.and_then(|c| c.function_calling_config) {
        Some(config) => tool_choice(config, &mut tools)?,
        None => None,
    };
    let config = body.generation_config.unwrap_or_default();
    let (response_format, reasoning) = output(&config)?;
    Ok(ChatRequest {
        model: model.to_owned(),
        messages,
        tools,
        tool_choice,
        parallel_tool_calls: None,
        response_format,
        sampling: Sampling {
            temperature: config.temperature,
            top_p: config.top_p,
            top_k: config.top_k.map(|k| k.max(0.0).round() as u32),
            max_tokens: config.max_output_tokens,
            stop: config.stop_sequences.unwrap_or_default(),
            seed: config.seed.map(|s| s as u64),
            presence_penalty: config.presence_penalty,
            frequency_penalty: config.frequency_penalty,
        },
        reasoning,
        user: None,
        extra: None,
        stream,
    })
}

fn system_message(system: &InContent) -> Result<Message, RequestError> {
    let mut blocks = Vec::with_capacity(system.parts.len());
    for (i, part) in system.parts.iter().enumerate() {
        match part.get("text").and_then(Value::as_str) {
            Some(text) => blocks.push(ContentBlock::Text { text: text.into() }),
            None => {
                return Err(RequestError::invalid(
                    format!("systemInstruction.parts[{i}]"),
                    "system instructions hold text parts only",
                ));
            }
        }
    }
    Ok(Message {
        role: Role::System,
        content: Content::Blocks(blocks),
        name: None,
    })
}

fn tools(values: &[Value]) -> Result<Vec<Tool>, RequestError> {
    let mut tools = Vec::new();
    for (i, value) in values.iter().enumerate() {
        let Value::Object(map) = value else {
            return Err(RequestError::invalid(
                format!("tools[{i}]"),
                "expected an object",
            ));
        };
        for (key, declarations) in map {
            if key != "functionDeclarations" && key != "function_declarations" {
                return Err(RequestError::unsupported(
                    format!("tools[{i}].{key}"),
                    "Google's built-in tools run at Google; declare functions in `functionDeclarations` instead",
                ));
            }
            let declarations: Vec<Declaration> =
                parse_at(declarations, &format!("tools[{i}].functionDeclarations"))?;
            for d in declarations {
                let parameters = match (d.parameters_json_schema, d.parameters) {
                    (Some(schema), _) => schema,
                    (None, Some(schema)) => to_json_schema(&schema),
                    (None, None) => serde_json::json!({"type": "object", "properties": {}}),
                };
                tools.push(Tool {
                    name: d.name,
                    description: d.description,
                    parameters,
                });
            }
        }
    }
    Ok(tools)
}

fn tool_choice(
    config: FunctionCallingConfig,
    tools: &mut Vec<Tool>,
) -> Result<Option<ToolChoice>, RequestError> {
    let mode = config
        .mode
        .as_deref()
        .unwrap_or("AUTO")
        .to_ascii_uppercase();
    let allowed = config.allowed_function_names.unwrap_or_default();
    Ok(Some(match mode.as_str() {
        "AUTO" | "VALIDATED" | "MODE_UNSPECIFIED" => ToolChoice::Mode(ToolChoiceMode::Auto),
        "NONE" => ToolChoice::Mode(ToolChoiceMode::None),
        "ANY" => match allowed.as_slice() {
            [] => ToolChoice::Mode(ToolChoiceMode::Required),
            [one] => ToolChoice::Tool { tool: one.clone() },
            names => {
                tools.retain(|t| names.contains(&t.name));
                ToolChoice::Mode(ToolChoiceMode::Required)
            }
        },
        other => {
            return Err(RequestError::invalid(
                "toolConfig.functionCallingConfig.mode",
                format!("must be AUTO, ANY, NONE or VALIDATED, got `{other}`"),
            ));
        }
    }))
}

fn output(
    config: &GenerationConfig,
) -> Result<(Option<ResponseFormat>, Option<ReasoningOptions>), RequestError> {
    if config.candidate_count.is_some_and(|n| n > 1) {
        return Err(RequestError::unsupported(
            "generationConfig.candidateCount",
            "only one candidate is supported; send several requests instead",
        ));
    }
    if config.response_logprobs == Some(true) {
        return Err(RequestError::unsupported(
            "generationConfig.responseLogprobs",
            "log probabilities are not carried through Aratta",
        ));
    }
    if let Some(modalities) = &config.response_modalities
        && let Some(m) = modalities.iter().find(|m| !m.eq_ignore_ascii_case("text"))
    {
        return Err(RequestError::unsupported(
            "generationConfig.responseModalities",
            format!("`{m}` output is not supported through Aratta; TEXT is"),
        ));
    }
    let schema = match (&config.response_json_schema, &config.response_schema) {
        (Some(schema), _) => Some(schema.clone()),
        (None, Some(schema)) => Some(to_json_schema(schema)),
        (None, None) => None,
    };
    let format = match (config.response_mime_type.as_deref(), schema) {
        (None | Some("text/plain"), None) => None,
        (Some("application/json"), None) => Some(ResponseFormat::JsonObject),
        (Some("application/json") | None, Some(schema)) => Some(ResponseFormat::JsonSchema {
            name: "response".into(),
            description: None,
            schema,
            strict: None,
        }),
        (Some(other), _) => {
            return Err(RequestError::unsupported(
                "generationConfig.responseMimeType",
                format!(
                    "`{other}` is not supported through Aratta; text/plain and application/json are"
                ),
            ));
        }
    };
    let reasoning = config.thinking_config.as_ref().map(|t| ReasoningOptions {
        effort: t.thinking_level.as_ref().map(|l| l.to_ascii_lowercase()),
        budget_tokens: t
            .thinking_budget
            .filter(|b| *b > 0)
            .map(|b| u32::try_from(b).unwrap_or(u32::MAX)),
        include_reasoning: t.include_thoughts,
    });
    Ok((format, reasoning))
}
