//! The OpenAI Chat Completions wire format, shared by every OpenAI-compatible adapter
//! (OpenAI, xAI, and local servers: Ollama, vLLM, llama.cpp).
//!
//! - [`wire`]: the serde types;
//! - [`request`] and [`tools`]: SCRI → OpenAI (and tools back again);
//! - [`response`]: OpenAI → SCRI for complete answers, embeddings and model lists;
//! - [`stream`]: streamed chunks → SCRI stream events;
//! - [`client`]: the operations themselves over [`http`](crate::http), parameterized by a
//!   [`Dialect`] for what differs between servers;
//! - [`responses`]: the Responses API (`/responses`), for what Chat Completions cannot carry
//!   (server-side tools, reasoning text, reasoning kept across turns);
//! - [`sources`]: cited web sources as a final SCRI text block.
//!
//! Parsing is lenient where servers legitimately differ (unknown fields, `reasoning` vs
//! `reasoning_content`, arguments as a string or an object, missing tool-call ids, reused
//! tool-call indexes) and strict where an answer would otherwise be silently wrong (no
//! `choices`, a stream that ends without finishing): those are `schema-mismatch` or `error`
//! events with a JSON path and the raw body.

pub mod client;
pub mod request;
pub mod response;
pub mod responses;
pub mod sources;
pub mod stream;
pub mod tools;
pub mod wire;

#[cfg(test)]
mod tests;

use crate::CallContext;

/// What differs between OpenAI-compatible servers on the request side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialect {
    /// Send SCRI's `developer` role as `developer` (OpenAI) rather than `system`.
    pub developer_role: bool,
    /// Send the token limit as `max_completion_tokens` (OpenAI's current name) rather than
    /// `max_tokens` (what Ollama and older servers read).
    pub max_completion_tokens: bool,
    /// Send `top_k` (vLLM, llama.cpp); OpenAI rejects it.
    pub top_k: bool,
    /// Express a named tool choice as `"required"` with only that tool offered, for servers
    /// that ignore the object form (llama.cpp turns it into `auto`; Ollama ignores
    /// `tool_choice` altogether).
    pub named_tool_choice_as_required: bool,
}

impl Dialect {
    /// OpenAI's own API.
    pub const OPENAI: Dialect = Dialect {
        developer_role: true,
        max_completion_tokens: true,
        top_k: false,
        named_tool_choice_as_required: false,
    };
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect::OPENAI
    }
}

/// Values used when the server omits them: a response id, the model name, and a scope that
/// makes generated tool-call ids unique across the turns of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallbacks {
    /// The response id when the server sends none.
    pub id: String,
    /// The model name when the server sends none (the requested model).
    pub model: String,
    /// Mixed into generated tool-call ids.
    pub scope: String,
}

impl Fallbacks {
    /// Fallbacks for a call: ids derive from the host's request id.
    pub fn new(ctx: &CallContext, model: &str) -> Self {
        let scope: String = ctx
            .request_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let scope = scope[scope.len().saturating_sub(12)..].to_string();
        Fallbacks {
            id: if ctx.request_id.is_empty() {
                "chatcmpl-aratta".to_string()
            } else {
                format!("chatcmpl-{}", ctx.request_id)
            },
            model: model.to_string(),
            scope,
        }
    }

    /// The id for the `n`th tool call of an answer whose server sent none: `call_<n>`, with
    /// the request scope when there is one (`call_<scope>_<n>`).
    pub fn call_id(&self, n: usize) -> String {
        if self.scope.is_empty() {
            format!("call_{n}")
        } else {
            format!("call_{}_{n}", self.scope)
        }
    }
}
