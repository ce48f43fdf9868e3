//! Streamed Chat Completions as SCRI stream events.
//!
//! [`StreamDecoder`] turns `chat.completion.chunk` events into `start`, `text-delta`,
//! `reasoning-delta`, `tool-call-start`, `tool-call-delta`, `usage` and `stop`; the SDK's
//! [`SseStream`](aratta_guest::sse::SseStream) drives it from a response body.
//!
//! Cited sources (`citations`, `annotations`) go out as a last `text-delta` before `usage`.
//!
//! The decoder holds `stop` back until `[DONE]` (or the end of the body after a finish reason),
//! so the usage chunk OpenAI sends after the finish reason is not lost. A body that ends with
//! neither is an `error` event (truncated), never a silent success.

use std::collections::VecDeque;

use serde::de::IgnoredAny;

use super::response::{arguments_text, embedded_error, finish_reason, reasoning_text, usage};
use super::sources::Sources;
use super::wire::{ChatCompletion, ToolCallIn};
use aratta_guest::json::parse;
use aratta_guest::sse::{Decoder, SseEvent};
use aratta_guest::{
    AdapterError, Fallbacks, ReasoningDelta, StreamEvent, StreamStart, ToolCallDelta,
    ToolCallStart, Usage,
};

/// One tool call as the stream builds it.
#[derive(Debug)]
struct Call {
    /// The server's index for it (servers reuse indexes; SCRI's are assigned in order).
    raw_index: u32,
    server_id: Option<String>,
    name: Option<String>,
    args: String,
    /// The SCRI index, once `tool-call-start` was emitted.
    started: Option<u32>,
}

impl Call {
    fn args_complete(&self) -> bool {
        !self.args.trim().is_empty() && serde_json::from_str::<IgnoredAny>(&self.args).is_ok()
    }
}

/// The chunk-to-event state machine. Feed it SSE events; it appends SCRI events to a queue.
#[derive(Debug)]
pub struct StreamDecoder {
    fallbacks: Fallbacks,
    started: bool,
    finish: Option<String>,
    usage: Option<Usage>,
    real_usage: bool,
    calls: Vec<Call>,
    next_call: u32,
    sources: Sources,
    done: bool,
}

impl StreamDecoder {
    /// A decoder for one answer; `fallbacks` supplies ids the server omits.
    pub fn new(fallbacks: Fallbacks) -> Self {
        StreamDecoder {
            fallbacks,
            started: false,
            finish: None,
            usage: None,
            real_usage: false,
            calls: Vec::new(),
            next_call: 0,
            sources: Sources::new(),
            done: false,
        }
    }
}

impl Decoder for StreamDecoder {
    fn is_done(&self) -> bool {
        self.done
    }

    fn on_event(&mut self, event: &SseEvent, out: &mut VecDeque<StreamEvent>) {
        if self.done {
            return;
        }
        // llama.cpp (2025 builds) reports mid-stream failures as a bare `error:` field.
        if let Some((_, value)) = event.fields.iter().find(|(name, _)| name == "error") {
            return self.fail(error_payload(value), out);
        }
        if event.event == "error" {
            return self.fail(error_payload(&event.data), out);
        }
        let data = event.data.trim();
        if data == "[DONE]" {
            return self.complete(out);
        }
        if data.is_empty() {
            return;
        }
        match parse::<ChatCompletion>(data.as_bytes()) {
            Ok(chunk) => self.on_chunk(chunk, data.as_bytes(), out),
            Err(AdapterError::SchemaMismatch(mut m)) => {
                m.kind = aratta_guest::MismatchKind::StreamFormatChange;
                self.fail(AdapterError::SchemaMismatch(m), out)
            }
            Err(other) => self.fail(other, out),
        }
    }

