//! Model lists and their capabilities.

use aratta_guest::{AdapterError, ModelCapabilities, ModelInfo};

use super::{fixture, mismatch};
use crate::models::{page, page_path, thinks_by_id, unix_seconds};

#[test]
fn first_page_with_capabilities_and_a_cursor() {
    let first = page(fixture("models.json").as_bytes()).unwrap();
    assert_eq!(first.next.as_deref(), Some("claude-sonnet-4-5-20250929"));
    assert_eq!(
        first.models[0],
        ModelInfo {
            id: "claude-opus-4-1-20250805".into(),
            owned_by: Some("anthropic".into()),
            created: Some(1_754_352_000),
            capabilities: ModelCapabilities {
                context_window: Some(200_000),
                max_output_tokens: Some(32_000),
                tools: true,
                vision: true,
                streaming: true,
                embeddings: false,
                reasoning: true,
            },
        }
    );
    // No capabilities reported: reasoning is read from the id.
    assert!(first.models[1].capabilities.reasoning);
    assert_eq!(first.models[1].capabilities.context_window, None);
}

#[test]
fn last_page_ends_the_list() {
    let last = page(fixture("models_page2.json").as_bytes()).unwrap();
    assert_eq!(last.next, None);
    let reasoning: Vec<(&str, bool)> = last
        .models
        .iter()
        .map(|m| (m.id.as_str(), m.capabilities.reasoning))
        .collect();
    assert_eq!(
        reasoning,
        [
            ("claude-3-5-haiku-20241022", false),
            ("claude-3-7-sonnet-20250219", true)
        ]
    );
}

#[test]
fn page_paths() {
    assert_eq!(page_path(None, 1), "/v1/models?limit=1");
    assert_eq!(
        page_path(Some("claude-3-7-sonnet-20250219"), 1000),
        "/v1/models?limit=1000&after_id=claude-3-7-sonnet-20250219"
    );
    assert_eq!(
        page_path(Some("a b&c"), 5),
        "/v1/models?limit=5&after_id=a%20b%26c"
    );
}

#[test]
fn drift_in_the_list() {
    assert_eq!(
        mismatch(page(br#"{"models":[]}"#).unwrap_err()).path,
        "data"
    );
    assert_eq!(
        mismatch(page(br#"{"data":[{"id":"a"},{"display_name":"b"}]}"#).unwrap_err()).path,
        "data[1].id"
    );
    assert_eq!(
        mismatch(page(br#"{"data":[],"has_more":true}"#).unwrap_err()).path,
        "last_id"
    );
    assert!(matches!(page(b"[]"), Err(AdapterError::SchemaMismatch(_))));
    // New capability shapes do not break the list.
    let odd = br#"{"data":[{"id":"claude-opus-5","capabilities":{"thinking":"yes","image_input":{"supported":false}}}],"has_more":false}"#;
    let models = page(odd).unwrap().models;
    assert!(models[0].capabilities.reasoning);
    assert!(!models[0].capabilities.vision);
}

#[test]
fn thinking_models_by_id() {
    for id in [
        "claude-3-7-sonnet-20250219",
        "claude-sonnet-4-20250514",
        "claude-opus-4-1-20250805",
        "claude-haiku-4-5",
        "claude-opus-4-7",
        "claude-mythos-5",
    ] {
        assert!(thinks_by_id(id), "{id}");
    }
    for id in [
        "claude-3-5-sonnet-20241022",
        "claude-3-haiku-20240307",
        "claude-3-opus-20240229",
        "claude-2.1",
        "claude-instant-1.2",
        "gpt-4o",
    ] {
        assert!(!thinks_by_id(id), "{id}");
    }
}

#[test]
fn rfc3339_times() {
    assert_eq!(unix_seconds("2025-02-19T00:00:00Z"), Some(1_739_923_200));
    assert_eq!(
        unix_seconds("2025-02-19T01:00:00.123456+01:00"),
        Some(1_739_923_200)
    );
    assert_eq!(unix_seconds("2024-02-29T12:30:15z"), Some(1_709_209_815));
    assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), None);
    assert_eq!(unix_seconds("yesterday"), None);
    assert_eq!(unix_seconds("2025-13-01T00:00:00Z"), None);
}
