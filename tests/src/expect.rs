//! Assertions shared by the end-to-end tests: the shape of OpenAI-format answers, Aratta's
//! `x-aratta-*` lineage headers and JSON error bodies. Each panics with the offending payload.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// A whole HTTP answer read into memory.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body as text.
    pub text: String,
}

impl Answer {
    /// Reads `response` to its end.
    pub async fn read(response: reqwest::Response) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("reading the body of a {status} answer failed: {e:?}"));
        Answer {
            status,
            headers,
            text,
        }
    }

    /// The body as JSON; panics with the text when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| {
            panic!(
                "a {} answer is not JSON ({e}): {:?}",
                self.status, self.text
            )
        })
    }

    /// A header as text, when present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Panics unless the status is `expected`.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            expected,
            "unexpected status; body: {}",
            self.text
        );
        self
    }
}

/// The `x-aratta-*` headers every answer carries.
#[derive(Debug)]
pub struct Lineage {
    /// `x-aratta-provider`.
    pub provider: String,
    /// `x-aratta-model`.
    pub model: String,
    /// `x-aratta-adapter`.
    pub adapter: String,
    /// `x-aratta-adapter-version`.
    pub adapter_version: String,
    /// `x-aratta-request-id`.
    pub request_id: String,
    /// `x-aratta-latency-us`.
    pub latency_us: u64,
}

/// Reads and checks the lineage headers: all present, the version is `x.y.z`, the request id is
/// not empty and the latency is an integer.
pub fn lineage_headers(headers: &HeaderMap) -> Lineage {
    let get = |name: &str| -> String {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("header {name} missing; headers: {headers:?}"))
            .to_string()
    };
    let lineage = Lineage {
        provider: get("x-aratta-provider"),
        model: get("x-aratta-model"),
        adapter: get("x-aratta-adapter"),
        adapter_version: get("x-aratta-adapter-version"),
        request_id: get("x-aratta-request-id"),
        latency_us: get("x-aratta-latency-us")
            .parse()
            .unwrap_or_else(|e| panic!("x-aratta-latency-us is not an integer: {e}")),
    };
    assert!(
        is_semver(&lineage.adapter_version),
        "adapter version {:?} is not semver",
        lineage.adapter_version
    );
    assert!(!lineage.request_id.is_empty(), "empty x-aratta-request-id");
    lineage
}

/// Whether `v` looks like `MAJOR.MINOR.PATCH` (pre-release or build suffix allowed).
pub fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// OpenAI's finish reasons.
pub const FINISH_REASONS: [&str; 5] = [
    "stop",
    "length",
    "tool_calls",
    "content_filter",
    "function_call",
];

/// Checks a non-streamed `chat.completion` object and returns its first choice.
pub fn chat_completion(body: &Value) -> &Value {
    assert_eq!(body["object"], "chat.completion", "object: {body}");
    assert!(
        body["id"].as_str().is_some_and(|s| !s.is_empty()),
        "id: {body}"
    );
    assert!(body["created"].is_u64(), "created: {body}");
    assert!(body["model"].is_string(), "model: {body}");
    let choices = body["choices"]
        .as_array()
        .unwrap_or_else(|| panic!("choices: {body}"));
    assert!(!choices.is_empty(), "no choices: {body}");
    let choice = &choices[0];
    assert_eq!(choice["index"], 0, "choice index: {body}");
    assert_eq!(choice["message"]["role"], "assistant", "role: {body}");
    let finish = choice["finish_reason"].as_str().unwrap_or("");
    assert!(FINISH_REASONS.contains(&finish), "finish_reason: {body}");
    choice
}

/// Checks one `chat.completion.chunk` object.
pub fn chat_chunk(chunk: &Value) {
    assert_eq!(chunk["object"], "chat.completion.chunk", "object: {chunk}");
    assert!(
        chunk["id"].as_str().is_some_and(|s| !s.is_empty()),
        "id: {chunk}"
    );
    assert!(chunk["created"].is_u64(), "created: {chunk}");
    assert!(chunk["model"].is_string(), "model: {chunk}");
    assert!(chunk["choices"].is_array(), "choices: {chunk}");
}

/// Checks OpenAI's `usage` object and returns (prompt, completion, total).
pub fn usage(usage: &Value) -> (u64, u64, u64) {
    let field = |name: &str| {
        usage[name]
            .as_u64()
            .unwrap_or_else(|| panic!("usage.{name}: {usage}"))
    };
    let counts = (
        field("prompt_tokens"),
        field("completion_tokens"),
        field("total_tokens"),
    );
    assert_eq!(counts.0 + counts.1, counts.2, "total_tokens: {usage}");
    counts
}

/// Checks a JSON error body (`{"error": {"message": ..., "type": ...}}`) and returns the message.
pub fn error_message(body: &Value) -> String {
    let error = &body["error"];
    assert!(error.is_object(), "no `error` object: {body}");
    assert!(error["type"].is_string(), "error.type: {body}");
    error["message"]
        .as_str()
        .unwrap_or_else(|| panic!("error.message: {body}"))
        .to_string()
}

/// Checks that `answer` is an error with a JSON body in a status class (`4` for 4xx, `5` for
/// 5xx) and returns the whole body text lower-cased, for "names the problem" checks.
pub fn error_answer(answer: &Answer, class: u16) -> String {
    assert_eq!(
        answer.status.as_u16() / 100,
        class,
        "expected a {class}xx error, got {}: {}",
        answer.status,
        answer.text
    );
    error_message(&answer.json());
    answer.text.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixtures_pass_the_shape_checks() {
        use crate::mock::fixtures;
        let body = fixtures::json(fixtures::CHAT_COMPLETION);
        assert_eq!(chat_completion(&body)["finish_reason"], "stop");
        assert_eq!(usage(&body["usage"]), (2006, 10, 2016));
        for event in fixtures::sse_events(fixtures::TOOL_CALL_STREAM) {
            if let fixtures::SseData::Chunk(chunk) = event {
                chat_chunk(&chunk);
            }
        }
        assert!(error_message(&fixtures::json(fixtures::ERROR_429)).contains("Rate limit"));
        assert!(is_semver("0.1.0") && is_semver("1.2.3-rc.1") && !is_semver("0.1"));
    }
}
