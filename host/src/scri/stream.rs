//! SCRI stream events as JSON: one server-sent event per `stream-event` of `wit/chat.wit`,
//! named by its `type`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiErrorBody, FinishReason, Lineage, Usage};

/// One event of a streamed answer. The SSE `event:` name equals `type`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// The answer begins.
    Start {
        /// The provider's response id.
        id: String,
        /// The model that answers.
        model: String,
    },
    /// More answer text.
    TextDelta {
        /// The text.
        text: String,
    },
    /// More reasoning; a signature may arrive in its own event.
    ReasoningDelta {
        /// The text (may be empty).
        text: String,
        /// The signature, when this event carries it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
        /// Redacted reasoning data, when this event carries it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        redacted: Option<String>,
        /// The provider format of the signature or redacted data (as `Reasoning::format`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        format: Option<String>,
    },
    /// A tool call begins.
    ToolCallStart {
        /// Position among this answer's calls.
        index: u32,
        /// The call id.
        id: String,
        /// The tool's name.
        name: String,
        /// Opaque provider data that must come back with the call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
    /// More of a tool call's JSON arguments.
    ToolCallDelta {
        /// Which call.
        index: u32,
        /// The next piece of JSON text.
        arguments: String,
    },
    /// Token totals so far; the last one is final.
    Usage {
        /// The counts.
        usage: Usage,
    },
    /// The answer is complete.
    Stop {
        /// Why generation ended.
        finish_reason: FinishReason,
        /// The provider's own reason when `finish_reason` is `unknown`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        finish_reason_raw: Option<String>,
        /// Where the answer came from.
        lineage: Lineage,
    },
    /// The stream failed; it ends here.
    Error {
        /// What went wrong.
        error: ApiErrorBody,
    },
}

impl StreamEvent {
    /// The SSE event name, equal to the JSON `type`.
    pub fn name(&self) -> &'static str {
        match self {
            StreamEvent::Start { .. } => "start",
            StreamEvent::TextDelta { .. } => "text_delta",
            StreamEvent::ReasoningDelta { .. } => "reasoning_delta",
            StreamEvent::ToolCallStart { .. } => "tool_call_start",
            StreamEvent::ToolCallDelta { .. } => "tool_call_delta",
            StreamEvent::Usage { .. } => "usage",
            StreamEvent::Stop { .. } => "stop",
            StreamEvent::Error { .. } => "error",
        }
    }
}
