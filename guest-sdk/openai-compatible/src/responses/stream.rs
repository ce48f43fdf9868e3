//! Streamed Responses API answers as SCRI stream events.
//!
//! | event | SCRI |
//! | --- | --- |
//! | `response.created` | `start` |
//! | `response.output_text.delta`, `response.refusal.delta` | `text-delta` |
//! | `response.reasoning_summary_text.delta`, `response.reasoning_text.delta` | `reasoning-delta` |
//! | `response.output_item.done` of a `reasoning` item | `reasoning-delta` with the item id as `signature` and the encrypted content as `redacted` |
//! | `response.output_item.added` of a `function_call` | `tool-call-start` |
//! | `response.function_call_arguments.delta` | `tool-call-delta` |
//! | `response.output_text.annotation.added` | a cited source, sent as a last `text-delta` |
//! | `response.completed`, `response.incomplete` | sources, `usage`, `stop` |
//! | `response.failed`, `error` | `error` |
//!
//! Other events (progress of server-side tools, `content_part.*`, anything new) are ignored.
//! A stream that ends before `response.completed` / `response.incomplete` is an `error`.

use std::collections::VecDeque;

use serde_json::Value;

use super::ResponsesDialect;
use super::response::{Item, ResponseObject, failure, finish_reason, reasoning_block, usage};
use crate::sources::Sources;
use aratta_guest::sse::{Decoder, SseEvent};
use aratta_guest::{
    AdapterError, Fallbacks, ReasoningDelta, StreamEvent, StreamStart, ToolCallDelta, ToolCallStart,
};

/// A function call as the stream builds it.
#[derive(Debug)]
struct Call {
    output_index: Option<u64>,
    item_id: Option<String>,
    /// The SCRI index, once `tool-call-start` went out.
    index: Option<u32>,
    /// Arguments that came before the call could start.
    pending: String,
    args_sent: bool,
}

/// The event-to-SCRI state machine for one streamed response.
#[derive(Debug)]
pub struct ResponsesDecoder {
    fallbacks: Fallbacks,
    dialect: ResponsesDialect,
    started: bool,
    done: bool,
    calls: Vec<Call>,
    next_call: u32,
    sources: Sources,
    /// Items whose text (answer or reasoning) arrived as deltas.
    streamed: Vec<String>,
    /// The reasoning item and summary part the last reasoning delta belonged to.
    summary_at: Option<(String, u64)>,
}

fn str_of<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    v.get(field).and_then(Value::as_str)
}

impl ResponsesDecoder {
    /// A decoder for one answer.
    pub fn new(fallbacks: Fallbacks, dialect: ResponsesDialect) -> Self {
        ResponsesDecoder {
            fallbacks,
            dialect,
            started: false,
            done: false,
            calls: Vec::new(),
            next_call: 0,
            sources: Sources::new(),
            streamed: Vec::new(),
            summary_at: None,
        }
    }

    fn fail(&mut self, error: AdapterError, out: &mut VecDeque<StreamEvent>) {
        out.push_back(StreamEvent::Error(error));
        self.done = true;
    }

    fn start(&mut self, response: Option<&Value>, out: &mut VecDeque<StreamEvent>) {
        if self.started {
            return;
        }
        self.started = true;
        let id = response
            .and_then(|r| str_of(r, "id"))
            .filter(|s| !s.is_empty());
        let model = response
            .and_then(|r| str_of(r, "model"))
            .filter(|s| !s.is_empty());
        out.push_back(StreamEvent::Start(StreamStart {
            id: id.map_or_else(|| self.fallbacks.id.clone(), str::to_string),
            model: model.map_or_else(|| self.fallbacks.model.clone(), str::to_string),
        }));
    }

