//! Client keys, end to end through the real binary: `aratta keys` writing the store while the
//! server runs, the admin API, each dialect's own 401/403 shape, what a key may use, revocation
//! and expiry taking effect, keys surviving a restart, and the rule that decides when keys
//! are required (beyond loopback by default, on loopback when configured).

use std::time::{Duration, Instant};

use aratta_tests::config::Config;
use aratta_tests::expect::Answer;
use aratta_tests::gateway::{Gateway, hello, run_aratta};
use aratta_tests::mock::{MockUpstream, Script};
use serde_json::{Value, json};

/// A gateway in front of a mock `local` upstream, with `extra` TOML added.
async fn gateway(extra: &str, env: &[(&str, &str)]) -> (MockUpstream, Gateway) {
    let mock = MockUpstream::start(Script::new()).await;
    let mut builder = Gateway::builder(&Config::local(&mock.base_url()).raw(extra));
    for (k, v) in env {
        builder = builder.env(k, v);
    }
    (mock, builder.start().await)
}

const REQUIRED: &str = "[server]\nrequire_client_keys = true\n";

/// `aratta keys <args> --json` against the gateway's home; panics unless it succeeds.
async fn keys_cli(gateway: &Gateway, args: &[&str]) -> Value {
    let mut all = vec!["keys"];
    all.extend_from_slice(args);
    all.push("--json");
    let out = run_aratta(gateway.home(), &all, &[]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "aratta {}: {stdout}{}",
        all.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// The three chat routes, each in its dialect, with `key` sent the way that dialect's SDK
/// sends it. Returns (status, body) per dialect.
async fn chat_each_dialect(
    gateway: &Gateway,
    key: Option<&str>,
) -> Vec<(&'static str, u16, Value)> {
    let client = gateway.client();
    let openai = client
        .post(gateway.url("/v1/chat/completions"))
        .json(&hello("local:m"));
    let anthropic = client
        .post(gateway.url("/v1/messages"))
        .header("anthropic-version", "2023-06-01")
        .json(&json!({"model": "local:m", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}));
    let gemini = client
        .post(gateway.url("/v1beta/models/local:m:generateContent"))
        .json(&json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}));
    let (openai, anthropic, gemini) = match key {
        Some(key) => (
            openai.bearer_auth(key),
            anthropic.header("x-api-key", key),
            gemini.header("x-goog-api-key", key),
        ),
        None => (openai, anthropic, gemini),
    };
    let mut out = Vec::new();
    for (name, request) in [
        ("openai", openai),
        ("anthropic", anthropic),
        ("gemini", gemini),
    ] {
        let answer = Answer::read(request.send().await.unwrap()).await;
        out.push((name, answer.status.as_u16(), answer.json()));
    }
    out
}

