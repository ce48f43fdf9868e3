//! The registry against the real built-in adapters: every corpus tool survives SCRI →
//! provider → SCRI through each adapter's own `convert-tools` and `parse-tools`, hand-written
//! native definitions import as expected, and every refusal names the tool and the rule.
//! Fixtures live in `tests/fixtures/tools/` and are shared with the end-to-end test.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::OnceCell;

use super::{OnConflict, Rule, Tier, ToolDef, ToolError, ToolRegistry, Translator};
use crate::runtime::outbound::Outbound;
use crate::runtime::{Runtime, SandboxLimits};

const CORPUS: &str = include_str!("../../../tests/fixtures/tools/corpus.json");
const NATIVE: &str = include_str!("../../../tests/fixtures/tools/native.json");
const REFUSALS: &str = include_str!("../../../tests/fixtures/tools/refusals.json");

/// The built-in adapters, each with a field its native format must hold the schema under.
const ADAPTERS: [&str; 5] = ["local", "openai", "anthropic", "google", "xai"];

static RUNTIME: OnceCell<Runtime> = OnceCell::const_new();

/// One runtime with the built-in adapters for every test in this file (compiling them is the
/// slow part).
async fn runtime() -> &'static Runtime {
    RUNTIME
        .get_or_init(|| async {
            let limits = SandboxLimits {
                memory_bytes: 64 << 20,
                fuel: 5_000_000_000,
                max_instances: 64,
            };
            let runtime =
                Runtime::new(limits, None, Outbound::new(Duration::from_secs(1))).expect("runtime");
            let none = tempfile::tempdir().expect("empty adapters dir");
            let refused = runtime.load_all(none.path()).await;
            assert!(refused.is_empty(), "built-in adapters refused: {refused:?}");
            runtime
        })
        .await
}

fn corpus() -> Vec<ToolDef> {
    serde_json::from_str(CORPUS).expect("corpus.json holds ToolDefs")
}

/// Where each adapter's native tool keeps the name, description and schema.
fn native_fields(adapter: &str, native: &Value) -> (Value, Value, Value) {
    match adapter {
        "anthropic" => (
            native["name"].clone(),
            native["description"].clone(),
            native["input_schema"].clone(),
        ),
        "google" => (
            native["name"].clone(),
            native["description"].clone(),
            native["parametersJsonSchema"].clone(),
        ),
        _ => {
            assert_eq!(native["type"], "function", "{native}");
            let f = &native["function"];
            (
                f["name"].clone(),
                f["description"].clone(),
                f["parameters"].clone(),
            )
        }
    }
}

#[tokio::test]
async fn corpus_round_trips_losslessly_through_every_adapter() {
    let translator = Translator::adapters_only(runtime().await);
    let registry = ToolRegistry::new();
    let tools = corpus();
    registry
        .register_all(tools.clone(), OnConflict::Refuse)
        .await
        .expect("the corpus is valid");
    for adapter in ADAPTERS {
        let native = registry
            .export_for_provider(&translator, adapter)
            .await
            .unwrap_or_else(|e| panic!("{adapter}: export: {e}"));
        let items = native.as_array().expect("a JSON array");
        assert_eq!(items.len(), tools.len(), "{adapter}: {native}");
        for (tool, item) in tools.iter().zip(items) {
            let (name, description, schema) = native_fields(adapter, item);
            assert_eq!(name, tool.name.as_str(), "{adapter}: {item}");
            match &tool.description {
                Some(d) => assert_eq!(description, d.as_str(), "{adapter}: {item}"),
                None => assert!(description.is_null(), "{adapter}: {item}"),
            }
            assert_eq!(
                schema, tool.parameters,
                "{adapter}: the native schema of {}",
                tool.name
            );
        }
        let back = translator
            .import(adapter, &native.to_string())
            .await
            .unwrap_or_else(|e| panic!("{adapter}: import: {e}"));
        assert_eq!(back.len(), tools.len(), "{adapter}");
        for (tool, got) in tools.iter().zip(&back) {
            assert_eq!(
                got.to_scri(),
                tool.to_scri(),
                "{adapter}: {} changed",
                tool.name
            );
            // Key order too: the schema's text comes back byte for byte.
            assert_eq!(
                got.parameters.to_string(),
                tool.parameters.to_string(),
                "{adapter}: {} reordered",
                tool.name
            );
            assert_eq!(got.tier, Tier::Standard, "imports take the default tier");
        }
    }
}

