//! The steps of a run, emitted as they happen: the CLI prints them, the HTTP route streams them
//! as server-sent events (the event name is the step's `type`).

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::audit::Outcome;
use crate::scri::{Lineage, Usage};

/// One step of an agent run.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Step {
    /// The run began.
    Start {
        /// The run id (also in the audit log).
        run_id: String,
        /// The agent's name.
        agent: String,
        /// The model reference.
        model: String,
        /// The tools offered to the model.
        tools: Vec<String>,
    },
    /// Text the model wrote alongside its tool calls (its reasoning, in ReAct terms).
    Thought {
        /// The model turn, from 1.
        iteration: u32,
        /// The text.
        text: String,
    },
    /// The model called a tool.
    ToolCall {
        /// The model turn.
        iteration: u32,
        /// The call id.
        id: String,
        /// The tool.
        name: String,
        /// The arguments.
        #[schema(value_type = Object)]
        arguments: Value,
    },
    /// A tool call finished (or was refused).
    ToolResult {
        /// The model turn.
        iteration: u32,
        /// The call id.
        id: String,
        /// The tool.
        name: String,
        /// `ok`, `error`, `timeout` or `denied`.
        #[schema(value_type = String)]
        outcome: Outcome,
        /// What the model reads.
        content: String,
        /// Wall-clock time.
        duration_ms: u64,
    },
    /// The model answered without calling a tool: the run's result.
    Answer {
        /// The model turn.
        iteration: u32,
        /// The answer.
        text: String,
        /// Tokens used over the whole run, where the provider reported them.
        usage: Usage,
        /// Where the final answer came from.
        lineage: Lineage,
    },
    /// The run used `max_iterations` model turns without an answer.
    MaxIterations {
        /// The limit reached.
        iterations: u32,
    },
    /// The run failed (the model could not be reached, for example).
    Error {
        /// The model turn during which it failed.
        iteration: u32,
        /// What went wrong.
        message: String,
    },
}

impl Step {
    /// The step's kind, as in its JSON `type` (the SSE event name).
    pub fn name(&self) -> &'static str {
        match self {
            Step::Start { .. } => "start",
            Step::Thought { .. } => "thought",
            Step::ToolCall { .. } => "tool_call",
            Step::ToolResult { .. } => "tool_result",
            Step::Answer { .. } => "answer",
            Step::MaxIterations { .. } => "max_iterations",
            Step::Error { .. } => "error",
        }
    }
}
