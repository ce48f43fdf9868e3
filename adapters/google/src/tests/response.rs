//! Complete answers: recorded `generateContent` bodies → SCRI responses.

use super::{call, fallbacks, fixture, reasoning};
use crate::response::{chat_response, is_generated_call_id};
use aratta_guest::{AdapterError, ContentBlock, FinishReason, MismatchKind, Usage};

fn parse(body: &str) -> Result<aratta_guest::ChatResponse, AdapterError> {
    chat_response(body.as_bytes(), &fallbacks())
}

#[test]
fn text_with_signature_usage_and_ids() {
    let r = parse(fixture!("chat.json")).unwrap();
    assert_eq!(r.id, "m91NaoKoNe2_vr0P3vX0iAY");
    assert_eq!(r.model, "gemini-2.5-flash");
    assert_eq!(
        r.content,
        vec![
            ContentBlock::Text("The capital of France is Paris.".into()),
            reasoning(
                "",
                Some("EuIOCt8OAdHtim9fuX3rU1Ypkz0eCHsBjL2/xwdHdqeVWgCdLk7yVxcG"),
                Some("google")
            ),
        ]
    );
    assert_eq!(r.finish_reason, FinishReason::Stop);
    assert_eq!(
        r.usage,
        Some(Usage {
            input_tokens: Some(4210),
            // Visible output plus thinking: SCRI output tokens include reasoning.
            output_tokens: Some(8 + 258),
            cache_read_tokens: Some(4096),
            cache_write_tokens: None,
            reasoning_tokens: Some(258),
        })
    );
}

#[test]
fn thought_parts_become_reasoning() {
    let r = parse(fixture!("chat_thoughts.json")).unwrap();
    assert_eq!(
        r.content,
        vec![
            reasoning(
                "**Evaluating the sum**\n\nThe user asks for 17 * 23. 17 * 20 = 340, 17 * 3 = 51, so 391.\n",
                None,
                Some("google")
            ),
            ContentBlock::Text("17 × 23 = 391.".into()),
            reasoning(
                "",
                Some("CiQB0e2Kb3dRh+BwyqtClX8MVtv+9ZGRhzMyKgS2Tl9bG1sZvJgKXQHR7Ypv"),
                Some("google")
            ),
        ]
    );
    assert_eq!(r.usage.unwrap().reasoning_tokens, Some(164));
}

#[test]
fn a_function_call_gets_an_id_and_keeps_its_signature() {
    let r = parse(fixture!("function_call.json")).unwrap();
    assert_eq!(
        r.content,
        vec![call(
            "call_req0001abcd_0",
            "get_weather",
            r#"{"location":"Paris, France","unit":"celsius"}"#,
            Some("EpwCCpkCAdHtim+qV0cH7xRpP4yZb0wQnBvGk2uVv3Z9lR4tUaTQp1sYp")
        )]
    );
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
}

#[test]
fn parallel_calls_only_the_first_is_signed() {
    let r = parse(fixture!("parallel_function_calls.json")).unwrap();
    assert_eq!(
        r.content,
        vec![
            call(
                "call_req0001abcd_0",
                "get_weather",
                r#"{"location":"Paris"}"#,
                Some("Eq4DCqsDAdHtim8Z2m0xWkQ1f0bRkL3y4Yw6Lq9cTqHn0mZ8bq7ZbJm")
            ),
            call(
                "call_req0001abcd_1",
                "get_weather",
                r#"{"location":"London"}"#,
                None
            ),
        ]
    );
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
}

#[test]
fn gemini_call_ids_are_kept() {
    let body = r#"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"id":"8f2b1c","name":"f","args":{}}}]},"finishReason":"STOP"}]}"#;
    let r = parse(body).unwrap();
    assert_eq!(r.content, vec![call("8f2b1c", "f", "{}", None)]);
    // No responseId or modelVersion: the adapter's own.
    assert_eq!(r.id, "gemini-req-0001-abcd");
    assert_eq!(r.model, "gemini-requested");
}

#[test]
fn json_output_is_text() {
    let r = parse(fixture!("json_schema.json")).unwrap();
    let ContentBlock::Text(text) = &r.content[0] else {
        panic!("not text")
    };
    let value: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(value["recipe_name"], "Chocolate Chip Cookies");
}

#[test]
fn a_blocked_prompt_is_an_empty_content_filter_answer() {
    let r = parse(fixture!("prompt_blocked.json")).unwrap();
    assert!(r.content.is_empty());
    assert_eq!(r.finish_reason, FinishReason::ContentFilter);
    assert_eq!(r.usage.unwrap().input_tokens, Some(31));
}

