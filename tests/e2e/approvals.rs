//! The approval queue, end to end: candidates proposed over HTTP and with the CLI, listed,
//! approved (verified, then swapped in) and rejected, over HTTP and with the CLI; and the
//! admin token those routes need when the server listens beyond loopback; and a dropped file
//! whose candidate waited for the lock while an approval changed what serves.

mod swap_kit;

use std::sync::Arc;
use std::time::Duration;

use aratta_tests::expect::Answer;
use aratta_tests::gateway::{Gateway, run_aratta};
use serde_json::{Value, json};
use swap_kit::{
    HOLD, adapters, ask, builds, drop_file, setup, setup_with, sha256, versioned, wait_for_version,
    with_marker,
};

async fn propose(gateway: &Gateway, bytes: &[u8], token: Option<&str>) -> Answer {
    let mut request = gateway
        .client()
        .post(gateway.url("/api/v1/approvals?reason=a%20fix&proposed_by=test"))
        .header("content-type", "application/wasm")
        .body(bytes.to_vec());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    Answer::read(request.send().await.unwrap()).await
}

async fn queue(gateway: &Gateway) -> Vec<Value> {
    Answer::read(gateway.get("/api/v1/approvals").await)
        .await
        .assert_status(200)
        .json()
        .as_array()
        .unwrap()
        .clone()
}

