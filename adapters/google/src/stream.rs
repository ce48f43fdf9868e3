//! `streamGenerateContent?alt=sse` as SCRI stream events.
//!
//! Every SSE event is one `GenerateContentResponse` chunk: the parts generated since the last
//! chunk, `usageMetadata` (the last chunk carries the final totals) and, on the last chunk only,
//! `finishReason`. There is no `[DONE]`: the chunk with a finish reason is the end, so `stop`
//! is emitted right there and the body is not read further. A body that ends before it is a
//! truncated answer and yields an `error`, never a `stop`.
//!
//! Function calls arrive whole (name and complete `args` in one part), so each becomes a
//! `tool-call-start` followed by a single `tool-call-delta` with all its arguments. A signature
//! on a text part follows that text as a `reasoning-delta` with empty text, as in
//! `response.rs`; a signature that arrives alone (an empty final text part) the same way.

use std::collections::VecDeque;

use aratta_guest::sse::{Decoder, SseEvent};
use aratta_guest::{
    AdapterError, ErrorDetail, Fallbacks, FinishReason, MismatchKind, ReasoningDelta, StreamEvent,
    StreamStart, ToolCallDelta, ToolCallStart, Usage,
};

use crate::response::{PartOut, classify_part, finish_reason, usage};
use crate::wire::GenerateContentResponse;

/// Turns chunks into events, one chunk at a time.
pub struct StreamDecoder {
    fallbacks: Fallbacks,
    started: bool,
    usage: Option<Usage>,
    calls: u32,
    chunks: usize,
    done: bool,
}

impl StreamDecoder {
    /// A decoder for one answer; `fallbacks` supplies what Gemini leaves out.
    pub fn new(fallbacks: Fallbacks) -> Self {
        StreamDecoder {
            fallbacks,
            started: false,
            usage: None,
            calls: 0,
            chunks: 0,
            done: false,
        }
    }

    /// Handle one chunk's JSON text (an SSE `data:` payload, or an element of the JSON array
    /// the non-SSE endpoint answers with).
    pub fn on_chunk(&mut self, raw: &[u8], out: &mut VecDeque<StreamEvent>) {
        if self.done {
            return;
        }
        let n = self.chunks;
        self.chunks += 1;
        let chunk: GenerateContentResponse = match aratta_guest::json::parse(raw) {
            Ok(chunk) => chunk,
            Err(AdapterError::SchemaMismatch(mut m)) => {
                m.kind = MismatchKind::StreamFormatChange;
                m.detail.message = format!("stream chunk {n}: {}", m.detail.message);
                return self.fail(AdapterError::SchemaMismatch(m), out);
            }
            Err(other) => return self.fail(other, out),
        };
        if let Some(error) = &chunk.error {
            return self.fail(crate::errors::embedded(error, raw), out);
        }
        if !self.started {
            self.started = true;
            out.push_back(StreamEvent::Start(StreamStart {
                id: chunk
                    .response_id
                    .clone()
                    .filter(|id| !id.is_empty())
                    .unwrap_or_else(|| self.fallbacks.id.clone()),
                model: chunk
                    .model_version
                    .clone()
                    .filter(|m| !m.is_empty())
                    .unwrap_or_else(|| self.fallbacks.model.clone()),
            }));
        }
        if let Some(u) = &chunk.usage_metadata {
            self.usage = Some(usage(u));
        }
        let Some(candidate) = chunk.candidates.and_then(|c| c.into_iter().next()) else {
            if chunk.prompt_feedback.and_then(|f| f.block_reason).is_some() {
                return self.finish(FinishReason::ContentFilter, out);
            }
            if chunk.usage_metadata.is_some() {
                return; // A usage-only chunk.
            }
            let error = AdapterError::stream_format(
                "candidates[0]",
                format!("stream chunk {n} has no candidates, usage or prompt feedback"),
                raw,
            );
            return self.fail(error, out);
        };
        let metadata_only = candidate.is_metadata_only();
        let finish = candidate.finish_reason.filter(|r| !r.is_empty());
        let parts = match candidate.content {
            Some(content) => content.parts.unwrap_or_default(),
            None if finish.is_some() || metadata_only => Vec::new(),
            None => {
                let error = AdapterError::stream_format(
                    "candidates[0].content",
                    format!(
                        "stream chunk {n} has neither `candidates[0].content` nor a finish reason"
                    ),
                    raw,
                );
                return self.fail(error, out);
            }
        };
        for (i, part) in parts.into_iter().enumerate() {
            let path = format!("candidates[0].content.parts[{i}]");
            match classify_part(part, &path, raw) {
                Ok(part) => self.on_part(part, out),
                Err(error) => return self.fail(error, out),
            }
        }
        if let Some(reason) = finish {
            let reason = finish_reason(Some(&reason), self.calls > 0);
            self.finish(reason, out);
        }
    }

