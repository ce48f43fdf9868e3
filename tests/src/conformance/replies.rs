//! What a conformance mock answers: for each adapter, which recorded fixture (and status) replays
//! for which case. A case's fixture is chosen by its kind: text, tool call, parallel calls,
//! reasoning, usage, JSON, an error class, drift. Streamed requests get the fixture's SSE twin.

use super::{Reply, Spec, Wire, fixture};
use crate::mock::RecordedRequest;

/// A fixture: directory (`None` = the adapter's own), file, status.
type File = (Option<&'static str>, &'static str, u16);

/// The answer to one request.
pub(crate) fn reply(
    spec: &Spec,
    case: Option<&str>,
    stream: bool,
    request: &RecordedRequest,
) -> Reply {
    if request.method == "GET" {
        return models(spec, request);
    }
    let Some(case) = case else {
        return not_found("no model in the request");
    };
    let kind = case.strip_prefix("oai-").unwrap_or(case);
    if kind == "truncated" && spec.adapter == "local" {
        // No recorded cut stream for OpenAI-compatible servers: the recorded stream, cut in
        // its middle (before the finish chunk and `[DONE]`).
        let whole = fixture(spec.fixtures, "chat_completion.stream.sse");
        let events: Vec<&str> = whole.split("\n\n").collect();
        let cut = events[..events.len() / 2].join("\n\n") + "\n\n";
        return sse(cut.into_bytes());
    }
    if kind == "unknown" && spec.adapter == "local" {
        // No recorded drift for OpenAI-compatible servers: new fields added at every level.
        let mut body = super::fixture_json(spec.fixtures, "chat_completion.json");
        body["brand_new_field"] = serde_json::json!({"nested": [1, 2]});
        body["choices"][0]["message"]["new_thing"] = serde_json::json!("x");
        body["choices"][0]["new_choice_field"] = serde_json::json!(true);
        body["usage"]["new_usage_field"] = serde_json::json!(7);
        return json(200, body.to_string().into_bytes());
    }
    let found = if request.path.ends_with("/responses") {
        responses_file(kind, stream)
    } else {
        file_for(spec, case, stream)
    };
    let Some((dir, file, status)) = found else {
        return not_found(&format!("no fixture for case {case}"));
    };
    let text = fixture(dir.unwrap_or(spec.fixtures), file);
    let mut reply = if file.ends_with(".sse") {
        sse(text.into_bytes())
    } else {
        json(status, text.into_bytes())
    };
    if status == 429 && spec.wire != Wire::Google {
        // Google says when to retry in the body (`RetryInfo`); the others in this header.
        reply.headers.push(("retry-after", "20".to_string()));
    }
    reply
}

/// Answers on OpenAI's Responses API (`openai`, `xai`): reasoning with a function call, a
/// searched answer with citations, or the streamed reasoning + text transcript. xAI has no
/// recorded non-streamed reasoning answer; OpenAI's is the same format.
fn responses_file(kind: &str, stream: bool) -> Option<File> {
    Some(match (kind, stream) {
        (_, true) => (None, "responses_reasoning.stream.sse", 200),
        ("reasoning", false) => (Some("openai"), "responses_reasoning.json", 200),
        (_, false) => (None, "responses_web_search.json", 200),
    })
}

