//! SCRI chat requests as `generateContent` / `streamGenerateContent` bodies: `contents` and
//! `systemInstruction` (see `contents.rs`), `tools` and `toolConfig`, and `generationConfig`
//! (sampling, JSON output, thinking). `extra` is merged in last, object into object, so it can
//! add to `generationConfig` without replacing it.

use serde_json::{Map, Value, json};

use crate::{contents, tools};
use aratta_guest::{AdapterError, ChatRequest, ResponseFormat, ToolChoice};

/// The request path for `method` on `model`: `/models/{model}:{method}`. A model already
/// written as a resource name (`models/…`, `tunedModels/…`) is used as it is, as in Google's SDK.
pub fn model_path(model: &str, method: &str) -> Result<String, AdapterError> {
    let model = model.trim();
    if model.is_empty() {
        return Err(AdapterError::invalid_request("the request names no model"));
    }
    let resource = if model.starts_with("models/") || model.starts_with("tunedModels/") {
        model.to_string()
    } else {
        format!("models/{model}")
    };
    Ok(format!("/{}:{method}", encode_path(&resource)))
}

/// Percent-encode what may not stand in a URL path or query value (`/` is kept).
pub fn encode_path(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The JSON body for `request`.
pub fn chat_body(request: &ChatRequest) -> Result<Value, AdapterError> {
    let conversation = contents::convert(&request.messages)?;
    let mut body = Map::new();
    body.insert("contents".into(), Value::Array(conversation.contents));
    if let Some(system) = conversation.system {
        body.insert("systemInstruction".into(), system);
    }
    if !request.tools.is_empty() {
        let declarations = serde_json::to_value(tools::to_declarations(&request.tools)?)
            .map_err(|e| AdapterError::other(e.to_string()))?;
        body.insert(
            "tools".into(),
            json!([{"functionDeclarations": declarations}]),
        );
    }
    if let Some(choice) = &request.tool_choice {
        body.insert("toolConfig".into(), tool_config(choice));
    }
    let config = generation_config(request)?;
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    let mut body = Value::Object(body);
    merge_extra(&mut body, request.extra.as_deref())?;
    Ok(body)
}

/// `toolConfig.functionCallingConfig`: `AUTO`, `NONE`, `ANY`, or `ANY` limited to one name.
fn tool_config(choice: &ToolChoice) -> Value {
    let config = match choice {
        ToolChoice::Auto => json!({"mode": "AUTO"}),
        ToolChoice::None => json!({"mode": "NONE"}),
        ToolChoice::Required => json!({"mode": "ANY"}),
        ToolChoice::Tool(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
    };
    json!({"functionCallingConfig": config})
}

/// An `f32` as the JSON number a person wrote (`0.7`, not `0.699999988079071`).
fn number(value: f32) -> Value {
    value
        .to_string()
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

fn generation_config(request: &ChatRequest) -> Result<Map<String, Value>, AdapterError> {
    let s = &request.sampling;
    let mut config = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            config.insert(key.to_string(), value);
        }
    };
    put("temperature", s.temperature.map(number));
    put("topP", s.top_p.map(number));
    put("topK", s.top_k.map(Value::from));
    put("maxOutputTokens", s.max_tokens.map(Value::from));
    put("stopSequences", (!s.stop.is_empty()).then(|| json!(s.stop)));
    // Gemini's seed is an int32.
    let seed = s
        .seed
        .map(|seed| {
            i32::try_from(seed).map(Value::from).map_err(|_| {
                AdapterError::invalid_request(format!(
                    "seed {seed} does not fit Gemini's 32-bit seed (at most {})",
                    i32::MAX
                ))
            })
        })
        .transpose()?;
    put("seed", seed);
    put("presencePenalty", s.presence_penalty.map(number));
    put("frequencyPenalty", s.frequency_penalty.map(number));
    match &request.response_format {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::JsonObject) => {
            put("responseMimeType", Some(json!("application/json")))
        }
        Some(ResponseFormat::JsonSchema(format)) => {
            // `responseJsonSchema` takes JSON Schema as it is; `responseSchema` would need the
            // schema rewritten into Google's OpenAPI subset, losing what it cannot express.
            let schema: Value = serde_json::from_str(&format.schema).map_err(|e| {
                AdapterError::invalid_request(format!("the response JSON schema is not JSON: {e}"))
            })?;
            put("responseMimeType", Some(json!("application/json")));
            put("responseJsonSchema", Some(schema));
        }
    }
    put("thinkingConfig", thinking_config(request)?);
    Ok(config)
}

/// `thinkingConfig` from SCRI's reasoning options. A token budget wins over an effort level
/// (Gemini rejects both together): `budget-tokens` → `thinkingBudget`; `effort` → Gemini 3's
/// `thinkingLevel` (`minimal`, `low`, `medium`, `high`), or `thinkingBudget: 0` for `none`;
/// `include-reasoning` → `includeThoughts`.
fn thinking_config(request: &ChatRequest) -> Result<Option<Value>, AdapterError> {
    let Some(options) = &request.reasoning else {
        return Ok(None);
    };
    let mut config = Map::new();
    if let Some(budget) = options.budget_tokens {
        config.insert("thinkingBudget".into(), json!(budget));
    } else if let Some(effort) = options.effort.as_deref() {
        match effort.to_ascii_lowercase().as_str() {
            "none" => {
                config.insert("thinkingBudget".into(), json!(0));
            }
            level @ ("minimal" | "low" | "medium" | "high") => {
                config.insert("thinkingLevel".into(), json!(level.to_ascii_uppercase()));
            }
            other => {
                return Err(AdapterError::invalid_request(format!(
                    "reasoning effort `{other}` has no Gemini thinking level; use none, minimal, \
                     low, medium or high, or a token budget"
                )));
            }
        }
    }
    if let Some(include) = options.include_reasoning {
        config.insert("includeThoughts".into(), json!(include));
    }
    Ok((!config.is_empty()).then_some(Value::Object(config)))
}

/// Merge the request's `extra` JSON object into `body`: objects merge key by key, recursively;
/// any other value replaces what was there, and `null` removes the key. The one exception is
/// the top-level `tools` array: built-in tools there (`googleSearch`, `codeExecution`, …) are
/// appended after the function declarations, as the other adapters do with server tools, so
/// enabling search does not silently drop the request's own tools.
pub fn merge_extra(body: &mut Value, extra: Option<&str>) -> Result<(), AdapterError> {
    let Some(extra) = extra.filter(|e| !e.trim().is_empty()) else {
        return Ok(());
    };
    let mut extra: Value = serde_json::from_str(extra)
        .map_err(|e| AdapterError::invalid_request(format!("`extra` is not JSON: {e}")))?;
    let Some(fields) = extra.as_object_mut() else {
        return Err(AdapterError::invalid_request(
            "`extra` must be a JSON object",
        ));
    };
    if let Some(Value::Array(added)) = fields.get("tools")
        && let Some(Value::Array(own)) = body.get_mut("tools")
    {
        own.extend(added.iter().cloned());
        fields.remove("tools");
    }
    merge(body, extra);
    Ok(())
}

fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(&key);
                } else if let Some(existing) = target.get_mut(&key) {
                    merge(existing, value);
                } else {
                    target.insert(key, value);
                }
            }
        }
        (target, patch) => *target = patch,
    }
}
