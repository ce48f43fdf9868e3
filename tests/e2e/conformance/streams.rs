//! Streamed cases: text and tool calls, and the two ways a stream can fail after it started (cut
//! short, or an error event from the provider). A failed stream must end as an error, never as a
//! complete answer, on the SCRI route and on the OpenAI route alike.

use aratta_tests::expect::{self, Answer};
use aratta_tests::sse::{self, SseRead};
use serde_json::json;

use crate::ctx::{Ctx, STREAM_DEADLINE, assert_calls, kinds, scri_stream_calls, user, with_tools};

case!(stream_text, |c| {
    let read = c
        .stream(
            "/api/v1/chat",
            "stream-text",
            json!({"messages": [user("hi")]}),
        )
        .await;
    let kinds = kinds(&read);
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("start"),
        "{}",
        read.raw
    );
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("stop"),
        "{}",
        read.raw
    );
    assert!(
        kinds.iter().any(|k| k == "usage"),
        "no usage event: {}",
        read.raw
    );
    let text: String = read
        .of_type("text_delta")
        .iter()
        .filter_map(|e| e["text"].as_str().map(str::to_string))
        .collect();
    assert!(!text.is_empty(), "{}", read.raw);
    c.sent("stream-text");
});

case!(stream_tools, |c| {
    let read = c
        .stream(
            "/api/v1/chat",
            "stream-tools",
            with_tools(json!([user("Weather?")])),
        )
        .await;
    assert_calls(&scri_stream_calls(&read), &c.expect, &read.raw);
    let stop = read
        .of_type("stop")
        .pop()
        .unwrap_or_else(|| panic!("no stop: {}", read.raw));
    assert_eq!(stop["finish_reason"], "tool_calls", "{}", read.raw);
    c.sent("stream-tools");
});

/// A SCRI stream that started, then failed: some text, an `error` event last, no `stop`.
fn assert_failed_scri(read: &SseRead) {
    let kinds = kinds(read);
    assert!(
        !kinds.iter().any(|k| k == "stop"),
        "a failed stream ended with stop: {}",
        read.raw
    );
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("error"),
        "{}",
        read.raw
    );
    let error = read.of_type("error").pop().expect("the error event");
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "an error event without a message: {error}"
    );
}

/// An OpenAI-route stream that failed: no `[DONE]`, no finish reason, an error chunk last.
fn assert_failed_openai(read: &SseRead) {
    assert!(
        !read.events.iter().any(sse::SseEvent::is_done),
        "[DONE] on a failed stream: {}",
        read.raw
    );
    let chunks = read.json_events();
    assert!(
        chunks
            .iter()
            .all(|ch| ch["choices"][0]["finish_reason"].is_null()),
        "{}",
        read.raw
    );
    assert!(
        chunks
            .last()
            .is_some_and(|l| l["error"]["message"].is_string()),
        "{}",
        read.raw
    );
}

/// Streams `case` on both routes and checks each ends as a failure. A provider that fails
/// before the first event may answer with an error status instead.
async fn failed_stream(c: &Ctx, case: &str) -> Option<SseRead> {
    let mut body = json!({"messages": [user("hi")], "model": c.model(case), "stream": true});
    let response = c.gateway.post_json("/api/v1/chat", &body).await;
    let scri = if response.status() == 200 {
        let read = sse::read(response, STREAM_DEADLINE).await;
        assert_failed_scri(&read);
        Some(read)
    } else {
        expect::error_answer(&Answer::read(response).await, 5);
        None
    };
    c.sent(case);
    let oai = format!("oai-{case}");
    body["model"] = json!(c.model(&oai));
    let response = c.gateway.post_json("/v1/chat/completions", &body).await;
    if response.status() == 200 {
        assert_failed_openai(&sse::read(response, STREAM_DEADLINE).await);
    } else {
        expect::error_answer(&Answer::read(response).await, 5);
    }
    c.sent(&oai);
    scri
}

case!(truncated, |c| {
    failed_stream(c, "truncated").await;
});

case!(midstream_error, |c| {
    let read = failed_stream(c, "midstream")
        .await
        .expect("the recorded stream has content before its error: the stream must start");
    let text: String = read
        .of_type("text_delta")
        .iter()
        .filter_map(|e| e["text"].as_str().map(str::to_string))
        .collect();
    assert!(
        !text.is_empty(),
        "the text before the error was lost: {}",
        read.raw
    );
});
