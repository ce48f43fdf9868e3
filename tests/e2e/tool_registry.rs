//! The tool registry over HTTP (`/api/v1/tools`): the corpus in `tests/fixtures/tools/`
//! registered once, exported in every built-in provider's native format by its own adapter and
//! imported back unchanged; native definitions imported from each provider's format; every
//! refusal answered with a 4xx naming the tool and the rule, in the SCRI error shape. The agent
//! executor's built-in tools are listed and exported from the start, and cannot be deleted.
//!
//! No upstream is called: translation is pure, so the providers' base URLs point nowhere.

use aratta_tests::bins;
use aratta_tests::config::{Config, Provider};
use aratta_tests::expect::{self, Answer};
use aratta_tests::gateway::Gateway;
use serde_json::{Value, json};

const CORPUS: &str = include_str!("../fixtures/tools/corpus.json");
const NATIVE: &str = include_str!("../fixtures/tools/native.json");
const REFUSALS: &str = include_str!("../fixtures/tools/refusals.json");

/// Built-in adapters, each configured as a provider of the same name, plus `claude`, a
/// provider whose adapter is `anthropic` (exports resolve provider names first).
fn config() -> Config {
    let nowhere = "http://127.0.0.1:9";
    let mut config = Config::new();
    for adapter in ["local", "openai", "anthropic", "google", "xai"] {
        config = config.provider(Provider::new(adapter, &format!("{nowhere}/v1")));
    }
    config.provider(Provider::new("claude", nowhere).adapter("anthropic"))
}

fn corpus() -> Vec<Value> {
    serde_json::from_str(CORPUS).expect("corpus.json is a JSON array")
}

/// A SCRI tool's fields without the registry's `tier` (providers carry no tier).
fn scri(tool: &Value) -> Value {
    json!({
        "name": tool["name"],
        "description": tool.get("description").cloned().unwrap_or(Value::Null),
        "parameters": tool["parameters"],
    })
}

async fn call(
    gateway: &Gateway,
    method: reqwest::Method,
    path: &str,
    body: Option<&str>,
) -> Answer {
    let mut request = gateway.client().request(method, gateway.url(path));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    Answer::read(request.send().await.expect("request sent")).await
}

/// The tool list the registry holds.
async fn listed(gateway: &Gateway) -> Vec<Value> {
    let answer = Answer::read(gateway.get("/api/v1/tools").await).await;
    answer.assert_status(200);
    answer.json()["tools"].as_array().expect("tools").clone()
}

/// The agent executor's built-in tools and their tiers, listed (in the executor's order) before
/// anything is registered.
const AGENT_TOOLS: [(&str, &str); 2] = [("current_time", "restricted"), ("python", "elevated")];

/// The listed tools other than the agent executor's: what was registered over HTTP.
async fn registered(gateway: &Gateway) -> Vec<Value> {
    let mut tools = listed(gateway).await;
    tools.retain(|t| !AGENT_TOOLS.iter().any(|(name, _)| t["name"] == *name));
    tools
}

/// `?tools=` selecting `tools` by name, in their order.
fn selecting(tools: &[Value]) -> String {
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    format!("?tools={}", names.join(","))
}

/// Where each native format keeps the schema.
fn native_schema<'a>(adapter: &str, item: &'a Value) -> &'a Value {
    match adapter {
        "anthropic" | "claude" => &item["input_schema"],
        "google" => &item["parametersJsonSchema"],
        _ => &item["function"]["parameters"],
    }
}

