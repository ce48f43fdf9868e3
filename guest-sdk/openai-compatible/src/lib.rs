//! The OpenAI Chat Completions and Responses wire formats for Aratta adapters, shared by every
//! OpenAI-compatible adapter (OpenAI, xAI, and local servers: Ollama, vLLM, llama.cpp), and a
//! way to write such an adapter without writing its operations:
//!
//! - [`openai_compatible_adapter!`]: a whole adapter, exported, from a few fields;
//! - [`OpenAiCompatible`] and [`Compatible`]: the same as a trait with OpenAI-format defaults,
//!   for an adapter that overrides some operations;
//! - [`wire`]: the serde types;
//! - [`request`] and [`tools`]: SCRI → OpenAI (and tools back again);
//! - [`response`]: OpenAI → SCRI for complete answers, embeddings and model lists;
//! - [`stream`]: streamed chunks → SCRI stream events;
//! - [`client`]: the operations themselves over [`http`](aratta_guest::http), parameterized by a
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

#![deny(missing_docs)]

mod adapter;
pub mod client;
mod macros;
pub mod request;
pub mod response;
pub mod responses;
pub mod sources;
pub mod stream;
pub mod tools;
pub mod wire;

#[cfg(test)]
mod tests;

pub use adapter::{Compatible, OpenAiCompatible};

use aratta_guest::{CallContext, Fallbacks};

/// What [`openai_compatible_adapter!`] expands to needs; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use aratta_guest;
}

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

    /// Servers run locally: Ollama, vLLM, llama.cpp's `llama-server`.
    pub const LOCAL: Dialect = Dialect {
        // Chat templates of local models know `system`, rarely `developer`.
        developer_role: false,
        // Ollama reads only `max_tokens`; vLLM and llama.cpp read both.
        max_completion_tokens: false,
        // vLLM and llama.cpp sample with it; Ollama's OpenAI layer ignores it.
        top_k: true,
        // llama.cpp silently turns the object form into `auto`; Ollama ignores `tool_choice`.
        named_tool_choice_as_required: true,
    };
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect::OPENAI
    }
}

/// The fallbacks of an OpenAI-format answer: made-up response ids read `chatcmpl-<request id>`,
/// like OpenAI's own.
pub fn fallbacks(ctx: &CallContext, model: &str) -> Fallbacks {
    Fallbacks::new(ctx, model, "chatcmpl")
}