    fn on_content(&mut self, kind: &str, p: &Value, raw: &[u8], out: &mut VecDeque<StreamEvent>) {
        let item_id = item_key(str_of(p, "item_id"), p);
        let text = |field| {
            str_of(p, field)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
        };
        match kind {
            "response.output_text.delta" | "response.refusal.delta" => {
                if let Some(delta) = text("delta") {
                    self.mark_streamed(&item_id);
                    out.push_back(StreamEvent::TextDelta(delta));
                }
            }
            "response.output_text.annotation.added" => {
                if let Some(annotation) = p.get("annotation") {
                    self.sources.add_annotation(annotation);
                }
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                if let Some(delta) = text("delta") {
                    let part = p.get("summary_index").and_then(Value::as_u64).unwrap_or(0);
                    let mut piece = String::new();
                    if let Some((prev_item, prev_part)) = &self.summary_at
                        && *prev_item == item_id
                        && *prev_part != part
                    {
                        piece.push_str("\n\n");
                    }
                    piece.push_str(&delta);
                    self.summary_at = Some((item_id.clone(), part));
                    self.mark_streamed(&item_id);
                    out.push_back(StreamEvent::ReasoningDelta(ReasoningDelta {
                        text: piece,
                        signature: None,
                        redacted: None,
                        format: None,
                    }));
                }
            }
            "response.function_call_arguments.delta" => {
                let delta = text("delta").unwrap_or_default();
                let slot = self.call_slot(p, &item_id);
                let call = &mut self.calls[slot];
                match call.index {
                    Some(index) if !delta.is_empty() => {
                        call.args_sent = true;
                        out.push_back(StreamEvent::ToolCallDelta(ToolCallDelta {
                            index,
                            arguments: delta,
                        }));
                    }
                    Some(_) => {}
                    None => call.pending.push_str(&delta),
                }
            }
            "response.function_call_arguments.done" => {
                let slot = self.call_slot(p, &item_id);
                let call = &mut self.calls[slot];
                if let (Some(index), false, Some(args)) =
                    (call.index, call.args_sent, text("arguments"))
                {
                    call.args_sent = true;
                    out.push_back(StreamEvent::ToolCallDelta(ToolCallDelta {
                        index,
                        arguments: args,
                    }));
                }
            }
            "response.output_item.added" | "response.output_item.done" => {
                let done = kind.ends_with(".done");
                let Some(item_value) = p.get("item") else {
                    return;
                };
                let item: Item = match serde_json::from_value(item_value.clone()) {
                    Ok(item) => item,
                    Err(e) => {
                        let message = format!("an output item has an unexpected shape: {e}");
                        return self.fail(AdapterError::stream_format("item", message, raw), out);
                    }
                };
                self.on_item(&item, p, done, raw, out);
            }
            _ => {}
        }
    }

    fn mark_streamed(&mut self, item_id: &str) {
        if !self.streamed.iter().any(|i| i == item_id) {
            self.streamed.push(item_id.to_string());
        }
    }

    fn was_streamed(&self, key: &str) -> bool {
        self.streamed.iter().any(|i| i == key)
    }

    /// The call an event belongs to, by output index or item id; a new one when unknown.
    fn call_slot(&mut self, p: &Value, item_id: &str) -> usize {
        let output_index = p.get("output_index").and_then(Value::as_u64);
        let found = self.calls.iter().position(|c| {
            (output_index.is_some() && c.output_index == output_index)
                || (!item_id.is_empty() && c.item_id.as_deref() == Some(item_id))
        });
        found.unwrap_or_else(|| {
            self.calls.push(Call {
                output_index,
                item_id: (!item_id.is_empty()).then(|| item_id.to_string()),
                index: None,
                pending: String::new(),
                args_sent: false,
            });
            self.calls.len() - 1
        })
    }

