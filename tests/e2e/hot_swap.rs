//! Hot-swapped adapters, end to end: a `.wasm` dropped into the adapters directory of a
//! running gateway is verified and swapped in while hundreds of requests are in flight, and
//! none is dropped; a broken version is refused and the serving one stays; a version that
//! fails once it serves is rolled back by probation; rollback restores earlier versions and
//! the history keeps ten.

mod swap_kit;

use std::sync::Arc;
use std::time::Duration;

use aratta_tests::expect::Answer;
use serde_json::json;
use swap_kit::{
    SLOW, adapters, ask, builds, drop_file, setup, sha256, versioned, wait_for_event,
    wait_for_version, with_marker,
};

#[tokio::test]
async fn a_hot_swap_under_load_drops_no_request_and_new_calls_get_the_new_version() {
    let (_mock, gateway) = setup("").await;
    let gateway = Arc::new(gateway);
    assert_eq!(ask(&gateway, "m").await, (200, "1.0.0".into()));

    // 400 requests, each held 300 ms upstream, all started at once: hundreds in flight.
    let load: Vec<_> = (0..400)
        .map(|_| {
            let gateway = gateway.clone();
            tokio::spawn(async move { ask(&gateway, "slow").await })
        })
        .collect();
    tokio::time::sleep(SLOW / 3).await;
    drop_file(&gateway, "versioned.wasm", &builds().v2);
    // More keep arriving while the new version is verified and swapped in, and a little after.
    let mut late = Vec::new();
    let mut swapped_at = None;
    for round in 0..1200 {
        for _ in 0..5 {
            let gateway = gateway.clone();
            late.push(tokio::spawn(async move { ask(&gateway, "slow").await }));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        if swapped_at.is_none() && round % 4 == 0 && versioned(&gateway).await["version"] == "2.0.0"
        {
            swapped_at = Some(round);
        }
        if swapped_at.is_some_and(|at| round >= at + 20) {
            break;
        }
    }
    wait_for_version(&gateway, "2.0.0").await;
    let sent = 400 + late.len();

    let mut versions = std::collections::BTreeMap::<String, usize>::new();
    for task in load.into_iter().chain(late) {
        let (status, version) = task.await.expect("request task");
        assert_eq!(
            status,
            200,
            "a request failed during the swap\n{}",
            gateway.logs()
        );
        *versions.entry(version).or_default() += 1;
    }
    assert!(
        versions.contains_key("1.0.0") && versions.contains_key("2.0.0"),
        "calls in flight finish on the old version, later ones get the new one: {versions:?}"
    );
    assert_eq!(versions.values().sum::<usize>(), sent);
    eprintln!("answers by adapter version across the swap: {versions:?}");

    // Every call after the swap runs the new version (no spare instance of the old one).
    for _ in 0..50 {
        assert_eq!(ask(&gateway, "m").await, (200, "2.0.0".into()));
    }
    let current = versioned(&gateway).await;
    assert_eq!(current["sha256"], sha256(&builds().v2));
    let event = wait_for_event(&gateway, "swapped", Some(&sha256(&builds().v2))).await;
    assert!(
        event["detail"].as_str().unwrap().contains("main passed"),
        "verified against provider main: {event}"
    );
}

#[tokio::test]
async fn a_broken_version_is_refused_and_the_serving_one_stays() {
    let (_mock, gateway) = setup("").await;
    let dir = gateway.home().join("adapters");

    // Not a component at all, over the serving version's own file.
    drop_file(&gateway, "versioned.wasm", b"\0asm but not really");
    let event = wait_for_event(&gateway, "refused", Some(&sha256(b"\0asm but not really"))).await;
    assert!(
        event["detail"]
            .as_str()
            .unwrap()
            .contains("not a valid WebAssembly component"),
        "{event}"
    );
    assert!(dir.join("versioned.wasm.refused").exists(), "set aside");
    assert_eq!(
        std::fs::read(dir.join("versioned.wasm")).unwrap(),
        builds().v1,
        "the serving version's file is restored, so a restart serves it too"
    );
    assert_eq!(ask(&gateway, "m").await, (200, "1.0.0".into()));

    // A real adapter whose health check fails against the provider: verification refuses it.
    let bad = &builds().bad_health;
    drop_file(&gateway, "versioned-3.wasm", bad);
    let event = wait_for_event(&gateway, "refused", Some(&sha256(bad))).await;
    let detail = event["detail"].as_str().unwrap();
    assert!(
        detail.contains("verification failed") && detail.contains("main failed"),
        "{detail}"
    );
    assert!(
        detail.contains("fails its health check on purpose"),
        "{detail}"
    );
    assert!(dir.join("versioned-3.wasm.refused").exists());
    assert_eq!(event["adapter"], "versioned");
    assert_eq!(ask(&gateway, "m").await, (200, "1.0.0".into()));
    assert_eq!(
        versioned(&gateway).await["history"],
        json!([]),
        "nothing was swapped"
    );
}

#[tokio::test]
async fn a_version_that_fails_after_the_swap_is_rolled_back_by_probation() {
    let (_mock, gateway) = setup(
        "probation_seconds = 60\nprobation_min_calls = 3\nprobation_error_rate = 0.5\n[breaker]\nfailure_threshold = 100\n",
    )
    .await;
    let bad = &builds().bad_chat;
    let path = drop_file(&gateway, "versioned.wasm", bad);
    wait_for_version(&gateway, "4.0.0").await;
    assert!(
        versioned(&gateway).await["probation_seconds_left"]
            .as_u64()
            .is_some()
    );

    let mut failures = 0;
    for _ in 0..20 {
        match ask(&gateway, "m").await {
            (200, version) => {
                assert_eq!(version, "1.0.0");
                break;
            }
            _ => failures += 1,
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        (3..=10).contains(&failures),
        "{failures} failures before the rollback"
    );
    let event = wait_for_event(&gateway, "rolled_back", None).await;
    assert!(
        event["detail"]
            .as_str()
            .unwrap()
            .contains("failed probation"),
        "{event}"
    );
    let current = versioned(&gateway).await;
    assert_eq!(current["version"], "1.0.0");
    assert!(current["probation_seconds_left"].is_null());
    assert!(
        gateway
            .home()
            .join("adapters/versioned.wasm.rolled-back")
            .exists(),
        "the failing file is set aside"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        builds().v1,
        "a restart loads the restored version"
    );
    for _ in 0..5 {
        assert_eq!(ask(&gateway, "m").await, (200, "1.0.0".into()));
    }
    let metrics = Answer::read(gateway.get("/metrics").await)
        .await
        .assert_status(200)
        .text
        .clone();
    for action in ["swapped", "rolled_back"] {
        let line = metrics
            .lines()
            .find(|l| {
                l.starts_with("adapter_swaps_total{")
                    && l.contains(&format!("action=\"{action}\""))
                    && l.contains("adapter=\"versioned\"")
            })
            .unwrap_or_else(|| panic!("no adapter_swaps_total for {action}:\n{metrics}"));
        assert!(line.ends_with(" 1"), "{line}");
    }
}

#[tokio::test]
async fn rollback_restores_earlier_versions_and_the_history_keeps_ten() {
    let (_mock, gateway) = setup("").await;
    drop_file(&gateway, "versioned.wasm", &builds().v2);
    wait_for_version(&gateway, "2.0.0").await;
    assert_eq!(ask(&gateway, "m").await.1, "2.0.0");
    let history = versioned(&gateway).await["history"].clone();
    let kept: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap())
        .collect();
    assert_eq!(
        kept,
        ["1.0.0", "2.0.0"],
        "the serving version was backed up before the swap"
    );

    // Back to the previous version (no body), then forward by version.
    let swap = Answer::read(
        gateway
            .client()
            .post(gateway.url("/api/v1/adapters/versioned/rollback"))
            .send()
            .await
            .unwrap(),
    )
    .await
    .assert_status(200)
    .json();
    assert_eq!(swap["current"]["version"], "1.0.0");
    assert_eq!(ask(&gateway, "m").await, (200, "1.0.0".into()));
    let swap = Answer::read(
        gateway
            .post_json(
                "/api/v1/adapters/versioned/rollback",
                &json!({"version": "2.0.0"}),
            )
            .await,
    )
    .await
    .assert_status(200)
    .json();
    assert_eq!(swap["current"]["sha256"], sha256(&builds().v2));
    assert_eq!(ask(&gateway, "m").await, (200, "2.0.0".into()));

    // Unknown adapters and versions are named.
    let answer = Answer::read(
        gateway
            .post_json("/api/v1/adapters/nope/rollback", &json!({}))
            .await,
    )
    .await;
    answer.assert_status(404);
    let answer = Answer::read(
        gateway
            .post_json(
                "/api/v1/adapters/versioned/rollback",
                &json!({"version": "9.9.9"}),
            )
            .await,
    )
    .await;
    answer.assert_status(404);
    assert!(answer.text.contains("no version 9.9.9"), "{}", answer.text);

    // Eleven more versions: only the newest ten are kept.
    for n in 0..11 {
        let bytes = with_marker(&builds().v1, n);
        drop_file(&gateway, "versioned.wasm", &bytes);
        let sha = sha256(&bytes);
        for _ in 0..200 {
            if versioned(&gateway).await["sha256"] == sha {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            versioned(&gateway).await["sha256"],
            sha,
            "{}",
            gateway.logs()
        );
    }
    let history = versioned(&gateway).await["history"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(history.len(), 10);
    assert_eq!(
        history.last().unwrap()["sha256"],
        sha256(&with_marker(&builds().v1, 10))
    );
    assert!(
        history.iter().all(|r| r["version"] == "1.0.0"),
        "2.0.0 and the first 1.0.0 aged out"
    );
    let all = adapters(&gateway).await;
    assert!(all["events"].as_array().unwrap().len() >= 13);
    // The history is in the store, not in files, and a restart keeps it.
    assert!(!gateway.home().join("history").exists());
    let gateway = gateway.restart().await;
    assert_eq!(versioned(&gateway).await["history"], json!(history));
}