    fn on_eof(&mut self, saw_events: bool, head: &[u8], out: &mut VecDeque<StreamEvent>) {
        if self.done {
            return;
        }
        if self.finish.is_some() {
            return self.complete(out);
        }
        let error = if !saw_events {
            let message = match aratta_guest::status::provider_message(head) {
                Some(m) => format!("the response is not an event stream; the provider said: {m}"),
                None => "the response ended without a single server-sent event".to_string(),
            };
            AdapterError::stream_format("", message, head)
        } else {
            AdapterError::Connection(
                aratta_guest::ErrorDetail::new(
                    "the stream was truncated: it ended without `[DONE]` or a finish reason",
                )
                .with_body(head),
            )
        };
        self.fail(error, out);
    }
}

impl StreamDecoder {
    fn fail(&mut self, error: AdapterError, out: &mut VecDeque<StreamEvent>) {
        out.push_back(StreamEvent::Error(error));
        self.done = true;
    }

    fn complete(&mut self, out: &mut VecDeque<StreamEvent>) {
        if let Some(call) = self.calls.iter().find(|c| c.name.is_none()) {
            let path = format!(
                "choices[0].delta.tool_calls[{}].function.name",
                call.raw_index
            );
            let body = call.args.clone();
            return self.fail(
                AdapterError::stream_format(
                    &path,
                    "a streamed tool call never named its tool",
                    body.as_bytes(),
                ),
                out,
            );
        }
        if !self.started {
            return self.fail(
                AdapterError::stream_format("", "the stream ended before its first chunk", b""),
                out,
            );
        }
        for call in &self.calls {
            if let (Some(index), true) = (call.started, call.args.trim().is_empty()) {
                out.push_back(StreamEvent::ToolCallDelta(ToolCallDelta {
                    index,
                    arguments: "{}".to_string(),
                }));
            }
        }
        if let Some(block) = self.sources.block() {
            out.push_back(StreamEvent::TextDelta(block));
        }
        if let Some(usage) = self.usage.take() {
            out.push_back(StreamEvent::Usage(usage));
        }
        let reason = finish_reason(self.finish.as_deref(), !self.calls.is_empty());
        out.push_back(StreamEvent::Stop(reason));
        self.done = true;
    }

    fn on_chunk(&mut self, chunk: ChatCompletion, raw: &[u8], out: &mut VecDeque<StreamEvent>) {
        if let Some(error) = embedded_error(&chunk, raw) {
            return self.fail(error, out);
        }
        if !self.started {
            self.started = true;
            out.push_back(StreamEvent::Start(StreamStart {
                id: chunk
                    .id
                    .clone()
                    .filter(|id| !id.is_empty())
                    .unwrap_or_else(|| self.fallbacks.id.clone()),
                model: chunk
                    .model
                    .clone()
                    .filter(|m| !m.is_empty())
                    .unwrap_or_else(|| self.fallbacks.model.clone()),
            }));
        }
        // Usage may come in every chunk (vLLM's continuous stats), with the last choice
        // (older llama.cpp) or in a final chunk with no choices (OpenAI): keep the latest.
        // llama.cpp's `timings` stand in only while no real `usage` has arrived.
        if let Some(u) = usage(chunk.usage.as_ref(), None) {
            self.usage = Some(u);
            self.real_usage = true;
        } else if !self.real_usage
            && let Some(u) = usage(None, chunk.timings.as_ref())
        {
            self.usage = Some(u);
        }
        if let Some(citations) = &chunk.citations {
            self.sources.add_citations(citations);
        }
        let choice = chunk
            .choices
            .into_iter()
            .flatten()
            .find(|c| c.index.unwrap_or(0) == 0);
        let Some(choice) = choice else { return };
        if let Some(delta) = choice.delta.or(choice.message) {
            if let Some(text) =
                reasoning_text(delta.reasoning_content.as_deref(), delta.reasoning.as_ref())
            {
                out.push_back(StreamEvent::ReasoningDelta(ReasoningDelta {
                    text,
                    signature: None,
                    redacted: None,
                    format: None,
                }));
            }
            if let Some(text) = delta
                .content
                .as_ref()
                .and_then(|c| c.as_str())
                .filter(|t| !t.is_empty())
            {
                out.push_back(StreamEvent::TextDelta(text.to_string()));
            }
            if let Some(text) = delta.refusal.filter(|t| !t.is_empty()) {
                out.push_back(StreamEvent::TextDelta(text));
            }
            for annotation in delta.annotations.iter().flatten() {
                self.sources.add_annotation(annotation);
            }
            for (pos, call) in delta.tool_calls.into_iter().flatten().enumerate() {
                self.on_tool_call(pos, call, out);
            }
        }
        if let Some(reason) = choice.finish_reason.filter(|r| !r.is_empty()) {
            self.finish = Some(reason);
        }
    }

