//! `[store] url = "postgres://…"` against a real PostgreSQL 15 (unpacked from Debian's
//! packages by the test setup, see `aratta_tests::postgres`): the store's every read and write
//! on PostgreSQL's dialect, and two `aratta serve` replicas on one database sharing client
//! keys, rate limits, requests at once, budgets and the tool registry, and following each
//! other's adapter swaps.

mod swap_kit;

use std::time::{Duration, Instant};

use aratta_host::store::counters::{MinuteCount, PeriodStarts};
use aratta_host::store::keys::KeyRecord;
use aratta_host::store::usage::{GroupBy, UsageQuery, UsageRow};
use aratta_host::store::{Location, Store};
use aratta_tests::config::Config;
use aratta_tests::expect::Answer;
use aratta_tests::gateway::{Gateway, hello};
use aratta_tests::mock::{Behaviour, MockUpstream, Script};
use aratta_tests::postgres::Postgres;
use serde_json::{Value, json};

fn usage_row(i: u64, key: Option<&str>) -> UsageRow {
    let day = 86_400_000;
    UsageRow {
        at_ms: day + i * 60_000,
        request_id: format!("req_{i}"),
        key_id: key.map(str::to_owned),
        route: "chat".into(),
        model_asked: "fast".into(),
        provider: Some(
            if i.is_multiple_of(2) {
                "openai"
            } else {
                "local"
            }
            .into(),
        ),
        model: Some("m".into()),
        outcome: if i % 10 == 9 {
            "rate_limit_error"
        } else {
            "ok"
        }
        .into(),
        attempts: 1,
        latency_us: 2_000,
        input_tokens: Some(10),
        output_tokens: Some(5),
        cache_read_tokens: Some(4),
        cache_write_tokens: None,
        reasoning_tokens: Some(1),
        cost_nano_usd: i.is_multiple_of(2).then_some(1_000),
    }
}

