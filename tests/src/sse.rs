//! Reading Server-Sent Events on the client side of a test: the gateway's OpenAI-compatible
//! stream (`data: {...}` / `data: [DONE]`) and SCRI's typed stream (`event: <type>` + `data: {...}`).

use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use serde_json::Value;

/// One dispatched SSE event.
#[derive(Clone, Debug, PartialEq)]
pub struct SseEvent {
    /// The `event:` field, when the server sent one.
    pub event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

impl SseEvent {
    /// The data parsed as JSON, or `None` (e.g. for `[DONE]`).
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.data).ok()
    }

    /// Whether this is OpenAI's `data: [DONE]` sentinel.
    pub fn is_done(&self) -> bool {
        self.data == "[DONE]"
    }
}

/// Parses a complete SSE text per the WHATWG rules: `field: value` lines, events dispatched on a
/// blank line, `:` comments ignored, LF or CRLF line ends. A trailing event without its blank
/// line is not dispatched (the stream was cut).
pub fn parse(text: &str) -> Vec<SseEvent> {
    let mut events = Vec::new();
    let mut event: Option<String> = None;
    let mut data: Vec<String> = Vec::new();
    for line in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
        if line.is_empty() {
            if !data.is_empty() || event.is_some() {
                events.push(SseEvent {
                    event: event.take(),
                    data: data.join("\n"),
                });
                data.clear();
            }
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => event = Some(value.to_string()),
            "data" => data.push(value.to_string()),
            _ => {}
        }
    }
    events
}

/// What a client saw of a whole streamed response.
#[derive(Debug)]
pub struct SseRead {
    /// The raw body text received.
    pub raw: String,
    /// The events, in order.
    pub events: Vec<SseEvent>,
    /// Why the body did not end cleanly: a transport error, or the read deadline.
    pub transport_error: Option<String>,
    /// When each event arrived, counted from the start of the read (same order as `events`).
    pub arrivals: Vec<Duration>,
}

impl SseRead {
    /// The JSON payloads of every event (events whose data is not JSON are skipped).
    pub fn json_events(&self) -> Vec<Value> {
        self.events.iter().filter_map(SseEvent::json).collect()
    }

    /// The SCRI events of type `kind` (matched on `event:` or the payload's `type`).
    pub fn of_type(&self, kind: &str) -> Vec<Value> {
        self.events
            .iter()
            .filter(|e| {
                e.event.as_deref() == Some(kind)
                    || e.json().is_some_and(|j| j["type"].as_str() == Some(kind))
            })
            .filter_map(SseEvent::json)
            .collect()
    }
}

/// Reads a streamed response to its end (or `deadline`), keeping everything that arrived and
/// when each event did.
pub async fn read(response: reqwest::Response, deadline: Duration) -> SseRead {
    let started = Instant::now();
    let mut raw = Vec::new();
    let mut arrivals = Vec::new();
    let mut transport_error = None;
    let mut body = response.bytes_stream();
    let reading = async {
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(bytes) => {
                    raw.extend_from_slice(&bytes);
                    let complete = parse(&String::from_utf8_lossy(&raw)).len();
                    arrivals.resize(complete, started.elapsed());
                }
                Err(e) => {
                    transport_error = Some(format!("{e:?}"));
                    break;
                }
            }
        }
    };
    if tokio::time::timeout(deadline, reading).await.is_err() {
        transport_error = Some(format!("stream still open after {deadline:?}"));
    }
    let raw = String::from_utf8_lossy(&raw).into_owned();
    SseRead {
        events: parse(&raw),
        raw,
        transport_error,
        arrivals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_typed_and_untyped_events_and_drops_an_unterminated_tail() {
        let text = "event: start\r\ndata: {\"type\":\"start\"}\r\n\r\n: keep-alive\n\ndata: a\ndata: b\n\ndata: [DONE]\n\ndata: cut";
        let events = parse(text);
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].event.as_deref(), Some("start"));
        assert_eq!(events[0].json().unwrap()["type"], "start");
        assert_eq!(events[1].data, "a\nb");
        assert!(events[2].is_done());
    }
}
