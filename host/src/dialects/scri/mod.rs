//! SCRI itself as a dialect: Aratta's own API under `/api/v1`. Requests parse straight into the
//! SCRI types ([`chat_request`], [`embed_request`]); answers are those types as JSON, stream
//! events are named by their type, and every error is `{"error": {...}}` ([`Failure`]), the
//! same outer shape as OpenAI's, which the rest of the `/api/v1` routes answer in too.

mod error;
mod request;
pub mod routes;

pub use error::{Failure, bad_request, error_response, parse_json};
pub use request::{chat_request, embed_request};
