//! The OpenAI-compatible route (`/v1/chat/completions`) over every adapter: an OpenAI SDK client
//! gets text, streamed tool calls and usage in OpenAI's format; reasoning comes back in
//! `reasoning_content` / `reasoning_details` and, sent back on the next turn, reaches the
//! provider with its signatures unchanged; a Gemini call's signature comes back on the call
//! itself (`extra_content`) and survives a turn rebuilt from `tool_calls` alone;
//! provider-native tools (`web_search`, ...) reach it too.

use aratta_tests::conformance::{self, Wire, checks};
use aratta_tests::expect::{self, Answer};
use aratta_tests::sse;
use serde_json::{Value, json};

use crate::ctx::{Calls, assert_calls, user};

case!(plain, |c| {
    let request = json!({"model": c.model("oai-plain"), "messages": [user("hi")]});
    let answer = Answer::read(c.gateway.post_json("/v1/chat/completions", &request).await).await;
    answer.assert_status(200);
    let body = answer.json();
    let choice = expect::chat_completion(&body);
    assert_eq!(choice["message"]["content"], c.expect.text, "{body}");
    assert_eq!(
        expect::lineage_headers(&answer.headers).adapter,
        c.spec.adapter
    );
    c.sent("oai-plain");
});

case!(stream_tools, |c| {
    let request = json!({"messages": [user("Weather?")], "stream_options": {"include_usage": true},
        "tools": [{"type": "function", "function": checks::weather_tool()}]});
    let read = c
        .stream("/v1/chat/completions", "oai-stream-tools", request)
        .await;
    assert!(
        read.events.last().is_some_and(sse::SseEvent::is_done),
        "no [DONE]: {}",
        read.raw
    );
    let mut calls = Calls::new();
    let mut finish = None;
    let mut usage = None;
    for chunk in read.json_events() {
        expect::chat_chunk(&chunk);
        if chunk["usage"].is_object() {
            usage = Some(chunk["usage"].clone());
        }
        let Some(choice) = chunk["choices"].get(0) else {
            continue;
        };
        if let Some(f) = choice["finish_reason"].as_str() {
            finish = Some(f.to_string());
        }
        for call in choice["delta"]["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let entry = calls
                .entry(call["index"].as_u64().expect("tool_calls[].index"))
                .or_default();
            if let Some(id) = call["id"].as_str() {
                entry.0 = id.to_string();
            }
            if let Some(name) = call["function"]["name"].as_str() {
                entry.1 = name.to_string();
            }
            entry
                .2
                .push_str(call["function"]["arguments"].as_str().unwrap_or_default());
        }
    }
    assert_calls(&calls, &c.expect, &read.raw);
    assert_eq!(finish.as_deref(), Some("tool_calls"), "{}", read.raw);
    expect::usage(&usage.unwrap_or_else(|| panic!("no usage chunk: {}", read.raw)));
    c.sent("oai-stream-tools");
});

case!(usage, |c| {
    let request = json!({"model": c.model("oai-usage"), "messages": [user("hi")]});
    let body = Answer::read(c.gateway.post_json("/v1/chat/completions", &request).await)
        .await
        .assert_status(200)
        .json();
    expect::usage(&body["usage"]);
    assert_eq!(
        body["usage"]["prompt_tokens_details"]["cached_tokens"], c.expect.cached,
        "{body}"
    );
    if let Some(reasoning) = c.expect.reasoning {
        let request = json!({"model": c.model("oai-usage-r"), "messages": [user("hi")]});
        let body = Answer::read(c.gateway.post_json("/v1/chat/completions", &request).await)
            .await
            .assert_status(200)
            .json();
        assert_eq!(
            body["usage"]["completion_tokens_details"]["reasoning_tokens"], reasoning,
            "{body}"
        );
    }
    c.sent("oai-usage");
});

/// Every signature and encrypted datum in a `reasoning_details` array.
fn opaque_values(details: &[Value]) -> Vec<String> {
    details
        .iter()
        .flat_map(|d| [&d["signature"], &d["data"]])
        .filter_map(|v| v.as_str().map(str::to_string))
        .filter(|s| !s.is_empty())
        .collect()
}

