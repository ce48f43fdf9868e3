//! Reasoning over the OpenAI route. OpenAI's Chat Completions API has no field for it, so
//! this follows what OpenAI-compatible servers and routers do: plain text in
//! `reasoning_content`, and OpenRouter's structured `reasoning_details` array, whose entries
//! keep signatures and encrypted reasoning so a client can send them back on the next turn.
//!
//! | `reasoning_details` entry                      | SCRI                                    |
//! |------------------------------------------------|-----------------------------------------|
//! | `reasoning.text` {text, signature, format}     | `Reasoning { text, signature, format }` |
//! | `reasoning.summary` {summary, format}          | `Reasoning { text: summary, format }`   |
//! | `reasoning.encrypted` {data, format}           | `Reasoning { redacted: data, format }`  |
//! | `reasoning.encrypted` {id: a tool call's id}   | that `ToolCall.signature`               |
//!
//! The last row is how OpenRouter carries Gemini's thought signatures on function calls.
//! A call's signature is also written on the call itself, where Google's own
//! OpenAI-compatible endpoint puts it: `tool_calls[i].extra_content.google.thought_signature`
//! (in a stream, on the `tool_calls` delta that opens the call, next to its `id` and `name`).
//! Agent code that rebuilds the assistant turn from `tool_calls` alone keeps that field, and
//! it is read back from there too; when both forms are sent, `reasoning_details` wins.
//! Signatures, data and formats are copied byte for byte in both directions.

use serde_json::{Map, Value, json};

use crate::dialects::RequestError;
use crate::dialects::json::Obj;
use crate::scri::Reasoning;

/// What an assistant message's reasoning fields hold: reasoning blocks, in order, and
/// signatures that belong to tool calls (`(call id, signature)`).
#[derive(Debug, Default)]
pub(crate) struct Recovered {
    /// Reasoning blocks, to be placed before the message's text and tool calls.
    pub blocks: Vec<Reasoning>,
    /// Signatures addressed to tool calls by id.
    pub call_signatures: Vec<(String, String)>,
}

/// Read `reasoning_details` (preferred, it is lossless) or else `reasoning_content` /
/// `reasoning` (plain text) from an assistant message. `call_ids` are the ids of the
/// message's tool calls, so encrypted entries addressed to them become call signatures.
pub(crate) fn from_message(msg: &Obj, call_ids: &[&str]) -> Result<Recovered, RequestError> {
    let mut out = Recovered::default();
    if let Some(details) = msg.array("reasoning_details")? {
        let path = msg.field("reasoning_details");
        for (i, entry) in details.iter().enumerate() {
            let entry = Obj::new(entry, format!("{path}[{i}]"))?;
            read_detail(&entry, call_ids, &mut out)?;
        }
    }
    if out.blocks.is_empty() {
        let text = match msg.str("reasoning_content")? {
            Some(text) => Some(text),
            None => msg.str("reasoning")?,
        };
        if let Some(text) = text.filter(|t| !t.is_empty()) {
            out.blocks.push(Reasoning {
                text: text.to_owned(),
                ..Reasoning::default()
            });
        }
    }
    Ok(out)
}

fn read_detail(entry: &Obj, call_ids: &[&str], out: &mut Recovered) -> Result<(), RequestError> {
    let format = entry.str("format")?.map(str::to_owned);
    let block = match entry.req_str("type")? {
        "reasoning.text" => Reasoning {
            text: entry.str("text")?.unwrap_or_default().to_owned(),
            signature: entry.str("signature")?.map(str::to_owned),
            redacted: None,
            format,
        },
        "reasoning.summary" => Reasoning {
            text: entry.req_str("summary")?.to_owned(),
            signature: None,
            redacted: None,
            format,
        },
        "reasoning.encrypted" => {
            let data = entry.req_str("data")?.to_owned();
            if let Some(id) = entry.str("id")?.filter(|id| call_ids.contains(id)) {
                out.call_signatures.push((id.to_owned(), data));
                return Ok(());
            }
            Reasoning {
                text: entry.str("text")?.unwrap_or_default().to_owned(),
                signature: entry.str("signature")?.map(str::to_owned),
                redacted: Some(data),
                format,
            }
        }
        other => {
            return Err(RequestError::Invalid {
                param: entry.field("type"),
                reason: format!(
                    "unknown reasoning detail type `{other}`; expected `reasoning.text`, \
                     `reasoning.summary` or `reasoning.encrypted`"
                ),
            });
        }
    };
    out.blocks.push(block);
    Ok(())
}

/// The `reasoning_details` entry for one SCRI reasoning block at position `index`.
/// Redacted reasoning becomes `reasoning.encrypted`; visible text (and any signature)
/// rides along so the block comes back whole.
pub(crate) fn detail(block: &Reasoning, index: usize) -> Value {
    let mut entry = Map::new();
    match &block.redacted {
        Some(data) => {
            entry.insert("type".into(), json!("reasoning.encrypted"));
            entry.insert("data".into(), json!(data));
            if !block.text.is_empty() {
                entry.insert("text".into(), json!(block.text));
            }
        }
        None => {
            entry.insert("type".into(), json!("reasoning.text"));
            entry.insert("text".into(), json!(block.text));
        }
    }
    if let Some(signature) = &block.signature {
        entry.insert("signature".into(), json!(signature));
    }
    if let Some(format) = &block.format {
        entry.insert("format".into(), json!(format));
    }
    entry.insert("index".into(), json!(index));
    Value::Object(entry)
}

