//! Complete answers: recorded `Message` bodies as SCRI responses.

use aratta_guest::{
    AdapterError, ChatResponse, ContentBlock, FinishReason, MismatchKind, Reasoning, ToolCall,
    Usage,
};

use super::{fixture, mismatch};
use crate::response::{chat_response, finish_reason};

fn parse(name: &str) -> ChatResponse {
    chat_response(fixture(name).as_bytes(), "requested-model", "msg_fallback").unwrap()
}

fn usage(input: u32, output: u32) -> Usage {
    Usage {
        input_tokens: Some(input),
        output_tokens: Some(output),
        cache_read_tokens: None,
        cache_write_tokens: None,
        reasoning_tokens: None,
    }
}

#[test]
fn text_answer() {
    assert_eq!(
        parse("message.json"),
        ChatResponse {
            id: "msg_013Zva2CMHLNnXjNJJKqJ2EF".into(),
            model: "claude-sonnet-4-5-20250929".into(),
            content: vec![ContentBlock::Text("Hi! My name is Claude.".into())],
            finish_reason: FinishReason::Stop,
            usage: Some(usage(2095, 503)),
        }
    );
}

#[test]
fn tool_use_keeps_the_input_text_exactly() {
    let answer = parse("tool_use.json");
    assert_eq!(answer.finish_reason, FinishReason::ToolCalls);
    assert_eq!(
        answer.content,
        vec![
            ContentBlock::Text("I'll check the current weather in San Francisco for you.".into()),
            ContentBlock::ToolUse(ToolCall {
                id: "toolu_01A09q90qw90lq917835lq9".into(),
                name: "get_weather".into(),
                arguments: r#"{"location": "San Francisco, CA", "unit": "celsius"}"#.into(),
                signature: None,
            }),
        ]
    );
    assert_eq!(
        answer.usage,
        Some(Usage {
            cache_read_tokens: Some(0),
            cache_write_tokens: Some(0),
            ..usage(472, 89)
        })
    );
}

#[test]
fn parallel_tool_calls_in_order() {
    let answer = parse("parallel_tool_use.json");
    let calls: Vec<(&str, &str)> = answer
        .content
        .iter()
        .filter_map(|b| match b {
            ContentBlock::ToolUse(c) => Some((c.id.as_str(), c.arguments.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        calls,
        [
            ("toolu_01WeatherSF", r#"{"location": "San Francisco, CA"}"#),
            ("toolu_01TimeSF", r#"{"timezone": "America/Los_Angeles"}"#),
        ]
    );
}

#[test]
fn thinking_with_signature_and_reasoning_tokens() {
    let answer = parse("thinking.json");
    assert_eq!(
        answer.content[0],
        ContentBlock::Reasoning(Reasoning {
            text: "The user wants to know the current weather in Paris. I have access to a function `get_weather`...".into(),
            signature: Some("BDaL4VrbR2Oj0hO4XpJxT28J5TILnCrrUXoKiiNBZW9P+nr8XSj1zuZzAl4egiCCpQNvfyUuFFJP5CncdYZEQPPmLxYsNrcs....".into()),
            redacted: None,
            format: Some("anthropic".into()),
        })
    );
    assert!(matches!(&answer.content[2], ContentBlock::ToolUse(c)
        if c.arguments.contains("\"location\": \"Paris\"")));
    assert_eq!(answer.usage.unwrap().reasoning_tokens, Some(96));
}

#[test]
fn redacted_thinking_is_kept_opaque() {
    let answer = parse("redacted_thinking.json");
    let ContentBlock::Reasoning(r) = &answer.content[1] else {
        panic!("{:?}", answer.content)
    };
    assert_eq!(r.text, "");
    assert_eq!(r.signature, None);
    assert!(
        r.redacted
            .as_deref()
            .unwrap()
            .starts_with("EmwKAhgBEgy3va3pzix")
    );
    assert_eq!(r.format.as_deref(), Some("anthropic"));
    assert_eq!(answer.content.len(), 3);
}

#[test]
fn cached_tokens_count_as_input() {
    assert_eq!(
        parse("cache_usage.json").usage,
        Some(Usage {
            // 21 uncached + 0 written + 188086 read.
            input_tokens: Some(188_107),
            output_tokens: Some(393),
            cache_read_tokens: Some(188_086),
            cache_write_tokens: Some(0),
            reasoning_tokens: None,
        })
    );
}

#[test]
fn unknown_fields_and_block_types_are_tolerated() {
    let answer = parse("unknown_field.json");
    assert_eq!(
        answer.content,
        vec![ContentBlock::Text("It is sunny in New York City.".into())]
    );
    assert_eq!(answer.finish_reason, FinishReason::Stop);
}

#[test]
fn a_renamed_required_field_is_a_schema_mismatch_with_its_path() {
    let body = fixture("renamed_field.json");
    let m = mismatch(chat_response(body.as_bytes(), "m", "id").unwrap_err());
    assert_eq!(m.kind, MismatchKind::MissingField);
    assert_eq!(m.path, "content");
    assert_eq!(m.detail.body.as_deref(), Some(body.as_str()));

    let body = fixture("renamed_block_field.json");
    let m = mismatch(chat_response(body.as_bytes(), "m", "id").unwrap_err());
    assert_eq!(m.path, "content[0].id");
    assert_eq!(m.detail.body.as_deref(), Some(body.as_str()));
}

#[test]
fn wrong_types_and_non_json_are_schema_mismatches() {
    let m = mismatch(
        chat_response(br#"{"content":[{"type":"text","text":42}]}"#, "m", "id").unwrap_err(),
    );
    assert_eq!(m.path, "content[0].text");
    let m = mismatch(
        chat_response(
            br#"{"content":[],"usage":{"input_tokens":"many"}}"#,
            "m",
            "id",
        )
        .unwrap_err(),
    );
    assert_eq!(m.path, "usage.input_tokens");
    assert!(matches!(
        chat_response(b"<html>502 Bad Gateway</html>", "m", "id"),
        Err(AdapterError::SchemaMismatch(_))
    ));
}

#[test]
fn missing_id_and_model_fall_back() {
    let answer = chat_response(
        br#"{"content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn"}"#,
        "claude-x",
        "msg_aratta_req1",
    )
    .unwrap();
    assert_eq!(answer.id, "msg_aratta_req1");
    assert_eq!(answer.model, "claude-x");
    assert_eq!(answer.usage, None);
}

#[test]
fn an_error_envelope_in_a_200_is_an_error() {
    let err = chat_response(fixture("error_529.json").as_bytes(), "m", "id").unwrap_err();
    assert!(matches!(err, AdapterError::Overloaded(_)), "{err:?}");
}

#[test]
fn stop_reasons() {
    let cases = [
        (Some("end_turn"), FinishReason::Stop),
        (Some("stop_sequence"), FinishReason::Stop),
        (Some("max_tokens"), FinishReason::Length),
        (Some("model_context_window_exceeded"), FinishReason::Length),
        (Some("tool_use"), FinishReason::ToolCalls),
        (Some("refusal"), FinishReason::ContentFilter),
        (
            Some("pause_turn"),
            FinishReason::Unknown("pause_turn".into()),
        ),
        (Some("brand_new"), FinishReason::Unknown("brand_new".into())),
        (None, FinishReason::Unknown(String::new())),
    ];
    for (raw, expected) in cases {
        assert_eq!(finish_reason(raw, false), expected, "{raw:?}");
    }
    assert_eq!(finish_reason(None, true), FinishReason::ToolCalls);
}
