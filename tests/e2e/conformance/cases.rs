//! The conformance cases, in the order the matrix prints them, and the `case!` macro that
//! declares one. Shared by the `conformance` target (every built-in adapter) and the
//! `python_adapter` target (the Python example adapter in the `local` column); each root
//! declares this module first, with `#[macro_use]`, then the case modules.

use std::future::Future;
use std::pin::Pin;

use crate::{chat, ctx, failures, listing, openai_route, responses, streams};

macro_rules! case {
    ($name:ident, |$c:ident| $body:block) => {
        pub fn $name<'a>($c: &'a crate::ctx::Ctx) -> crate::Fut<'a> {
            Box::pin(async move { $body })
        }
    };
}

/// A case's future, borrowing its adapter's context.
pub type Fut<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;
/// One case of the matrix.
pub type Case = for<'a> fn(&'a ctx::Ctx) -> Fut<'a>;

/// Every case, in the order the matrix prints them.
pub const CASES: &[(&str, Case)] = &[
    ("plain", chat::plain),
    ("system", chat::system),
    ("multi-turn", chat::multi_turn),
    ("image", chat::image),
    ("tools", chat::tools),
    ("tool-result", chat::tool_result),
    ("parallel-tools", chat::parallel),
    ("stream-text", streams::stream_text),
    ("stream-tools", streams::stream_tools),
    ("reasoning-signature", chat::reasoning_signature),
    ("usage", chat::usage),
    ("json-schema", chat::json_schema),
    ("embeddings", listing::embeddings),
    ("models", listing::models),
    ("error-429", failures::error_429),
    ("error-401", failures::error_401),
    ("error-400", failures::error_400),
    ("error-500", failures::error_500),
    ("error-503", failures::error_503),
    ("truncated-stream", streams::truncated),
    ("midstream-error", streams::midstream_error),
    ("unknown-field", failures::unknown_field),
    ("renamed-field", failures::renamed_field),
    ("content-filter", failures::content_filter),
    ("malformed-call", failures::malformed_call),
    ("blocked-prompt", failures::blocked_prompt),
    ("responses-search", responses::search),
    ("responses-stream", responses::stream),
    ("openai-route-plain", openai_route::plain),
    ("openai-route-stream-tools", openai_route::stream_tools),
    ("openai-route-usage", openai_route::usage),
    ("openai-route-reasoning", openai_route::reasoning),
    ("openai-route-native-tools", openai_route::native_tools),
    ("openai-route-call-signature", openai_route::call_signature),
];
