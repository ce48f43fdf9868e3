//! The conformance matrix: one set of end-to-end cases every adapter runs through the real
//! gateway, against a mock upstream replaying that provider's recorded wire fixtures
//! (`aratta_tests::conformance`). One `#[test]` per adapter; each prints its column, and the
//! last one to finish prints the whole matrix (cases × adapters) to the real stdout.
//!
//! Every upstream request is checked whole: route, auth, provider headers, and a body equal to
//! the provider's expected body for that case (`tests/fixtures/<provider>/requests/`).
//!
//! | module | cases |
//! | --- | --- |
//! | `ctx` | the gateway + mock of one adapter, and the helpers cases share |
//! | `chat` | plain, system, multi-turn, image, tools, tool results, parallel calls, reasoning, usage, JSON |
//! | `streams` | streamed text and tool calls, a truncated stream, an error event mid-stream |
//! | `failures` | each error class, drift (unknown and renamed fields), content filters, blocked prompts |
//! | `listing` | embeddings and models |
//! | `openai_route` | the OpenAI-compatible route: text, streamed tools, usage, reasoning round trip, native tools |
//! | `responses` | the OpenAI Responses API path of the `openai` and `xai` adapters |
//! | `matrix` | declarations, outcomes, and the printed matrix |
//!
//! Run: `cargo test --release --test conformance`.

use std::future::Future;
use std::pin::Pin;

macro_rules! case {
    ($name:ident, |$c:ident| $body:block) => {
        pub fn $name<'a>($c: &'a crate::ctx::Ctx) -> crate::Fut<'a> {
            Box::pin(async move { $body })
        }
    };
}

#[path = "conformance/chat.rs"]
mod chat;
#[path = "conformance/ctx.rs"]
mod ctx;
#[path = "conformance/failures.rs"]
mod failures;
#[path = "conformance/listing.rs"]
mod listing;
#[path = "conformance/matrix.rs"]
mod matrix;
#[path = "conformance/openai_route.rs"]
mod openai_route;
#[path = "conformance/responses.rs"]
mod responses;
#[path = "conformance/streams.rs"]
mod streams;

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
];

#[tokio::test]
async fn local() {
    matrix::run("local").await;
}

#[tokio::test]
async fn openai() {
    matrix::run("openai").await;
}

#[tokio::test]
async fn xai() {
    matrix::run("xai").await;
}

#[tokio::test]
async fn anthropic() {
    matrix::run("anthropic").await;
}

#[tokio::test]
async fn google() {
    matrix::run("google").await;
}

/// The JavaScript example adapter (`examples/adapters/js`), built from source as `local` so it
/// replaces the built-in and answers local's cases against the same fixtures and declarations.
#[tokio::test]
async fn js() {
    let wasm = tokio::task::spawn_blocking(|| aratta_tests::npm::js_example("local"))
        .await
        .unwrap();
    matrix::run_column("js", "local", Some(&wasm)).await;
}
