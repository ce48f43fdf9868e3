//! The stream encoders (SCRI events → OpenAI, Anthropic, Gemini and SCRI server-sent events)
//! and the whole-answer encoders. Every payload must be JSON (or OpenAI's `[DONE]`), survive
//! axum's SSE framing unchanged, and follow its dialect's order; nothing follows the end.

use aratta_host::dialects::{anthropic, gemini, openai};
use aratta_host::scri::{ChatResponse, StreamEvent};
use serde_json::Value;

use super::{dict, ensure, events, sse};
use crate::Target;

fn json(payload: &str) -> Result<Value, String> {
    serde_json::from_str(payload)
        .map_err(|e| format!("a payload that is not JSON ({e}): {payload}"))
}

fn ends(event: &StreamEvent) -> bool {
    matches!(event, StreamEvent::Stop { .. } | StreamEvent::Error { .. })
}

/// `POST /v1/chat/completions` with `"stream": true`.
pub const OPENAI_STREAM: Target = Target {
    name: "openai_stream",
    about: "SCRI events -> OpenAI chat.completion.chunk SSE (openai::ChunkEncoder)",
    dict: dict::EVENTS,
    check: openai_stream,
};

fn openai_stream(input: &[u8]) -> Result<(), String> {
    let events = events::from_input(input);
    let include_usage = input.first().is_some_and(|b| b & 1 == 1);
    let mut encoder = openai::ChunkEncoder::new("chatcmpl-1", "local:m", 1, include_usage);
    let mut sent: Vec<(Option<&str>, String)> = Vec::new();
    let mut ended_by = None;
    let mut id: Option<Value> = None;
    for event in &events {
        let out = encoder.push(event);
        if ended_by.is_some() {
            ensure(out.is_empty(), || format!("output after the end: {out:?}"))?;
            continue;
        }
        for payload in &out {
            let chunk = json(payload)?;
            if chunk.get("error").is_none() {
                let same = id.get_or_insert_with(|| chunk["id"].clone()) == &chunk["id"];
                ensure(same, || format!("the chunk id changed: {payload}"))?;
            }
        }
        sent.extend(out.into_iter().map(|p| (None, p)));
        if ends(event) {
            ended_by = Some(matches!(event, StreamEvent::Stop { .. }));
        }
        ensure(encoder.is_finished() == ended_by.is_some(), || {
            "is_finished is wrong".into()
        })?;
    }
    let clean = ended_by == Some(true);
    ensure(encoder.done().is_some() == clean, || {
        "[DONE] without a clean stop, or none after one".into()
    })?;
    if let Some(done) = encoder.done() {
        sent.push((None, done.to_owned()));
    }
    sse::round_trip(&sent)
}

/// `POST /v1/messages` with `"stream": true`.
pub const ANTHROPIC_STREAM: Target = Target {
    name: "anthropic_stream",
    about: "SCRI events -> Anthropic Messages SSE (anthropic::EventEncoder)",
    dict: dict::EVENTS,
    check: anthropic_stream,
};

fn anthropic_stream(input: &[u8]) -> Result<(), String> {
    let events = events::from_input(input);
    let mut encoder = anthropic::EventEncoder::new("msg_1", "local:m");
    let mut sent: Vec<(Option<&str>, String)> = Vec::new();
    let mut open: Option<u64> = None;
    let mut over = false;
    for event in &events {
        let out = encoder.push(event);
        if over {
            ensure(out.is_empty(), || format!("output after the end: {out:?}"))?;
            continue;
        }
        for (name, payload) in &out {
            let value = json(payload)?;
            ensure(value["type"] == *name, || {
                format!("event `{name}` carries {payload}")
            })?;
            if sent.is_empty() && *name != "error" {
                ensure(*name == "message_start", || {
                    format!("the first event is `{name}`")
                })?;
            }
            let index = value["index"].as_u64();
            match *name {
                "content_block_start" => {
                    ensure(open.is_none(), || {
                        format!("a block starts inside another: {payload}")
                    })?;
                    open = index;
                }
                "content_block_delta" => ensure(open.is_some() && open == index, || {
                    format!("a delta outside its block ({open:?}): {payload}")
                })?,
                "content_block_stop" => {
                    ensure(open.is_some() && open == index, || {
                        format!("a stop of a block that is not open ({open:?}): {payload}")
                    })?;
                    open = None;
                }
                "message_delta" | "message_stop" => {
                    ensure(open.is_none(), || {
                        format!("`{name}` with block {open:?} open")
                    })?;
                }
                _ => {}
            }
            sent.push((Some(*name), payload.clone()));
        }
        over = ends(event);
        ensure(encoder.finished() == over, || "finished() is wrong".into())?;
    }
    sse::round_trip(&sent)
}

