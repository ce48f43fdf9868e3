//! The three wire formats the benchmark speaks, each on both sides of the gateway: a client
//! speaking provider P's API calls the mock (direct) or Aratta's route for the same API (through
//! P's adapter), so the two paths send the same body but for the model name. The mock's answers
//! are the recorded fixtures of `tests/fixtures/` (non-streamed) and streams in the recorded
//! fixtures' event shapes with [`STREAM_CHUNKS`] text deltas.

use bytes::Bytes;
use serde_json::Value;

/// Text deltas in every streamed answer: enough that the per-chunk cost shows next to the
/// per-request one.
pub(crate) const STREAM_CHUNKS: usize = 32;

/// The text of each streamed delta.
const DELTA: &str = "word ";

/// The API a scenario speaks, on both sides of the gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wire {
    /// OpenAI chat completions; served by the `local` adapter (an OpenAI-compatible server).
    OpenAi,
    /// Anthropic Messages; served by the `anthropic` adapter.
    Anthropic,
    /// Gemini `generateContent`; served by the `google` adapter.
    Gemini,
}

/// The mock's non-streamed answers (Anthropic's and Gemini's are the recorded fixtures).
pub(crate) const OPENAI_COMPLETION: &str = r#"{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,"model":"llama3.2","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I assist you today?","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_44709d6fcb"}"#;
const ANTHROPIC_MESSAGE: &str = include_str!("../../fixtures/anthropic/message.json");
const GEMINI_RESPONSE: &str = include_str!("../../fixtures/google/chat.json");

const SYSTEM: &str = "You are a helpful assistant.";
const USER: &str = "Hello! Say hello back in one short sentence.";

impl Wire {
    /// Every wire, in report order.
    pub(crate) const ALL: [Wire; 3] = [Wire::OpenAi, Wire::Anthropic, Wire::Gemini];

