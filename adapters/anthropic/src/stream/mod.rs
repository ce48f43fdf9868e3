//! Streamed Messages (`"stream": true`) as SCRI stream events.
//!
//! Anthropic streams `message_start`, then per content block `content_block_start`, deltas and
//! `content_block_stop`, then `message_delta` (stop reason, cumulative usage) and
//! `message_stop`; `ping` and event types added later may come anywhere and are skipped.
//! [`StreamDecoder`] maps them for the SDK's [`SseStream`](aratta_guest::sse::SseStream):
//!
//! | Anthropic | SCRI |
//! | --- | --- |
//! | `message_start` | `start`; its usage is emitted just before the first content event |
//! | `text_delta` (and text in a block start) | `text-delta` |
//! | `thinking_delta` / `signature_delta` | `reasoning-delta` with text / with signature |
//! | `redacted_thinking` block | `reasoning-delta` with `redacted` |
//! | `tool_use` block start / `input_json_delta` | `tool-call-start` / `tool-call-delta`, indexed among tool calls |
//! | `message_delta` | `usage` with the start's totals updated by the delta's |
//! | `message_stop` | `stop` |
//! | `error` | `error` (`overloaded_error` → `overloaded`, ...) |
//!
//! The start's usage waits for content so that an `error` right after `message_start` is still
//! the first thing after `start`, where `peek_stream` can return it for fallback. A body that
//! ends without `message_stop` is an `error` (truncated), never a silent success.

mod decoder;

pub use decoder::StreamDecoder;
