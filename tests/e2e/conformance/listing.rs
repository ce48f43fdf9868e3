//! Embeddings and model listings: the vectors come back in input order, unsupported providers
//! say so without calling upstream, and every provider's models are listed on both APIs.

use aratta_tests::conformance::{Spec, Wire, fixture_json};
use aratta_tests::expect::Answer;
use serde_json::{Value, json};

use crate::matrix::declared;

/// The vectors the fixture holds, in input order.
fn fixture_vectors(spec: &Spec) -> Vec<Vec<f64>> {
    let body = fixture_json(spec.fixtures, "embeddings.json");
    let floats = |v: &Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_f64)
            .collect()
    };
    if spec.wire == Wire::Google {
        return body["embeddings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| floats(&e["values"]))
            .collect();
    }
    let mut data = body["data"].as_array().unwrap().clone();
    data.sort_by_key(|d| d["index"].as_u64());
    data.iter().map(|d| floats(&d["embedding"])).collect()
}

case!(embeddings, |c| {
    if declared(c.spec.adapter, "embeddings").is_some() {
        let request = json!({"model": c.model("embed"), "inputs": ["a"]});
        let answer = Answer::read(c.gateway.post_json("/api/v1/embed", &request).await).await;
        answer.assert_status(400);
        assert_eq!(
            answer.json()["error"]["type"],
            "unsupported_error",
            "{}",
            answer.text
        );
        assert!(
            c.mock.for_case("embed").is_empty(),
            "the upstream was called"
        );
        return;
    }
    let expected = fixture_vectors(c.spec);
    let inputs: Vec<String> = (0..expected.len()).map(|i| format!("text {i}")).collect();
    let request = json!({"model": c.model("embed"), "inputs": inputs});
    let answer = Answer::read(c.gateway.post_json("/api/v1/embed", &request).await).await;
    answer.assert_status(200);
    let body = answer.json();
    let got: Vec<Vec<f64>> =
        serde_json::from_value(body["embeddings"].clone()).expect("embeddings");
    assert_eq!(got.len(), expected.len(), "{body}");
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g.len(), e.len(), "{body}");
        assert!(g.iter().zip(e).all(|(a, b)| (a - b).abs() < 1e-6), "{body}");
    }
    c.sent("embed");
});

case!(models, |c| {
    let body = Answer::read(c.gateway.get("/api/v1/models").await)
        .await
        .assert_status(200)
        .json();
    let ids: Vec<&str> = body["models"]
        .as_array()
        .expect("models")
        .iter()
        .filter(|m| m["provider"] == c.spec.adapter)
        .filter_map(|m| m["model"].as_str())
        .collect();
    let wanted: &[&str] = match c.spec.adapter {
        "local" => &["llama3.2:latest"],
        "openai" => &["gpt-4o"],
        "xai" => &["grok-4"],
        "anthropic" => &["claude-sonnet-4-5-20250929", "claude-3-5-haiku-20241022"],
        _ => &["gemini-2.5-flash", "gemini-embedding-001"],
    };
    for id in wanted {
        assert!(
            ids.iter().any(|i| i.starts_with(id)),
            "{id} missing from {ids:?}"
        );
    }
    let problems: Vec<Vec<String>> = c
        .mock
        .seen()
        .into_iter()
        .map(|s| s.problems)
        .filter(|p| !p.is_empty())
        .collect();
    assert!(problems.is_empty(), "{problems:?}");
    let openai = Answer::read(c.gateway.get("/v1/models").await)
        .await
        .assert_status(200)
        .json();
    let prefix = format!("{}:", c.spec.adapter);
    assert!(
        openai["data"].as_array().is_some_and(|d| d
            .iter()
            .any(|m| m["id"].as_str().is_some_and(|i| i.starts_with(&prefix)))),
        "{openai}"
    );
});
