use super::{fallbacks, fixture};
use crate::response::{chat_response, embedding_response, finish_reason, models};
use aratta_guest::{AdapterError, ContentBlock, FinishReason, MismatchKind, ToolCall, Usage};

fn mismatch(err: AdapterError) -> aratta_guest::SchemaMismatch {
    match err {
        AdapterError::SchemaMismatch(m) => m,
        other => panic!("expected schema-mismatch, got {other:?}"),
    }
}

#[test]
fn openai_text_answer() {
    let r = chat_response(fixture!("openai_chat.json").as_bytes(), &fallbacks()).unwrap();
    assert_eq!(r.id, "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT");
    assert_eq!(r.model, "gpt-4.1-2025-04-14");
    assert_eq!(
        r.content,
        vec![ContentBlock::Text(
            "Hello! How can I assist you today?".into()
        )]
    );
    assert_eq!(r.finish_reason, FinishReason::Stop);
    assert_eq!(
        r.usage,
        Some(Usage {
            input_tokens: Some(19),
            output_tokens: Some(10),
            cache_read_tokens: Some(4),
            cache_write_tokens: None,
            reasoning_tokens: Some(2),
        })
    );
}

#[test]
fn openai_parallel_tool_calls() {
    let r = chat_response(fixture!("openai_tool_calls.json").as_bytes(), &fallbacks()).unwrap();
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    assert_eq!(
        r.content,
        vec![
            ContentBlock::ToolUse(ToolCall {
                id: "call_abc123".into(),
                name: "get_current_weather".into(),
                arguments: "{\n\"location\": \"Boston, MA\"\n}".into(),
                signature: None,
            }),
            ContentBlock::ToolUse(ToolCall {
                id: "call_def456".into(),
                name: "get_current_weather".into(),
                arguments: "{\"location\": \"Paris\"}".into(),
                signature: None,
            }),
        ]
    );
}

#[test]
fn ollama_reasoning_field_comes_first() {
    let r = chat_response(
        fixture!("ollama_chat_reasoning.json").as_bytes(),
        &fallbacks(),
    )
    .unwrap();
    let ContentBlock::Reasoning(reasoning) = &r.content[0] else {
        panic!("reasoning first: {:?}", r.content)
    };
    assert!(reasoning.text.starts_with("The user wants 17 times 23"));
    assert_eq!(r.content[1], ContentBlock::Text("17 × 23 = 391.".into()));
}

#[test]
fn ollama_object_arguments_missing_id_and_stop_after_tools() {
    let r = chat_response(
        fixture!("ollama_tool_object_args.json").as_bytes(),
        &fallbacks(),
    )
    .unwrap();
    assert_eq!(
        r.content.len(),
        1,
        "empty content adds no text block: {:?}",
        r.content
    );
    let ContentBlock::ToolUse(call) = &r.content[0] else {
        panic!()
    };
    assert_eq!(call.id, "call_req0001abcd_0");
    let args: serde_json::Value = serde_json::from_str(&call.arguments).unwrap();
    assert_eq!(
        args,
        serde_json::json!({"location": "Paris", "unit": "celsius"})
    );
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
}

#[test]
fn vllm_reasoning_content_and_tool_ids() {
    let r = chat_response(
        fixture!("vllm_chat_reasoning.json").as_bytes(),
        &fallbacks(),
    )
    .unwrap();
    assert!(
        matches!(&r.content[0], ContentBlock::Reasoning(x) if x.text == "Need the weather; call the tool.")
    );
    assert!(
        matches!(&r.content[1], ContentBlock::ToolUse(c) if c.id == "chatcmpl-tool-6ac0a2b1f2")
    );
    assert_eq!(r.usage.unwrap().input_tokens, Some(210));
}

#[test]
fn llamacpp_prefers_usage_over_timings() {
    let r = chat_response(fixture!("llamacpp_chat.json").as_bytes(), &fallbacks()).unwrap();
    assert_eq!(r.usage.as_ref().unwrap().input_tokens, Some(75));
    assert_eq!(r.content.len(), 2);
}

#[test]
fn llamacpp_timings_stand_in_for_usage() {
    let r = chat_response(
        fixture!("llamacpp_chat_timings_only.json").as_bytes(),
        &fallbacks(),
    )
    .unwrap();
    assert_eq!(
        r.usage,
        Some(Usage {
            input_tokens: Some(42),
            output_tokens: Some(3),
            cache_read_tokens: Some(12),
            cache_write_tokens: None,
            reasoning_tokens: None,
        })
    );
    assert_eq!(r.finish_reason, FinishReason::Length);
}

#[test]
fn missing_choices_is_a_schema_mismatch_with_the_body() {
    let body = fixture!("missing_choices.json");
    let m = mismatch(chat_response(body.as_bytes(), &fallbacks()).unwrap_err());
    assert_eq!(m.kind, MismatchKind::MissingField);
    assert_eq!(m.path, "choices");
    assert!(m.detail.body.unwrap().contains("output_text"));
}