/// `POST /v1beta/models/{model}:streamGenerateContent`.
pub const GEMINI_STREAM: Target = Target {
    name: "gemini_stream",
    about: "SCRI events -> Gemini streamGenerateContent SSE (gemini::ChunkEncoder)",
    dict: dict::EVENTS,
    check: gemini_stream,
};

fn gemini_stream(input: &[u8]) -> Result<(), String> {
    let events = events::from_input(input);
    let mut encoder = gemini::ChunkEncoder::new("1", "local:m");
    let mut sent: Vec<(Option<&str>, String)> = Vec::new();
    let mut over = false;
    for event in &events {
        let out = encoder.push(event);
        if over {
            ensure(out.is_empty(), || format!("output after the end: {out:?}"))?;
            continue;
        }
        for payload in &out {
            ensure(json(payload)?.is_object(), || {
                format!("a chunk that is no object: {payload}")
            })?;
        }
        sent.extend(out.into_iter().map(|p| (None, p)));
        over = ends(event);
        ensure(encoder.finished() == over, || "finished() is wrong".into())?;
    }
    sse::round_trip(&sent)
}

/// `POST /api/v1/chat` with `"stream": true`: SCRI events as they are.
pub const SCRI_STREAM: Target = Target {
    name: "scri_stream",
    about: "SCRI events -> SCRI SSE (event name = type, data = the event's JSON)",
    dict: dict::EVENTS,
    check: scri_stream,
};

fn scri_stream(input: &[u8]) -> Result<(), String> {
    let mut sent: Vec<(Option<&str>, String)> = Vec::new();
    for event in events::from_input(input) {
        // As the SCRI dialect's stream encoder (`dialects::scri::routes::ScriEvents`) writes it.
        let data = serde_json::to_string(&event).map_err(|e| format!("does not serialise: {e}"))?;
        let back: StreamEvent = serde_json::from_str(&data)
            .map_err(|e| format!("a client cannot read the event back ({e}): {data}"))?;
        let again = serde_json::to_string(&back).map_err(|e| e.to_string())?;
        ensure(again == data, || {
            format!("reads back otherwise:\n{data}\n{again}")
        })?;
        ensure(json(&data)?["type"] == event.name(), || {
            format!("type is not `{}`", event.name())
        })?;
        sent.push((Some(event.name()), data));
    }
    sse::round_trip(&sent)
}

/// The whole answers: SCRI, OpenAI `chat.completion`, Anthropic `message`, Gemini response.
pub const RESPONSES: Target = Target {
    name: "responses",
    about: "a SCRI ChatResponse -> SCRI, OpenAI, Anthropic and Gemini JSON answers",
    dict: dict::EVENTS,
    check: responses,
};

fn responses(input: &[u8]) -> Result<(), String> {
    let Ok(response) = serde_json::from_slice::<ChatResponse>(input) else {
        return Ok(());
    };
    let scri = serde_json::to_value(&response).map_err(|e| format!("does not serialise: {e}"))?;
    for answer in [
        scri,
        openai::chat_completion(&response, 1),
        anthropic::message(&response),
        gemini::generate_response(&response),
    ] {
        ensure(answer.is_object(), || {
            format!("an answer that is no object: {answer}")
        })?;
        let text = answer.to_string();
        match serde_json::from_str::<Value>(&text) {
            Ok(back) => ensure(back == answer, || format!("reads back otherwise: {text}"))?,
            // Deeper than serde_json's reader limit (128) is still JSON: an answer wraps tool
            // arguments a few levels deeper than they came.
            Err(e) if e.to_string().starts_with("recursion limit exceeded") => {}
            Err(e) => return Err(format!("an answer that is not JSON ({e}): {text}")),
        }
    }
    Ok(())
}
