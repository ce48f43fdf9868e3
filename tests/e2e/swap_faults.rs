//! Hostile input to the hot-swap path: a candidate whose `describe` sleeps is refused at its
//! deadline and holds up no later swap; a `.wasm` copied in by a slow writer is never served
//! half-written; a full instance pool while a fresh version is on probation is a 503 with
//! `retry-after`, opens no breaker and rolls nothing back.

mod swap_kit;

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aratta_tests::bins;
use aratta_tests::expect::Answer;
use serde_json::json;
use swap_kit::{
    ask, builds, drop_file, setup, sha256, versioned, wait_for_event, wait_for_version,
};

#[tokio::test]
async fn a_candidate_that_sleeps_in_describe_is_refused_and_the_next_swap_goes_through() {
    let (_mock, gateway) = setup("verify_timeout_seconds = 2\n").await;
    let sleepy = std::fs::read(bins::misbehaving_variant("sleep-in-describe")).unwrap();
    let started = Instant::now();
    drop_file(&gateway, "misbehaving.wasm", &sleepy);
    // Right behind it, a good version of the serving adapter.
    drop_file(&gateway, "versioned.wasm", &builds().v2);

    let event = wait_for_event(&gateway, "refused", Some(&sha256(&sleepy))).await;
    let detail = event["detail"].as_str().unwrap();
    assert!(
        detail.contains("describe() did not answer within 2s"),
        "refused with the timeout as the reason: {detail}"
    );
    wait_for_version(&gateway, "2.0.0").await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "both settled after {:?}",
        started.elapsed()
    );
    assert_eq!(ask(&gateway, "m").await, (200, "2.0.0".into()));
    assert!(
        gateway
            .home()
            .join("adapters/misbehaving.wasm.refused")
            .exists(),
        "set aside, so a restart does not wait for it again"
    );

    // The reload lock is free: a rollback (which takes it) answers at once.
    let rolled = Answer::read(
        gateway
            .post_json("/api/v1/adapters/versioned/rollback", &json!({}))
            .await,
    )
    .await;
    rolled.assert_status(200);
    assert_eq!(rolled.json()["current"]["version"], "1.0.0");
}

#[tokio::test]
async fn a_file_from_a_slow_writer_is_never_served_half_written() {
    let (_mock, gateway) = setup("").await;
    let v2 = &builds().v2;
    let half = &v2[..v2.len() / 2];
    let path = gateway.home().join("adapters/versioned-2.wasm");
    // Written in place, not renamed in: half now, a pause longer than the debounce, the rest.
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(half).unwrap();
    file.sync_all().unwrap();
    let refused = wait_for_event(&gateway, "refused", Some(&sha256(half))).await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("not a valid WebAssembly component"),
        "{refused}"
    );
    assert_eq!(ask(&gateway, "m").await, (200, "1.0.0".into()));
    file.write_all(&v2[v2.len() / 2..]).unwrap();
    file.sync_all().unwrap();
    drop(file);
    tokio::time::sleep(Duration::from_millis(800)).await;
    // The partial file was set aside while its writer still held it open; the serving
    // version never changed, and nothing was swapped.
    assert_eq!(ask(&gateway, "m").await, (200, "1.0.0".into()));
    let current = versioned(&gateway).await;
    assert_eq!(current["version"], "1.0.0", "{current}");
    assert_eq!(current["history"], json!([]), "{current}");
    assert!(
        gateway
            .home()
            .join("adapters/versioned-2.wasm.refused")
            .exists()
    );
}

#[tokio::test]
async fn a_full_instance_pool_during_probation_opens_no_breaker_and_rolls_nothing_back() {
    let (_mock, gateway) = setup(
        "probation_seconds = 60\nprobation_min_calls = 2\nprobation_error_rate = 0.1\n\
         [breaker]\nfailure_threshold = 2\n[behaviour]\nadapter_max_instances = 2\n",
    )
    .await;
    drop_file(&gateway, "versioned.wasm", &builds().v2);
    wait_for_version(&gateway, "2.0.0").await;
    assert!(versioned(&gateway).await["probation_seconds_left"].is_u64());

    let gateway = Arc::new(gateway);
    let calls: Vec<_> = (0..24)
        .map(|_| {
            let gateway = gateway.clone();
            tokio::spawn(async move {
                let response = gateway
                    .post_json(
                        "/api/v1/chat",
                        &json!({"model": "main:slow",
                                "messages": [{"role": "user", "content": "hi"}]}),
                    )
                    .await;
                Answer::read(response).await
            })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for call in calls {
        let answer = call.await.unwrap();
        *statuses.entry(answer.status.as_u16()).or_default() += 1;
        if answer.status.as_u16() == 503 {
            assert_eq!(answer.header("retry-after"), Some("1"), "{}", answer.text);
            assert_eq!(
                answer.json()["error"]["code"],
                "instance_pool_exhausted",
                "{}",
                answer.text
            );
        }
    }
    assert!(
        statuses.get(&503).is_some_and(|n| *n > 2) && statuses.contains_key(&200),
        "some calls had a slot, more did not: {statuses:?}"
    );
    assert_eq!(
        statuses.values().sum::<usize>(),
        statuses[&200] + statuses[&503],
        "nothing but answers and overloads: {statuses:?}"
    );

    tokio::time::sleep(Duration::from_millis(500)).await;
    let current = versioned(&gateway).await;
    assert_eq!(current["version"], "2.0.0", "not rolled back: {current}");
    let events = swap_kit::adapters(&gateway).await["events"].clone();
    assert!(
        !events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "rolled_back"),
        "{events}"
    );
    let breakers = Answer::read(gateway.get("/api/v1/breakers").await).await;
    let main = breakers.json()[0].clone();
    assert_eq!(main["provider"], "main", "{}", breakers.text);
    assert_eq!(main["state"], "closed", "{}", breakers.text);
    assert_eq!(main["recent_failures"], 0, "{}", breakers.text);
    assert_eq!(ask(&gateway, "m").await, (200, "2.0.0".into()));
}