#[test]
fn finish_reasons() {
    let r = parse(fixture!("safety.json")).unwrap();
    assert_eq!(r.finish_reason, FinishReason::ContentFilter);
    assert!(r.content.is_empty());
    let r = parse(fixture!("malformed_function_call.json")).unwrap();
    assert_eq!(
        r.finish_reason,
        FinishReason::Unknown("MALFORMED_FUNCTION_CALL".into())
    );
    use crate::response::finish_reason;
    assert_eq!(
        finish_reason(Some("MAX_TOKENS"), false),
        FinishReason::Length
    );
    for raw in [
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
    ] {
        assert_eq!(
            finish_reason(Some(raw), false),
            FinishReason::ContentFilter,
            "{raw}"
        );
    }
    assert_eq!(
        finish_reason(Some("LANGUAGE"), false),
        FinishReason::Unknown("LANGUAGE".into())
    );
}

#[test]
fn unknown_new_fields_are_tolerated() {
    let r = parse(fixture!("unknown_field.json")).unwrap();
    assert_eq!(
        r.content,
        vec![ContentBlock::Text(
            "Hello! How can I help you today?".into()
        )]
    );
    assert_eq!(r.finish_reason, FinishReason::Stop);
}

#[test]
fn a_renamed_content_is_a_schema_mismatch_with_its_path() {
    let AdapterError::SchemaMismatch(m) = parse(fixture!("renamed_content.json")).unwrap_err()
    else {
        panic!("wrong case")
    };
    assert_eq!(m.kind, MismatchKind::MissingField);
    assert_eq!(m.path, "candidates[0].content");
    assert!(m.detail.body.unwrap().contains("\"contents\""));
}

#[test]
fn drift_elsewhere_is_reported_too() {
    let mismatch = |body: &str| match parse(body).unwrap_err() {
        AdapterError::SchemaMismatch(m) => (m.kind, m.path),
        other => panic!("wrong case: {other:?}"),
    };
    // A part whose only field was renamed.
    assert_eq!(
        mismatch(r#"{"candidates":[{"content":{"parts":[{"txt":"hi"}]},"finishReason":"STOP"}]}"#),
        (
            MismatchKind::UnknownField,
            "candidates[0].content.parts[0]".into()
        )
    );
    // A call without its name.
    assert_eq!(
        mismatch(r#"{"candidates":[{"content":{"parts":[{"functionCall":{"args":{}}}]},"finishReason":"STOP"}]}"#).1,
        "candidates[0].content.parts[0].functionCall.name"
    );
    // No candidates and no prompt feedback.
    assert_eq!(
        mismatch(r#"{"usageMetadata":{"promptTokenCount":1}}"#).1,
        "candidates[0]"
    );
    // A field of the wrong type.
    assert_eq!(
        mismatch(r#"{"candidates":[{"content":{"parts":[{"text":5}]}}]}"#).1,
        "candidates[0].content.parts[0].text"
    );
    // Not JSON.
    assert!(matches!(
        parse("<html>502</html>"),
        Err(AdapterError::SchemaMismatch(_))
    ));
}

#[test]
fn parts_without_a_scri_form_are_skipped_and_empty_signatures_ignored() {
    let body = r#"{"candidates":[{"content":{"parts":[
        {"executableCode":{"language":"PYTHON","code":"print(1)"}},
        {"codeExecutionResult":{"outcome":"OUTCOME_OK","output":"1\n"}},
        {"text":"It prints 1.","thoughtSignature":""}
    ]},"finishReason":"STOP"}]}"#;
    assert_eq!(
        parse(body).unwrap().content,
        vec![ContentBlock::Text("It prints 1.".into())]
    );
}

#[test]
fn an_error_in_a_200_body_is_classified() {
    let body =
        r#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#;
    assert!(matches!(parse(body), Err(AdapterError::Overloaded(_))));
}

#[test]
fn generated_ids_are_recognised() {
    assert!(is_generated_call_id("call_0"));
    assert!(is_generated_call_id("call_req0001abcd_12"));
    assert!(!is_generated_call_id("call_abc123XYZ"));
    assert!(!is_generated_call_id("toolu_01A09q90qw90lq917835lq9"));
    assert!(!is_generated_call_id("8f2b1c"));
    assert!(!is_generated_call_id("call_"));
}