    fn on_part(&mut self, part: PartOut, out: &mut VecDeque<StreamEvent>) {
        match part {
            PartOut::Thought { text, signature } => {
                if !text.is_empty() || signature.is_some() {
                    out.push_back(reasoning_delta(text, signature));
                }
            }
            PartOut::Text { text, signature } => {
                if !text.is_empty() {
                    out.push_back(StreamEvent::TextDelta(text));
                }
                if signature.is_some() {
                    out.push_back(reasoning_delta(String::new(), signature));
                }
            }
            PartOut::Call {
                id,
                name,
                arguments,
                signature,
            } => {
                let index = self.calls;
                self.calls += 1;
                out.push_back(StreamEvent::ToolCallStart(ToolCallStart {
                    index,
                    id: id.unwrap_or_else(|| self.fallbacks.call_id(index as usize)),
                    name,
                    signature,
                }));
                out.push_back(StreamEvent::ToolCallDelta(ToolCallDelta {
                    index,
                    arguments,
                }));
            }
            // SCRI streams have no image event; generated images need `chat`.
            PartOut::Image(_) | PartOut::Skipped => {}
        }
    }
}

impl Decoder for StreamDecoder {
    fn is_done(&self) -> bool {
        self.done
    }

    fn on_event(&mut self, event: &SseEvent, out: &mut VecDeque<StreamEvent>) {
        let data = event.data.trim();
        if self.done || (data.is_empty() && event.fields.is_empty()) {
            return;
        }
        self.on_chunk(data.as_bytes(), out);
    }

    /// Whether the body held events does not matter here: what counts is whether any chunk
    /// arrived, which the decoder knows itself.
    fn on_eof(&mut self, _saw_events: bool, head: &[u8], out: &mut VecDeque<StreamEvent>) {
        if self.done {
            return;
        }
        let error = if self.chunks == 0 {
            let message = match crate::errors::GoogleError::parse(head).message {
                Some(m) => format!("the response is not an event stream; Gemini said: {m}"),
                None => "the response ended without a single server-sent event".to_string(),
            };
            AdapterError::stream_format("", message, head)
        } else {
            AdapterError::Connection(
                ErrorDetail::new("the stream was truncated: it ended without a finish reason")
                    .with_body(head),
            )
        };
        self.fail(error, out);
    }
}

impl StreamDecoder {
    fn finish(&mut self, reason: FinishReason, out: &mut VecDeque<StreamEvent>) {
        if let Some(usage) = self.usage.take() {
            out.push_back(StreamEvent::Usage(usage));
        }
        out.push_back(StreamEvent::Stop(reason));
        self.done = true;
    }

    fn fail(&mut self, error: AdapterError, out: &mut VecDeque<StreamEvent>) {
        out.push_back(StreamEvent::Error(error));
        self.done = true;
    }
}

fn reasoning_delta(text: String, signature: Option<String>) -> StreamEvent {
    StreamEvent::ReasoningDelta(ReasoningDelta {
        format: signature
            .as_ref()
            .map(|_| crate::response::FORMAT.to_string()),
        text,
        signature,
        redacted: None,
    })
}

/// The events of a non-SSE answer to a streaming request (a JSON array of chunks, or one
/// chunk), for a proxy that dropped `alt=sse`.
pub fn json_events(body: &[u8], fallbacks: Fallbacks) -> Vec<StreamEvent> {
    let mut decoder = StreamDecoder::new(fallbacks);
    let mut out = VecDeque::new();
    match serde_json::from_slice::<Vec<Box<serde_json::value::RawValue>>>(body) {
        Ok(chunks) => {
            for chunk in chunks {
                decoder.on_chunk(chunk.get().as_bytes(), &mut out);
            }
        }
        Err(_) => decoder.on_chunk(body, &mut out),
    }
    decoder.on_eof(true, body, &mut out);
    out.into()
}
