//! Model lists, embeddings and `convert-messages`.

use serde_json::json;

use super::fixture;
use crate::embed;
use crate::models::{page, page_path};
use aratta_guest::{AdapterError, EmbeddingRequest, ModelCapabilities};

#[test]
fn a_page_of_models_with_capabilities() {
    let (list, next) = page(fixture!("models.json").as_bytes()).unwrap();
    assert_eq!(
        next.as_deref(),
        Some("Ch1tb2RlbHMvZ2VtaW5pLTIuMC1mbGFzaC8wMDE=")
    );
    assert_eq!(list[0].id, "gemini-2.5-flash");
    assert_eq!(list[0].owned_by.as_deref(), Some("google"));
    assert_eq!(
        list[0].capabilities,
        ModelCapabilities {
            context_window: Some(1_048_576),
            max_output_tokens: Some(65_536),
            tools: true,
            vision: true,
            streaming: true,
            embeddings: false,
            reasoning: true,
        }
    );
    assert!(
        !list[1].capabilities.reasoning,
        "gemini-2.0-flash does not think"
    );
    let (list, next) = page(fixture!("models_page2.json").as_bytes()).unwrap();
    assert_eq!(next, None);
    let gemma = &list[0].capabilities;
    assert!(gemma.streaming && !gemma.tools && !gemma.vision);
    let embedding = &list[1].capabilities;
    assert_eq!(list[1].id, "gemini-embedding-001");
    assert!(embedding.embeddings && !embedding.streaming && !embedding.tools);
}

#[test]
fn page_tokens_are_escaped() {
    assert_eq!(page_path(None), "/models?pageSize=1000");
    assert_eq!(
        page_path(Some("Ch1t/b2R+lbHM=")),
        "/models?pageSize=1000&pageToken=Ch1t%2Fb2R%2BlbHM%3D"
    );
}

#[test]
fn a_model_list_without_models_is_empty_and_a_broken_one_is_drift() {
    assert!(page(b"{}").unwrap().0.is_empty());
    assert!(
        matches!(page(br#"{"models":[{"displayName":"x"}]}"#), Err(AdapterError::SchemaMismatch(m)) if m.path == "models[0]")
    );
}

fn embedding_request(inputs: &[&str]) -> EmbeddingRequest {
    EmbeddingRequest {
        model: "gemini-embedding-001".into(),
        inputs: inputs.iter().map(|s| s.to_string()).collect(),
        dimensions: Some(768),
        extra: Some(r#"{"taskType":"RETRIEVAL_DOCUMENT"}"#.into()),
    }
}

#[test]
fn embedding_bodies_and_vectors_in_order() {
    let req = embedding_request(&["What is the meaning of life?", "How does the brain work?"]);
    assert_eq!(
        embed::body(&req).unwrap(),
        json!({"requests": [
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "What is the meaning of life?"}]}, "outputDimensionality": 768, "taskType": "RETRIEVAL_DOCUMENT"},
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "How does the brain work?"}]}, "outputDimensionality": 768, "taskType": "RETRIEVAL_DOCUMENT"}
        ]})
    );
    let response = embed::response(fixture!("embeddings.json").as_bytes(), &req).unwrap();
    assert_eq!(response.embeddings.len(), 2);
    assert_eq!(response.embeddings[0][0], 0.0133);
    assert_eq!(response.embeddings[1][3], -0.0338);
    assert_eq!(response.model, "gemini-embedding-001");
    let one = embedding_request(&["only one"]);
    assert!(matches!(
        embed::response(fixture!("embeddings.json").as_bytes(), &one),
        Err(AdapterError::SchemaMismatch(m)) if m.path == "embeddings"
    ));
}

#[test]
fn convert_messages_is_the_request_body_part() {
    use aratta_guest::{Adapter, Role};
    let json = crate::Google::convert_messages(vec![
        super::text(Role::System, "Be brief."),
        super::text(Role::User, "Hi"),
    ])
    .unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        value,
        json!({"systemInstruction": {"parts": [{"text": "Be brief."}]}, "contents": [{"role": "user", "parts": [{"text": "Hi"}]}]})
    );
}