#[tokio::test]
async fn the_store_keeps_keys_usage_counters_and_heal_cycles_in_postgres() {
    let pg = Postgres::start();
    let url = pg.database("store");
    let location = Location::parse(Some(&url), std::path::Path::new("/unused")).unwrap();
    assert_eq!(location, Location::Postgres(url.clone()));
    // Two servers starting at once migrate the database once.
    let (a, b) = tokio::join!(Store::connect(&location), Store::connect(&location));
    let (store, _other) = (a.unwrap(), b.unwrap());

    // Keys: every column round-trips, each change bumps the counter.
    let key = KeyRecord {
        id: "key_a".into(),
        hash: [7; 32],
        hint: "ark_abcd…wxyz".into(),
        name: "ci".into(),
        owner: Some("team-a".into()),
        models: Some(vec!["fast".into()]),
        routes: None,
        created_at: 1_700_000_000,
        expires_at: Some(1_800_000_000),
        revoked_at: None,
        rpm: Some(60),
        tpm: Some(1_000),
        max_concurrent: Some(4),
        budget_usd: Some(12.5),
        budget_period: Some("week".into()),
    };
    store.insert_key(&key).await.unwrap();
    assert_eq!(store.version("client_keys").await.unwrap(), 1);
    assert_eq!(store.key("key_a").await.unwrap(), Some(key.clone()));
    let duplicate = KeyRecord {
        id: "key_b".into(),
        ..key.clone()
    };
    let e = store.insert_key(&duplicate).await.unwrap_err();
    assert!(e.to_string().contains("create a client key"), "{e}");
    let revoked = store.revoke_key("key_a", 1_750_000_000).await.unwrap();
    assert_eq!(revoked.unwrap().revoked_at, Some(1_750_000_000));
    assert_eq!(store.version("client_keys").await.unwrap(), 2);
    assert_eq!(store.keys().await.unwrap().len(), 1);

    // Usage: more rows than one statement holds, summed in PostgreSQL's dialect.
    let rows: Vec<UsageRow> = (0..1_200)
        .map(|i| usage_row(i, (i % 3 == 0).then_some("key_a")))
        .collect();
    store.insert_usage(&rows, "r0").await.unwrap();
    let by_key = store.usage_summary(&UsageQuery::default()).await.unwrap();
    let groups: Vec<_> = by_key
        .iter()
        .map(|g| (g.group.as_str(), g.requests))
        .collect();
    assert_eq!(groups, [("anonymous", 800), ("key_a", 400)]);
    let a = &by_key[1];
    assert_eq!(
        (a.input_tokens, a.output_tokens, a.cache_read_tokens),
        (4_000, 2_000, 1_600)
    );
    assert_eq!(a.errors, 40);
    assert_eq!(a.unpriced_requests, 200, "local's rows have no price");
    assert!((a.cost_usd - 200.0 * 1e-6).abs() < 1e-12, "{}", a.cost_usd);
    assert_eq!(a.mean_latency_ms, 2.0);
    let by_day = store
        .usage_summary(&UsageQuery {
            by: GroupBy::Day,
            ..UsageQuery::default()
        })
        .await
        .unwrap();
    let days: Vec<_> = by_day.iter().map(|g| g.group.as_str()).collect();
    assert_eq!(days, ["1970-01-02"], "1,200 minutes from 1970-01-02T00:00");
    let by_hour = store
        .usage_summary(&UsageQuery {
            by: GroupBy::Hour,
            until_ms: Some(86_400_000 + 2 * 3_600_000),
            provider: Some("openai".into()),
            ..UsageQuery::default()
        })
        .await
        .unwrap();
    let hours: Vec<_> = by_hour
        .iter()
        .map(|g| (g.group.as_str(), g.requests))
        .collect();
    assert_eq!(hours, [("1970-01-02T00", 30), ("1970-01-02T01", 30)]);
    let recent = store.recent_usage(2, Some("key_a")).await.unwrap();
    assert_eq!(
        recent
            .iter()
            .map(|r| r.request_id.as_str())
            .collect::<Vec<_>>(),
        ["req_1197", "req_1194"]
    );
    assert_eq!(recent[1], rows[1_194]);
    assert_eq!(
        store.prune_usage(86_400_000 + 600 * 60_000).await.unwrap(),
        600
    );

    // Counters: each server rewrites its own rows and reads the others'.
    let minute = |n| MinuteCount {
        key_id: "key_a".into(),
        minute: 100,
        requests: n,
        tokens: n * 10,
    };
    let spend = |n| UsageRow {
        at_ms: 20 * 86_400_000,
        key_id: Some("key_a".into()),
        cost_nano_usd: Some(n),
        ..UsageRow::default()
    };
    store.write_counters("r1", &[minute(3)]).await.unwrap();
    store.write_counters("r1", &[minute(4)]).await.unwrap();
    store.write_counters("r2", &[minute(2)]).await.unwrap();
    store
        .insert_usage(&[spend(5), spend(1)], "r1")
        .await
        .unwrap();
    store.insert_usage(&[spend(1)], "r2").await.unwrap();
    assert_eq!(store.others_minutes("r3", 99).await.unwrap(), [minute(6)]);
    assert_eq!(store.others_minutes("r1", 99).await.unwrap(), [minute(2)]);
    let starts = PeriodStarts {
        day: 20,
        week: 18,
        month: 0,
    };
    let spent = store.others_spend("r3", starts).await.unwrap();
    assert_eq!(spent.len(), 1);
    assert_eq!(
        (spent[0].period.as_deref(), spent[0].spent_nano_usd),
        (Some("week"), 7)
    );
    let inflight = |n| vec![("key_a".to_owned(), n)];
    store
        .write_inflight("r1", &inflight(2), 5_000)
        .await
        .unwrap();
    store
        .write_inflight("r1", &inflight(1), 9_000)
        .await
        .unwrap();
    store
        .write_inflight("r2", &inflight(4), 1_000)
        .await
        .unwrap();
    assert_eq!(
        store.others_inflight("r3", 2_000).await.unwrap(),
        inflight(1)
    );
    store.prune_counters(101, 21, 2_000).await.unwrap();
    assert!(store.others_minutes("r3", 0).await.unwrap().is_empty());
    assert_eq!(store.others_inflight("r3", 0).await.unwrap(), inflight(1));

    // Heal cycles: rewritten in place, listed newest first, found by server and status.
    for (id, status, server) in [
        ("heal_1", "swapped", "s1"),
        ("heal_2", "running", "s1"),
        ("heal_3", "running", "s2"),
    ] {
        let record = json!({"id": id, "status": status}).to_string();
        store
            .save_heal_cycle(id, "openai", status, server, &record)
            .await
            .unwrap();
    }
    let done = json!({"id": "heal_2", "status": "interrupted"}).to_string();
    store
        .save_heal_cycle("heal_2", "openai", "interrupted", "s1", &done)
        .await
        .unwrap();
    let all = store.heal_cycles().await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all[0].contains("heal_3") && all[1] == done, "{all:?}");
    assert!(
        store
            .heal_cycles_of("s1", "running")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.heal_cycles_of("s2", "running").await.unwrap().len(),
        1
    );
    assert_eq!(store.heal_cycle("heal_2").await.unwrap(), Some(done));
    assert_eq!(store.heal_cycle("heal_9").await.unwrap(), None);
}

