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
//! | `cases` | the list of cases, in the order the matrix prints them |
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

#[macro_use]
#[path = "conformance/cases.rs"]
mod cases;
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

pub use cases::{CASES, Case, Fut};

#[tokio::test]
async fn local() {
    matrix::run("local", None).await;
}

#[tokio::test]
async fn openai() {
    matrix::run("openai", None).await;
}

#[tokio::test]
async fn xai() {
    matrix::run("xai", None).await;
}

#[tokio::test]
async fn anthropic() {
    matrix::run("anthropic", None).await;
}

#[tokio::test]
async fn google() {
    matrix::run("google", None).await;
}

/// The JavaScript example adapter (`examples/adapters/js`), built from source as `local` so it
/// replaces the built-in and answers local's cases against the same fixtures and declarations.
#[tokio::test]
async fn js() {
    let wasm = tokio::task::spawn_blocking(|| aratta_tests::npm::js_example("local"))
        .await
        .unwrap();
    matrix::run("local", Some(&wasm)).await;
}