#[tokio::test]
async fn native_definitions_import_through_their_adapter() {
    let translator = Translator::adapters_only(runtime().await);
    let cases: serde_json::Map<String, Value> = serde_json::from_str(NATIVE).unwrap();
    for (provider, case) in &cases {
        let native = case["native"].to_string();
        let expected: Vec<ToolDef> = serde_json::from_value(case["expected"].clone()).unwrap();
        let got = match provider.as_str() {
            "anthropic" => translator.from_anthropic(&native).await,
            "openai" => translator.from_openai(&native).await,
            "google" => translator.from_google(&native).await,
            "xai" => translator.from_xai(&native).await,
            "local" => translator.from_local(&native).await,
            other => panic!("native.json: unknown provider {other}"),
        }
        .unwrap_or_else(|e| panic!("{provider}: {e}"));
        assert_eq!(got, expected, "{provider}");
        let registry = ToolRegistry::new();
        let registered = registry
            .import(
                &translator,
                provider,
                &native,
                Some(Tier::Elevated),
                OnConflict::Refuse,
            )
            .await
            .unwrap_or_else(|e| panic!("{provider}: {e}"));
        assert!(registered.iter().all(|t| t.tier == Tier::Elevated));
        assert_eq!(registry.len(), expected.len(), "{provider}");
        // Again without a tier: the same tools, so nothing changes, tiers included.
        let again = registry
            .import(&translator, provider, &native, None, OnConflict::Refuse)
            .await
            .unwrap_or_else(|e| panic!("{provider}: a re-import is a no-op: {e}"));
        assert_eq!(again, registered, "{provider}");
        // Naming another tier makes it a different definition.
        let err = registry
            .import(
                &translator,
                provider,
                &native,
                Some(Tier::Standard),
                OnConflict::Refuse,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, ToolError::Duplicate { .. }),
            "{provider}: {err}"
        );
    }
}

#[tokio::test]
async fn a_tool_moves_between_providers_unchanged() {
    let translator = Translator::adapters_only(runtime().await);
    let tools = corpus();
    let mut current = tools.clone();
    // anthropic → google → openai → xai → local → anthropic
    for adapter in ["anthropic", "google", "openai", "xai", "local", "anthropic"] {
        let native = translator.export(adapter, &current).await.unwrap();
        current = translator
            .import(adapter, &native.to_string())
            .await
            .unwrap();
    }
    let scri = |ts: &[ToolDef]| ts.iter().map(ToolDef::to_scri).collect::<Vec<_>>();
    assert_eq!(scri(&current), scri(&tools));
}

#[tokio::test]
async fn translation_failures_name_the_adapter_and_the_place() {
    let translator = Translator::adapters_only(runtime().await);
    let err = translator
        .from_anthropic(r#"[{"type": "web_search_20250305", "name": "web_search"}]"#)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("adapter `anthropic` could not parse tools"),
        "{text}"
    );
    assert!(text.contains("[0].type"), "{text}");
    let err = translator
        .from_openai(r#"{"not": "an array"}"#)
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Adapter { .. }), "{err:?}");
    let err = translator.export("nobody", &corpus()).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("no provider or adapter named `nobody`")
            && err.to_string().contains("anthropic"),
        "{err}"
    );
}

#[tokio::test]
async fn every_refusal_names_the_tool_and_the_rule() {
    let cases: Vec<Value> = serde_json::from_str(REFUSALS).unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let def: ToolDef = serde_json::from_value(case["tool"].clone()).unwrap();
        let registry = ToolRegistry::new();
        let err = registry.register(def.clone()).await.unwrap_err();
        let ToolError::Invalid { tool, rule } = &err else {
            panic!("{}: expected a rule, got {err:?}", case["why"]);
        };
        assert_eq!(tool, &def.name);
        assert_eq!(rule.code(), case["code"], "{}: {err}", case["why"]);
        assert_eq!(rule.field(), case["param"], "{}", case["why"]);
        let text = err.to_string().to_lowercase();
        for needle in case["says"].as_array().unwrap() {
            let needle = needle.as_str().unwrap().to_lowercase();
            assert!(
                text.contains(&needle),
                "{}: {text:?} lacks {needle:?}",
                case["why"]
            );
        }
        assert!(registry.is_empty());
        assert!(!matches!(rule, Rule::Name { .. }) || rule.field() == "name");
    }
}
