//! SSE as the handlers send it: payloads go through axum's `Event` (`.event(name).data(..)`)
//! and `Sse`, and the response body is read back with the parsing rules of the SSE standard
//! (lines end at CRLF, LF or CR; `data:` lines join with LF; a blank line ends an event).

use std::convert::Infallible;

use axum::response::IntoResponse;
use axum::response::sse::{Event, Sse};
use http_body_util::BodyExt;

/// One event as the client receives it: its name (if any) and its data.
pub type Received = (Option<String>, String);

/// The body an `Sse` response of `events` writes.
pub fn render(events: Vec<Event>) -> Vec<u8> {
    let stream = futures::stream::iter(events.into_iter().map(Ok::<_, Infallible>));
    let body = Sse::new(stream).into_response().into_body();
    futures::executor::block_on(body.collect())
        .expect("an SSE body of ready events does not fail")
        .to_bytes()
        .to_vec()
}

/// Parse an SSE body back into events.
pub fn parse(body: &[u8]) -> Result<Vec<Received>, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("SSE body is not UTF-8: {e}"))?;
    let mut out = Vec::new();
    let (mut name, mut data): (Option<String>, Option<String>) = (None, None);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    for line in text.split('\n') {
        if line.is_empty() {
            if let Some(d) = data.take() {
                out.push((name.take(), d));
            }
            name = None;
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => name = Some(value.to_owned()),
            "data" => match &mut data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => data = Some(value.to_owned()),
            },
            "" => {}
            other => return Err(format!("unexpected SSE field `{other}` in line `{line}`")),
        }
    }
    Ok(out)
}

/// Send `payloads` as the handlers do and check the client reads exactly them back.
pub fn round_trip(payloads: &[(Option<&str>, String)]) -> Result<(), String> {
    let events: Vec<Event> = payloads
        .iter()
        .map(|(name, data)| match name {
            Some(name) => Event::default().event(name).data(data),
            None => Event::default().data(data),
        })
        .collect();
    let body = render(events);
    let received = parse(&body)?;
    let sent: Vec<Received> = payloads
        .iter()
        .map(|(n, d)| (n.map(str::to_owned), d.clone()))
        .collect();
    if received != sent {
        return Err(format!(
            "the client reads other events than were sent:\nsent {sent:?}\nread {received:?}"
        ));
    }
    Ok(())
}
