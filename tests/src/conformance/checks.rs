//! What the conformance mocks check in the requests the adapters send: the route, the auth
//! header the host injected (and no other provider's), provider headers, and per case the parts
//! of the body a provider insists on (system placement, tool schema shape, image form, tool
//! results, response format, signatures sent back).

use serde_json::{Value, json};

use super::{Seen, Spec, Wire};
use crate::mock::RecordedRequest;

/// The system prompt the `system` case sends.
pub const SYSTEM: &str = "You are a terse assistant.";
/// The image the `image` case sends.
pub const IMAGE_URL: &str = "https://example.com/cat.png";
/// The tool-call id the `tool-result` case sends back.
pub const CALL_ID: &str = "call_conf_1";

/// The tool every tool case offers.
pub fn weather_tool() -> Value {
    json!({
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"]
        }
    })
}

/// The JSON schema the `json` case asks for.
pub fn answer_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
        "additionalProperties": false
    })
}

/// The adapters that use OpenAI's Responses API (for server-side tools and reasoning).
pub const RESPONSES_API: [&str; 2] = ["openai", "xai"];

/// The auth headers of every provider: a request may carry only its own.
const AUTH_HEADERS: [&str; 3] = ["authorization", "x-api-key", "x-goog-api-key"];

/// The case a request is for (its model) and whether it asked for a stream.
pub(crate) fn case_of(wire: Wire, request: &RecordedRequest) -> (Option<String>, bool) {
    if request.method == "GET" {
        return (None, false);
    }
    match wire {
        Wire::Google => {
            let rest = request.path.split("/models/").nth(1).unwrap_or("");
            let (model, method) = rest.split_once(':').unwrap_or((rest, ""));
            (
                Some(model.to_string()).filter(|m| !m.is_empty()),
                method == "streamGenerateContent",
            )
        }
        Wire::OpenAi | Wire::Anthropic => {
            let json = request.json.as_ref();
            let model = json.and_then(|j| j["model"].as_str()).map(str::to_string);
            let stream = json.is_some_and(|j| j["stream"] == true);
            (model, stream)
        }
    }
}

/// Route and header problems of one request (empty when it is right).
pub(crate) fn request_problems(spec: &Spec, request: &RecordedRequest) -> Vec<String> {
    let mut problems = Vec::new();
    let route = format!("{} {}", request.method, request.path);
    let known = match spec.wire {
        Wire::OpenAi => {
            matches!(
                route.as_str(),
                "POST /v1/chat/completions" | "POST /v1/embeddings" | "GET /v1/models"
            ) || (route == "POST /v1/responses" && RESPONSES_API.contains(&spec.adapter))
        }
        Wire::Anthropic => matches!(route.as_str(), "POST /v1/messages" | "GET /v1/models"),
        Wire::Google => {
            route == "GET /v1beta/models"
                || (request.method == "POST"
                    && request.path.starts_with("/v1beta/models/")
                    && (request.path.ends_with(":generateContent")
                        || request.path.ends_with(":batchEmbedContents")
                        || (request.path.ends_with(":streamGenerateContent")
                            && request.query.as_deref() == Some("alt=sse"))))
        }
    };
    if !known {
        problems.push(format!(
            "unexpected route {route}?{}",
            request.query.as_deref().unwrap_or("")
        ));
    }
    if request.method == "POST" && request.json.is_none() {
        problems.push("the body is not JSON".to_string());
    }
    let own = match spec.wire {
        Wire::OpenAi if spec.key_env.is_some() => Some("authorization"),
        Wire::OpenAi => None,
        Wire::Anthropic => Some("x-api-key"),
        Wire::Google => Some("x-goog-api-key"),
    };
    if let (Some(header), Some(key)) = (own, spec.key()) {
        let expected = if header == "authorization" {
            format!("Bearer {key}")
        } else {
            key.clone()
        };
        let values = request.header_values(header);
        if values != [expected.as_str()] {
            problems.push(format!("{header} is {values:?}, expected [{expected:?}]"));
        }
        if request.query.as_deref().unwrap_or("").contains(&key) {
            problems.push("the key is in the query string".to_string());
        }
    }
    for other in AUTH_HEADERS {
        // `local` takes no credential: any auth header it sends would be someone else's.
        if Some(other) != own && request.header(other).is_some() {
            problems.push(format!("carries another provider's auth header {other}"));
        }
    }
    if spec.wire == Wire::Anthropic && request.header("anthropic-version") != Some("2023-06-01") {
        problems.push(format!(
            "anthropic-version is {:?}",
            request.header("anthropic-version")
        ));
    }
    problems
}