#[test]
fn other_missing_pieces_name_their_path() {
    let path =
        |body: &str| mismatch(chat_response(body.as_bytes(), &fallbacks()).unwrap_err()).path;
    assert_eq!(path(r#"{"choices":[]}"#), "choices[0]");
    assert_eq!(
        path(r#"{"choices":[{"finish_reason":"stop"}]}"#),
        "choices[0].message"
    );
    assert_eq!(
        path(r#"{"choices":[{"message":{"role":"assistant"}}]}"#),
        "choices[0].message.content"
    );
    assert_eq!(
        path(
            r#"{"choices":[{"message":{"content":null,"tool_calls":[{"id":"a","function":{"arguments":"{}"}}]}}]}"#
        ),
        "choices[0].message.tool_calls[0].function.name"
    );
    assert_eq!(path(r#"{"choices":"nope"}"#), "choices");
    assert_eq!(
        path(r#"{"choices":[{"message":{"content":{"weird":1}}}]}"#),
        "choices[0].message.content"
    );
}

#[test]
fn not_json_is_reported_not_panicked() {
    let m = mismatch(chat_response(b"<html>502 Bad Gateway</html>", &fallbacks()).unwrap_err());
    assert!(
        m.detail.message.contains("not JSON"),
        "{}",
        m.detail.message
    );
    assert_eq!(
        m.detail.body.as_deref(),
        Some("<html>502 Bad Gateway</html>")
    );
}

#[test]
fn null_content_without_tools_is_an_empty_answer_not_an_error() {
    let r = chat_response(
        br#"{"choices":[{"message":{"content":null},"finish_reason":"length"}]}"#,
        &fallbacks(),
    )
    .unwrap();
    assert!(r.content.is_empty());
    assert_eq!(r.id, "chatcmpl-req-0001-abcd");
    assert_eq!(r.model, "requested-model");
}

#[test]
fn errors_inside_a_200_body_are_classified() {
    let err = chat_response(
        br#"{"error":{"message":"slow down","code":429}}"#,
        &fallbacks(),
    )
    .unwrap_err();
    assert!(matches!(err, AdapterError::RateLimited(_)), "{err:?}");
    let err = chat_response(
        br#"{"object":"error","message":"bad","type":"BadRequestError","code":400}"#,
        &fallbacks(),
    )
    .unwrap_err();
    assert!(matches!(err, AdapterError::InvalidRequest(_)), "{err:?}");
    let err = chat_response(br#"{"error":{"message":"boom"}}"#, &fallbacks()).unwrap_err();
    assert!(
        matches!(&err, AdapterError::Upstream(d) if d.message.contains("boom")),
        "{err:?}"
    );
}

#[test]
fn finish_reasons() {
    assert_eq!(finish_reason(Some("stop"), false), FinishReason::Stop);
    assert_eq!(finish_reason(Some("stop"), true), FinishReason::ToolCalls);
    assert_eq!(finish_reason(Some("length"), true), FinishReason::Length);
    assert_eq!(
        finish_reason(Some("tool_calls"), false),
        FinishReason::ToolCalls
    );
    assert_eq!(
        finish_reason(Some("function_call"), false),
        FinishReason::ToolCalls
    );
    assert_eq!(
        finish_reason(Some("content_filter"), false),
        FinishReason::ContentFilter
    );
    assert_eq!(
        finish_reason(Some("recitation"), false),
        FinishReason::Unknown("recitation".into())
    );
    assert_eq!(
        finish_reason(None, false),
        FinishReason::Unknown(String::new())
    );
}

#[test]
fn embeddings_in_input_order() {
    // OpenAI's shape, answered out of order.
    let body = br#"{"object":"list","data":[{"object":"embedding","index":1,"embedding":[0.5,-1]},{"object":"embedding","index":0,"embedding":[0.25,2]}],"model":"nomic-embed-text","usage":{"prompt_tokens":8,"total_tokens":8}}"#;
    let r = embedding_response(body, 2, "fallback").unwrap();
    assert_eq!(r.embeddings, vec![vec![0.25, 2.0], vec![0.5, -1.0]]);
    assert_eq!(r.model, "nomic-embed-text");
    assert_eq!(r.usage.unwrap().input_tokens, Some(8));
}

#[test]
fn embeddings_in_base64_are_decoded() {
    // [1.0, -2.0] as little-endian f32.
    let body = br#"{"data":[{"index":0,"embedding":"AACAPwAAAMA="}]}"#;
    assert_eq!(
        embedding_response(body, 1, "m").unwrap().embeddings,
        vec![vec![1.0, -2.0]]
    );
}

#[test]
fn embedding_drift_is_reported() {
    let m = mismatch(
        embedding_response(br#"{"data":[{"index":0,"embedding":[1]}]}"#, 2, "m").unwrap_err(),
    );
    assert_eq!(m.path, "data[1]");
    // llama.cpp without pooling: one vector per token.
    let m = mismatch(
        embedding_response(br#"{"data":[{"index":0,"embedding":[[1],[2]]}]}"#, 1, "m").unwrap_err(),
    );
    assert!(
        m.detail.message.contains("--pooling"),
        "{}",
        m.detail.message
    );
    let m = mismatch(embedding_response(br#"{"object":"list"}"#, 1, "m").unwrap_err());
    assert_eq!(m.path, "data");
    let m = mismatch(
        embedding_response(br#"{"data":[{"index":5,"embedding":[1]}]}"#, 1, "m").unwrap_err(),
    );
    assert_eq!(m.path, "data[0].index");
}

#[test]
fn model_lists_from_each_server() {
    // Ollama.
    let list = models(br#"{"object":"list","data":[{"id":"llama3.2:latest","object":"model","created":1731000000,"owned_by":"library"}]}"#).unwrap();
    assert_eq!(list[0].id, "llama3.2:latest");
    assert_eq!(list[0].owned_by.as_deref(), Some("library"));
    assert_eq!(list[0].created, Some(1731000000));
    assert!(list[0].capabilities.streaming);
    // Ollama with nothing pulled.
    assert!(
        models(br#"{"object":"list","data":null}"#)
            .unwrap()
            .is_empty()
    );
    // llama.cpp.
    let list = models(br#"{"models":[{"name":"m.gguf"}],"object":"list","data":[{"id":"m.gguf","object":"model","created":1758108431,"owned_by":"llamacpp","meta":{"vocab_type":2,"n_vocab":262144,"n_ctx_train":32768,"n_embd":1152,"n_params":999885952,"size":1000000}}]}"#).unwrap();
    assert_eq!(list[0].capabilities.context_window, Some(32768));
    // vLLM.
    let list = models(br#"{"object":"list","data":[{"id":"Qwen/Qwen3-8B","object":"model","created":1760000000,"owned_by":"vllm","root":"Qwen/Qwen3-8B","parent":null,"max_model_len":40960,"permission":[]}]}"#).unwrap();
    assert_eq!(list[0].capabilities.context_window, Some(40960));
    // Drift.
    assert_eq!(
        mismatch(models(br#"{"object":"list"}"#).unwrap_err()).path,
        "data"
    );
    assert_eq!(
        mismatch(models(br#"{"data":[{"object":"model"}]}"#).unwrap_err()).path,
        "data[0]"
    );
}

fn usage_of(json: &str) -> Usage {
    let wire: crate::wire::WireUsage = serde_json::from_str(json).unwrap();
    crate::response::usage(Some(&wire), None).unwrap()
}

#[test]
fn openai_counts_reasoning_inside_completion_tokens() {
    // OpenAI: total = prompt + completion, and completion already holds the reasoning.
    let u = usage_of(
        r#"{"prompt_tokens":1117,"completion_tokens":46,"total_tokens":1163,
            "prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},
            "completion_tokens_details":{"reasoning_tokens":32,"audio_tokens":0,
              "accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}"#,
    );
    assert_eq!(
        (
            u.input_tokens,
            u.output_tokens,
            u.cache_read_tokens,
            u.reasoning_tokens
        ),
        (Some(1117), Some(46), Some(1024), Some(32))
    );
}

#[test]
fn xai_reasoning_outside_completion_tokens_is_added_back() {
    // xAI: total = prompt + completion + reasoning.
    let u = usage_of(
        r#"{"completion_tokens":50,"completion_tokens_details":{"reasoning_tokens":124},
            "prompt_tokens":663,"prompt_tokens_details":{"cached_tokens":654,"text_tokens":663},
            "total_tokens":837,"num_sources_used":0}"#,
    );
    assert_eq!(
        (
            u.input_tokens,
            u.output_tokens,
            u.cache_read_tokens,
            u.reasoning_tokens
        ),
        (Some(663), Some(174), Some(654), Some(124))
    );
}

#[test]
fn cached_tokens_beyond_the_prompt_count_are_added_to_it() {
    let u = usage_of(
        r#"{"prompt_tokens":4142,"completion_tokens":254,"total_tokens":8724,
            "prompt_tokens_details":{"cached_tokens":4328}}"#,
    );
    assert_eq!((u.input_tokens, u.output_tokens), (Some(8470), Some(254)));
    // Without a total the count is taken as OpenAI's.
    let u = usage_of(
        r#"{"prompt_tokens":10,"completion_tokens":5,"completion_tokens_details":{"reasoning_tokens":3}}"#,
    );
    assert_eq!(u.output_tokens, Some(5));
}

#[test]
fn cited_sources_follow_the_answer() {
    // OpenAI search models annotate the message; xAI (live search) and Perplexity list
    // `citations` at the top level.
    let body = br#"{"id":"c","model":"gpt-4o-search-preview","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Paris is sunny.","annotations":[{"type":"url_citation","url_citation":{"end_index":15,"start_index":0,"title":"Weather","url":"https://weather.example/paris"}}]}}],"citations":["https://x.ai/news"]}"#;
    let r = chat_response(body, &fallbacks()).unwrap();
    assert_eq!(
        r.content,
        vec![
            ContentBlock::Text("Paris is sunny.".into()),
            ContentBlock::Text(
                "\n\nSources:\n- https://weather.example/paris\n- https://x.ai/news\n".into()
            ),
        ]
    );
}
