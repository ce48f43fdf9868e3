//! SCRI stream events from an input: a JSON array of events when it is one (the corpus holds
//! real streams), otherwise events built by `arbitrary` from the bytes, so every input is a
//! stream an adapter could produce.

use aratta_host::scri::{ApiErrorBody, Attempt, FinishReason, Lineage, StreamEvent, Usage};
use arbitrary::{Result, Unstructured};

use super::dict::EVENTS;
use crate::generate;

/// At most this many events per input: enough for every encoder state, short enough to run fast.
const MAX_EVENTS: usize = 64;

/// The events `input` stands for.
pub fn from_input(input: &[u8]) -> Vec<StreamEvent> {
    if let Ok(events) = serde_json::from_slice::<Vec<StreamEvent>>(input) {
        return events;
    }
    let mut u = Unstructured::new(input);
    let mut events = Vec::new();
    while !u.is_empty() && events.len() < MAX_EVENTS {
        match event(&mut u) {
            Ok(e) => events.push(e),
            Err(_) => break,
        }
    }
    events
}

fn text(u: &mut Unstructured) -> Result<String> {
    generate::string(u, EVENTS)
}

fn opt_text(u: &mut Unstructured) -> Result<Option<String>> {
    Ok(if u.arbitrary()? { Some(text(u)?) } else { None })
}

fn event(u: &mut Unstructured) -> Result<StreamEvent> {
    Ok(match u.int_in_range(0..=9u8)? {
        0 => StreamEvent::Start {
            id: text(u)?,
            model: text(u)?,
        },
        1 | 2 => StreamEvent::TextDelta { text: text(u)? },
        3 => StreamEvent::ReasoningDelta {
            text: text(u)?,
            signature: opt_text(u)?,
            redacted: opt_text(u)?,
            format: opt_text(u)?,
        },
        4 => StreamEvent::ToolCallStart {
            index: small_index(u)?,
            id: text(u)?,
            name: text(u)?,
            signature: opt_text(u)?,
        },
        5 | 6 => StreamEvent::ToolCallDelta {
            index: small_index(u)?,
            arguments: text(u)?,
        },
        7 => StreamEvent::Usage { usage: usage(u)? },
        8 => StreamEvent::Stop {
            finish_reason: u
                .choose(&[
                    FinishReason::Stop,
                    FinishReason::Length,
                    FinishReason::ToolCalls,
                    FinishReason::ContentFilter,
                    FinishReason::Unknown,
                ])?
                .clone(),
            finish_reason_raw: opt_text(u)?,
            lineage: lineage(u)?,
        },
        _ => StreamEvent::Error { error: error(u)? },
    })
}

/// Mostly small (real streams count from 0), sometimes anything.
fn small_index(u: &mut Unstructured) -> Result<u32> {
    if u.ratio(7u8, 8u8)? {
        u.int_in_range(0..=4)
    } else {
        u.arbitrary()
    }
}

fn usage(u: &mut Unstructured) -> Result<Usage> {
    Ok(Usage {
        input_tokens: u.arbitrary()?,
        output_tokens: u.arbitrary()?,
        cache_read_tokens: u.arbitrary()?,
        cache_write_tokens: u.arbitrary()?,
        reasoning_tokens: u.arbitrary()?,
    })
}

fn lineage(u: &mut Unstructured) -> Result<Lineage> {
    Ok(Lineage {
        provider: text(u)?,
        model: text(u)?,
        adapter: text(u)?,
        adapter_version: text(u)?,
        latency_us: u.arbitrary()?,
        request_id: text(u)?,
        attempts: vec![Attempt {
            provider: text(u)?,
            model: text(u)?,
            outcome: text(u)?,
            latency_us: u.arbitrary()?,
        }],
    })
}

fn error(u: &mut Unstructured) -> Result<ApiErrorBody> {
    Ok(ApiErrorBody {
        message: text(u)?,
        kind: text(u)?,
        param: opt_text(u)?,
        code: opt_text(u)?,
        provider: opt_text(u)?,
        upstream_status: u.arbitrary()?,
    })
}