/// Each dialect's own error shape for `status`, with the message containing `needle`.
fn assert_refused(answers: &[(&'static str, u16, Value)], status: u16, needle: &str) {
    for (dialect, got, body) in answers {
        assert_eq!(*got, status, "{dialect}: {body}");
        let message = match *dialect {
            "openai" => {
                let kind = if status == 401 {
                    "authentication_error"
                } else {
                    "permission_error"
                };
                assert_eq!(body["error"]["type"], kind, "{body}");
                body["error"]["message"].as_str()
            }
            "anthropic" => {
                assert_eq!(body["type"], "error", "{body}");
                let kind = if status == 401 {
                    "authentication_error"
                } else {
                    "permission_error"
                };
                assert_eq!(body["error"]["type"], kind, "{body}");
                body["error"]["message"].as_str()
            }
            _ => {
                assert_eq!(body["error"]["code"], status, "{body}");
                let kind = if status == 401 {
                    "UNAUTHENTICATED"
                } else {
                    "PERMISSION_DENIED"
                };
                assert_eq!(body["error"]["status"], kind, "{body}");
                body["error"]["message"].as_str()
            }
        };
        let message = message.unwrap_or_default();
        assert!(
            message.contains(needle),
            "{dialect}: `{needle}` not in {message}"
        );
    }
}

/// Poll until every dialect answers `status` with `key` (a change made by another process
/// reaches the server within a second), or fail after 5 s.
async fn eventually(
    gateway: &Gateway,
    key: Option<&str>,
    status: u16,
) -> Vec<(&'static str, u16, Value)> {
    let start = Instant::now();
    loop {
        let answers = chat_each_dialect(gateway, key).await;
        if answers.iter().all(|(_, s, _)| *s == status) || start.elapsed() > Duration::from_secs(5)
        {
            return answers;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn keys_made_and_revoked_by_the_cli_reach_the_running_server() {
    let (mock, gateway) = gateway(REQUIRED, &[]).await;
    // No key, or an SDK's placeholder: refused in every dialect, before any provider call.
    assert_refused(
        &chat_each_dialect(&gateway, None).await,
        401,
        "requires an Aratta client key",
    );
    assert_refused(
        &chat_each_dialect(&gateway, Some("unused")).await,
        401,
        "not an Aratta client key",
    );
    assert!(
        mock.chat_requests().is_empty(),
        "a refused request reached the provider"
    );
    // Health stays open.
    assert_eq!(gateway.get("/api/v1/health").await.status(), 200);

    let made = keys_cli(&gateway, &["create", "--name", "ci", "--owner", "team-a"]).await;
    let secret = made["secret"].as_str().unwrap().to_owned();
    let id = made["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("ark_"), "{made}");
    let answers = eventually(&gateway, Some(&secret), 200).await;
    assert!(answers.iter().all(|(_, s, _)| *s == 200), "{answers:?}");
    // The client's key went no further than the gateway: the provider saw none of it.
    for request in mock.chat_requests() {
        let all = format!("{:?}", request);
        assert!(
            !all.contains(&secret[4..]),
            "the client key reached the provider: {all}"
        );
    }

    let listed = keys_cli(&gateway, &["list"]).await;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["owner"], "team-a");
    assert!(
        listed[0].get("secret").is_none() && listed[0].get("hash").is_none(),
        "{listed:?}"
    );

    keys_cli(&gateway, &["revoke", &id]).await;
    let answers = eventually(&gateway, Some(&secret), 401).await;
    assert_refused(&answers, 401, "was revoked");
    assert_eq!(answers[0].2["error"]["code"], "client_key_revoked");

    // Keys live in the store: they survive a restart, revoked ones included.
    let other = keys_cli(&gateway, &["create", "--name", "second"]).await;
    let gateway = gateway.restart().await;
    assert_refused(
        &chat_each_dialect(&gateway, Some(&secret)).await,
        401,
        "was revoked",
    );
    let other = other["secret"].as_str().unwrap();
    assert!(
        chat_each_dialect(&gateway, Some(other))
            .await
            .iter()
            .all(|(_, s, _)| *s == 200)
    );
}

/// `POST /api/v1/keys` with `spec`; panics unless it answers 201.
async fn make(gateway: &Gateway, spec: Value) -> Value {
    let answer = Answer::read(gateway.post_json("/api/v1/keys", &spec).await).await;
    answer.assert_status(201);
    answer.json()
}

#[tokio::test]
async fn the_admin_api_makes_keys_that_work_at_once_within_their_limits() {
    let (_mock, gateway) = gateway(REQUIRED, &[]).await;
    let client = gateway.client();
    let limited = make(
        &gateway,
        json!({"name": "limited", "models": ["local:m"], "routes": ["chat"]}),
    )
    .await;
    let secret = limited["secret"].as_str().unwrap();
    // Known at once: no refresh to wait for.
    assert!(
        chat_each_dialect(&gateway, Some(secret))
            .await
            .iter()
            .all(|(_, s, _)| *s == 200)
    );

    // Another model: 403 in each dialect, naming the model and what the key allows.
    let other_model = client
        .post(gateway.url("/v1/chat/completions"))
        .bearer_auth(secret)
        .json(&hello("local:other"))
        .send()
        .await
        .unwrap();
    let answer = Answer::read(other_model).await;
    answer.assert_status(403);
    let body = answer.json();
    assert_eq!(body["error"]["code"], "model_not_allowed", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("local:other"),
        "{body}"
    );
    // Another kind of route: embeddings.
    let embed = client
        .post(gateway.url("/v1/embeddings"))
        .bearer_auth(secret)
        .json(&json!({"model": "local:m", "input": "x"}))
        .send()
        .await
        .unwrap();
    let answer = Answer::read(embed).await;
    answer.assert_status(403);
    assert_eq!(answer.json()["error"]["code"], "route_not_allowed");

    // Bad specs name the field; a browser's text/plain POST is refused before the body.
    let bad = Answer::read(
        gateway
            .post_json("/api/v1/keys", &json!({"name": ""}))
            .await,
    )
    .await;
    bad.assert_status(400);
    assert!(
        bad.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("name:")
    );
    let unknown = Answer::read(
        gateway
            .post_json("/api/v1/keys", &json!({"name": "a", "budget": 1}))
            .await,
    )
    .await;
    unknown.assert_status(400);
    let form = client
        .post(gateway.url("/api/v1/keys"))
        .header("content-type", "text/plain")
        .body(r#"{"name":"csrf"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    let listed: Value = gateway.get("/api/v1/keys").await.json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    // Revoked through the API: refused on the very next request.
    let id = limited["id"].as_str().unwrap();
    let revoked = client
        .delete(gateway.url(&format!("/api/v1/keys/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert_refused(
        &chat_each_dialect(&gateway, Some(secret)).await,
        401,
        "was revoked",
    );
    let missing = client
        .delete(gateway.url("/api/v1/keys/key_nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // Expiry.
    let brief = make(&gateway, json!({"name": "brief", "expires_in_seconds": 1})).await;
    let brief = brief["secret"].as_str().unwrap();
    assert_eq!(chat_each_dialect(&gateway, Some(brief)).await[0].1, 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let answers = chat_each_dialect(&gateway, Some(brief)).await;
    assert_refused(&answers, 401, "expired");
}

#[tokio::test]
async fn beyond_loopback_keys_are_required_and_made_with_the_admin_token() {
    let (_mock, gateway) = gateway(
        "[server]\nhost = \"0.0.0.0\"\n",
        &[("ARATTA_ADMIN_TOKEN", "t0ken")],
    )
    .await;
    assert_refused(
        &chat_each_dialect(&gateway, None).await,
        401,
        "requires an Aratta client key",
    );
    let client = gateway.client();
    let denied = client
        .post(gateway.url("/api/v1/keys"))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 401, "making a key is an admin action");
    let listing = client
        .get(gateway.url("/api/v1/keys"))
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status(), 401, "so is listing them");
    let made: Value = client
        .post(gateway.url("/api/v1/keys"))
        .bearer_auth("t0ken")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = made["secret"].as_str().unwrap();
    assert!(
        chat_each_dialect(&gateway, Some(secret))
            .await
            .iter()
            .all(|(_, s, _)| *s == 200)
    );
}

#[tokio::test]
async fn on_loopback_keys_are_optional_but_a_bad_aratta_key_is_refused() {
    let (_mock, gateway) = gateway("", &[]).await;
    assert!(
        chat_each_dialect(&gateway, None)
            .await
            .iter()
            .all(|(_, s, _)| *s == 200)
    );
    assert!(
        chat_each_dialect(&gateway, Some("sk-unused"))
            .await
            .iter()
            .all(|(_, s, _)| *s == 200)
    );
    let forged = format!("ark_{}", "A".repeat(43));
    assert_refused(
        &chat_each_dialect(&gateway, Some(&forged)).await,
        401,
        "is not known",
    );
}

#[tokio::test]
async fn a_key_limited_to_some_models_is_listed_only_those_in_every_dialect() {
    let (_mock, gateway) = gateway("[aliases]\nfast = [\"local:llama3.2:latest\"]\n", &[]).await;
    let key = make(
        &gateway,
        json!({"name": "coder", "models": ["fast", "local:qwen*"], "routes": ["chat", "models"]}),
    )
    .await;
    let secret = key["secret"].as_str().unwrap();
    let client = gateway.client();
    let listed = |request: reqwest::RequestBuilder, names: &'static str, field: &'static str| async move {
        let answer = Answer::read(request.send().await.unwrap()).await;
        answer.assert_status(200);
        let body = answer.json();
        let mut ids: Vec<String> = body[names]
            .as_array()
            .unwrap_or_else(|| panic!("no `{names}`: {body}"))
            .iter()
            .map(|m| {
                m[field]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("models/")
                    .to_owned()
            })
            .collect();
        ids.sort();
        ids
    };
    let openai = || client.get(gateway.url("/v1/models"));
    let anthropic = || {
        client
            .get(gateway.url("/v1/models"))
            .header("anthropic-version", "2023-06-01")
    };
    let gemini = || client.get(gateway.url("/v1beta/models"));
    let allowed = ["fast", "local:qwen2.5-coder:7b"];

    // Anonymous on loopback: everything.
    let everything = listed(openai(), "data", "id").await;
    assert_eq!(everything.len(), 4, "{everything:?}");
    // With the key, in each SDK's way of sending it: only what the key may ask for.
    assert_eq!(
        listed(openai().bearer_auth(secret), "data", "id").await,
        allowed
    );
    assert_eq!(
        listed(anthropic().header("x-api-key", secret), "data", "id").await,
        allowed
    );
    assert_eq!(
        listed(gemini().header("x-goog-api-key", secret), "models", "name").await,
        allowed
    );
    let scri: Value = client
        .get(gateway.url("/api/v1/models"))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = scri["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["local:qwen2.5-coder:7b"], "{scri}");
    assert_eq!(scri["aliases"], json!({"fast": ["local:llama3.2:latest"]}));
    // One model by name: what the key may not ask for is not there.
    let hidden = openai_model(&gateway, "local:llama3.2:latest", Some(secret)).await;
    assert_eq!(hidden, 404);
    assert_eq!(
        openai_model(&gateway, "local:llama3.2:latest", None).await,
        200
    );
    assert_eq!(openai_model(&gateway, "fast", Some(secret)).await, 200);
}

/// `GET /v1/models/{id}` as the OpenAI SDK sends it; the status.
async fn openai_model(gateway: &Gateway, id: &str, key: Option<&str>) -> u16 {
    let mut request = gateway
        .client()
        .get(gateway.url(&format!("/v1/models/{id}")));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    request.send().await.unwrap().status().as_u16()
}

/// One OpenAI chat with `key`; the answer.
async fn one_chat(gateway: &Gateway, key: &str) -> Answer {
    let response = gateway
        .client()
        .post(gateway.url("/v1/chat/completions"))
        .bearer_auth(key)
        .json(&hello("local:m"))
        .send()
        .await
        .unwrap();
    Answer::read(response).await
}

/// `PATCH /api/v1/keys/{id}` with `body` as JSON.
async fn patch(gateway: &Gateway, id: &str, body: &Value) -> Answer {
    let response = gateway
        .client()
        .patch(gateway.url(&format!("/api/v1/keys/{id}")))
        .json(body)
        .send()
        .await
        .unwrap();
    Answer::read(response).await
}

#[tokio::test]
async fn a_key_is_changed_in_place_by_the_api_and_the_cli_and_its_clients_keep_it() {
    let (_mock, gateway) = gateway(REQUIRED, &[]).await;
    let key = make(
        &gateway,
        json!({"name": "ci", "owner": "platform", "models": ["local:other"], "rpm": 2}),
    )
    .await;
    let (id, secret) = (key["id"].as_str().unwrap(), key["secret"].as_str().unwrap());
    let refused = one_chat(&gateway, secret).await;
    refused.assert_status(403);

    // Through the API: in effect from the answer on, the same secret, the rest kept.
    let changed = patch(&gateway, id, &json!({"models": null, "name": "ci-2"})).await;
    changed.assert_status(200);
    let record = changed.json();
    assert_eq!(
        (
            &record["name"],
            &record["models"],
            &record["rpm"],
            &record["owner"]
        ),
        (&json!("ci-2"), &Value::Null, &json!(2), &json!("platform")),
        "{record}"
    );
    assert!(record.get("secret").is_none(), "{record}");
    // The refused request counted: the second of the minute is the last.
    one_chat(&gateway, secret).await.assert_status(200);
    let limited = one_chat(&gateway, secret).await;
    limited.assert_status(429);
    patch(&gateway, id, &json!({"rpm": null}))
        .await
        .assert_status(200);
    one_chat(&gateway, secret).await.assert_status(200);

    // Through the CLI, which writes the store: the server applies it within a second.
    let cli = keys_cli(&gateway, &["update", id, "--rpm", "3", "--clear", "owner"]).await;
    assert_eq!(
        (&cli["rpm"], &cli["owner"]),
        (&json!(3), &Value::Null),
        "{cli}"
    );
    let start = Instant::now();
    loop {
        let status = one_chat(&gateway, secret).await.status.as_u16();
        if status == 429 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the CLI's rpm never applied"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let both = run_aratta(
        gateway.home(),
        &["keys", "update", id, "--rpm", "5", "--clear", "rpm"],
        &[],
    )
    .await;
    assert!(!both.status.success());
    assert!(
        String::from_utf8_lossy(&both.stderr).contains("`--clear rpm` and a new value"),
        "{}",
        String::from_utf8_lossy(&both.stderr)
    );

    // Bad changes name the field and change nothing.
    for (body, field) in [
        (json!({"rpm": 0}), "rpm"),
        (json!({"name": null}), "name"),
        (json!({}), "body"),
        (json!({"budget_period": "week"}), "budget_period"),
    ] {
        let bad = patch(&gateway, id, &body).await;
        bad.assert_status(400);
        let message = bad.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(
            message.starts_with(&format!("{field}:")),
            "{body}: {message}"
        );
    }
    let unknown = patch(&gateway, id, &json!({"secret": "ark_x"})).await;
    unknown.assert_status(400);
    let form = gateway
        .client()
        .patch(gateway.url(&format!("/api/v1/keys/{id}")))
        .header("content-type", "text/plain")
        .body(r#"{"rpm":null}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    let shown: Value = gateway
        .get(&format!("/api/v1/keys/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((&shown["rpm"], &shown["name"]), (&json!(3), &json!("ci-2")));
    patch(&gateway, "key_nope", &json!({"rpm": 1}))
        .await
        .assert_status(404);

    // A revoked key stays revoked, and as it was.
    let revoked = gateway
        .client()
        .delete(gateway.url(&format!("/api/v1/keys/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let conflict = patch(&gateway, id, &json!({"rpm": null})).await;
    conflict.assert_status(409);
    assert_eq!(conflict.json()["error"]["code"], "key_revoked");
    one_chat(&gateway, secret).await.assert_status(401);
}

#[tokio::test]
async fn a_store_that_is_not_a_database_stops_the_server_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.db");
    std::fs::write(&path, vec![b'x'; 4096]).unwrap();
    let config = Config::new().raw(&format!("[store]\nurl = \"{}\"\n", path.display()));
    let failure = Gateway::builder(&config)
        .try_start()
        .await
        .err()
        .expect("the server refuses to start");
    let text = failure.to_string();
    assert!(text.contains("garbage.db"), "{text}");
    let mysql = Config::new().raw("[store]\nurl = \"mysql://u@h/db\"\n");
    let failure = Gateway::builder(&mysql)
        .try_start()
        .await
        .err()
        .expect("refused");
    assert!(failure.to_string().contains("not supported"), "{failure}");
    // A PostgreSQL server that is not there: named, its password hidden.
    let down = Config::new().raw("[store]\nurl = \"postgres://u:hunter2@127.0.0.1:1/db\"\n");
    let failure = Gateway::builder(&down)
        .try_start()
        .await
        .err()
        .expect("refused");
    let text = failure.to_string();
    assert!(
        text.contains("cannot open the store at postgres://u:***@127.0.0.1:1/db"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}

/// The 429 a key's limit answers, in each dialect's shape, with its code and `Retry-After`.
async fn limited(gateway: &Gateway, key: &str, code: &str, retry_after: bool) {
    for (dialect, status, body) in chat_each_dialect(gateway, Some(key)).await {
        assert_eq!(status, 429, "{dialect}: {body}");
        match dialect {
            "openai" => {
                assert_eq!(body["error"]["type"], "rate_limit_error", "{body}");
                assert_eq!(body["error"]["code"], code, "{body}");
            }
            "anthropic" => assert_eq!(body["error"]["type"], "rate_limit_error", "{body}"),
            _ => assert_eq!(body["error"]["status"], "RESOURCE_EXHAUSTED", "{body}"),
        }
    }
    let answer = Answer::read(
        gateway
            .client()
            .post(gateway.url("/v1/chat/completions"))
            .bearer_auth(key)
            .json(&hello("local:m"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    answer.assert_status(429);
    let header = answer.header("retry-after");
    assert_eq!(header.is_some(), retry_after, "retry-after: {header:?}");
    if let Some(seconds) = header {
        assert!(seconds.parse::<u64>().unwrap() >= 1, "{seconds}");
    }
}

#[tokio::test]
async fn each_key_is_held_to_its_limits_and_budget_across_a_restart() {
    let mock = MockUpstream::start(Script::new()).await;
    let config = Config::local(&mock.base_url()).raw(
        "[server]\nrequire_client_keys = true\n[prices.\"local:*\"]\ninput = 1.0\noutput = 1.0\n",
    );
    let gateway = Gateway::start(&config).await;

    // Requests per minute: three dialects' requests use three of five; the fourth chat
    // round is refused in every dialect.
    let rpm = make(&gateway, json!({"name": "rpm", "rpm": 5})).await;
    let rpm = rpm["secret"].as_str().unwrap();
    assert!(
        chat_each_dialect(&gateway, Some(rpm))
            .await
            .iter()
            .all(|(_, s, _)| *s == 200)
    );
    let answers = chat_each_dialect(&gateway, Some(rpm)).await;
    assert_eq!(
        answers.iter().filter(|(_, s, _)| *s == 200).count(),
        2,
        "{answers:?}"
    );
    limited(&gateway, rpm, "requests_per_minute_exceeded", true).await;

    // Tokens per minute: one answer (2,016 tokens in the mock's fixture) uses them up.
    let tpm = make(&gateway, json!({"name": "tpm", "tpm": 1000})).await;
    let tpm = tpm["secret"].as_str().unwrap();
    let first = chat_each_dialect(&gateway, Some(tpm)).await;
    assert_eq!(first[0].1, 200, "the first request is admitted: {first:?}");
    assert!(first[1..].iter().all(|(_, s, _)| *s == 429), "{first:?}");
    limited(&gateway, tpm, "tokens_per_minute_exceeded", true).await;

    // A budget: $0.002 at $1 per million tokens is spent by the first answer.
    let budget = make(
        &gateway,
        json!({"name": "budget", "budget_usd": 0.002, "budget_period": "day"}),
    )
    .await;
    let budget_id = budget["id"].as_str().unwrap().to_owned();
    let budget = budget["secret"].as_str().unwrap().to_owned();
    assert_eq!(chat_each_dialect(&gateway, Some(&budget)).await[0].1, 200);
    limited(&gateway, &budget, "budget_exceeded", true).await;
    let before = mock.chat_requests().len();

    // A restart does not reset the budget: the spend is read back from the store (reading
    // usage first writes what the recorder holds, the spend with it; a crash loses at most its
    // batch window).
    assert_eq!(gateway.get("/api/v1/usage").await.status(), 200);
    let gateway = gateway.restart().await;
    limited(&gateway, &budget, "budget_exceeded", true).await;
    assert_eq!(
        mock.chat_requests().len(),
        before,
        "a refused request reached the provider"
    );
    let shown = keys_cli(&gateway, &["show", &budget_id]).await;
    assert_eq!(shown["budget_period"], "day");
}

#[tokio::test]
async fn requests_at_once_are_limited_until_a_stream_ends() {
    let mock =
        MockUpstream::start(Script::new().with_chunk_delay(Duration::from_millis(200))).await;
    let gateway = Gateway::start(&Config::local(&mock.base_url()).raw(REQUIRED)).await;
    let key = make(
        &gateway,
        json!({"name": "one at a time", "max_concurrent": 1}),
    )
    .await;
    let key = key["secret"].as_str().unwrap();
    let mut stream = gateway
        .client()
        .post(gateway.url("/v1/chat/completions"))
        .bearer_auth(key)
        .json(&json!({"model": "local:m", "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    // The stream holds the key's one slot: others wait for nothing, they are told.
    limited(&gateway, key, "concurrency_exceeded", false).await;
    while stream.chunk().await.unwrap().is_some() {}
    let answers = eventually(&gateway, Some(key), 200).await;
    assert_eq!(
        answers[0].1, 200,
        "the slot is free once the stream ended: {answers:?}"
    );
}