/// A gateway on the shared database in front of `mock`, keys required, `local` priced at $1
/// per million tokens.
async fn replica(mock: &MockUpstream, url: &str) -> Gateway {
    let config = Config::local(&mock.base_url()).raw(&format!(
        "[server]\nrequire_client_keys = true\n[store]\nurl = \"{url}\"\n[prices.\"local:*\"]\ninput = 1.0\noutput = 1.0\n"
    ));
    Gateway::start(&config).await
}

async fn chat(gateway: &Gateway, key: &str) -> Answer {
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

/// Poll `gateway` with `key` until it answers `status` (its code, for a refusal), or fail
/// after 5 s: what one replica did reaches the others within about a second.
async fn eventually(gateway: &Gateway, key: &str, status: u16, code: Option<&str>) {
    let start = Instant::now();
    loop {
        let answer = chat(gateway, key).await;
        let got_code = answer.json()["error"]["code"].as_str().map(str::to_owned);
        if answer.status.as_u16() == status && code.is_none_or(|c| got_code.as_deref() == Some(c)) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "still {} ({}), not {status} {code:?}",
            answer.status,
            answer.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Poll `gateway`'s tool registry until `tool` is (or is no longer) listed, or fail after 5 s.
async fn eventually_listed(gateway: &Gateway, tool: &str, listed: bool) {
    let start = Instant::now();
    loop {
        let tools = Answer::read(gateway.get("/api/v1/tools").await)
            .await
            .json();
        let names: Vec<&str> = tools["tools"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        if names.contains(&tool) == listed {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{tool} listed: {} ({names:?})",
            !listed
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Long enough for one replica's counts to reach another: each syncs every second.
const SYNCED: Duration = Duration::from_secs(3);

async fn make_key(gateway: &Gateway, spec: Value) -> (String, String) {
    let made = Answer::read(gateway.post_json("/api/v1/keys", &spec).await).await;
    made.assert_status(201);
    let made = made.json();
    (
        made["id"].as_str().unwrap().to_owned(),
        made["secret"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn two_replicas_on_one_database_share_keys_tools_rate_limits_and_budgets() {
    let pg = Postgres::start();
    let url = pg.database("replicas");
    let mock = MockUpstream::start(Script::new()).await;
    let (a, b) = (replica(&mock, &url).await, replica(&mock, &url).await);

    // A key made on one works on the other; revoked on the other, it stops on the first.
    let (id, key) = make_key(&a, json!({"name": "shared"})).await;
    eventually(&b, &key, 200, None).await;
    let revoked = Answer::read(
        b.client()
            .delete(b.url(&format!("/api/v1/keys/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    revoked.assert_status(200);
    eventually(&a, &key, 401, Some("client_key_revoked")).await;

    // A tool registered on one is listed on the other; deleted there, it is gone on the first.
    let tool = json!({"name": "get_tide", "parameters": {"type": "object", "properties": {}}});
    Answer::read(a.post_json("/api/v1/tools", &tool).await)
        .await
        .assert_status(201);
    eventually_listed(&b, "get_tide", true).await;
    let deleted = b
        .client()
        .delete(b.url("/api/v1/tools/get_tide"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    eventually_listed(&a, "get_tide", false).await;

    // Four requests a minute between both: two on b; once a has heard of them (the replicas
    // sync every second), a takes two and refuses a third at once, though it has served only
    // two itself; and b, once it hears of a's, refuses too.
    let (_, rpm) = make_key(&a, json!({"name": "rpm", "rpm": 4})).await;
    eventually(&b, &rpm, 200, None).await;
    chat(&b, &rpm).await.assert_status(200);
    tokio::time::sleep(SYNCED).await;
    chat(&a, &rpm).await.assert_status(200);
    chat(&a, &rpm).await.assert_status(200);
    let refused = chat(&a, &rpm).await;
    refused.assert_status(429);
    assert_eq!(
        refused.json()["error"]["code"],
        "requests_per_minute_exceeded"
    );
    eventually(&b, &rpm, 429, Some("requests_per_minute_exceeded")).await;

    // One request at once between both: while one is held on a (its upstream answers after
    // 6 s), b refuses another once it has heard of it, and admits again once it has ended.
    let (_, one) = make_key(&a, json!({"name": "one", "max_concurrent": 1})).await;
    eventually(&b, &one, 200, None).await;
    mock.push([Behaviour::Delay(Duration::from_secs(6))]);
    let (held, ()) = tokio::join!(chat(&a, &one), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let refused = chat(&a, &one).await;
        refused.assert_status(429);
        assert_eq!(refused.json()["error"]["code"], "concurrency_exceeded");
        eventually(&b, &one, 429, Some("concurrency_exceeded")).await;
    });
    held.assert_status(200);
    eventually(&b, &one, 200, None).await;

    // A budget of $0.003 a day: each answer (2,016 tokens at $1 per million) spends about
    // $0.002. One on b; a, having heard of it, answers one and then refuses, though it has
    // spent only $0.002 itself; and b refuses once it hears of a's.
    let (_, budget) = make_key(
        &a,
        json!({"name": "budget", "budget_usd": 0.003, "budget_period": "day"}),
    )
    .await;
    eventually(&b, &budget, 200, None).await;
    tokio::time::sleep(SYNCED).await;
    chat(&a, &budget).await.assert_status(200);
    let refused = chat(&a, &budget).await;
    refused.assert_status(429);
    assert_eq!(refused.json()["error"]["code"], "budget_exceeded");
    eventually(&b, &budget, 429, Some("budget_exceeded")).await;

    // A replica started later (once the others have written their last counts) holds the key
    // to what they spent.
    tokio::time::sleep(SYNCED).await;
    let c = replica(&mock, &url).await;
    let refused = chat(&c, &budget).await;
    refused.assert_status(429);
    assert_eq!(refused.json()["error"]["code"], "budget_exceeded");
}

#[tokio::test]
async fn a_database_that_goes_down_fails_key_checks_closed_and_loses_no_usage() {
    let mut pg = Postgres::start();
    let url = pg.database("down");
    let mock = MockUpstream::start(Script::new()).await;
    let gateway = replica(&mock, &url).await;
    let (_, key) = make_key(&gateway, json!({"name": "ci"})).await;
    chat(&gateway, &key).await.assert_status(200);

    // Down: the keys known a moment ago still work (the ring is in memory), and their usage
    // waits in the recorder, neither blocking nor failing a request.
    pg.halt();
    let down_at = Instant::now();
    for _ in 0..3 {
        chat(&gateway, &key).await.assert_status(200);
    }
    // Past 30 s without reading the store, revocations may have been missed: fail closed, with
    // a 503 that names the store (its password hidden) and says when to retry.
    let refused = loop {
        let answer = chat(&gateway, &key).await;
        if answer.status == 503 {
            break answer;
        }
        answer.assert_status(200);
        assert!(
            down_at.elapsed() < Duration::from_secs(45),
            "still answering after 45 s without a store"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(
        refused.text.contains("has not been readable") && refused.text.contains(&url),
        "{}",
        refused.text
    );
    assert!(
        refused.header("retry-after").is_some(),
        "{:?}",
        refused.headers
    );
    // The last read that worked was up to one refresh (a second) before the halt.
    assert!(
        down_at.elapsed() >= Duration::from_secs(29),
        "refused {:?} after the halt",
        down_at.elapsed()
    );
    let answered = mock.chat_requests().len();

    // Back: keys work again within the ring's next reads, and every answered request was
    // recorded (the recorder kept them and wrote them once the store took them).
    pg.resume();
    eventually(&gateway, &key, 200, None).await;
    let answered = answered + 1;
    let start = Instant::now();
    let requests = loop {
        let summary = Answer::read(gateway.get("/api/v1/usage").await).await;
        summary.assert_status(200);
        let requests = summary.json()["groups"][0]["requests"]
            .as_u64()
            .unwrap_or(0);
        if requests as usize >= answered || start.elapsed() > Duration::from_secs(10) {
            break requests;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        requests as usize, answered,
        "every answered request is recorded"
    );
    let metrics = Answer::read(gateway.get("/metrics").await).await;
    assert!(
        metrics
            .text
            .contains("aratta_usage_records_dropped_total 0"),
        "{}",
        metrics.text
    );
}

/// The `versioned` entry of `gateway`'s adapters, once it serves `version`.
async fn serves(gateway: &Gateway, version: &str) -> Value {
    swap_kit::wait_for_version(gateway, version).await;
    swap_kit::versioned(gateway).await
}

#[tokio::test]
async fn a_swap_on_one_replica_is_verified_and_served_by_the_others() {
    use swap_kit::{builds, drop_file, sha256, wait_for_event};
    let pg = Postgres::start();
    let url = pg.database("swaps");
    let store = format!("[store]\nurl = \"{url}\"\n");
    let (_mock_a, a) = swap_kit::setup(&store).await;
    let (mock_b, b) = swap_kit::setup(&store).await;
    let v2 = &builds().v2;

    // A version dropped on a serves on b, after b's own verification call to its upstream,
    // and is written into b's adapters directory, so b restarts with it.
    let calls_before = mock_b.requests().len();
    drop_file(&a, "versioned.wasm", v2);
    serves(&a, "2.0.0").await;
    assert_eq!(serves(&b, "2.0.0").await["sha256"], sha256(v2));
    let followed = wait_for_event(&b, "swapped", Some(&sha256(v2))).await;
    let source = followed["source"].as_str().unwrap();
    assert!(source.contains("through the store"), "{followed}");
    assert!(
        followed["detail"].as_str().unwrap().contains("main passed"),
        "b verified it: {followed}"
    );
    assert!(
        mock_b.requests().len() > calls_before,
        "b's verification called b's own upstream"
    );
    let on_disk = std::fs::read(b.home().join("adapters/versioned.wasm")).unwrap();
    assert_eq!(sha256(&on_disk), sha256(v2));

    // A version refused on a is never published: b keeps serving 2.0.0.
    drop_file(&a, "versioned.wasm", &builds().bad_health);
    wait_for_event(&a, "refused", Some(&sha256(&builds().bad_health))).await;
    tokio::time::sleep(SYNCED).await;
    assert_eq!(swap_kit::versioned(&b).await["version"], "2.0.0");

    // A rollback on a is a change like any other.
    let rolled = Answer::read(
        a.post_json(
            "/api/v1/adapters/versioned/rollback",
            &json!({"version": "1.0.0"}),
        )
        .await,
    )
    .await;
    rolled.assert_status(200);
    serves(&b, "1.0.0").await;

    // And the other way: a swap on b reaches a.
    drop_file(&b, "versioned.wasm", v2);
    serves(&a, "2.0.0").await;

    // The approval queue is shared: a version proposed on b is listed on a, approved there,
    // and then serves on both; approving it again on b finds it decided.
    let v1_marked = swap_kit::with_marker(&builds().v1, 7);
    let proposed = Answer::read(
        b.client()
            .post(b.url("/api/v1/approvals?reason=shared%20queue"))
            .header("content-type", "application/wasm")
            .body(v1_marked.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    proposed.assert_status(201);
    let id = proposed.json()["id"].as_str().unwrap().to_owned();
    let listed = Answer::read(a.get("/api/v1/approvals").await).await.json();
    assert_eq!(listed[0]["id"], id.as_str(), "{listed}");
    let approve = format!("/api/v1/approvals/{id}/approve");
    Answer::read(a.post_json(&approve, &json!({})).await)
        .await
        .assert_status(200);
    for gateway in [&a, &b] {
        wait_for_sha(gateway, &sha256(&v1_marked)).await;
    }
    let again = Answer::read(b.post_json(&approve, &json!({})).await).await;
    again.assert_status(409);
    assert!(again.text.contains("already Approved"), "{}", again.text);

    // Each change was published once, by the server that made it: none came back as an echo.
    tokio::time::sleep(SYNCED).await;
    let shared = Store::connect(&Location::Postgres(url.clone()))
        .await
        .unwrap()
        .shared_versions()
        .await
        .unwrap();
    assert_eq!(shared.len(), 1, "{shared:?}");
    assert_eq!(shared[0].sha256, sha256(&v1_marked));
    assert_eq!(
        shared[0].generation, 4,
        "v2, the rollback, v2 again, the approval: {shared:?}"
    );

    // A replica started later (its adapters directory holding plain 1.0.0) catches up.
    let (_mock_c, c) = swap_kit::setup(&store).await;
    wait_for_sha(&c, &sha256(&v1_marked)).await;

    // The history is shared: c never served 2.0.0, yet lists it (kept when a and b swapped
    // it in) and rolls back to it, and the others follow.
    let history = swap_kit::versioned(&c).await["history"].clone();
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["sha256"] == sha256(v2)),
        "{history}"
    );
    Answer::read(
        c.post_json(
            "/api/v1/adapters/versioned/rollback",
            &json!({"version": "2.0.0"}),
        )
        .await,
    )
    .await
    .assert_status(200);
    for gateway in [&c, &a, &b] {
        wait_for_sha(gateway, &sha256(v2)).await;
    }
}

/// Waits (10 s at most) until `versioned` on `gateway` is the component with `sha`.
async fn wait_for_sha(gateway: &Gateway, sha: &str) {
    for _ in 0..100 {
        if swap_kit::versioned(gateway).await["sha256"] == sha {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "never served {sha}: {}\n{}",
        swap_kit::versioned(gateway).await,
        gateway.logs()
    );
}

/// Two servers on one database see the same provider drift: the first heals, and the second's
/// trigger, within the cooldown of that cycle, is skipped naming it, rather than running a
/// second cycle of its own. An operator's run (which does not wait for a cooldown) goes ahead.
#[tokio::test]
async fn servers_sharing_a_store_heal_an_adapter_once_between_them() {
    use aratta_tests::heal::{self, DriftSwitch, HealModel, Setup};
    use aratta_tests::upstream::Upstream;
    let pg = Postgres::start();
    let url = pg.database("heal_claims");
    let drifted = DriftSwitch::default();
    let anthropic_up = Upstream::start(heal::anthropic(drifted.clone())).await;
    // No scripted answer: each cycle fails at its diagnosis, which is all this needs.
    let model = HealModel::start(Vec::new()).await;
    let toml = heal::config(
        &anthropic_up.url(),
        &model.upstream.url(),
        &Setup::default(),
    ) + &format!("\n[store]\nurl = \"{url}\"\n");
    let start = || {
        Gateway::builder_toml(&toml)
            .env("ANTHROPIC_API_KEY", "sk-ant-test")
            .start()
    };
    let (a, b) = (start().await, start().await);

    heal::drift_and_fail(&a, &drifted).await;
    let first = heal::finished_cycle(&a, None).await;
    assert_eq!(first["status"], "failed", "{first:#}");
    let first_id = first["id"].as_str().unwrap();

    heal::drift_and_fail(&b, &drifted).await;
    let until = Instant::now() + Duration::from_secs(20);
    while heal::cycle_count(&b).await < 2 {
        assert!(
            Instant::now() < until,
            "b's trigger made no cycle\n{}",
            b.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let second = heal::finished_cycle(&b, None).await;
    assert_eq!(second["status"], "skipped", "{second:#}");
    let summary = second["summary"].as_str().unwrap();
    assert!(
        summary.contains("within the cooldown") && summary.contains(first_id),
        "{summary}"
    );
    assert_eq!(
        model.schemas().len(),
        2,
        "only a's cycle asked the heal model (its diagnosis and one retry)"
    );

    let run = Answer::read(
        b.post_json("/api/v1/heal/run", &json!({"adapter": "anthropic"}))
            .await,
    )
    .await;
    run.assert_status(202);
    assert_eq!(run.json()["status"], "running", "{}", run.text);
    let third = heal::finished_cycle(&b, run.json()["id"].as_str()).await;
    assert_eq!(third["status"], "failed", "{third:#}");
}
