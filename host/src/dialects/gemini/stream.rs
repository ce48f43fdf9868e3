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
