//! Thought signatures across turns: an answer (complete or streamed) goes back as the next
//! request's history, and every signature must land on the part type it came on.

use serde_json::{Value, json};

use super::{blocks, events_in_all_chunkings, fallbacks, fixture, reasoning, request, text};
use crate::request::chat_body;
use crate::response::chat_response;
use aratta_guest::{ContentBlock, Role, StreamEvent, ToolCall, ToolResult, ToolResultPart};

/// The `model` content sent back for `content` after a user prompt.
fn sent_back(content: Vec<ContentBlock>) -> Value {
    let req = request(vec![
        text(Role::User, "prompt"),
        blocks(Role::Assistant, content),
        text(Role::User, "next"),
    ]);
    chat_body(&req).unwrap()["contents"][1]["parts"].clone()
}

/// Blocks the way a client accumulates stream events: deltas extend the block of their kind
/// when it is the last one; a signature closes a reasoning block.
fn accumulate(events: Vec<StreamEvent>) -> Vec<ContentBlock> {
    let mut out: Vec<ContentBlock> = Vec::new();
    for event in events {
        match event {
            StreamEvent::TextDelta(t) => match out.last_mut() {
                Some(ContentBlock::Text(last)) => last.push_str(&t),
                _ => out.push(ContentBlock::Text(t)),
            },
            StreamEvent::ReasoningDelta(d) => match out.last_mut() {
                Some(ContentBlock::Reasoning(last)) if last.signature.is_none() => {
                    last.text.push_str(&d.text);
                    last.signature = d.signature;
                }
                _ => out.push(reasoning(&d.text, d.signature.as_deref(), None)),
            },
            StreamEvent::ToolCallStart(s) => out.push(ContentBlock::ToolUse(ToolCall {
                id: s.id,
                name: s.name,
                arguments: String::new(),
                signature: s.signature,
            })),
            StreamEvent::ToolCallDelta(d) => {
                if let Some(ContentBlock::ToolUse(call)) = out.last_mut() {
                    call.arguments.push_str(&d.arguments);
                }
            }
            _ => {}
        }
    }
    out
}

#[test]
fn a_signed_text_part_goes_back_signed() {
    let answer = chat_response(fixture!("chat.json").as_bytes(), &fallbacks()).unwrap();
    assert_eq!(
        sent_back(answer.content),
        json!([{"text": "The capital of France is Paris.", "thoughtSignature": "EuIOCt8OAdHtim9fuX3rU1Ypkz0eCHsBjL2/xwdHdqeVWgCdLk7yVxcG"}])
    );
}

#[test]
fn thoughts_and_signed_text_go_back_as_they_came() {
    let answer = chat_response(fixture!("chat_thoughts.json").as_bytes(), &fallbacks()).unwrap();
    assert_eq!(
        sent_back(answer.content),
        json!([
            {"text": "**Evaluating the sum**\n\nThe user asks for 17 * 23. 17 * 20 = 340, 17 * 3 = 51, so 391.\n", "thought": true},
            {"text": "17 × 23 = 391.", "thoughtSignature": "CiQB0e2Kb3dRh+BwyqtClX8MVtv+9ZGRhzMyKgS2Tl9bG1sZvJgKXQHR7Ypv"}
        ])
    );
}

#[test]
fn streamed_answers_go_back_with_their_signatures() {
    let events = events_in_all_chunkings(fixture!("stream_text.sse"));
    assert_eq!(
        sent_back(accumulate(events)),
        json!([{"text": "The capital of France is Paris.", "thoughtSignature": "EvwjCvkjAXLI2nyUmA16xmPM/6gOhK7zEIpfhQDSpcMQ"}])
    );
    let events = events_in_all_chunkings(fixture!("stream_thoughts.sse"));
    assert_eq!(
        sent_back(accumulate(events)),
        json!([
            {"text": "**Evaluating the product**\n\nI need 17 * 23. 17 * 20 = 340 and 17 * 3 = 51, so 391.\n", "thought": true},
            {"text": "17 × 23 = ", "thoughtSignature": "CiQB0e2Kb3dRh+BwyqtClX8MVtv+9ZGRhzMyKgS2Tl9bG1sZvJgKXQHR7Ypv"},
            {"text": "391."}
        ])
    );
}

#[test]
fn reasoning_moved_ahead_of_the_text_still_lands_on_the_text() {
    // The OpenAI route returns `reasoning_details` ahead of the message content.
    let content = vec![
        reasoning("thinking", None, None),
        reasoning("", Some("sig-text"), None),
        ContentBlock::Text("answer".into()),
    ];
    assert_eq!(
        sent_back(content),
        json!([
            {"text": "thinking", "thought": true},
            {"text": "answer", "thoughtSignature": "sig-text"}
        ])
    );
    // A signature with no text beside it goes back the way it came: on an empty text part.
    assert_eq!(
        sent_back(vec![reasoning("", Some("lone"), Some("google"))]),
        json!([{"text": "", "thoughtSignature": "lone"}])
    );
    // A signed thought keeps its signature on the thought part.
    assert_eq!(
        sent_back(vec![
            reasoning("t", Some("s"), Some("google")),
            ContentBlock::Text("a".into())
        ]),
        json!([{"text": "t", "thought": true, "thoughtSignature": "s"}, {"text": "a"}])
    );
}

#[test]
fn call_signatures_survive_a_tool_loop() {
    for answer in [
        chat_response(
            fixture!("parallel_function_calls.json").as_bytes(),
            &fallbacks(),
        )
        .unwrap()
        .content,
        accumulate(events_in_all_chunkings(fixture!(
            "stream_function_calls.sse"
        ))),
    ] {
        let results: Vec<ContentBlock> = answer
            .iter()
            .map(|b| {
                let ContentBlock::ToolUse(call) = b else {
                    panic!("not a call")
                };
                ContentBlock::ToolResult(ToolResult {
                    tool_call_id: call.id.clone(),
                    name: None,
                    content: vec![ToolResultPart::Text("20C".into())],
                    is_error: false,
                })
            })
            .collect();
        let req = request(vec![
            text(Role::User, "Weather in Paris and London?"),
            blocks(Role::Assistant, answer),
            blocks(Role::Tool, results),
        ]);
        let contents = chat_body(&req).unwrap()["contents"].clone();
        assert_eq!(
            contents[1]["parts"],
            json!([
                {"functionCall": {"name": "get_weather", "args": {"location": "Paris"}}, "thoughtSignature": "Eq4DCqsDAdHtim8Z2m0xWkQ1f0bRkL3y4Yw6Lq9cTqHn0mZ8bq7ZbJm"},
                {"functionCall": {"name": "get_weather", "args": {"location": "London"}}}
            ])
        );
        assert_eq!(
            contents[2]["parts"],
            json!([
                {"functionResponse": {"name": "get_weather", "response": {"output": "20C"}}},
                {"functionResponse": {"name": "get_weather", "response": {"output": "20C"}}}
            ])
        );
    }
}
