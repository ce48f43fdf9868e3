//! The wire fixtures under `tests/fixtures/openai-compatible/` (compiled in), and the few edits a
//! real server makes to them per request: echoing the model, the `include_usage` chunk, and
//! embedding vectors computed from the inputs.

use base64::Engine as _;
use serde_json::{Value, json};

macro_rules! fixture {
    ($name:ident, $file:literal) => {
        #[doc = concat!("The fixture `", $file, "`, verbatim.")]
        pub const $name: &str = include_str!(concat!("../../fixtures/openai-compatible/", $file));
    };
}

fixture!(CHAT_COMPLETION, "chat_completion.json");
fixture!(CHAT_COMPLETION_STREAM, "chat_completion.stream.sse");
fixture!(TOOL_CALL, "tool_call.json");
fixture!(TOOL_CALL_STREAM, "tool_call.stream.sse");
fixture!(PARALLEL_TOOL_CALLS, "parallel_tool_calls.json");
fixture!(PARALLEL_TOOL_CALLS_STREAM, "parallel_tool_calls.stream.sse");
fixture!(OLLAMA_TOOL_CALL, "ollama_tool_call.json");
fixture!(OLLAMA_TOOL_CALL_STREAM, "ollama_tool_call.stream.sse");
fixture!(LLAMACPP_TOOL_CALL_NO_ID, "llamacpp_tool_call_no_id.json");
fixture!(
    LLAMACPP_TOOL_CALL_NO_ID_STREAM,
    "llamacpp_tool_call_no_id.stream.sse"
);
fixture!(REASONING, "reasoning.json");
fixture!(REASONING_STREAM, "reasoning.stream.sse");
fixture!(EMBEDDINGS, "embeddings.json");
fixture!(MODELS, "models.json");
fixture!(ERROR_400, "error_400.json");
fixture!(ERROR_401, "error_401.json");
fixture!(ERROR_404, "error_404.json");
fixture!(ERROR_429, "error_429.json");
fixture!(ERROR_500, "error_500.json");
fixture!(ERROR_503, "error_503.json");
fixture!(MISSING_CHOICES, "missing_choices.json");
fixture!(GARBAGE, "garbage.html");

/// Parses a JSON fixture. Panics on a broken fixture, which is a bug in the test suite.
pub fn json(fixture: &str) -> Value {
    serde_json::from_str(fixture).expect("fixture is valid JSON")
}

/// The error body the mock sends for an HTTP status.
pub fn error_body(status: u16) -> &'static str {
    match status {
        400 => ERROR_400,
        401 => ERROR_401,
        404 => ERROR_404,
        429 => ERROR_429,
        503 => ERROR_503,
        _ => ERROR_500,
    }
}

/// One SSE event of a fixture: the text after `data: `.
#[derive(Clone, Debug, PartialEq)]
pub enum SseData {
    /// A JSON chunk.
    Chunk(Value),
    /// The `[DONE]` sentinel.
    Done,
}

/// Splits an `.sse` fixture into its events (`data: ...` blocks separated by blank lines).
pub fn sse_events(fixture: &str) -> Vec<SseData> {
    fixture
        .split("\n\n")
        .filter_map(|block| {
            let data: Vec<&str> = block
                .lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            if data.is_empty() {
                return None;
            }
            let data = data.join("\n");
            Some(if data == "[DONE]" {
                SseData::Done
            } else {
                SseData::Chunk(serde_json::from_str(&data).expect("fixture chunk is valid JSON"))
            })
        })
        .collect()
}

/// Frames one event the way OpenAI does: `data: <json>\n\n`.
pub fn frame(event: &SseData) -> String {
    match event {
        SseData::Chunk(chunk) => format!("data: {chunk}\n\n"),
        SseData::Done => "data: [DONE]\n\n".to_string(),
    }
}

/// Adapts a stream fixture to one request: echoes `model` and, unless `include_usage`, drops the
/// usage-only chunk (empty `choices`) and the `"usage": null` fields, as OpenAI does.
pub fn stream_for(fixture: &str, model: Option<&str>, include_usage: bool) -> Vec<SseData> {
    sse_events(fixture)
        .into_iter()
        .filter_map(|event| {
            let SseData::Chunk(mut chunk) = event else {
                return Some(event);
            };
            let usage_only = chunk["choices"].as_array().is_some_and(|c| c.is_empty());
            if !include_usage {
                if usage_only {
                    return None;
                }
                if let Some(obj) = chunk.as_object_mut() {
                    obj.remove("usage");
                }
            }
            set_model(&mut chunk, model);
            Some(SseData::Chunk(chunk))
        })
        .collect()
}

/// Sets the top-level `model` of a response to the requested one, as local servers do.
pub fn set_model(body: &mut Value, model: Option<&str>) {
    if let (Some(model), Some(obj)) = (model, body.as_object_mut())
        && obj.contains_key("model")
    {
        obj.insert("model".into(), Value::String(model.to_string()));
    }
}

/// Vector size when the request does not ask for `dimensions`.
pub const DEFAULT_DIMENSIONS: usize = 8;

/// The vector the mock returns for `text`: a function of the text alone, so a test can compute
/// what the gateway must return. Every value is a multiple of 1/1024 in [-1, 1], exact in f32
/// and in JSON.
pub fn embedding_for(text: &str, dimensions: usize) -> Vec<f32> {
    // FNV-1a over the text, then a 64-bit LCG per dimension.
    let mut state = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (0..dimensions)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let step = ((state >> 33) % 2049) as i32 - 1024;
            step as f32 / 1024.0
        })
        .collect()
}

/// Little-endian f32 bytes in standard base64, the `encoding_format: "base64"` form.
pub fn embedding_base64(vector: &[f32]) -> String {
    let bytes: Vec<u8> = vector.iter().flat_map(|f| f.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes the `encoding_format: "base64"` form back to floats.
pub fn decode_embedding_base64(encoded: &str) -> Option<Vec<f32>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    if bytes.len() % 4 != 0 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

/// The `/v1/embeddings` answer for a request body: one vector per input, in order, encoded as the
/// request's `encoding_format` asks. `None` when the body has no usable `input`.
pub fn embeddings_response(request: &Value) -> Option<Value> {
    let inputs: Vec<String> = match &request["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<_>>()?,
        _ => return None,
    };
    let dimensions = request["dimensions"]
        .as_u64()
        .map_or(DEFAULT_DIMENSIONS, |d| d as usize);
    let base64 = request["encoding_format"].as_str() == Some("base64");
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let vector = embedding_for(text, dimensions);
            let embedding = if base64 {
                json!(embedding_base64(&vector))
            } else {
                json!(vector)
            };
            json!({"object": "embedding", "embedding": embedding, "index": index})
        })
        .collect();
    let tokens: usize = inputs.iter().map(|t| t.split_whitespace().count()).sum();
    let mut body = json(EMBEDDINGS);
    body["data"] = Value::Array(data);
    body["usage"] = json!({"prompt_tokens": tokens, "total_tokens": tokens});
    set_model(&mut body, request["model"].as_str());
    Some(body)
}
