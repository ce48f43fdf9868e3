//! SCRI stream events → Gemini `streamGenerateContent?alt=sse` chunks: each chunk is a whole
//! `GenerateContentResponse` holding the new parts. Gemini streams a function call whole, so
//! a call's argument deltas are collected and the call goes out when the next thing begins.
//! The last chunk carries `finishReason` and `usageMetadata` (usage is held until then). A
//! failure is a last `{"error": {"code", "message", "status"}}` chunk, which the SDK raises
//! as an `APIError`.

use serde_json::{Value, json};

use super::error::{error_body, http_for_kind};
use super::response::{call_part, finish_reason, usage_metadata};
use crate::scri::{StreamEvent, ToolCall, Usage};

/// A call being collected.
#[derive(Debug, Clone)]
struct Pending {
    index: u32,
    call: ToolCall,
    arguments: String,
}

/// Turns one streamed SCRI answer into Gemini chunk payloads (the `data:` JSON), event by
/// event. Create one per response.
#[derive(Debug, Clone)]
pub struct ChunkEncoder {
    id: String,
    model: String,
    calls: Vec<Pending>,
    usage: Option<Usage>,
    /// Whether the last part sent was a thought (a lone signature then belongs to it).
    in_thought: bool,
    finished: bool,
}

impl ChunkEncoder {
    /// `id` and `model` are used until the answer's `start` event names the provider's own.
    pub fn new(id: impl Into<String>, model: impl Into<String>) -> Self {
        ChunkEncoder {
            id: id.into(),
            model: model.into(),
            calls: Vec::new(),
            usage: None,
            in_thought: false,
            finished: false,
        }
    }

    /// Whether the answer is over (after the finish chunk or an error).
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// The chunks for one SCRI event.
    pub fn push(&mut self, event: &StreamEvent) -> Vec<String> {
        if self.finished {
            return Vec::new();
        }
        let mut parts = Vec::new();
        match event {
            StreamEvent::Start { id, model } => {
                if !id.is_empty() {
                    self.id = id.clone();
                }
                if !model.is_empty() {
                    self.model = model.clone();
                }
            }
            StreamEvent::TextDelta { text } if self.calls.is_empty() => {
                self.in_thought = false;
                return vec![self.text_chunk(text)];
            }
            StreamEvent::TextDelta { text } => {
                self.flush_calls(&mut parts);
                self.in_thought = false;
                parts.push(json!({"text": text}));
            }
            StreamEvent::ReasoningDelta {
                text, signature, ..
            } => {
                self.flush_calls(&mut parts);
                if !text.is_empty() {
                    let mut part = json!({"text": text, "thought": true});
                    if let Some(signature) = signature {
                        part["thoughtSignature"] = json!(signature);
                    }
                    self.in_thought = true;
                    parts.push(part);
                } else if let Some(signature) = signature {
                    let mut part = json!({"text": "", "thoughtSignature": signature});
                    if self.in_thought {
                        part["thought"] = json!(true);
                    }
                    parts.push(part);
                }
            }
            StreamEvent::ToolCallStart {
                index,
                id,
                name,
                signature,
            } => {
                if self.calls.iter().all(|p| p.index != *index) {
                    self.calls.push(Pending {
                        index: *index,
                        call: ToolCall {
                            id: id.clone(),
                            name: name.clone(),
                            arguments: Value::Null,
                            signature: signature.clone(),
                        },
                        arguments: String::new(),
                    });
                }
            }
            StreamEvent::ToolCallDelta { index, arguments } => {
                if let Some(pending) = self.calls.iter_mut().find(|p| p.index == *index) {
                    pending.arguments.push_str(arguments);
                }
            }
            StreamEvent::Usage { usage } => self.usage = Some(usage.clone()),
            StreamEvent::Stop {
                finish_reason: reason,
                finish_reason_raw,
                ..
            } => {
                self.flush_calls(&mut parts);
                self.finished = true;
                let mut candidate = json!({
                    "finishReason": finish_reason(reason, finish_reason_raw.as_deref()),
                    "index": 0,
                });
                if !parts.is_empty() {
                    candidate["content"] = json!({"role": "model", "parts": parts});
                }
                let mut chunk = self.chunk(candidate);
                if let Some(usage) = &self.usage {
                    chunk["usageMetadata"] = usage_metadata(usage);
                }
                return vec![chunk.to_string()];
            }
            StreamEvent::Error { error } => {
                self.finished = true;
                return vec![error_body(http_for_kind(&error.kind), error).to_string()];
            }
        }
        if parts.is_empty() {
            return Vec::new();
        }
        let candidate = json!({"content": {"role": "model", "parts": parts}, "index": 0});
        vec![self.chunk(candidate).to_string()]
    }

