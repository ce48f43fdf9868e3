//! The OpenAI Responses API path of the `openai` and `xai` adapters: server-side search tools
//! asked for in SCRI `extra.tools` send the request to `/responses`, and the answer (text, the
//! sources it cites, streamed reasoning with its encrypted content, usage) comes back as SCRI.

use aratta_tests::conformance::fixture_json;
use serde_json::{Value, json};

use crate::ctx::{kinds, text_of, user};

/// The server-side tools each adapter's docs show.
fn search_tools(adapter: &str) -> Value {
    match adapter {
        "xai" => json!([
            {"type": "web_search", "allowed_domains": ["x.ai"]},
            {"type": "x_search", "from_date": "2026-06-01", "allowed_x_handles": ["xai"]}
        ]),
        _ => json!([{"type": "web_search"}]),
    }
}

case!(search, |c| {
    let request = json!({"messages": [user("What is xAI?")],
        "extra": {"tools": search_tools(c.spec.adapter)}});
    let body = c.chat_ok("search", request).await;
    let text = text_of(&body);
    assert!(!text.is_empty(), "{body}");
    // Every URL the provider cited is listed in the sources block after the answer.
    let fixture = fixture_json(c.spec.fixtures, "responses_web_search.json");
    let cited = fixture["output"][1]["content"][0]["annotations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!cited.is_empty(), "the fixture cites nothing");
    let sources = &text[text.find("Sources:").unwrap_or_else(|| panic!("{body}"))..];
    for annotation in cited {
        let url = annotation["url"].as_str().expect("url_citation url");
        assert!(
            sources.contains(&format!("- {url}")),
            "{url} missing: {body}"
        );
    }
    assert_eq!(body["finish_reason"], "stop", "{body}");
    assert!(body["usage"]["input_tokens"].as_u64() > Some(0), "{body}");
    assert_eq!(c.mock.checked("search").request.path, "/v1/responses");
});

case!(stream, |c| {
    let request = json!({"messages": [user("Weather in Paris?")],
        "reasoning": {"include_reasoning": true}, "extra": {"tools": search_tools(c.spec.adapter)}});
    let read = c.stream("/api/v1/chat", "search-stream", request).await;
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
    let reasoning = read.of_type("reasoning_delta");
    assert!(
        reasoning
            .iter()
            .any(|e| e["text"].as_str().is_some_and(|t| !t.is_empty())),
        "no reasoning summary streamed: {}",
        read.raw
    );
    assert!(
        reasoning.iter().any(|e| e["signature"]
            .as_str()
            .is_some_and(|s| s.starts_with("rs_"))
            && e["redacted"].as_str().is_some_and(|r| !r.is_empty())),
        "the reasoning item's id and encrypted content were not streamed: {}",
        read.raw
    );
    assert!(!read.of_type("text_delta").is_empty(), "{}", read.raw);
    let usage = read
        .of_type("usage")
        .pop()
        .unwrap_or_else(|| panic!("{}", read.raw));
    assert!(
        usage["usage"]["reasoning_tokens"].as_u64() > Some(0),
        "{}",
        read.raw
    );
    assert_eq!(
        c.mock.checked("search-stream").request.path,
        "/v1/responses"
    );
    c.sent("search-stream");
});