/// The `reasoning_details` entry carrying a tool call's signature (OpenRouter's form for
/// Gemini thought signatures): `reasoning.encrypted` whose `id` is the call's id.
pub(crate) fn call_signature(call_id: &str, signature: &str, index: usize) -> Value {
    json!({
        "type": "reasoning.encrypted",
        "id": call_id,
        "data": signature,
        "index": index,
    })
}

/// A tool call's `extra_content` carrying its signature, the shape Google's OpenAI-compatible
/// API writes on each signed call (`{"google": {"thought_signature": ...}}`).
pub(crate) fn call_extra_content(signature: &str) -> Value {
    json!({"google": {"thought_signature": signature}})
}

/// The signature in a tool call's `extra_content.google.thought_signature`, if it has one.
/// Anything else under `extra_content` is not Aratta's to interpret and is ignored.
pub(crate) fn call_signature_from_extra(call: &Obj) -> Option<String> {
    call.get("extra_content")
        .and_then(|v| v.pointer("/google/thought_signature"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recover(msg: Value, ids: &[&str]) -> Result<Recovered, RequestError> {
        from_message(&Obj::new(&msg, "messages[1]").unwrap(), ids)
    }

    #[test]
    fn details_become_blocks_with_signatures_intact() {
        let got = recover(
            json!({"role": "assistant", "reasoning_content": "ignored: details win",
                   "reasoning_details": [
                {"type": "reasoning.text", "text": "Let me think", "signature": "EqQBCkgIARAB+/=", "format": "anthropic-claude-v1", "index": 0},
                {"type": "reasoning.encrypted", "data": "gAAAAB==", "format": "openai-responses-v1", "index": 1},
                {"type": "reasoning.encrypted", "data": "CiQB", "id": "call_1", "format": "google-gemini-v1", "index": 2}
            ]}),
            &["call_1"],
        )
        .unwrap();
        assert_eq!(got.blocks.len(), 2);
        assert_eq!(got.blocks[0].text, "Let me think");
        assert_eq!(got.blocks[0].signature.as_deref(), Some("EqQBCkgIARAB+/="));
        assert_eq!(got.blocks[0].format.as_deref(), Some("anthropic-claude-v1"));
        assert_eq!(got.blocks[1].redacted.as_deref(), Some("gAAAAB=="));
        assert_eq!(got.call_signatures, vec![("call_1".into(), "CiQB".into())]);
    }

    #[test]
    fn plain_reasoning_content_is_one_block() {
        let got = recover(json!({"reasoning_content": "hmm"}), &[]).unwrap();
        assert_eq!(got.blocks.len(), 1);
        assert_eq!(got.blocks[0].text, "hmm");
        assert!(got.blocks[0].signature.is_none());
        let got = recover(json!({"reasoning": "openrouter style"}), &[]).unwrap();
        assert_eq!(got.blocks[0].text, "openrouter style");
    }

    #[test]
    fn unknown_detail_type_is_named() {
        let err = recover(
            json!({"reasoning_details": [{"type": "reasoning.mystery"}]}),
            &[],
        )
        .unwrap_err();
        assert_eq!(err.param(), Some("messages[1].reasoning_details[0].type"));
    }

    #[test]
    fn detail_round_trips_through_from_message() {
        let blocks = [
            Reasoning {
                text: "step".into(),
                signature: Some("sig==".into()),
                redacted: None,
                format: Some("anthropic".into()),
            },
            Reasoning {
                text: "summary".into(),
                signature: None,
                redacted: Some("opaque".into()),
                format: None,
            },
        ];
        let details: Vec<Value> = blocks
            .iter()
            .enumerate()
            .map(|(i, b)| detail(b, i))
            .collect();
        let got = recover(json!({"reasoning_details": details}), &[]).unwrap();
        for (a, b) in got.blocks.iter().zip(&blocks) {
            assert_eq!(
                (&a.text, &a.signature, &a.redacted, &a.format),
                (&b.text, &b.signature, &b.redacted, &b.format)
            );
        }
    }

    #[test]
    fn extra_content_is_googles_shape_and_reads_back() {
        let extra = call_extra_content("CiQB+/=");
        assert_eq!(extra, json!({"google": {"thought_signature": "CiQB+/="}}));
        let call = json!({"id": "call_1", "extra_content": extra});
        let call = Obj::new(&call, "messages[1].tool_calls[0]").unwrap();
        assert_eq!(call_signature_from_extra(&call).as_deref(), Some("CiQB+/="));
        let bare = json!({"id": "call_1", "extra_content": {"other": 1}});
        let bare = Obj::new(&bare, "messages[1].tool_calls[0]").unwrap();
        assert_eq!(call_signature_from_extra(&bare), None);
    }
}