#[tokio::test]
async fn corpus_round_trips_through_every_provider_over_http() {
    let gateway = Gateway::start(&config()).await;
    let tools = corpus();
    let answer = Answer::read(
        gateway
            .post_json("/api/v1/tools", &Value::Array(tools.clone()))
            .await,
    )
    .await;
    answer.assert_status(201);
    let defaulted = |t: &Value| {
        let mut t = t.clone();
        t.as_object_mut()
            .unwrap()
            .entry("tier")
            .or_insert(json!("standard"));
        t
    };
    let expected: Vec<Value> = tools.iter().map(defaulted).collect();
    let all = listed(&gateway).await;
    assert_eq!(all.len(), AGENT_TOOLS.len() + tools.len(), "{all:?}");
    assert_eq!(
        all[AGENT_TOOLS.len()..],
        expected,
        "registration order and tiers, after the agent tools"
    );

    for provider in ["local", "openai", "anthropic", "google", "xai", "claude"] {
        // Everything exports: the agent tools first, then the corpus.
        let everything = Answer::read(
            gateway
                .get(&format!("/api/v1/tools/export/{provider}"))
                .await,
        )
        .await;
        everything.assert_status(200);
        let count = everything.json().as_array().map(Vec::len);
        assert_eq!(
            count,
            Some(AGENT_TOOLS.len() + tools.len()),
            "{provider}: {}",
            everything.text
        );
        let export = Answer::read(
            gateway
                .get(&format!(
                    "/api/v1/tools/export/{provider}{}",
                    selecting(&tools)
                ))
                .await,
        )
        .await;
        export.assert_status(200);
        let native = export.json();
        let items = native
            .as_array()
            .unwrap_or_else(|| panic!("{provider}: {native}"));
        assert_eq!(items.len(), tools.len(), "{provider}: {native}");
        for (tool, item) in tools.iter().zip(items) {
            assert_eq!(
                native_schema(provider, item),
                &tool["parameters"],
                "{provider}: {item}"
            );
        }

        // Back in through the same adapter, replacing what is registered.
        let import = call(
            &gateway,
            reqwest::Method::POST,
            &format!("/api/v1/tools/import/{provider}?replace=true"),
            Some(&export.text),
        )
        .await;
        import.assert_status(201);
        let back = import.json()["tools"].as_array().unwrap().clone();
        assert_eq!(back.len(), tools.len(), "{provider}");
        for (tool, got) in tools.iter().zip(&back) {
            assert_eq!(
                scri(got),
                scri(tool),
                "{provider}: {} changed",
                tool["name"]
            );
            // Key order survives too.
            assert_eq!(
                got["parameters"].to_string(),
                tool["parameters"].to_string(),
                "{provider}"
            );
        }
        let names = |ts: &[Value]| ts.iter().map(|t| t["name"].clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&registered(&gateway).await),
            names(&tools),
            "replace keeps one of each, in place"
        );
    }

    // DELETE removes what was registered, one tool at a time.
    for tool in &tools {
        let name = tool["name"].as_str().unwrap();
        let answer = call(
            &gateway,
            reqwest::Method::DELETE,
            &format!("/api/v1/tools/{name}"),
            None,
        )
        .await;
        answer.assert_status(200);
        assert_eq!(answer.json()["name"], name);
    }
    assert!(registered(&gateway).await.is_empty());
    assert_eq!(listed(&gateway).await.len(), AGENT_TOOLS.len());
}

#[tokio::test]
async fn agent_tools_are_listed_exported_and_pinned() {
    let gateway = Gateway::start(&config()).await;
    let all = listed(&gateway).await;
    let got: Vec<(&str, &str)> = all
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["tier"].as_str().unwrap()))
        .collect();
    assert_eq!(got, AGENT_TOOLS, "{all:?}");
    for tool in &all {
        let name = tool["name"].as_str().unwrap();
        let one = Answer::read(gateway.get(&format!("/api/v1/tools/{name}")).await).await;
        one.assert_status(200);
        assert_eq!(one.json(), *tool);
    }
    let python = &all[1];
    assert_eq!(
        python["parameters"]["required"],
        json!(["code"]),
        "{python}"
    );

    for provider in ["anthropic", "google", "openai"] {
        let export = Answer::read(
            gateway
                .get(&format!("/api/v1/tools/export/{provider}"))
                .await,
        )
        .await;
        export.assert_status(200);
        let native = export.json();
        let items = native
            .as_array()
            .unwrap_or_else(|| panic!("{provider}: {native}"));
        assert_eq!(items.len(), all.len(), "{provider}: {native}");
        for (tool, item) in all.iter().zip(items) {
            let name = match provider {
                "openai" => &item["function"]["name"],
                _ => &item["name"],
            };
            assert_eq!(name, &tool["name"], "{provider}: {item}");
            assert_eq!(
                native_schema(provider, item),
                &tool["parameters"],
                "{provider}: {item}"
            );
        }
    }

    // The same definition again changes nothing: no conflict, even with a pinned tool.
    for path in ["/api/v1/tools", "/api/v1/tools?replace=true"] {
        let answer = call(
            &gateway,
            reqwest::Method::POST,
            path,
            Some(&python.to_string()),
        )
        .await;
        answer.assert_status(201);
        assert_eq!(answer.json()["tools"][0], *python, "{path}");
    }

    // The executor would go on running them: the registry refuses to delete or change them.
    let mut changed = python.clone();
    changed["description"] = json!("Runs Python, differently");
    for (method, path, body) in [
        (reqwest::Method::DELETE, "/api/v1/tools/python", None),
        (
            reqwest::Method::POST,
            "/api/v1/tools?replace=true",
            Some(changed.to_string()),
        ),
        (
            reqwest::Method::POST,
            "/api/v1/tools",
            Some(changed.to_string()),
        ),
    ] {
        let answer = call(&gateway, method.clone(), path, body.as_deref()).await;
        let text = expect::error_answer(&answer, 4);
        assert_eq!(answer.status, 409, "{method} {path}: {}", answer.text);
        assert_eq!(
            answer.json()["error"]["code"],
            "tool_pinned",
            "{}",
            answer.text
        );
        assert!(
            text.contains("tool `python`") && text.contains("agent executor"),
            "{text}"
        );
    }
    assert_eq!(listed(&gateway).await, all, "unchanged");
}

