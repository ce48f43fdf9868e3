//! The OpenAI Chat Completions dialect: pure translation between OpenAI's wire format and
//! SCRI's JSON types, so the official OpenAI SDKs work unchanged with `base_url` pointed at
//! Aratta. The translation is pure (no I/O); [`routes`] serves it.
//!
//! | OpenAI                         | here                                         |
//! |--------------------------------|----------------------------------------------|
//! | `POST /v1/chat/completions`    | [`chat_request`] → SCRI; [`chat_completion`] or [`ChunkEncoder`] back |
//! | `POST /v1/embeddings`          | [`embeddings_request`] / [`embeddings_response`] |
//! | `GET /v1/models`               | [`models`]                                   |
//! | any error                      | [`error_body`]; bad requests are [`RequestError`](super::RequestError) |
//!
//! Reasoning, which OpenAI's chat API does not return, travels as `reasoning_content` and
//! OpenRouter-style `reasoning_details` (see `reasoning.rs`).

mod content;
mod embeddings;
mod error;
mod messages;
mod models;
mod reasoning;
mod request;
mod response;
pub mod routes;
mod stream;
#[cfg(test)]
mod tests;

pub use embeddings::{EncodingFormat, embeddings_request, embeddings_response};
pub use error::error_body;
pub use models::models;
pub use request::{OpenAiChat, chat_request};
pub use response::{Completion, chat_completion, completion};
pub use stream::ChunkEncoder;