case!(reasoning, |c| {
    let tools = json!([{"type": "function", "function": checks::weather_tool()}]);
    // Reasoning stays on for the whole tool loop: Anthropic rejects a turn that toggles it.
    let options = json!({"max_tokens": 2048, "exclude": false});
    let request = json!({"messages": [user("Weather in Paris?")], "tools": tools,
        "reasoning": options});
    let answer = c.openai_chat("oai-reasoning", request).await;
    answer.assert_status(200);
    let body = answer.json();
    let message = expect::chat_completion(&body)["message"].clone();
    assert!(
        message["reasoning_content"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "no reasoning_content: {body}"
    );
    let details = message["reasoning_details"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("no reasoning_details: {body}"));
    let opaque = opaque_values(&details);
    assert!(
        !opaque.is_empty(),
        "no signature in reasoning_details: {body}"
    );
    c.sent("oai-reasoning");

    // The next turn, as an OpenAI SDK client writes it: the assistant message sent back as it
    // came (reasoning_details included), then the tool results.
    let mut messages = vec![
        user("Weather in Paris?"),
        json!({"role": "assistant", "content": message["content"],
               "tool_calls": message["tool_calls"], "reasoning_details": details}),
    ];
    let calls = message["tool_calls"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for call in &calls {
        messages.push(json!({"role": "tool", "tool_call_id": call["id"], "content": "18 C"}));
    }
    if calls.is_empty() {
        // A conversation goes on with the user's turn.
        messages.push(user("And in Lyon?"));
    }
    let answer = c
        .openai_chat(
            "oai-reasoning-2",
            json!({"messages": messages, "tools": tools, "reasoning": options}),
        )
        .await;
    answer.assert_status(200);
    let sent = c.sent("oai-reasoning-2");
    let sent_text = String::from_utf8_lossy(&sent.request.body).to_string();
    for value in &opaque {
        assert!(
            sent_text.contains(value.as_str()),
            "{value} did not reach the provider unchanged: {sent_text}"
        );
    }
    if c.spec.wire == Wire::Anthropic {
        let thinking = &sent.request.json_body()["messages"][1]["content"][0];
        assert_eq!(thinking["type"], "thinking", "{thinking}");
        assert_eq!(thinking["signature"], details[0]["signature"], "{thinking}");
        assert_eq!(thinking["thinking"], details[0]["text"], "{thinking}");
    }
});

/// A provider-native tool an OpenAI SDK client may declare next to its functions.
fn native_tool(adapter: &str) -> Value {
    match adapter {
        "anthropic" => json!({"type": "web_search_20250305", "name": "web_search", "max_uses": 3}),
        "xai" => json!({"type": "x_search", "allowed_x_handles": ["xai"]}),
        _ => json!({"type": "web_search"}),
    }
}

case!(native_tools, |c| {
    let native = native_tool(c.spec.adapter);
    let request = json!({"messages": [user("What happened today?")],
        "tools": [{"type": "function", "function": checks::weather_tool()}, native]});
    let answer = c.openai_chat("oai-search", request).await;
    answer.assert_status(200);
    let body = answer.json();
    let message = &expect::chat_completion(&body)["message"];
    assert!(
        message["content"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    let sent = c.sent("oai-search");
    let tools = sent.request.json_body()["tools"].clone();
    let tools = tools.as_array().cloned().unwrap_or_default();
    assert_eq!(
        tools.len(),
        2,
        "the function and the native tool: {tools:?}"
    );
    assert_eq!(tools[1], native, "the native tool is sent verbatim");
    if c.spec.wire == Wire::OpenAi {
        assert_eq!(
            sent.request.path, "/v1/responses",
            "server-side tools need the Responses API"
        );
    }
});

/// The assistant turn as most agent code writes it back after a tool call: rebuilt from the
/// `tool_calls` alone (each call as the SDK gave it, `extra_content` included), without the
/// message's `reasoning_details`; then one result per call.
fn rebuilt_from_tool_calls(question: &str, calls: &[Value]) -> Vec<Value> {
    let mut messages = vec![
        user(question),
        json!({"role": "assistant", "content": null, "tool_calls": calls}),
    ];
    for call in calls {
        messages.push(json!({"role": "tool", "tool_call_id": call["id"], "content": "18 C"}));
    }
    messages
}

/// The `thoughtSignature` of each `functionCall` part of the model turn Gemini was sent.
fn sent_call_signatures(sent: &Value) -> Vec<Option<String>> {
    sent["contents"][1]["parts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p.get("functionCall").is_some())
        .map(|p| p["thoughtSignature"].as_str().map(str::to_string))
        .collect()
}

/// The signature on the first `functionCall` part of a recorded Gemini answer.
fn fixture_signature(value: &Value) -> String {
    value["candidates"][0]["content"]["parts"][0]["thoughtSignature"]
        .as_str()
        .unwrap_or_else(|| panic!("the fixture's first part is unsigned: {value}"))
        .to_string()
}

case!(call_signature, |c| {
    let tools = json!([{"type": "function", "function": checks::weather_tool()}]);
    let question = "Weather in Paris?";

    // Answered whole: each signed call carries its signature where Google's own
    // OpenAI-compatible endpoint puts it.
    let expected = fixture_signature(&conformance::fixture_json("google", "function_call.json"));
    let request = json!({"messages": [user(question)], "tools": tools});
    let answer = c.openai_chat("oai-call-sig", request).await;
    answer.assert_status(200);
    let body = answer.json();
    let message = &expect::chat_completion(&body)["message"];
    let calls = message["tool_calls"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        calls[0]["extra_content"],
        json!({"google": {"thought_signature": expected}}),
        "{body}"
    );
    c.sent("oai-call-sig");
    let next = json!({"messages": rebuilt_from_tool_calls(question, &calls), "tools": tools});
    c.openai_chat("oai-call-sig-next", next)
        .await
        .assert_status(200);
    let sent = c.sent("oai-call-sig-next").request.json_body().clone();
    assert_eq!(
        sent_call_signatures(&sent),
        [Some(expected)],
        "the call's own signature, not the placeholder: {sent}"
    );

    // Streamed: the signature rides on the delta that opens the call, next to its id.
    let first = conformance::fixture("google", "stream_function_calls.sse");
    let first = first
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap();
    let expected = fixture_signature(&serde_json::from_str(first).unwrap());
    let request = json!({"messages": [user(question)], "tools": tools});
    let read = c
        .stream("/v1/chat/completions", "oai-call-sig-stream", request)
        .await;
    // Accumulated as the OpenAI SDKs do: by index, arguments concatenated, the rest kept.
    let mut calls: Vec<Value> = Vec::new();
    for chunk in read.json_events() {
        for delta in chunk["choices"][0]["delta"]["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let index = delta["index"].as_u64().expect("tool_calls[].index") as usize;
            if calls.len() <= index {
                calls.resize(index + 1, json!({"function": {"arguments": ""}}));
            }
            let call = &mut calls[index];
            for key in ["id", "type", "extra_content"] {
                if let Some(value) = delta.get(key) {
                    call[key] = value.clone();
                }
            }
            if let Some(name) = delta["function"].get("name") {
                call["function"]["name"] = name.clone();
            }
            let more = delta["function"]["arguments"].as_str().unwrap_or_default();
            let so_far = call["function"]["arguments"].as_str().unwrap_or_default();
            call["function"]["arguments"] = json!(format!("{so_far}{more}"));
        }
    }
    assert_eq!(calls.len(), 2, "{}", read.raw);
    assert_eq!(
        calls[0]["extra_content"]["google"]["thought_signature"], expected,
        "{}",
        read.raw
    );
    assert!(
        calls[1].get("extra_content").is_none(),
        "Gemini signs only a step's first call: {}",
        read.raw
    );
    c.sent("oai-call-sig-stream");
    let next = json!({"messages": rebuilt_from_tool_calls(question, &calls), "tools": tools});
    c.openai_chat("oai-call-sig-stream-next", next)
        .await
        .assert_status(200);
    let sent = c
        .sent("oai-call-sig-stream-next")
        .request
        .json_body()
        .clone();
    assert_eq!(
        sent_call_signatures(&sent),
        [Some(expected), None],
        "the first call's own signature, and none made up for the second: {sent}"
    );
});
