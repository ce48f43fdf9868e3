//! SCRI stream events → Anthropic's server-sent events, in Anthropic's order:
//! `message_start`, then per content block `content_block_start`, `content_block_delta`s
//! (`text_delta`, `input_json_delta`, `thinking_delta`, `signature_delta`) and
//! `content_block_stop`, then `message_delta` (stop reason and final usage) and
//! `message_stop`. A failure is an `error` event (`{"type": "error", "error": {...}}`), which
//! the SDKs raise as an API error; nothing follows it.
//!
//! SCRI may report usage before `stop`, so the last usage is held for `message_delta`, whose
//! counts are cumulative: the SDK takes `input_tokens` and the cache counts from there.

use serde_json::{Value, json};

use super::error::error_body;
use super::response::{message_id, stop_reason, usage};
use crate::scri::{StreamEvent, Usage};

/// The block being streamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    None,
    Text,
    Thinking,
    /// Redacted thinking (opened and closed at once).
    Redacted,
    /// A tool call, with its SCRI index.
    Tool(u32),
}

/// Turns one streamed SCRI answer into Anthropic SSE events (`(event name, data)`), event by
/// event. Create one per response.
#[derive(Debug, Clone)]
pub struct EventEncoder {
    id: String,
    model: String,
    started: bool,
    finished: bool,
    open: Open,
    /// Index of the next content block.
    next: usize,
    usage: Option<Usage>,
}

impl EventEncoder {
    /// `id` and `model` are used when the answer's `start` event does not come first.
    pub fn new(id: impl Into<String>, model: impl Into<String>) -> Self {
        EventEncoder {
            id: id.into(),
            model: model.into(),
            started: false,
            finished: false,
            open: Open::None,
            next: 0,
            usage: None,
        }
    }

    /// Whether the answer is over (after `message_stop` or `error`).
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// The Anthropic events for one SCRI event.
    pub fn push(&mut self, event: &StreamEvent) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.finished {
            return out;
        }
        if let StreamEvent::Error { error } = event {
            self.finished = true;
            out.push(("error", error_body(error).to_string()));
            return out;
        }
        if let StreamEvent::Start { id, model } = event {
            if !id.is_empty() {
                self.id = id.clone();
            }
            if !model.is_empty() {
                self.model = model.clone();
            }
        }
        if !self.started {
            self.started = true;
            out.push(self.message_start());
        }
        match event {
            StreamEvent::Start { .. } | StreamEvent::Error { .. } => {}
            StreamEvent::TextDelta { text } => {
                if self.open != Open::Text {
                    self.begin(Open::Text, json!({"type": "text", "text": ""}), &mut out);
                }
                out.push(("content_block_delta", self.text_delta(text)));
            }
            StreamEvent::ReasoningDelta {
                text,
                signature,
                redacted,
                ..
            } => {
                if let Some(data) = redacted {
                    // A block that opens and closes at once: it carries all its data.
                    let block = json!({"type": "redacted_thinking", "data": data});
                    self.begin(Open::Redacted, block, &mut out);
                    self.close(&mut out);
                }
                if !text.is_empty() || signature.is_some() {
                    if self.open != Open::Thinking {
                        let block = json!({"type": "thinking", "thinking": "", "signature": ""});
                        self.begin(Open::Thinking, block, &mut out);
                    }
                    if !text.is_empty() {
                        self.delta(
                            json!({"type": "thinking_delta", "thinking": text}),
                            &mut out,
                        );
                    }
                    if let Some(signature) = signature {
                        let delta = json!({"type": "signature_delta", "signature": signature});
                        self.delta(delta, &mut out);
                    }
                }
            }
            StreamEvent::ToolCallStart {
                index, id, name, ..
            } => {
                let block = json!({"type": "tool_use", "id": id, "name": name, "input": {}});
                self.begin(Open::Tool(*index), block, &mut out);
            }
            StreamEvent::ToolCallDelta { index, arguments } => {
                // Deltas of another call than the open one cannot be placed in Anthropic's
                // one-block-at-a-time stream; SCRI adapters send calls one after another.
                if self.open == Open::Tool(*index) && !arguments.is_empty() {
                    let delta = json!({"type": "input_json_delta", "partial_json": arguments});
                    self.delta(delta, &mut out);
                }
            }
            StreamEvent::Usage { usage } => self.usage = Some(usage.clone()),
            StreamEvent::Stop {
                finish_reason,
                finish_reason_raw,
                ..
            } => {
                self.close(&mut out);
                let reason = stop_reason(finish_reason, finish_reason_raw.as_deref());
                let mut usage = usage(self.usage.as_ref());
                if self.usage.is_none() {
                    usage["input_tokens"] = Value::Null;
                }
                let data = json!({
                    "type": "message_delta",
                    "delta": {"stop_reason": reason, "stop_sequence": null},
                    "usage": usage,
                });
                out.push(("message_delta", data.to_string()));
                out.push(("message_stop", json!({"type": "message_stop"}).to_string()));
                self.finished = true;
            }
        }
        out
    }

    fn message_start(&self) -> (&'static str, String) {
        let data = json!({
            "type": "message_start",
            "message": {
                "id": message_id(&self.id),
                "type": "message",
                "role": "assistant",
                "model": self.model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": {"input_tokens": 0, "output_tokens": 0},
            },
        });
        ("message_start", data.to_string())
    }

    fn begin(&mut self, open: Open, block: Value, out: &mut Vec<(&'static str, String)>) {
        self.close(out);
        let data =
            json!({"type": "content_block_start", "index": self.next, "content_block": block});
        out.push(("content_block_start", data.to_string()));
        self.open = open;
    }

    fn delta(&self, delta: Value, out: &mut Vec<(&'static str, String)>) {
        let data = json!({"type": "content_block_delta", "index": self.next, "delta": delta});
        out.push(("content_block_delta", data.to_string()));
    }

    /// A text delta, the bulk of every stream, written straight from borrowed fields; byte for
    /// byte what [`Self::delta`] writes for it, without building a `Value` tree per delta.
    fn text_delta(&self, text: &str) -> String {
        #[derive(serde::Serialize)]
        struct Event<'a> {
            r#type: &'static str,
            index: usize,
            delta: Delta<'a>,
        }
        #[derive(serde::Serialize)]
        struct Delta<'a> {
            r#type: &'static str,
            text: &'a str,
        }
        serde_json::to_string(&Event {
            r#type: "content_block_delta",
            index: self.next,
            delta: Delta {
                r#type: "text_delta",
                text,
            },
        })
        .expect("a text delta always serializes")
    }

    fn close(&mut self, out: &mut Vec<(&'static str, String)>) {
        if self.open == Open::None {
            return;
        }
        let data = json!({"type": "content_block_stop", "index": self.next});
        out.push(("content_block_stop", data.to_string()));
        self.open = Open::None;
        self.next += 1;
    }
}

#[cfg(test)]
mod text_delta_tests {
    use super::*;

    /// The fast path writes exactly the generic path's bytes, for text that needs escaping.
    #[test]
    fn text_delta_is_the_generic_delta() {
        let mut enc = EventEncoder::new("msg_1", "m");
        for text in ["Hello", "", "quote \" back\\ slash\n\u{1F600} \u{7}"] {
            let mut generic = Vec::new();
            enc.delta(json!({"type": "text_delta", "text": text}), &mut generic);
            assert_eq!(vec![("content_block_delta", enc.text_delta(text))], generic);
            enc.next += 1;
        }
    }
}
