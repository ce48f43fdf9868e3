//! `AgentContext`: what an agent carries from one iteration to the next — the conversation as
//! sent to the model, every tool call with its result, and free-form state a caller can seed
//! and read back.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::audit::Outcome;
use crate::scri::{Content, ContentBlock, Message, Role, ToolCall, ToolResult, ToolResultContent};

/// One tool call and what came of it.
#[derive(Debug, Clone, Serialize)]
pub struct ToolRecord {
    /// The iteration (model turn, from 1) that made the call.
    pub iteration: u32,
    /// The call as the model made it.
    pub call: ToolCall,
    /// The result or error text the model read.
    pub result: String,
    /// How it ended.
    pub outcome: Outcome,
}

/// The state of one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AgentContext {
    /// The conversation: system, task, then each assistant turn and its tool results.
    pub messages: Vec<Message>,
    /// Every tool call, in order.
    pub tool_results: Vec<ToolRecord>,
    /// Caller-defined state, kept across iterations.
    pub state: BTreeMap<String, Value>,
    /// Model turns taken so far.
    pub iterations: u32,
}

impl AgentContext {
    /// A context for `task`, with `system` instructions first when given.
    pub fn new(system: Option<&str>, task: &str) -> Self {
        let mut messages = Vec::new();
        if let Some(system) = system {
            messages.push(text_message(Role::System, system));
        }
        messages.push(text_message(Role::User, task));
        Self {
            messages,
            ..Self::default()
        }
    }

    /// Append the model's turn as it answered (text, reasoning and tool calls, in order).
    pub fn push_assistant(&mut self, content: Vec<ContentBlock>) {
        self.messages.push(Message {
            role: Role::Assistant,
            content: Content::Blocks(content),
            name: None,
        });
    }

    /// Append the results of one turn's tool calls as one tool message.
    pub fn push_results(&mut self, records: Vec<ToolRecord>) {
        let blocks = records
            .iter()
            .map(|r| {
                ContentBlock::ToolResult(ToolResult {
                    tool_call_id: r.call.id.clone(),
                    name: Some(r.call.name.clone()),
                    content: ToolResultContent::Text(r.result.clone()),
                    is_error: r.outcome != Outcome::Ok,
                })
            })
            .collect();
        self.messages.push(Message {
            role: Role::Tool,
            content: Content::Blocks(blocks),
            name: None,
        });
        self.tool_results.extend(records);
    }

    /// The tool names called so far, in order.
    pub fn tool_sequence(&self) -> Vec<&str> {
        self.tool_results
            .iter()
            .map(|r| r.call.name.as_str())
            .collect()
    }
}

fn text_message(role: Role, text: &str) -> Message {
    Message {
        role,
        content: Content::Text(text.to_owned()),
        name: None,
    }
}