/// Checks the parts of `seen`'s body that `case` is about; `Err` says what is wrong.
pub fn body(spec: &Spec, case: &str, seen: &Seen) -> Result<(), String> {
    let b = seen.request.json_body();
    let fail = |what: &str| Err(format!("{what}; the adapter sent {b}"));
    let kind = case.strip_prefix("oai-").unwrap_or(case);
    if spec.wire != Wire::Google && b["model"] != case {
        return fail("model is not the requested one");
    }
    let wants_stream =
        kind.starts_with("stream") || kind.ends_with("stream") || kind == "truncated";
    if wants_stream != seen.stream {
        return fail(if wants_stream {
            "not a streaming request"
        } else {
            "a streaming request for a case that is not streamed"
        });
    }
    let chat_completions = seen.request.path.ends_with("/chat/completions");
    if seen.stream && chat_completions && b["stream_options"]["include_usage"] != true {
        return fail("a stream without stream_options.include_usage (usage would be lost)");
    }
    let ok = match (spec.wire, kind) {
        (Wire::OpenAi, "system") => {
            b["messages"][0] == json!({"role": "system", "content": SYSTEM})
                && b["messages"][1]["role"] == "user"
        }
        (Wire::Anthropic, "system") => {
            let in_system = b["system"] == SYSTEM || b["system"][0]["text"] == SYSTEM;
            let no_role = !b["messages"].to_string().contains("\"system\"");
            in_system && no_role
        }
        (Wire::Google, "system") => {
            b["systemInstruction"]["parts"][0]["text"] == SYSTEM
                && b["contents"].as_array().is_some_and(|c| c.len() == 1)
        }
        (_, "multi") => {
            let (list, roles) = match spec.wire {
                Wire::Google => ("contents", ["user", "model", "user"]),
                _ => ("messages", ["user", "assistant", "user"]),
            };
            let sent: Vec<&str> = b[list]
                .as_array()
                .map(|m| m.iter().filter_map(|m| m["role"].as_str()).collect())
                .unwrap_or_default();
            sent == roles
        }
        (Wire::OpenAi, "image") => {
            b["messages"][0]["content"][1]["type"] == "image_url"
                && b["messages"][0]["content"][1]["image_url"]["url"] == IMAGE_URL
        }
        (Wire::Anthropic, "image") => {
            b["messages"][0]["content"][1]["source"] == json!({"type": "url", "url": IMAGE_URL})
        }
        (Wire::Google, "image") => b["contents"][0]["parts"][1]["fileData"]["fileUri"] == IMAGE_URL,
        (_, "tools" | "stream-tools" | "parallel") => tools_shape(spec.wire, b),
        (Wire::OpenAi, "tool-result") => {
            let m = &b["messages"];
            m[1]["tool_calls"][0]["id"] == CALL_ID
                && m[1]["tool_calls"][0]["function"]["name"] == "get_weather"
                && m[2]["role"] == "tool"
                && m[2]["tool_call_id"] == CALL_ID
        }
        (Wire::Anthropic, "tool-result") => {
            let m = &b["messages"];
            m[1]["content"][0]["type"] == "tool_use"
                && m[1]["content"][0]["id"] == CALL_ID
                && m[1]["content"][0]["input"] == json!({"location": "Paris"})
                && m[2]["role"] == "user"
                && m[2]["content"][0]["type"] == "tool_result"
                && m[2]["content"][0]["tool_use_id"] == CALL_ID
        }
        (Wire::Google, "tool-result") => {
            let c = &b["contents"];
            c[1]["role"] == "model"
                && c[1]["parts"][0]["functionCall"]["name"] == "get_weather"
                && c[1]["parts"][0]["functionCall"]["args"] == json!({"location": "Paris"})
                && c[2]["role"] == "user"
                && c[2]["parts"][0]["functionResponse"]["name"] == "get_weather"
        }
        (Wire::OpenAi, "json") => {
            b["response_format"]["type"] == "json_schema"
                && b["response_format"]["json_schema"]["schema"] == answer_schema()
        }
        (Wire::Anthropic, "json") => {
            b["output_config"]["format"]["type"] == "json_schema"
                && b["output_config"]["format"]["schema"] == answer_schema()
        }
        (Wire::Google, "json") => {
            b["generationConfig"]["responseMimeType"] == "application/json"
                && b["generationConfig"]["responseJsonSchema"] == answer_schema()
        }
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        fail(&format!(
            "the {kind} part of the body is not in the provider's form"
        ))
    }
}

/// The tool definition in the provider's own schema shape.
fn tools_shape(wire: Wire, b: &Value) -> bool {
    let tool = weather_tool();
    match wire {
        Wire::OpenAi => b["tools"] == json!([{"type": "function", "function": tool}]),
        Wire::Anthropic => {
            b["tools"]
                == json!([{
                    "name": tool["name"],
                    "description": tool["description"],
                    "input_schema": tool["parameters"],
                }])
        }
        Wire::Google => {
            b["tools"]
                == json!([{"functionDeclarations": [{
                    "name": tool["name"],
                    "description": tool["description"],
                    "parametersJsonSchema": tool["parameters"],
                }]}])
        }
    }
}
