//! The Responses API (`POST /responses`), OpenAI's newer request format, which xAI also serves.
//! Adapters use it only where Chat Completions cannot do the job (see [`route`]):
//!
//! - server-side tools (OpenAI's `web_search`, `file_search`, `code_interpreter`; xAI's
//!   `web_search`, `x_search`), passed in `extra.tools` and appended to the function tools;
//! - reasoning text (`reasoning.summary`), which Chat Completions never returns;
//! - reasoning carried to the next turn: with `store: false` and
//!   `include: ["reasoning.encrypted_content"]` a `reasoning` item comes back as a SCRI
//!   reasoning block (`signature` = the item id, `redacted` = the encrypted content, `format` =
//!   [`ResponsesDialect::reasoning_format`]) and is sent back as the same item.
//!
//! Requests are stateless (`store: false`); nothing is kept at the provider between turns.
//! [`request`] builds the body, [`response`] reads a complete answer, [`stream`] the events.

pub mod request;
pub mod response;
pub mod stream;

#[cfg(test)]
mod tests;

use super::fallbacks;
use aratta_guest::http::Request;
use aratta_guest::sse::SseStream;
use aratta_guest::{
    AdapterError, BoxEventStream, CallContext, ChatRequest, ChatResponse, ContentBlock,
    MessageContent, VecEventStream, peek_stream,
};

/// What differs between servers of the Responses API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponsesDialect {
    /// The `format` of the reasoning blocks this provider produces and accepts back
    /// (OpenRouter's names: `openai-responses-v1`, `xai-responses-v1`).
    pub reasoning_format: &'static str,
    /// Send SCRI's `developer` role as `developer` rather than `system`.
    pub developer_role: bool,
    /// Mark function tools `"strict": false`: OpenAI makes them strict by default, which
    /// rejects schemas that are not closed objects with every property required.
    pub non_strict_tools: bool,
    /// Ask for reasoning summaries (`reasoning.summary: "auto"`) when the caller sets
    /// `include-reasoning`.
    pub reasoning_summaries: bool,
}

impl ResponsesDialect {
    /// OpenAI's Responses API.
    pub const OPENAI: ResponsesDialect = ResponsesDialect {
        reasoning_format: "openai-responses-v1",
        developer_role: true,
        non_strict_tools: true,
        reasoning_summaries: true,
    };

    /// xAI's Responses API (`https://api.x.ai/v1/responses`).
    pub const XAI: ResponsesDialect = ResponsesDialect {
        reasoning_format: "xai-responses-v1",
        developer_role: false,
        non_strict_tools: false,
        reasoning_summaries: false,
    };
}

/// Why a request must go to the Responses API rather than Chat Completions, or `None` when
/// Chat Completions serves it fully:
///
/// - `extra.tools` holds a tool whose `type` is not `function` (a server-side tool);
/// - the caller asked for reasoning text (`reasoning.include-reasoning: true`);
/// - the conversation carries a reasoning block from an earlier Responses answer of this
///   provider (see [`carries_reasoning`]).
pub fn route(request: &ChatRequest, dialect: &ResponsesDialect) -> Option<&'static str> {
    if request::server_tools(request.extra.as_deref()).is_some_and(|t| !t.is_empty()) {
        return Some("server-side tools in `extra.tools`");
    }
    if request
        .reasoning
        .as_ref()
        .is_some_and(|r| r.include_reasoning == Some(true))
    {
        return Some("`include-reasoning`");
    }
    let carried = request.messages.iter().any(|m| match &m.content {
        MessageContent::Blocks(blocks) => blocks.iter().any(|b| match b {
            ContentBlock::Reasoning(r) => carries_reasoning(r, dialect),
            _ => false,
        }),
        MessageContent::Text(_) => false,
    });
    carried.then_some("reasoning carried from an earlier turn")
}

/// Whether `reasoning` is a Responses `reasoning` item of this provider that can be sent back:
/// its format is the dialect's, or (streamed answers lose the format on the way through SCRI)
/// it has no format but an item id (`rs_…`) and encrypted content.
pub fn carries_reasoning(reasoning: &aratta_guest::Reasoning, dialect: &ResponsesDialect) -> bool {
    let has_id = reasoning
        .signature
        .as_deref()
        .is_some_and(|s| !s.is_empty());
    match reasoning.format.as_deref() {
        Some(format) => format == dialect.reasoning_format && has_id,
        None => {
            reasoning.redacted.is_some()
                && reasoning
                    .signature
                    .as_deref()
                    .is_some_and(|s| s.starts_with("rs_"))
        }
    }
}

/// `POST {base}/responses` and the answer as SCRI.
pub fn chat(
    ctx: &CallContext,
    req: &ChatRequest,
    dialect: &ResponsesDialect,
    why: &str,
) -> Result<ChatResponse, AdapterError> {
    let body = request::body_json(req, dialect, false, why)?;
    let bytes = Request::post(ctx, "/responses")
        .header("accept", "application/json")
        .body("application/json", body.into_bytes())
        .send()?
        .error_for_status()?
        .bytes()?;
    response::chat_response(&bytes, &fallbacks(ctx, &req.model), dialect)
}

/// `POST {base}/responses` with `stream: true`, read event by event. As in Chat Completions,
/// errors before the first content are returned here so the host can still fall back.
pub fn chat_stream(
    ctx: &CallContext,
    req: &ChatRequest,
    dialect: &ResponsesDialect,
    why: &str,
) -> Result<BoxEventStream, AdapterError> {
    let body = request::body_json(req, dialect, true, why)?;
    let response = Request::post(ctx, "/responses")
        .header("accept", "text/event-stream")
        .body("application/json", body.into_bytes())
        .send()?
        .error_for_status()?;
    let fallbacks = fallbacks(ctx, &req.model);
    if response.is_json() {
        let bytes = response.bytes()?;
        let answer = response::chat_response(&bytes, &fallbacks, dialect)?;
        return Ok(Box::new(VecEventStream::from_response(answer)));
    }
    peek_stream(Box::new(SseStream::new(
        response.into_body(),
        stream::ResponsesDecoder::new(fallbacks, dialect.clone()),
    )))
}