    /// The built-in adapter that serves this wire's provider.
    pub(crate) fn adapter(self) -> &'static str {
        match self {
            Wire::OpenAi => "local",
            Wire::Anthropic => "anthropic",
            Wire::Gemini => "google",
        }
    }

    /// The model the client names upstream (the gateway's is `adapter:model`).
    fn model(self) -> &'static str {
        match self {
            Wire::OpenAi => "llama3.2",
            Wire::Anthropic => "claude-sonnet-4-5",
            Wire::Gemini => "gemini-2.5-flash",
        }
    }

    /// The model name on the given path.
    pub(crate) fn model_for(self, gateway: bool) -> String {
        if gateway {
            format!("{}:{}", self.adapter(), self.model())
        } else {
            self.model().to_owned()
        }
    }

    /// The request path (Gemini names the model and the streaming method in it).
    pub(crate) fn path(self, gateway: bool, stream: bool) -> String {
        match self {
            Wire::OpenAi => "/v1/chat/completions".into(),
            Wire::Anthropic => "/v1/messages".into(),
            Wire::Gemini if stream => format!(
                "/v1beta/models/{}:streamGenerateContent?alt=sse",
                self.model_for(gateway)
            ),
            Wire::Gemini => format!("/v1beta/models/{}:generateContent", self.model_for(gateway)),
        }
    }

    /// Headers the provider's SDK sends (the key is only checked by the mock, which is why the
    /// gateway's grant must inject it).
    pub(crate) fn headers(self) -> Vec<(&'static str, String)> {
        match self {
            Wire::OpenAi => vec![],
            Wire::Anthropic => vec![
                ("x-api-key", crate::mock::API_KEY.into()),
                ("anthropic-version", "2023-06-01".into()),
            ],
            Wire::Gemini => vec![("x-goog-api-key", crate::mock::API_KEY.into())],
        }
    }

    /// The same system prompt and user turn in this wire's request shape.
    pub(crate) fn body(self, gateway: bool, stream: bool) -> Bytes {
        let model = self.model_for(gateway);
        Bytes::from(match self {
            Wire::OpenAi => format!(
                r#"{{"model":"{model}","messages":[{{"role":"system","content":"{SYSTEM}"}},{{"role":"user","content":"{USER}"}}]{}}}"#,
                if stream { r#","stream":true"# } else { "" }
            ),
            Wire::Anthropic => format!(
                r#"{{"model":"{model}","max_tokens":256,"system":"{SYSTEM}","messages":[{{"role":"user","content":"{USER}"}}]{}}}"#,
                if stream { r#","stream":true"# } else { "" }
            ),
            Wire::Gemini => format!(
                r#"{{"systemInstruction":{{"parts":[{{"text":"{SYSTEM}"}}]}},"contents":[{{"role":"user","parts":[{{"text":"{USER}"}}]}}],"generationConfig":{{"maxOutputTokens":256}}}}"#
            ),
        })
    }

    /// The mock's non-streamed answer.
    pub(crate) fn answer(self) -> &'static str {
        match self {
            Wire::OpenAi => OPENAI_COMPLETION,
            Wire::Anthropic => ANTHROPIC_MESSAGE,
            Wire::Gemini => GEMINI_RESPONSE,
        }
    }

    /// The mock's streamed answer, one SSE event per item: this wire's recorded event shapes
    /// with [`STREAM_CHUNKS`] text deltas.
    pub(crate) fn stream_events(self) -> Vec<Bytes> {
        let mut events = Vec::new();
        let mut push = |event: Option<&str>, data: String| {
            events.push(Bytes::from(match event {
                Some(name) => format!("event: {name}\ndata: {data}\n\n"),
                None => format!("data: {data}\n\n"),
            }))
        };
        match self {
            Wire::OpenAi => {
                let chunk = |delta: &str, finish: &str| {
                    format!(
                        r#"{{"id":"chatcmpl-C4dK9mJx2VnqgQ1b","object":"chat.completion.chunk","created":1754900000,"model":"llama3.2","system_fingerprint":"fp_b3f1157249","choices":[{{"index":0,"delta":{delta},"logprobs":null,"finish_reason":{finish}}}]}}"#
                    )
                };
                push(None, chunk(r#"{"role":"assistant","content":""}"#, "null"));
                for _ in 0..STREAM_CHUNKS {
                    push(None, chunk(&format!(r#"{{"content":"{DELTA}"}}"#), "null"));
                }
                push(None, chunk("{}", r#""stop""#));
                push(None, "[DONE]".into());
            }
            Wire::Anthropic => {
                push(
                    Some("message_start"),
                    r#"{"type":"message_start","message":{"id":"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}"#.into(),
                );
                push(
                    Some("content_block_start"),
                    r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#.into(),
                );
                for _ in 0..STREAM_CHUNKS {
                    push(
                        Some("content_block_delta"),
                        format!(
                            r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{DELTA}"}}}}"#
                        ),
                    );
                }
                push(
                    Some("content_block_stop"),
                    r#"{"type":"content_block_stop","index":0}"#.into(),
                );
                push(
                    Some("message_delta"),
                    r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":32}}"#.into(),
                );
                push(Some("message_stop"), r#"{"type":"message_stop"}"#.into());
            }
            Wire::Gemini => {
                let chunk = |text: &str, finish: &str| {
                    format!(
                        r#"{{"candidates":[{{"content":{{"parts":[{{"text":"{text}"}}],"role":"model"}},"index":0{finish}}}],"usageMetadata":{{"promptTokenCount":8,"totalTokenCount":40}},"modelVersion":"gemini-2.5-flash","responseId":"Rz1MaJGXIJzZvr0Pj6SHmAM"}}"#
                    )
                };
                for i in 0..STREAM_CHUNKS {
                    let last = i + 1 == STREAM_CHUNKS;
                    push(
                        None,
                        chunk(
                            DELTA,
                            if last {
                                r#","finishReason":"STOP""#
                            } else {
                                ""
                            },
                        ),
                    );
                }
            }
        }
        events
    }

    /// Checks an answer in full: a non-streamed one carries the mock's text in this wire's
    /// shape; a streamed one is well-formed SSE whose deltas add up to the mock's text and which
    /// ends the way this wire ends a stream.
    pub(crate) fn check(self, bytes: &[u8], stream: bool) -> Result<(), String> {
        let text = String::from_utf8_lossy(bytes);
        if !stream {
            let v: Value = serde_json::from_slice(bytes)
                .map_err(|e| format!("answer is not JSON ({e}): {text}"))?;
            let (got, want) = match self {
                Wire::OpenAi => (
                    &v["choices"][0]["message"]["content"],
                    "Hello! How can I assist you today?",
                ),
                Wire::Anthropic => (&v["content"][0]["text"], "Hi! My name is Claude."),
                Wire::Gemini => (
                    &v["candidates"][0]["content"]["parts"][0]["text"],
                    "The capital of France is Paris.",
                ),
            };
            return if got.as_str() == Some(want) {
                Ok(())
            } else {
                Err(format!("answer does not carry the mock's text: {text}"))
            };
        }
        let mut deltas = String::new();
        let mut ended = false;
        for data in text.lines().filter_map(|l| l.strip_prefix("data:")) {
            let data = data.trim();
            if data == "[DONE]" {
                ended = self == Wire::OpenAi;
                continue;
            }
            let v: Value = serde_json::from_str(data)
                .map_err(|e| format!("stream event is not JSON ({e}): {data}"))?;
            let piece = match self {
                Wire::OpenAi => &v["choices"][0]["delta"]["content"],
                Wire::Anthropic => {
                    ended |= v["type"] == "message_stop";
                    &v["delta"]["text"]
                }
                Wire::Gemini => {
                    ended |= v["candidates"][0]["finishReason"] == "STOP";
                    &v["candidates"][0]["content"]["parts"][0]["text"]
                }
            };
            deltas.push_str(piece.as_str().unwrap_or(""));
        }
        let want = DELTA.repeat(STREAM_CHUNKS);
        if deltas != want {
            return Err(format!(
                "stream text is {deltas:?}, not {want:?}; stream: {text}"
            ));
        }
        if !ended {
            return Err(format!("stream did not end as {self:?} ends one: {text}"));
        }
        Ok(())
    }
}