/// Runs `aratta <args> --url <gateway>` with `env`; (success, stdout, stderr).
async fn cli(gateway: &Gateway, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--url", gateway.base_url()]);
    let out = run_aratta(gateway.home(), &all, env).await;
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn candidates_are_proposed_listed_approved_and_rejected_over_http() {
    let (_mock, gateway) = setup("").await;
    let entry = propose(&gateway, &builds().v2, None)
        .await
        .assert_status(201)
        .json();
    assert_eq!(entry["status"], "pending");
    assert_eq!(
        (entry["adapter"].as_str(), entry["version"].as_str()),
        (Some("versioned"), Some("2.0.0"))
    );
    assert_eq!(entry["reason"], "a fix");
    let id = entry["id"].as_str().unwrap().to_owned();
    assert_eq!(queue(&gateway).await[0]["id"], id.as_str());
    assert_eq!(
        ask(&gateway, "m").await.1,
        "1.0.0",
        "nothing changes before approval"
    );

    let decision = Answer::read(
        gateway
            .post_json(&format!("/api/v1/approvals/{id}/approve"), &json!({}))
            .await,
    )
    .await
    .assert_status(200)
    .json();
    assert_eq!(decision["approval"]["status"], "approved");
    assert_eq!(decision["swap"]["current"]["sha256"], sha256(&builds().v2));
    assert_eq!(ask(&gateway, "m").await, (200, "2.0.0".into()));
    assert_eq!(
        std::fs::read(gateway.home().join("adapters/versioned.wasm")).unwrap(),
        builds().v2,
        "a restart serves the approved version"
    );
    // Decided once.
    Answer::read(
        gateway
            .post_json(&format!("/api/v1/approvals/{id}/approve"), &json!({}))
            .await,
    )
    .await
    .assert_status(409);

    // A candidate that fails verification is marked failed; the serving version stays.
    let bad = propose(&gateway, &builds().bad_health, None)
        .await
        .assert_status(201)
        .json();
    let bad_id = bad["id"].as_str().unwrap();
    let answer = Answer::read(
        gateway
            .post_json(&format!("/api/v1/approvals/{bad_id}/approve"), &json!({}))
            .await,
    )
    .await;
    answer.assert_status(422);
    assert!(
        answer.text.contains("verification failed"),
        "{}",
        answer.text
    );
    assert_eq!(queue(&gateway).await[0]["status"], "failed");
    assert_eq!(ask(&gateway, "m").await.1, "2.0.0");

    let other = propose(&gateway, &builds().v1, None)
        .await
        .assert_status(201)
        .json();
    let other_id = other["id"].as_str().unwrap();
    let decision = Answer::read(
        gateway
            .post_json(
                &format!("/api/v1/approvals/{other_id}/reject"),
                &json!({"reason": "not now"}),
            )
            .await,
    )
    .await
    .assert_status(200)
    .json();
    assert_eq!(decision["approval"]["status"], "rejected");
    assert!(
        decision["approval"]["outcome"]
            .as_str()
            .unwrap()
            .contains("not now")
    );
    assert_eq!(ask(&gateway, "m").await.1, "2.0.0");

    // Not an adapter, unknown ids and actions are named.
    let answer = propose(&gateway, b"hello", None).await;
    answer.assert_status(422);
    assert!(answer.text.contains("not WebAssembly"), "{}", answer.text);
    Answer::read(
        gateway
            .post_json("/api/v1/approvals/apr_000000000000/approve", &json!({}))
            .await,
    )
    .await
    .assert_status(404);
    Answer::read(
        gateway
            .post_json(&format!("/api/v1/approvals/{other_id}/maybe"), &json!({}))
            .await,
    )
    .await
    .assert_status(400);
}

#[tokio::test]
async fn the_cli_lists_approves_and_rejects_through_the_running_server() {
    let (_mock, gateway) = setup("").await;
    let dir = tempfile::tempdir().unwrap();
    let v2 = dir.path().join("v2.wasm");
    std::fs::write(&v2, &builds().v2).unwrap();
    let bad = dir.path().join("bad.wasm");
    std::fs::write(&bad, &builds().bad_health).unwrap();

    let (ok, out, err) = cli(&gateway, &["approvals", "list"], &[]).await;
    assert!(ok, "{err}");
    assert!(out.contains("no adapter versions are waiting"), "{out}");

    let (ok, out, err) = cli(
        &gateway,
        &[
            "approvals",
            "propose",
            v2.to_str().unwrap(),
            "--reason",
            "upgrade",
        ],
        &[],
    )
    .await;
    assert!(ok, "{err}");
    let id = queue(&gateway).await[0]["id"].as_str().unwrap().to_owned();
    assert!(
        out.contains(&id) && out.contains("versioned 2.0.0"),
        "{out}"
    );
    let (ok, out, _) = cli(&gateway, &["approvals", "list"], &[]).await;
    assert!(
        ok && out.contains(&id) && out.contains("pending") && out.contains("upgrade"),
        "{out}"
    );

    let (ok, out, err) = cli(&gateway, &["approvals", "approve", &id], &[]).await;
    assert!(ok, "{err}");
    assert!(out.contains("is serving"), "{out}");
    wait_for_version(&gateway, "2.0.0").await;

    cli(
        &gateway,
        &["approvals", "propose", bad.to_str().unwrap()],
        &[],
    )
    .await;
    let bad_id = queue(&gateway).await[0]["id"].as_str().unwrap().to_owned();
    let (ok, _, err) = cli(&gateway, &["approvals", "approve", &bad_id], &[]).await;
    assert!(
        !ok && err.contains("422") && err.contains("verification failed"),
        "{err}"
    );

    cli(
        &gateway,
        &["approvals", "propose", v2.to_str().unwrap()],
        &[],
    )
    .await;
    let third = queue(&gateway).await[0]["id"].as_str().unwrap().to_owned();
    let (ok, out, err) = cli(
        &gateway,
        &["approvals", "reject", &third, "--reason", "duplicate"],
        &[],
    )
    .await;
    assert!(ok && out.contains(&third), "{out}{err}");
    let statuses: Vec<String> = queue(&gateway)
        .await
        .iter()
        .map(|a| a["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["rejected", "failed", "approved"]);

    // Rollback from the CLI too.
    let (ok, out, err) = cli(&gateway, &["adapter", "rollback", "versioned"], &[]).await;
    assert!(ok && out.contains("rolled back to 1.0.0"), "{out}{err}");
    assert_eq!(versioned(&gateway).await["version"], "1.0.0");
}

#[tokio::test]
async fn off_loopback_the_admin_routes_need_the_token() {
    // Chat without a client key (this test is about the admin token).
    let (_mock, gateway) = setup_with(
        "[server]\nhost = \"0.0.0.0\"\nrequire_client_keys = false\n",
        &[("ARATTA_ADMIN_TOKEN", "t0ken")],
    )
    .await;
    propose(&gateway, &builds().v2, None)
        .await
        .assert_status(401);
    propose(&gateway, &builds().v2, Some("wrong"))
        .await
        .assert_status(401);
    Answer::read(
        gateway
            .post_json("/api/v1/adapters/versioned/rollback", &json!({}))
            .await,
    )
    .await
    .assert_status(401);
    // Reading needs no token.
    assert!(queue(&gateway).await.is_empty());

    let entry = propose(&gateway, &builds().v2, Some("t0ken"))
        .await
        .assert_status(201)
        .json();
    let id = entry["id"].as_str().unwrap();
    Answer::read(
        gateway
            .post_json(&format!("/api/v1/approvals/{id}/approve"), &json!({}))
            .await,
    )
    .await
    .assert_status(401);
    let (ok, _, err) = cli(&gateway, &["approvals", "approve", id], &[]).await;
    assert!(!ok && err.contains("401"), "{err}");
    let (ok, _, err) = cli(
        &gateway,
        &["approvals", "approve", id],
        &[("ARATTA_ADMIN_TOKEN", "t0ken")],
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(ask(&gateway, "m").await.1, "2.0.0");
}

#[tokio::test]
async fn the_openapi_document_lists_the_reload_routes() {
    let (_mock, gateway) = setup("").await;
    let doc = Answer::read(gateway.get("/api/v1/openapi.json").await)
        .await
        .assert_status(200)
        .json();
    for (path, method) in [
        ("/api/v1/adapters", "get"),
        ("/api/v1/adapters/{name}/rollback", "post"),
        ("/api/v1/approvals", "get"),
        ("/api/v1/approvals", "post"),
        ("/api/v1/approvals/{id}/{action}", "post"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    for schema in ["AdapterList", "Swap", "Approval", "VersionRecord"] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "schema {schema} missing"
        );
    }
}

#[tokio::test]
async fn a_file_changed_while_its_candidate_waits_for_an_approval_is_not_swapped_in() {
    // Verification chats with model `hold`, which answers after 3 s: an approval holds the
    // reload lock that long.
    let (_mock, gateway) = setup("[reload.verify_chat]\nmain = \"hold\"\n").await;
    let gateway = Arc::new(gateway);
    let approved = with_marker(&builds().v1, 7);
    let id = propose(&gateway, &approved, None)
        .await
        .assert_status(201)
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let approving = {
        let gateway = gateway.clone();
        tokio::spawn(async move {
            Answer::read(
                gateway
                    .post_json(&format!("/api/v1/approvals/{id}/approve"), &json!({}))
                    .await,
            )
            .await
        })
    };
    tokio::time::sleep(HOLD / 6).await;
    // While the approval verifies, a new file arrives; the watcher reads it (100 ms debounce)
    // and waits for the lock. Then the file goes away, as a rollback or an operator would
    // take it.
    let path = drop_file(&gateway, "versioned-next.wasm", &builds().v2);
    tokio::time::sleep(HOLD / 3).await;
    std::fs::remove_file(&path).unwrap();
    approving.await.unwrap().assert_status(200);

    let dropped = gateway
        .wait_for_log(
            &["versioned-next.wasm", "that candidate is dropped"],
            Duration::from_secs(10),
        )
        .await;
    assert!(dropped.is_some(), "{}", gateway.logs());
    let current = versioned(&gateway).await;
    assert_eq!(current["sha256"], sha256(&approved), "{current}");
    assert_eq!(ask(&gateway, "m").await, (200, "1.0.0".into()));
    let events = adapters(&gateway).await["events"].clone();
    assert!(
        !events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["sha256"] == sha256(&builds().v2).as_str()),
        "the dropped candidate left no swap or refusal: {events}"
    );
}
