//! The Anthropic Messages API dialect: pure translation between Anthropic's wire format and
//! SCRI, so the official Anthropic SDKs work unchanged with `base_url` pointed at Aratta and
//! reach any provider (`local:...`, `openai:...`, `google:...`, an alias). The translation is
//! pure (no I/O); [`routes`] serves it.
//!
//! | Anthropic                      | here                                                  |
//! |--------------------------------|-------------------------------------------------------|
//! | `POST /v1/messages`            | [`messages_request`] → SCRI; [`message`] or [`EventEncoder`] back |
//! | `GET /v1/models[/{id}]` (with `anthropic-version`) | [`models_page`], [`model`]          |
//! | any error                      | [`error_body`] / [`error_type`]; bad requests are [`RequestError`](super::RequestError) |
//!
//! What does not cross: `cache_control` hints are ignored (they steer Anthropic's cache only);
//! server tools, documents, citations, containers and MCP servers are refused with a 400 that
//! names the field, since no SCRI provider could honour them. A reasoning signature's
//! provider `format` has no place in Anthropic's blocks, so thinking sent back by a client
//! reaches SCRI without one. `POST /v1/messages/count_tokens` is not served: SCRI has no
//! token-counting call, and an estimate would not be an honest count.

mod content;
mod error;
mod models;
mod request;
mod response;
pub mod routes;
mod stream;
#[cfg(test)]
mod tests;

pub use error::{error_body, error_type};
pub use models::{ModelsQuery, model, models_page};
pub use request::messages_request;
pub use response::{MessageBody, message, message_body, stop_reason};
pub use stream::EventEncoder;