    fn on_item(
        &mut self,
        item: &Item,
        p: &Value,
        done: bool,
        raw: &[u8],
        out: &mut VecDeque<StreamEvent>,
    ) {
        let id = item.id.as_deref();
        match item.kind.as_deref() {
            Some("function_call") => {
                let slot = self.call_slot(p, id.unwrap_or(""));
                if self.calls[slot].index.is_none() {
                    let Some(name) = item.name.clone().filter(|n| !n.is_empty()) else {
                        if done {
                            let message = "a streamed function call has no name";
                            self.fail(AdapterError::stream_format("item.name", message, raw), out);
                        }
                        return;
                    };
                    let index = self.next_call;
                    self.next_call += 1;
                    let call = &mut self.calls[slot];
                    call.index = Some(index);
                    out.push_back(StreamEvent::ToolCallStart(ToolCallStart {
                        index,
                        id: item
                            .call_id
                            .clone()
                            .filter(|c| !c.is_empty())
                            .unwrap_or_else(|| self.fallbacks.call_id(index as usize)),
                        name,
                        signature: None,
                    }));
                    let pending = std::mem::take(&mut call.pending);
                    if !pending.is_empty() {
                        call.args_sent = true;
                        out.push_back(StreamEvent::ToolCallDelta(ToolCallDelta {
                            index,
                            arguments: pending,
                        }));
                    }
                }
                let call = &mut self.calls[slot];
                let whole = item
                    .arguments
                    .as_ref()
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if let (Some(index), false, false) = (call.index, call.args_sent, whole.is_empty())
                {
                    call.args_sent = true;
                    out.push_back(StreamEvent::ToolCallDelta(ToolCallDelta {
                        index,
                        arguments: whole.to_string(),
                    }));
                }
            }
            Some("reasoning") if done => {
                let streamed = self.was_streamed(&item_key(id, p));
                if let Some(block) = reasoning_block(item, &self.dialect) {
                    let text = if streamed { String::new() } else { block.text };
                    if !text.is_empty() || block.redacted.is_some() {
                        out.push_back(StreamEvent::ReasoningDelta(ReasoningDelta {
                            text,
                            signature: block.signature.filter(|_| block.redacted.is_some()),
                            format: block.format.filter(|_| block.redacted.is_some()),
                            redacted: block.redacted,
                        }));
                    }
                }
            }
            Some("message") if done => {
                let streamed = self.was_streamed(&item_key(id, p));
                for part in item.content.iter().flatten() {
                    for annotation in part.annotations.iter().flatten() {
                        self.sources.add_annotation(annotation);
                    }
                    let text = match part.kind.as_deref() {
                        Some("refusal") => part.refusal.clone(),
                        _ => part.text.clone(),
                    };
                    if let Some(text) = text.filter(|t| !streamed && !t.is_empty()) {
                        out.push_back(StreamEvent::TextDelta(text));
                    }
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, p: &Value, raw: &[u8], out: &mut VecDeque<StreamEvent>) {
        let Some(response) = p.get("response") else {
            return self.fail(AdapterError::missing_field("response", raw), out);
        };
        let response: ResponseObject = match serde_json::from_value(response.clone()) {
            Ok(r) => r,
            Err(e) => {
                let message = format!("the final response has an unexpected shape: {e}");
                return self.fail(AdapterError::stream_format("response", message, raw), out);
            }
        };
        if let Some(call) = self.calls.iter().find(|c| c.index.is_none()) {
            let path = match call.output_index {
                Some(i) => format!("output[{i}].name"),
                None => "output.name".to_string(),
            };
            let message = "a streamed function call never named its tool";
            return self.fail(AdapterError::stream_format(&path, message, raw), out);
        }
        let mut sources = Sources::new();
        if let Some(citations) = &response.citations {
            sources.add_citations(citations);
        }
        for url in self.sources.urls() {
            sources.add(url);
        }
        if let Some(block) = sources.block() {
            out.push_back(StreamEvent::TextDelta(block));
        }
        if let Some(u) = &response.usage {
            out.push_back(StreamEvent::Usage(usage(u)));
        }
        out.push_back(StreamEvent::Stop(finish_reason(
            &response,
            self.next_call > 0,
        )));
        self.done = true;
    }
}

impl Decoder for ResponsesDecoder {
    fn is_done(&self) -> bool {
        self.done
    }

    fn on_event(&mut self, event: &SseEvent, out: &mut VecDeque<StreamEvent>) {
        if self.done {
            return;
        }
        let data = event.data.trim();
        if data.is_empty() {
            return;
        }
        if data == "[DONE]" {
            return self.fail(truncated(data.as_bytes()), out);
        }
        let payload: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(e) => {
                let message = format!("a stream event is not JSON: {e}");
                return self.fail(
                    AdapterError::stream_format("", message, data.as_bytes()),
                    out,
                );
            }
        };
        let kind = match str_of(&payload, "type").or(Some(event.event.as_str())) {
            Some(k) if k != "message" => k.to_string(),
            _ => {
                let message = "a stream event has no `type`";
                return self.fail(
                    AdapterError::stream_format("type", message, data.as_bytes()),
                    out,
                );
            }
        };
        let raw = data.as_bytes();
        match kind.as_str() {
            "error" => {
                let error = payload.get("error").filter(|e| e.is_object());
                self.fail(failure(Some(error.unwrap_or(&payload)), raw), out)
            }
            "response.failed" => {
                let error = payload.get("response").and_then(|r| r.get("error"));
                self.fail(failure(error, raw), out)
            }
            "response.created" | "response.in_progress" | "response.queued" => {
                self.start(payload.get("response"), out)
            }
            "response.completed" | "response.incomplete" => {
                self.start(payload.get("response"), out);
                self.finish(&payload, raw, out)
            }
            _ => {
                self.start(None, out);
                self.on_content(&kind, &payload, raw, out)
            }
        }
    }

    fn on_eof(&mut self, saw_events: bool, head: &[u8], out: &mut VecDeque<StreamEvent>) {
        if self.done {
            return;
        }
        let error = if saw_events {
            truncated(head)
        } else {
            let message = match aratta_guest::status::provider_message(head) {
                Some(m) => format!("the response is not an event stream; the provider said: {m}"),
                None => "the response ended without a single server-sent event".to_string(),
            };
            AdapterError::stream_format("", message, head)
        };
        self.fail(error, out);
    }
}

/// What identifies an output item across events: its id, or its output index when a server
/// leaves the id out.
fn item_key(id: Option<&str>, p: &Value) -> String {
    match id.filter(|id| !id.is_empty()) {
        Some(id) => id.to_string(),
        None => format!(
            "#{}",
            p.get("output_index").and_then(Value::as_u64).unwrap_or(0)
        ),
    }
}

fn truncated(body: &[u8]) -> AdapterError {
    AdapterError::Connection(
        aratta_guest::ErrorDetail::new(
            "the stream was truncated: it ended without `response.completed` or \
             `response.incomplete`",
        )
        .with_body(body),
    )
}
