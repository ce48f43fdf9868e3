//! What goes wrong: each error class a provider answers with, drift in its answers (an unknown
//! field is tolerated, a renamed required one is `schema-mismatch`), and the provider's own
//! verdicts that are answers, not errors (a content filter, a blocked prompt, a malformed call).

use aratta_tests::conformance::checks;
use aratta_tests::expect::{self, Answer};
use serde_json::{Value, json};

use crate::ctx::{Ctx, blocks, kinds, text_of, user, with_tools};

async fn error_case(c: &Ctx, case: &str) -> Answer {
    let answer = c.chat(case, json!({"messages": [user("hi")]})).await;
    c.sent(case);
    expect::error_message(&answer.json());
    answer
}

fn error_type(answer: &Answer) -> Value {
    answer.json()["error"]["type"].clone()
}

case!(error_429, |c| {
    let answer = error_case(c, "e429").await;
    answer.assert_status(429);
    assert_eq!(error_type(&answer), "rate_limit_error", "{}", answer.text);
    let retry = answer
        .header("retry-after")
        .and_then(|v| v.parse::<u64>().ok());
    assert!(
        retry.is_some_and(|r| r > 0),
        "Retry-After: {:?}",
        answer.header("retry-after")
    );
});

case!(error_401, |c| {
    let answer = error_case(c, "e401").await;
    assert!(answer.status.as_u16() >= 400, "{}", answer.text);
    assert_eq!(
        error_type(&answer),
        "authentication_error",
        "{}",
        answer.text
    );
});

case!(error_400, |c| {
    let answer = error_case(c, "e400").await;
    answer.assert_status(400);
    assert_eq!(
        error_type(&answer),
        "invalid_request_error",
        "{}",
        answer.text
    );
    let request = json!({"model": "fallback-e400", "messages": [user("hi")]});
    let answer = Answer::read(c.gateway.post_json("/api/v1/chat", &request).await).await;
    answer.assert_status(400);
    assert!(
        c.mock.for_case("fallback-target").is_empty(),
        "a 400 fell back to the next target"
    );
});

case!(error_500, |c| {
    let answer = error_case(c, "e500").await;
    expect::error_answer(&answer, 5);
});

case!(error_503, |c| {
    let answer = error_case(c, "e503").await;
    expect::error_answer(&answer, 5);
    assert_eq!(error_type(&answer), "overloaded_error", "{}", answer.text);
});

case!(unknown_field, |c| {
    let body = c
        .chat_ok("unknown", json!({"messages": [user("hi")]}))
        .await;
    assert!(
        !text_of(&body).is_empty() || !blocks(&body, "tool_use").is_empty(),
        "{body}"
    );
});

case!(renamed_field, |c| {
    let answer = error_case(c, "renamed").await;
    answer.assert_status(502);
    assert_eq!(
        error_type(&answer),
        "schema_mismatch_error",
        "{}",
        answer.text
    );
});

/// The OpenAI route's answer for `case`: 200, one choice, and its `finish_reason`.
async fn openai_finish(c: &Ctx, case: &str, body: Value) -> (Value, Value) {
    let answer = c.openai_chat(case, body).await;
    answer.assert_status(200);
    let body = answer.json();
    let choice = expect::chat_completion(&body).clone();
    c.sent(case);
    (choice["finish_reason"].clone(), choice)
}

case!(content_filter, |c| {
    // The provider's safety verdict is an answer finished by `content_filter`, on both routes.
    let read = c
        .stream(
            "/api/v1/chat",
            "filtered-stream",
            json!({"messages": [user("hi")]}),
        )
        .await;
    let stop = read
        .of_type("stop")
        .pop()
        .unwrap_or_else(|| panic!("no stop: {}", read.raw));
    assert_eq!(stop["finish_reason"], "content_filter", "{}", read.raw);
    c.sent("filtered-stream");
    let body = c
        .chat_ok("filtered", json!({"messages": [user("hi")]}))
        .await;
    assert_eq!(body["finish_reason"], "content_filter", "{body}");
    let (finish, _) = openai_finish(c, "oai-filtered", json!({"messages": [user("hi")]})).await;
    assert_eq!(finish, "content_filter");
});

case!(malformed_call, |c| {
    // Gemini could not parse the call it wrote: no content, the raw reason kept.
    let request = with_tools(json!([user("Weather?")]));
    let body = c.chat_ok("malformed", request.clone()).await;
    assert_eq!(body["finish_reason"], "unknown", "{body}");
    assert_eq!(
        body["finish_reason_raw"], "MALFORMED_FUNCTION_CALL",
        "{body}"
    );
    assert!(blocks(&body, "tool_use").is_empty(), "{body}");
    let tools = json!([{"type": "function", "function": checks::weather_tool()}]);
    let request = json!({"messages": [user("Weather?")], "tools": tools});
    let (finish, choice) = openai_finish(c, "oai-malformed", request).await;
    assert_eq!(finish, "stop", "{choice}");
    assert_eq!(
        choice["native_finish_reason"], "MALFORMED_FUNCTION_CALL",
        "{choice}"
    );
});

case!(blocked_prompt, |c| {
    // A blocked prompt is the provider's verdict: no content, `content_filter`, usage kept.
    let body = c
        .chat_ok("blocked", json!({"messages": [user("hi")]}))
        .await;
    assert_eq!(body["finish_reason"], "content_filter", "{body}");
    assert!(text_of(&body).is_empty(), "{body}");
    assert!(body["usage"]["input_tokens"].as_u64() > Some(0), "{body}");
    let read = c
        .stream(
            "/api/v1/chat",
            "blocked-stream",
            json!({"messages": [user("hi")]}),
        )
        .await;
    assert_eq!(kinds(&read), ["start", "usage", "stop"], "{}", read.raw);
    let stop = read.of_type("stop").pop().expect("stop");
    assert_eq!(stop["finish_reason"], "content_filter", "{}", read.raw);
    c.sent("blocked-stream");
});
