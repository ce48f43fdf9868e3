//! Embeddings and models against OpenAI's API reference examples, including the base64 form
//! the openai-python SDK requests by default.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::dialects::openai::{EncodingFormat, embeddings_request, embeddings_response};
use crate::scri::{EmbedResponse, Lineage, Usage};

fn parse(
    body: Value,
) -> Result<(crate::scri::EmbedRequest, EncodingFormat), crate::dialects::RequestError> {
    embeddings_request(body.to_string().as_bytes())
}

fn answer(embeddings: Vec<Vec<f32>>) -> EmbedResponse {
    EmbedResponse {
        model: "text-embedding-ada-002".into(),
        embeddings,
        usage: Some(Usage {
            input_tokens: Some(8),
            ..Usage::default()
        }),
        lineage: Lineage::default(),
    }
}

#[test]
fn reference_request_and_response() {
    let (req, format) = parse(json!({
        "input": "The food was delicious and the waiter...",
        "model": "text-embedding-ada-002",
        "encoding_format": "float"
    }))
    .unwrap();
    assert_eq!(req.inputs, ["The food was delicious and the waiter..."]);
    assert_eq!(req.model, "text-embedding-ada-002");
    assert_eq!(format, EncodingFormat::Float);
    assert!(req.extra.is_none());

    let body = embeddings_response(
        &answer(vec![vec![
            0.002_306_425_5,
            -0.009_327_292,
            -0.002_884_222_2,
        ]]),
        format,
    );
    let expected = r#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0023064255,-0.009327292,-0.0028842222]}],"model":"text-embedding-ada-002","usage":{"prompt_tokens":8,"total_tokens":8}}"#;
    assert_eq!(body, serde_json::from_str::<Value>(expected).unwrap());
    assert!(
        body.to_string()
            .contains("[0.0023064255,-0.009327292,-0.0028842222]"),
        "{body}"
    );
}

#[test]
fn base64_decodes_to_the_same_vector() {
    let (req, format) = parse(json!({"model": "openai:text-embedding-3-small", "input": ["a", "b"],
                                     "encoding_format": "base64", "dimensions": 256, "user": "u-1"}))
    .unwrap();
    assert_eq!(format, EncodingFormat::Base64);
    assert_eq!(req.inputs, ["a", "b"]);
    assert_eq!(req.dimensions, Some(256));
    assert_eq!(req.extra, Some(json!({"user": "u-1"})));

    let vectors = vec![vec![0.25, -1.5, 3.0e-7], vec![f32::MAX, 0.0, -0.0]];
    let body = embeddings_response(&answer(vectors.clone()), format);
    for (i, vector) in vectors.iter().enumerate() {
        assert_eq!(body["data"][i]["index"], i);
        let bytes = STANDARD
            .decode(body["data"][i]["embedding"].as_str().unwrap())
            .unwrap();
        let decoded: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        assert_eq!(&decoded, vector);
    }
}

#[test]
fn malformed_embedding_requests_name_the_field() {
    let cases = [
        (json!({"input": "x"}), "model"),
        (json!({"model": "m"}), "input"),
        (json!({"model": "m", "input": []}), "input"),
        (json!({"model": "m", "input": [1212, 318, 257]}), "input"),
        (json!({"model": "m", "input": [[1212, 318]]}), "input"),
        (
            json!({"model": "m", "input": ["ok", {"text": "no"}]}),
            "input[1]",
        ),
        (
            json!({"model": "m", "input": "x", "encoding_format": "int8"}),
            "encoding_format",
        ),
        (
            json!({"model": "m", "input": "x", "dimensions": -3}),
            "dimensions",
        ),
    ];
    for (body, param) in cases {
        let err = parse(body).expect_err("should be refused");
        assert_eq!(err.param(), Some(param), "{err}");
    }
    let err = parse(json!({"model": "m", "input": [1212, 318, 257]})).unwrap_err();
    assert!(err.to_string().contains("token arrays"), "{err}");
}