    fn chunk(&self, candidate: Value) -> Value {
        json!({"candidates": [candidate], "modelVersion": self.model, "responseId": self.id})
    }

    /// A text chunk with no call to flush before it, the bulk of every stream, written
    /// straight from borrowed fields: byte for byte what [`Self::chunk`] writes for it, without
    /// building a `Value` tree per chunk (an `IndexMap`, a hash and a `String` per key).
    fn text_chunk(&self, text: &str) -> String {
        let chunk = TextChunk {
            candidates: [TextCandidate {
                content: TextContent {
                    role: "model",
                    parts: [TextPart { text }],
                },
                index: 0,
            }],
            model_version: &self.model,
            response_id: &self.id,
        };
        serde_json::to_string(&chunk).expect("a text chunk always serializes")
    }

    fn flush_calls(&mut self, parts: &mut Vec<Value>) {
        for mut pending in self.calls.drain(..) {
            pending.call.arguments = if pending.arguments.trim().is_empty() {
                json!({})
            } else {
                serde_json::from_str(&pending.arguments).unwrap_or(Value::String(pending.arguments))
            };
            parts.push(call_part(&pending.call));
        }
    }
}

/// [`ChunkEncoder::text_chunk`]'s shape, fields in the order [`ChunkEncoder::chunk`] writes
/// them.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct TextChunk<'a> {
    candidates: [TextCandidate<'a>; 1],
    model_version: &'a str,
    response_id: &'a str,
}

#[derive(serde::Serialize)]
struct TextCandidate<'a> {
    content: TextContent<'a>,
    index: u32,
}

#[derive(serde::Serialize)]
struct TextContent<'a> {
    role: &'static str,
    parts: [TextPart<'a>; 1],
}

#[derive(serde::Serialize)]
struct TextPart<'a> {
    text: &'a str,
}

#[cfg(test)]
mod text_chunk_tests {
    use super::*;

    /// The fast path writes exactly the generic path's bytes, for text that needs escaping,
    /// before and after a start event names the provider's id and model.
    #[test]
    fn text_chunk_is_the_generic_chunk() {
        let mut enc = ChunkEncoder::new("resp-1", "gemini-2.5-flash");
        for round in 0..2 {
            if round == 1 {
                enc.push(&StreamEvent::Start {
                    id: "provider-id".into(),
                    model: "gemini-2.5-pro".into(),
                });
            }
            for text in ["Hello", "", "quote \" back\\ slash\n\u{1F600} \u{7}"] {
                let fast = enc
                    .clone()
                    .push(&StreamEvent::TextDelta { text: text.into() });
                let candidate =
                    json!({"content": {"role": "model", "parts": [{"text": text}]}, "index": 0});
                let generic = enc.chunk(candidate).to_string();
                assert_eq!(fast, vec![generic]);
            }
        }
    }

    /// A text delta after a tool call still flushes the call first (the generic path).
    #[test]
    fn text_after_a_call_flushes_it() {
        let mut enc = ChunkEncoder::new("resp-1", "m");
        enc.push(&StreamEvent::ToolCallStart {
            index: 0,
            id: "call-1".into(),
            name: "lookup".into(),
            signature: None,
        });
        enc.push(&StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "{\"q\": 1}".into(),
        });
        let chunks = enc.push(&StreamEvent::TextDelta {
            text: "done".into(),
        });
        assert_eq!(chunks.len(), 1);
        let chunk: Value = serde_json::from_str(&chunks[0]).unwrap();
        let parts = &chunk["candidates"][0]["content"]["parts"];
        assert_eq!(parts[0]["functionCall"]["name"], "lookup");
        assert_eq!(parts[1]["text"], "done");
    }
}
