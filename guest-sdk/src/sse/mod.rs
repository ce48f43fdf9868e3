//! Server-Sent Events, the framing every streaming LLM API uses: [`SseParser`] cuts a
//! `text/event-stream` body into [`SseEvent`]s, and [`SseStream`] turns a live body into SCRI
//! stream events through a provider's [`Decoder`], so an adapter writes only the decoder.

mod parser;
mod stream;

pub use parser::{SseEvent, SseParser};
pub use stream::{Decoder, SseStream};
