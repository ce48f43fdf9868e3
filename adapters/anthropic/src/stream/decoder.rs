//! The event-to-event state machine behind a streamed answer: one Anthropic stream event in,
//! zero or more SCRI stream events out (the table is in the parent module).

use std::collections::{HashMap, VecDeque};

use aratta_guest::sse::{Decoder, SseEvent};
use aratta_guest::{
    AdapterError, ContentBlock, ErrorDetail, ReasoningDelta, StreamEvent, StreamStart,
    ToolCallDelta, ToolCallStart,
};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::errors;
use crate::response::{WireUsage, content_block, finish_reason, parse_at, usage};

#[derive(Deserialize)]
struct EventWire {
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<StartWire>,
    index: Option<u64>,
    content_block: Option<Box<RawValue>>,
    delta: Option<DeltaWire>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct StartWire {
    id: Option<String>,
    model: Option<String>,
    usage: Option<WireUsage>,
}

/// A `content_block_delta`'s or `message_delta`'s `delta`: one of them, by `type`.
#[derive(Deserialize)]
struct DeltaWire {
    #[serde(rename = "type")]
    kind: Option<String>,
    text: Option<String>,
    thinking: Option<String>,
    signature: Option<String>,
    partial_json: Option<String>,
    stop_reason: Option<String>,
}

/// What a content block index stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Block {
    Text,
    Thinking,
    /// A tool call: its SCRI index, and whether any argument text went out.
    Tool {
        call: u32,
        has_args: bool,
    },
    /// A block SCRI has no form for (server tools, citations' documents, ...): its deltas are
    /// skipped.
    Other,
}

/// The event-to-event state machine. Feed it SSE events; it appends SCRI events to a queue.
#[derive(Debug)]
pub struct StreamDecoder {
    fallback_id: String,
    fallback_model: String,
    started: bool,
    pending_usage: Option<WireUsage>,
    usage: WireUsage,
    stop_reason: Option<String>,
    blocks: HashMap<u64, Block>,
    calls: u32,
    done: bool,
}

impl StreamDecoder {
    /// A decoder for one answer; the fallbacks stand in for an id or model the stream omits.
    pub fn new(fallback_id: String, fallback_model: String) -> Self {
        StreamDecoder {
            fallback_id,
            fallback_model,
            started: false,
            pending_usage: None,
            usage: WireUsage::default(),
            stop_reason: None,
            blocks: HashMap::new(),
            calls: 0,
            done: false,
        }
    }
}

impl Decoder for StreamDecoder {
    fn is_done(&self) -> bool {
        self.done
    }

    /// A last event whose blank line never came (the SDK's own recorded streams end so)
    /// counts when its data is whole JSON; a cut one is left to `on_eof`, which reports the
    /// truncation.
    fn accepts_unterminated(&self, event: &SseEvent) -> bool {
        serde_json::from_str::<serde::de::IgnoredAny>(&event.data).is_ok()
    }

    fn on_event(&mut self, event: &SseEvent, out: &mut VecDeque<StreamEvent>) {
        if self.done {
            return;
        }
        let data = event.data.trim();
        if event.event == "error" {
            return self.fail(
                errors::for_event(data.as_bytes(), "Anthropic's stream failed"),
                out,
            );
        }
        if data.is_empty() {
            return;
        }
        let Ok(raw) = serde_json::from_str::<Box<RawValue>>(data) else {
            let message = format!("`{}` event whose data is not JSON", event.event);
            return self.fail(
                AdapterError::stream_format("", message, data.as_bytes()),
                out,
            );
        };
        let wire: EventWire = match parse_at(&raw, "", data.as_bytes()) {
            Ok(wire) => wire,
            Err(error) => return self.fail(error, out),
        };
        // The JSON `type` is the event's type; the SSE name only stands in when it is absent.
        let kind = wire.kind.clone().unwrap_or_else(|| event.event.clone());
        let result = match kind.as_str() {
            "message_start" => self.on_start(wire, out),
            "content_block_start" => self.on_block_start(wire, data.as_bytes(), out),
            "content_block_delta" => self.on_block_delta(wire, data.as_bytes(), out),
            "content_block_stop" => self.on_block_stop(wire, out),
            "message_delta" => self.on_message_delta(wire, out),
            "message_stop" => self.on_stop(out),
            "error" => Err(errors::for_event(
                data.as_bytes(),
                "Anthropic's stream failed",
            )),
            // `ping` keeps the connection alive; new event types are tolerated, per the API's
            // versioning policy.
            _ => Ok(()),
        };
        if let Err(error) = result {
            self.fail(error, out);
        }
    }

