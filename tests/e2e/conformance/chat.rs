//! Non-streamed SCRI chat cases: what each provider must receive, and what comes back.

use aratta_tests::conformance::{Wire, checks};
use serde_json::{Value, json};

use crate::ctx::{blocks, text_of, user, with_tools};

case!(plain, |c| {
    let body = c.chat_ok("plain", json!({"messages": [user("hi")]})).await;
    assert_eq!(text_of(&body), c.expect.text, "{body}");
    assert_eq!(body["finish_reason"], "stop", "{body}");
});

case!(system, |c| {
    let messages = json!([{"role": "system", "content": checks::SYSTEM}, user("hi")]);
    c.chat_ok("system", json!({"messages": messages})).await;
});

case!(multi_turn, |c| {
    let messages = json!([user("hi"), {"role": "assistant", "content": "Hello."}, user("again")]);
    c.chat_ok("multi", json!({"messages": messages})).await;
});

case!(image, |c| {
    let content = json!([
        {"type": "text", "text": "What is this?"},
        {"type": "image", "source": {"type": "url", "url": checks::IMAGE_URL}}
    ]);
    let messages = json!([{"role": "user", "content": content}]);
    c.chat_ok("image", json!({"messages": messages})).await;
});

case!(tools, |c| {
    let body = c
        .chat_ok("tools", with_tools(json!([user("Weather?")])))
        .await;
    let calls = blocks(&body, "tool_use");
    assert!(!calls.is_empty(), "{body}");
    assert_eq!(calls[0]["name"], c.expect.tool, "{body}");
    assert_eq!(calls[0]["arguments"], (c.expect.tool_args)(), "{body}");
    assert!(
        calls[0]["id"].as_str().is_some_and(|s| !s.is_empty()),
        "{body}"
    );
    assert_eq!(body["finish_reason"], "tool_calls", "{body}");
});

case!(tool_result, |c| {
    let messages = json!([
        user("Weather in Paris?"),
        {"role": "assistant", "content": [{"type": "tool_use", "id": checks::CALL_ID,
            "name": "get_weather", "arguments": {"location": "Paris"}}]},
        {"role": "tool", "content": [{"type": "tool_result", "tool_call_id": checks::CALL_ID,
            "content": "18 C, clear"}]}
    ]);
    let body = c.chat_ok("tool-result", with_tools(messages)).await;
    assert!(!text_of(&body).is_empty(), "{body}");
});

case!(parallel, |c| {
    let body = c
        .chat_ok("parallel", with_tools(json!([user("Weather?")])))
        .await;
    let calls = blocks(&body, "tool_use");
    assert_eq!(calls.len(), 2, "{body}");
    assert_ne!(calls[0]["id"], calls[1]["id"], "{body}");
    assert_eq!(body["finish_reason"], "tool_calls", "{body}");
});

/// The signatures of a SCRI answer's reasoning and tool-use blocks, sorted.
fn signatures(answer: &Value) -> Vec<String> {
    let mut all: Vec<String> = blocks(answer, "reasoning")
        .iter()
        .chain(blocks(answer, "tool_use").iter())
        .filter_map(|b| b["signature"].as_str().map(str::to_string))
        .filter(|s| !s.is_empty())
        .collect();
    all.sort();
    all
}

case!(reasoning_signature, |c| {
    // Reasoning stays on for the whole tool loop: Anthropic rejects a turn that toggles it.
    let reasoning = json!({"budget_tokens": 2048, "include_reasoning": true});
    let request = json!({"messages": [user("Weather in Paris?")], "tools": [checks::weather_tool()],
        "reasoning": reasoning});
    let first = c.chat_ok("reasoning", request).await;
    let signatures = signatures(&first);
    assert!(!signatures.is_empty(), "no signature came back: {first}");
    let mut messages = vec![
        user("Weather in Paris?"),
        json!({"role": "assistant", "content": first["content"]}),
    ];
    for call in blocks(&first, "tool_use") {
        messages.push(json!({"role": "tool", "content": [{"type": "tool_result",
            "tool_call_id": call["id"], "name": call["name"], "content": "18 C"}]}));
    }
    if blocks(&first, "tool_use").is_empty() {
        // A conversation goes on with the user's turn.
        messages.push(user("And in Lyon?"));
    }
    let second =
        json!({"messages": messages, "tools": [checks::weather_tool()], "reasoning": reasoning});
    c.chat_ok("reasoning-2", second).await;
    let sent = c.mock.checked("reasoning-2");
    let sent_text = String::from_utf8_lossy(&sent.request.body).to_string();
    for signature in &signatures {
        assert!(
            sent_text.contains(signature.as_str()),
            "signature {signature} not sent back: {sent_text}"
        );
    }
    let body = sent.request.json_body();
    match c.spec.wire {
        Wire::Anthropic => {
            let thinking = &body["messages"][1]["content"][0];
            assert_eq!(thinking["type"], "thinking", "{thinking}");
            assert_eq!(thinking["signature"], signatures[0].as_str(), "{thinking}");
        }
        Wire::OpenAi => {
            // The Responses API: the reasoning item goes back whole, encrypted content included.
            assert_eq!(sent.request.path, "/v1/responses", "{body}");
            let item = &body["input"][1];
            assert_eq!(item["type"], "reasoning", "{body}");
            let redacted = blocks(&first, "reasoning")[0]["redacted"].clone();
            assert_eq!(item["encrypted_content"], redacted, "{body}");
        }
        Wire::Google => {}
    }
});

case!(usage, |c| {
    let body = c.chat_ok("usage", json!({"messages": [user("hi")]})).await;
    assert_eq!(
        body["usage"]["cache_read_tokens"], c.expect.cached,
        "{body}"
    );
    assert!(
        body["usage"]["input_tokens"].as_u64() >= Some(c.expect.cached),
        "{body}"
    );
    if let Some(reasoning) = c.expect.reasoning {
        let body = c
            .chat_ok("usage-r", json!({"messages": [user("hi")]}))
            .await;
        assert_eq!(body["usage"]["reasoning_tokens"], reasoning, "{body}");
        assert!(
            body["usage"]["output_tokens"].as_u64() >= Some(reasoning),
            "{body}"
        );
    }
});

case!(json_schema, |c| {
    let request = json!({"messages": [user("Answer in JSON")], "response_format":
        {"type": "json_schema", "name": "answer", "schema": checks::answer_schema()}});
    let body = c.chat_ok("json", request).await;
    assert!(!text_of(&body).is_empty(), "{body}");
});