fn file_for(spec: &Spec, case: &str, stream: bool) -> Option<File> {
    let own = |file: &'static str| Some((None, file, 200));
    let error = |file: &'static str, status: u16| Some((None, file, status));
    let kind = case.strip_prefix("oai-").unwrap_or(case);
    match (spec.adapter, kind, stream) {
        // Errors and drift, whatever the route.
        ("local", "e429", _) => error("error_429.json", 429),
        ("local", "e401", _) => error("error_401.json", 401),
        ("local", "e400", _) => error("error_400.json", 400),
        ("local", "e500", _) => error("error_500.json", 500),
        ("local", "e503", _) => error("error_503.json", 503),
        ("local", "renamed", _) => own("missing_choices.json"),
        ("openai", "e429", _) => error("error_429_rate_limit.json", 429),
        ("openai", "e401", _) => error("error_401_invalid_api_key.json", 401),
        ("openai", "e400", _) => error("error_400_context_length.json", 400),
        ("xai", "e429", _) => error("error_429_rate_limit.json", 429),
        // xAI answers a bad key with 400.
        ("xai", "e401", _) => error("error_400_invalid_api_key.json", 400),
        ("xai", "e400", _) => error("error_400_invalid_argument.json", 400),
        ("openai" | "xai", "e500", _) => error("error_500.json", 500),
        ("openai" | "xai", "e503", _) => error("error_503.json", 503),
        ("openai" | "xai", "truncated", _) => own("truncated.stream.sse"),
        ("openai" | "xai", "unknown", _) => own("unknown_field.json"),
        ("openai" | "xai", "renamed", _) => own("renamed_field.json"),
        ("anthropic", "e429", _) => error("error_429.json", 429),
        ("anthropic", "e401", _) => error("error_401.json", 401),
        ("anthropic", "e400", _) => error("error_400.json", 400),
        ("anthropic", "e500", _) => error("error_500.json", 500),
        // Anthropic's overload is 529.
        ("anthropic", "e503", _) => error("error_529.json", 529),
        ("anthropic", "truncated", _) => own("truncated.stream.sse"),
        ("anthropic", "unknown", _) => own("unknown_field.json"),
        ("anthropic", "renamed", _) => own("renamed_field.json"),
        ("google", "e429", _) => error("error_429.json", 429),
        ("google", "e401", _) => error("error_401.json", 401),
        ("google", "e400", _) => error("error_400.json", 400),
        ("google", "e500", _) => error("error_500.json", 500),
        ("google", "e503", _) => error("error_503.json", 503),
        ("google", "truncated", _) => own("stream_truncated.sse"),
        ("google", "unknown", _) => own("unknown_field.json"),
        ("google", "renamed", _) => own("renamed_content.json"),
        // An error event after the stream started.
        ("local" | "openai", "midstream", _) => own("error_midstream.stream.sse"),
        ("anthropic", "midstream", _) => own("error_midstream.stream.sse"),
        ("google", "midstream", _) => own("stream_error.sse"),
        // The provider's own verdicts: content filters, a malformed call, a blocked prompt.
        ("openai", "filtered", false) => own("content_filter.json"),
        ("openai", "filtered-stream", true) => own("content_filter.stream.sse"),
        ("anthropic", "filtered", false) => own("refusal.json"),
        ("anthropic", "filtered-stream", true) => own("refusal.stream.sse"),
        ("google", "filtered", false) => own("safety.json"),
        ("google", "filtered-stream", true) => own("stream_safety.sse"),
        ("google", "malformed", false) => own("malformed_function_call.json"),
        ("google", "blocked", false) => own("prompt_blocked.json"),
        ("google", "blocked-stream", true) => own("stream_prompt_blocked.sse"),
        // Embeddings (the route is told apart by path, the model is still the case).
        ("local" | "openai" | "google", "embed", _) => own("embeddings.json"),
        // Tool calls.
        ("local", "tools" | "stream-tools", false) => own("tool_call.json"),
        ("local", "tools" | "stream-tools", true) => own("tool_call.stream.sse"),
        ("local", "parallel", false) => own("parallel_tool_calls.json"),
        ("local", "parallel", true) => own("parallel_tool_calls.stream.sse"),
        ("openai", "tools" | "stream-tools" | "parallel", false) => own("tool_calls.json"),
        ("xai", "tools" | "stream-tools", false) => own("reasoning_content.json"),
        // xAI has no recorded non-streamed parallel answer; OpenAI's is the same format.
        ("xai", "parallel", false) => Some((Some("openai"), "tool_calls.json", 200)),
        ("openai" | "xai", "tools" | "stream-tools" | "parallel", true) => {
            own("tool_calls.stream.sse")
        }
        ("anthropic", "tools" | "stream-tools", false) => own("tool_use.json"),
        ("anthropic", "tools" | "stream-tools", true) => own("tool_use.stream.sse"),
        ("anthropic", "parallel", false) => own("parallel_tool_use.json"),
        ("anthropic", "parallel", true) => own("parallel_tool_use.stream.sse"),
        ("google", "tools" | "stream-tools", false) => own("function_call.json"),
        ("google", "parallel", false) => own("parallel_function_calls.json"),
        ("google", "tools" | "stream-tools" | "parallel", true) => own("stream_function_calls.sse"),
        // Signed calls sent back in a turn rebuilt from `tool_calls` (the OpenAI route).
        ("google", "call-sig", false) => own("function_call.json"),
        ("google", "call-sig-stream", true) => own("stream_function_calls.sse"),
        // Reasoning with signatures, usage with cache and reasoning tokens, JSON output.
        ("anthropic", "reasoning" | "usage-r", false) => own("thinking.json"),
        ("anthropic", "reasoning" | "usage-r", true) => own("thinking.stream.sse"),
        ("anthropic", "usage", false) => own("cache_usage.json"),
        ("google", "reasoning", false) => own("chat_thoughts.json"),
        ("google", "reasoning", true) => own("stream_thoughts.sse"),
        ("google", "json", false) => own("json_schema.json"),
        ("openai", "usage-r", false) => own("reasoning.json"),
        ("openai", "json", false) => own("json_schema.json"),
        // Everything else is a text answer.
        ("local", _, false) => own("chat_completion.json"),
        ("local", _, true) => own("chat_completion.stream.sse"),
        ("openai" | "xai", _, false) => own("chat.json"),
        ("openai" | "xai", _, true) => own("chat.stream.sse"),
        ("anthropic", _, false) => own("message.json"),
        ("anthropic", _, true) => own("message.stream.sse"),
        ("google", _, false) => own("chat.json"),
        ("google", _, true) => own("stream_text.sse"),
        _ => None,
    }
}

/// `GET` model listings, following the providers' paging.
fn models(spec: &Spec, request: &RecordedRequest) -> Reply {
    let query = request.query.as_deref().unwrap_or("");
    let second = match spec.wire {
        Wire::Anthropic => query.contains("after_id="),
        Wire::Google => query.contains("pageToken="),
        Wire::OpenAi => false,
    };
    let file = if second {
        "models_page2.json"
    } else {
        "models.json"
    };
    json(200, fixture(spec.fixtures, file).into_bytes())
}

fn json(status: u16, body: Vec<u8>) -> Reply {
    Reply {
        status,
        content_type: "application/json",
        headers: Vec::new(),
        body,
    }
}

fn sse(body: Vec<u8>) -> Reply {
    Reply {
        status: 200,
        content_type: "text/event-stream",
        headers: vec![("cache-control", "no-cache".to_string())],
        body,
    }
}

fn not_found(why: &str) -> Reply {
    let body = serde_json::json!({"error": {"message": why, "type": "not_found"}});
    json(404, body.to_string().into_bytes())
}