#[tokio::test]
async fn native_definitions_import_from_each_provider_format() {
    let gateway = Gateway::start(&config()).await;
    let cases: serde_json::Map<String, Value> = serde_json::from_str(NATIVE).unwrap();
    for (provider, case) in &cases {
        let path = format!("/api/v1/tools/import/{provider}?tier=elevated");
        let answer = Answer::read(gateway.post_json(&path, &case["native"]).await).await;
        answer.assert_status(201);
        let got = answer.json()["tools"].as_array().unwrap().clone();
        let expected = case["expected"].as_array().unwrap();
        assert_eq!(got.len(), expected.len(), "{provider}: {got:?}");
        for (g, e) in got.iter().zip(expected) {
            assert_eq!(scri(g), scri(e), "{provider}");
            assert_eq!(g["tier"], "elevated", "{provider}");
        }
        let one = Answer::read(gateway.get("/api/v1/tools/get_weather").await).await;
        one.assert_status(200);
        assert_eq!(scri(&one.json()), scri(&expected[0]), "{provider}");
        // Importing the same tools again changes nothing, their tier included (no native
        // format carries one).
        let again = Answer::read(
            gateway
                .post_json(&format!("/api/v1/tools/import/{provider}"), &case["native"])
                .await,
        )
        .await;
        again.assert_status(201);
        let same = again.json()["tools"].as_array().unwrap().clone();
        assert_eq!(same, got, "{provider}");
        // Another definition under a taken name is refused: names are unique.
        let changed = Answer::read(
            gateway
                .post_json(
                    &format!("/api/v1/tools/import/{provider}?tier=restricted"),
                    &case["native"],
                )
                .await,
        )
        .await;
        let text = expect::error_answer(&changed, 4);
        assert_eq!(changed.status, 409, "{}", changed.text);
        assert!(
            text.contains("duplicate name") && text.contains("different definition"),
            "{text}"
        );
        for e in expected {
            let name = e["name"].as_str().unwrap();
            call(
                &gateway,
                reqwest::Method::DELETE,
                &format!("/api/v1/tools/{name}"),
                None,
            )
            .await
            .assert_status(200);
        }
    }
}