    fn on_tool_call(&mut self, pos: usize, call: ToolCallIn, out: &mut VecDeque<StreamEvent>) {
        let raw_index = call.index.unwrap_or(pos as u32);
        let id = call.id.filter(|id| !id.is_empty());
        let function = call.function.unwrap_or_default();
        let name = function.name.filter(|n| !n.is_empty());
        let args = match function.arguments {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(s)) => s,
            Some(other) => arguments_text(Some(&other)),
        };
        let open = self.calls.iter().rposition(|c| c.raw_index == raw_index);
        // A second call can reuse an index (Ollama sends index 0 for every call; vLLM can too):
        // a named piece with a different id, or with no id after complete arguments, is new.
        let is_new = match open.map(|i| &self.calls[i]) {
            None => true,
            Some(open) => match (&id, &name) {
                (Some(id), Some(_)) => match &open.server_id {
                    Some(open_id) => open_id != id,
                    None => open.args_complete(),
                },
                (None, Some(_)) => open.name.is_some() && open.args_complete(),
                _ => false,
            },
        };
        let slot = if is_new {
            self.calls.push(Call {
                raw_index,
                server_id: id,
                name: None,
                args: String::new(),
                started: None,
            });
            self.calls.len() - 1
        } else {
            open.unwrap_or_default()
        };
        let call = &mut self.calls[slot];
        if call.name.is_none() {
            call.name = name;
        }
        call.args.push_str(&args);
        match (call.started, &call.name) {
            (Some(index), _) if !args.is_empty() => {
                out.push_back(StreamEvent::ToolCallDelta(ToolCallDelta {
                    index,
                    arguments: args,
                }));
            }
            (None, Some(name)) => {
                let index = self.next_call;
                self.next_call += 1;
                call.started = Some(index);
                out.push_back(StreamEvent::ToolCallStart(ToolCallStart {
                    index,
                    id: call
                        .server_id
                        .clone()
                        .unwrap_or_else(|| self.fallbacks.call_id(index as usize)),
                    name: name.clone(),
                    signature: None,
                }));
                // Arguments that arrived before the name, or whole in this piece.
                if !call.args.is_empty() {
                    out.push_back(StreamEvent::ToolCallDelta(ToolCallDelta {
                        index,
                        arguments: call.args.clone(),
                    }));
                }
            }
            _ => {}
        }
    }
}

/// The error for a payload a server sent as its stream's error.
fn error_payload(payload: &str) -> AdapterError {
    let chunk: ChatCompletion = serde_json::from_str(payload).unwrap_or_default();
    // The payload is the error object itself (llama.cpp) or wraps it (`{"error":{…}}`).
    let wrapped = format!("{{\"error\":{payload}}}");
    let as_error = if chunk.error.is_some() {
        embedded_error(&chunk, payload.as_bytes())
    } else {
        serde_json::from_str::<ChatCompletion>(&wrapped)
            .ok()
            .and_then(|c| embedded_error(&c, payload.as_bytes()))
    };
    as_error.unwrap_or_else(|| {
        AdapterError::Upstream(
            aratta_guest::ErrorDetail::new("the provider reported an error in the stream")
                .with_body(payload.as_bytes()),
        )
    })
}
