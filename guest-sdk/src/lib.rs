//! Write [Aratta](https://github.com/aratta/aratta) provider adapters.
//!
//! An adapter is a WebAssembly component (`wasm32-wasip2`) that translates SCRI, Aratta's
//! provider-neutral chat contract (`wit/`), to one provider's HTTP API. This crate gives it:
//!
//! - the SCRI types, re-exported here from the generated bindings;
//! - the [`Adapter`] trait (only `describe` is required) and the [`export_adapter!`] macro;
//! - [`http`]: blocking outbound HTTP over `wasi:http`, the adapter's only way out;
//! - [`status`] and [`error`]: typed errors that keep the provider's raw status and body;
//! - [`sse`]: Server-Sent Events framing, and [`sse::SseStream`], which reads a streamed answer
//!   through a provider's [`sse::Decoder`];
//! - [`json`] and [`Fallbacks`]: parsing provider bodies with JSON paths in errors, and the ids
//!   an adapter makes up when a provider leaves them out.
//!
//! The OpenAI Chat Completions and Responses formats, and a declarative OpenAI-compatible
//! adapter, are in the `aratta-openai-compatible` crate.
//!
//! ```ignore
//! use aratta_guest::{Adapter, AdapterInfo, AuthScheme};
//!
//! struct Echo;
//!
//! impl Adapter for Echo {
//!     fn describe() -> AdapterInfo {
//!         AdapterInfo {
//!             name: "echo".into(),
//!             version: env!("CARGO_PKG_VERSION").into(),
//!             description: "Answers with the prompt".into(),
//!             default_base_url: "http://127.0.0.1:8080".into(),
//!             extra_hosts: vec![],
//!             auth: AuthScheme::None,
//!         }
//!     }
//! }
//!
//! aratta_guest::export_adapter!(Echo);
//! ```

#![deny(missing_docs)]

mod adapter;
#[doc(hidden)]
pub mod bindings;
pub mod error;
mod events;
mod export;
mod fallbacks;
pub mod http;
pub mod json;
pub mod sse;
pub mod status;

pub use adapter::Adapter;
pub use events::{BoxEventStream, EventStream, VecEventStream, peek_stream};
pub use fallbacks::Fallbacks;

pub use bindings::aratta::scri::chat::{
    Base64Image, ChatRequest, ChatResponse, ContentBlock, FinishReason, Image, ImageSource, Json,
    JsonSchemaFormat, Message, MessageContent, Reasoning, ReasoningDelta, ReasoningOptions,
    ResponseFormat, Role, Sampling, StreamEvent, StreamStart, Tool, ToolCall, ToolCallDelta,
    ToolCallStart, ToolChoice, ToolResult, ToolResultPart, Usage,
};
pub use bindings::aratta::scri::embeddings::{EmbeddingRequest, EmbeddingResponse};
pub use bindings::aratta::scri::errors::{
    AdapterError, ErrorDetail, MismatchKind, RateLimit, SchemaMismatch,
};
pub use bindings::aratta::scri::models::{ModelCapabilities, ModelInfo};
pub use bindings::exports::aratta::scri::provider::{
    AdapterInfo, AuthScheme, CallContext, HealthReport,
};

/// Glue used by [`export_adapter!`]; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::export::{Glue, GlueEvents};
}