#[tokio::test]
async fn an_export_imported_back_is_a_no_op_and_a_changed_tool_a_conflict() {
    let gateway = Gateway::start(&config()).await;
    let tools = corpus();
    Answer::read(
        gateway
            .post_json("/api/v1/tools", &Value::Array(tools.clone()))
            .await,
    )
    .await
    .assert_status(201);
    let before = listed(&gateway).await;
    assert_eq!(before.len(), AGENT_TOOLS.len() + tools.len());

    // The whole registry, agent tools included, back through each provider's format.
    for provider in ["local", "openai", "anthropic", "google", "xai", "claude"] {
        let export = Answer::read(
            gateway
                .get(&format!("/api/v1/tools/export/{provider}"))
                .await,
        )
        .await;
        export.assert_status(200);
        let import = call(
            &gateway,
            reqwest::Method::POST,
            &format!("/api/v1/tools/import/{provider}"),
            Some(&export.text),
        )
        .await;
        import.assert_status(201);
        assert_eq!(
            import.json()["tools"],
            Value::Array(before.clone()),
            "{provider}: every tool as registered, tiers included"
        );
        assert_eq!(
            listed(&gateway).await,
            before,
            "{provider}: nothing changed"
        );
    }

    // The SCRI list posted back: the same, key order aside.
    let mut reordered = Vec::new();
    for tool in &before {
        let mut keys: Vec<(&String, &Value)> = tool.as_object().unwrap().iter().collect();
        keys.reverse();
        let text = format!(
            "{{{}}}",
            keys.iter()
                .map(|(k, v)| format!("{}: {v}", json!(k)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        reordered.push(serde_json::from_str::<Value>(&text).unwrap());
    }
    let answer = Answer::read(
        gateway
            .post_json("/api/v1/tools", &Value::Array(reordered))
            .await,
    )
    .await;
    answer.assert_status(201);
    assert_eq!(listed(&gateway).await, before, "nothing changed");

    // A different definition under a taken name is still a conflict, and changes nothing.
    let mut changed = tools[0].clone();
    changed["description"] = json!("Something else entirely");
    let answer = Answer::read(gateway.post_json("/api/v1/tools", &changed).await).await;
    let text = expect::error_answer(&answer, 4);
    assert_eq!(answer.status, 409, "{}", answer.text);
    assert_eq!(answer.json()["error"]["code"], "tool_exists");
    assert!(text.contains("different definition"), "{text}");
    let export = Answer::read(gateway.get("/api/v1/tools/export/anthropic").await).await;
    let mut native = export.json();
    native[AGENT_TOOLS.len()]["description"] = json!("Something else entirely");
    let answer = call(
        &gateway,
        reqwest::Method::POST,
        "/api/v1/tools/import/anthropic",
        Some(&native.to_string()),
    )
    .await;
    assert_eq!(answer.status, 409, "{}", answer.text);
    assert_eq!(answer.json()["error"]["code"], "tool_exists");
    assert_eq!(listed(&gateway).await, before, "all or nothing");
}

#[tokio::test]
async fn refusals_name_the_tool_and_the_rule() {
    let gateway = Gateway::start(&config()).await;
    let cases: Vec<Value> = serde_json::from_str(REFUSALS).unwrap();
    for case in &cases {
        let answer = Answer::read(gateway.post_json("/api/v1/tools", &case["tool"]).await).await;
        expect::error_answer(&answer, 4);
        assert_eq!(answer.status, 400, "{}: {}", case["why"], answer.text);
        let text = expect::error_message(&answer.json()).to_lowercase();
        let error = &answer.json()["error"];
        assert_eq!(error["type"], "invalid_request_error", "{}", case["why"]);
        assert_eq!(
            error["code"], case["code"],
            "{}: {}",
            case["why"], answer.text
        );
        assert_eq!(error["param"], case["param"], "{}", case["why"]);
        for needle in case["says"].as_array().unwrap() {
            let needle = needle.as_str().unwrap().to_lowercase();
            assert!(
                text.contains(&needle),
                "{}: {text} lacks {needle:?}",
                case["why"]
            );
        }
    }
    // A batch with one bad tool registers nothing.
    let batch = json!([corpus()[0].clone(), cases[0]["tool"].clone()]);
    let answer = Answer::read(gateway.post_json("/api/v1/tools", &batch).await).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert!(registered(&gateway).await.is_empty(), "all or nothing");

    // Duplicates: within one request, and against the registry.
    let twice = json!([corpus()[0].clone(), corpus()[0].clone()]);
    let answer = Answer::read(gateway.post_json("/api/v1/tools", &twice).await).await;
    assert!(
        expect::error_answer(&answer, 4).contains("tool `get_weather`: duplicate name"),
        "{}",
        answer.text
    );
    Answer::read(gateway.post_json("/api/v1/tools", &corpus()[0]).await)
        .await
        .assert_status(201);
    let mut changed = corpus()[0].clone();
    changed["parameters"]["required"] = json!([]);
    let answer = Answer::read(gateway.post_json("/api/v1/tools", &changed).await).await;
    assert_eq!(answer.status, 409, "{}", answer.text);
    assert_eq!(answer.json()["error"]["code"], "tool_exists");

    // Malformed bodies name the field.
    let answer = Answer::read(
        gateway
            .post_json("/api/v1/tools", &json!({"name": "x"}))
            .await,
    )
    .await;
    assert!(
        expect::error_answer(&answer, 4).contains("parameters"),
        "{}",
        answer.text
    );
    let answer = Answer::read(
        gateway
            .post_json("/api/v1/tools?replace=maybe", &corpus()[0])
            .await,
    )
    .await;
    assert!(
        expect::error_answer(&answer, 4).contains("query string"),
        "{}",
        answer.text
    );
    let answer = Answer::read(gateway.post_raw("/api/v1/tools", "{not json").await).await;
    assert!(
        expect::error_answer(&answer, 4).contains("not valid json"),
        "{}",
        answer.text
    );

    // Unknown names, providers and native formats.
    let answer = call(
        &gateway,
        reqwest::Method::DELETE,
        "/api/v1/tools/nope",
        None,
    )
    .await;
    assert_eq!(answer.status, 404);
    assert!(expect::error_answer(&answer, 4).contains("no tool named `nope`"));
    let answer = Answer::read(gateway.get("/api/v1/tools/export/nobody").await).await;
    assert_eq!(answer.status, 404);
    let text = expect::error_answer(&answer, 4);
    assert!(
        text.contains("no provider or adapter named `nobody`") && text.contains("claude"),
        "{text}"
    );
    let answer = Answer::read(
        gateway
            .get("/api/v1/tools/export/openai?tools=get_weather,nope")
            .await,
    )
    .await;
    assert!(
        expect::error_answer(&answer, 4).contains("`nope`"),
        "{}",
        answer.text
    );
    let server_tool = json!([{"type": "web_search_20250305", "name": "web_search"}]);
    let answer = Answer::read(
        gateway
            .post_json("/api/v1/tools/import/anthropic", &server_tool)
            .await,
    )
    .await;
    let text = expect::error_answer(&answer, 4);
    assert!(
        text.contains("adapter `anthropic` could not parse tools") && text.contains("[0].type"),
        "{text}"
    );
    let answer = Answer::read(gateway.post_raw("/api/v1/tools/import/google", "[{").await).await;
    assert!(
        expect::error_answer(&answer, 4).contains("not valid json"),
        "{}",
        answer.text
    );
    // An imported tool breaking a rule is refused like a posted one.
    let dotted = json!([{"name": "files.list", "parametersJsonSchema": {"type": "object", "properties": {}}}]);
    let answer = Answer::read(
        gateway
            .post_json("/api/v1/tools/import/google", &dotted)
            .await,
    )
    .await;
    let text = expect::error_answer(&answer, 4);
    assert!(
        text.contains("tool `files.list`: name rejected by openai"),
        "{text}"
    );

    // The registry is untouched by all of that, and the server still serves.
    assert_eq!(registered(&gateway).await.len(), 1);
    let answer = Answer::read(
        gateway
            .get("/api/v1/tools/export/openai?tools=get_weather")
            .await,
    )
    .await;
    answer.assert_status(200);
    assert_eq!(answer.json()[0]["function"]["name"], "get_weather");
}

#[tokio::test]
async fn the_openapi_document_lists_the_tool_routes() {
    let gateway = Gateway::start(&config()).await;
    let doc = Answer::read(gateway.get("/api/v1/openapi.json").await)
        .await
        .json();
    for path in [
        "/api/v1/tools",
        "/api/v1/tools/{name}",
        "/api/v1/tools/export/{provider}",
        "/api/v1/tools/import/{provider}",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"]["ToolDef"].is_object());
    assert!(
        doc["paths"]["/api/v1/chat"].is_object(),
        "the SCRI routes stay"
    );
}

#[tokio::test]
async fn beyond_loopback_changing_the_registry_needs_the_admin_token() {
    let config = config().raw("[server]\nhost = \"0.0.0.0\"\n");
    let gateway = Gateway::builder(&config)
        .env("ARATTA_ADMIN_TOKEN", "t0ken")
        .start()
        .await;
    let client = gateway.client();
    let tool = &corpus()[0];
    let post = |token: Option<&'static str>| {
        let mut request = client.post(gateway.url("/api/v1/tools")).json(tool);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(post(None).await.unwrap().status(), 401);
    assert_eq!(post(Some("nope")).await.unwrap().status(), 401);
    assert_eq!(post(Some("t0ken")).await.unwrap().status(), 201);
    // Reading and exporting stay open.
    assert_eq!(registered(&gateway).await.len(), 1);
    let export = gateway.get("/api/v1/tools/export/anthropic").await;
    assert_eq!(export.status(), 200);
    let import = client
        .post(gateway.url("/api/v1/tools/import/openai"))
        .json(&json!([]))
        .send()
        .await
        .unwrap();
    assert_eq!(import.status(), 401);
    let delete = client.delete(gateway.url("/api/v1/tools/get_weather"));
    assert_eq!(delete.send().await.unwrap().status(), 401);
    let delete = client.delete(gateway.url("/api/v1/tools/get_weather"));
    assert_eq!(
        delete.bearer_auth("t0ken").send().await.unwrap().status(),
        200
    );
}

/// The `acme` test adapter (`tests/fixtures/tools/acme-adapter`, an invented tool format),
/// built with `cargo build --release --target wasm32-wasip2` into `target/adapters`.
fn acme_adapter() -> Vec<u8> {
    let manifest = bins::workspace_root().join("tests/fixtures/tools/acme-adapter/Cargo.toml");
    let target = bins::target_dir().join("adapters");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target)
        .output()
        .expect("run cargo");
    assert!(
        output.status.success(),
        "building the acme adapter failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let wasm = target.join("wasm32-wasip2/release/aratta_adapter_acme.wasm");
    std::fs::read(&wasm).unwrap_or_else(|e| panic!("{}: {e}", wasm.display()))
}

#[tokio::test]
async fn an_installed_third_party_adapter_gets_registry_support() {
    let config =
        config().provider(Provider::new("widgets", "http://127.0.0.1:9/v1").adapter("acme"));
    let gateway = Gateway::builder(&config)
        .adapter_bytes("acme.wasm", acme_adapter())
        .start()
        .await;
    let tools = corpus();
    Answer::read(
        gateway
            .post_json("/api/v1/tools", &Value::Array(tools.clone()))
            .await,
    )
    .await
    .assert_status(201);
    for provider in ["acme", "widgets"] {
        let export = Answer::read(
            gateway
                .get(&format!(
                    "/api/v1/tools/export/{provider}{}",
                    selecting(&tools)
                ))
                .await,
        )
        .await;
        export.assert_status(200);
        let native = export.json();
        let items = native.as_array().unwrap_or_else(|| panic!("{native}"));
        assert_eq!(items.len(), tools.len());
        for (tool, item) in tools.iter().zip(items) {
            assert_eq!(item["id"], tool["name"], "the adapter's own format: {item}");
            assert_eq!(item["input"], tool["parameters"]);
            assert_eq!(item.get("summary"), tool.get("description"));
        }
        let import = call(
            &gateway,
            reqwest::Method::POST,
            &format!("/api/v1/tools/import/{provider}?replace=true"),
            Some(&export.text),
        )
        .await;
        import.assert_status(201);
        let back = import.json()["tools"].as_array().unwrap().clone();
        for (tool, got) in tools.iter().zip(&back) {
            assert_eq!(
                scri(got),
                scri(tool),
                "{provider}: {} changed",
                tool["name"]
            );
            assert_eq!(
                got["parameters"].to_string(),
                tool["parameters"].to_string()
            );
        }
    }
    // The adapter's own refusal reaches the client with its path.
    let answer = Answer::read(
        gateway
            .post_json("/api/v1/tools/import/acme", &json!([{"summary": "no id"}]))
            .await,
    )
    .await;
    let text = expect::error_answer(&answer, 4);
    assert!(
        text.contains("adapter `acme` could not parse tools") && text.contains("[0].id"),
        "{text}"
    );
}