    fn on_eof(&mut self, saw_events: bool, head: &[u8], out: &mut VecDeque<StreamEvent>) {
        if self.done {
            return;
        }
        let error = if !saw_events {
            let message = match aratta_guest::status::provider_message(head) {
                Some(m) => format!("the response is not an event stream; the provider said: {m}"),
                None => "the response ended without a single server-sent event".to_string(),
            };
            AdapterError::stream_format("", message, head)
        } else {
            AdapterError::Connection(
                ErrorDetail::new("the stream was truncated: it ended without `message_stop`")
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

    fn require_start(&self, kind: &str, data: &[u8]) -> Result<(), AdapterError> {
        match self.started {
            true => Ok(()),
            false => Err(AdapterError::stream_format(
                "type",
                format!("`{kind}` arrived before `message_start`"),
                data,
            )),
        }
    }

    /// Emit `event`, preceded by the start's usage the first time content goes out.
    fn emit(&mut self, event: StreamEvent, out: &mut VecDeque<StreamEvent>) {
        if let Some(u) = self.pending_usage.take() {
            out.push_back(StreamEvent::Usage(usage(&u)));
        }
        out.push_back(event);
    }

    fn on_start(
        &mut self,
        wire: EventWire,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<(), AdapterError> {
        if self.started {
            return Ok(()); // A repeated start says nothing new.
        }
        self.started = true;
        let message = wire.message;
        let (id, model, start_usage) = match message {
            Some(m) => (m.id, m.model, m.usage),
            None => (None, None, None),
        };
        out.push_back(StreamEvent::Start(StreamStart {
            id: id
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| self.fallback_id.clone()),
            model: model
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| self.fallback_model.clone()),
        }));
        if let Some(u) = start_usage {
            self.usage = u;
            self.pending_usage = Some(u);
        }
        Ok(())
    }

    fn on_block_start(
        &mut self,
        wire: EventWire,
        data: &[u8],
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<(), AdapterError> {
        self.require_start("content_block_start", data)?;
        let index = wire
            .index
            .ok_or_else(|| AdapterError::stream_format("index", "a block without `index`", data))?;
        let raw = wire.content_block.ok_or_else(|| {
            AdapterError::stream_format("content_block", "a block start without its block", data)
        })?;
        let block = content_block(&raw, "content_block", data)?;
        let kind = match block {
            Some(ContentBlock::Text(text)) => {
                if !text.is_empty() {
                    self.emit(StreamEvent::TextDelta(text), out);
                }
                Block::Text
            }
            Some(ContentBlock::Reasoning(r)) => {
                if !r.text.is_empty() || r.signature.as_deref().is_some_and(|s| !s.is_empty()) {
                    let signature = r.signature.filter(|s| !s.is_empty());
                    self.emit(reasoning(r.text, signature, None), out);
                }
                if r.redacted.is_some() {
                    self.emit(reasoning(String::new(), None, r.redacted), out);
                }
                Block::Thinking
            }
            Some(ContentBlock::ToolUse(call)) => {
                let index = self.calls;
                self.calls += 1;
                self.emit(
                    StreamEvent::ToolCallStart(ToolCallStart {
                        index,
                        id: call.id,
                        name: call.name,
                        signature: None,
                    }),
                    out,
                );
                // The start carries `input: {}` and the arguments follow as deltas; a proxy
                // that sends the whole input up front is taken at its word.
                let has_args = call.arguments != "{}";
                if has_args {
                    self.emit(args(index, call.arguments), out);
                }
                Block::Tool {
                    call: index,
                    has_args,
                }
            }
            Some(ContentBlock::Image(_) | ContentBlock::ToolResult(_)) | None => Block::Other,
        };
        self.blocks.insert(index, kind);
        Ok(())
    }

    fn on_block_delta(
        &mut self,
        wire: EventWire,
        data: &[u8],
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<(), AdapterError> {
        self.require_start("content_block_delta", data)?;
        let index = wire.index.unwrap_or(0);
        let Some(delta) = wire.delta else {
            return Err(AdapterError::stream_format(
                "delta",
                "a block delta without `delta`",
                data,
            ));
        };
        let block = self.blocks.get(&index).copied();
        let missing = |field: &str| AdapterError::missing_field(&format!("delta.{field}"), data);
        match delta.kind.as_deref() {
            Some("text_delta") => {
                let text = delta.text.ok_or_else(|| missing("text"))?;
                if !text.is_empty() && block != Some(Block::Other) {
                    self.emit(StreamEvent::TextDelta(text), out);
                }
            }
            Some("thinking_delta") => {
                let text = delta.thinking.ok_or_else(|| missing("thinking"))?;
                if !text.is_empty() && block != Some(Block::Other) {
                    self.emit(reasoning(text, None, None), out);
                }
            }
            Some("signature_delta") => {
                let signature = delta.signature.ok_or_else(|| missing("signature"))?;
                if block != Some(Block::Other) {
                    self.emit(reasoning(String::new(), Some(signature), None), out);
                }
            }
            Some("input_json_delta") => {
                let json = delta.partial_json.ok_or_else(|| missing("partial_json"))?;
                match block {
                    Some(Block::Tool { call, .. }) => {
                        if !json.is_empty() {
                            self.blocks.insert(
                                index,
                                Block::Tool {
                                    call,
                                    has_args: true,
                                },
                            );
                            self.emit(args(call, json), out);
                        }
                    }
                    Some(_) => {} // A server tool's input: not a SCRI tool call.
                    None => {
                        return Err(AdapterError::stream_format(
                            "index",
                            format!("tool input for block {index}, which never started"),
                            data,
                        ));
                    }
                }
            }
            // `citations_delta` and delta types added later have no SCRI form.
            _ => {}
        }
        Ok(())
    }

    fn on_block_stop(
        &mut self,
        wire: EventWire,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<(), AdapterError> {
        let Some(index) = wire.index else {
            return Ok(());
        };
        // A tool without parameters streams no argument text; SCRI arguments are an object.
        if let Some(Block::Tool {
            call,
            has_args: false,
        }) = self.blocks.get(&index).copied()
        {
            self.blocks.insert(
                index,
                Block::Tool {
                    call,
                    has_args: true,
                },
            );
            self.emit(args(call, "{}".to_string()), out);
        }
        Ok(())
    }

    fn on_message_delta(
        &mut self,
        wire: EventWire,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<(), AdapterError> {
        if let Some(reason) = wire.delta.and_then(|d| d.stop_reason) {
            self.stop_reason = Some(reason);
        }
        if let Some(later) = wire.usage {
            self.usage = self.usage.merged(&later);
            self.pending_usage = None;
            out.push_back(StreamEvent::Usage(usage(&self.usage)));
        }
        Ok(())
    }

    fn on_stop(&mut self, out: &mut VecDeque<StreamEvent>) -> Result<(), AdapterError> {
        if !self.started {
            return Err(AdapterError::stream_format(
                "type",
                "the stream stopped before `message_start`",
                b"",
            ));
        }
        // A start usage never followed by content or a delta still carries the totals.
        if let Some(u) = self.pending_usage.take() {
            out.push_back(StreamEvent::Usage(usage(&u)));
        }
        let had_calls = self.calls > 0;
        out.push_back(StreamEvent::Stop(finish_reason(
            self.stop_reason.as_deref(),
            had_calls,
        )));
        self.done = true;
        Ok(())
    }
}

fn reasoning(text: String, signature: Option<String>, redacted: Option<String>) -> StreamEvent {
    StreamEvent::ReasoningDelta(ReasoningDelta {
        format: (signature.is_some() || redacted.is_some())
            .then(|| crate::messages::FORMAT.to_string()),
        text,
        signature,
        redacted,
    })
}

fn args(index: u32, arguments: String) -> StreamEvent {
    StreamEvent::ToolCallDelta(ToolCallDelta { index, arguments })
}
