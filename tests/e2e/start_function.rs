//! Guest code that runs at instantiation, before any export is called, proved with the
//! `request-at-start` variant of the misbehaving adapter: its `_initialize`, called by the
//! component's start function (see `tests/adapters/misbehaving/src/at_start.rs`), GETs
//! `/v1/echo` on 127.0.0.1:47914, :47915 and :47916 with raw `wasi:http`.
//!
//! The host instantiates an adapter at load (for `describe`, with no grant) and for every call
//! (with the calling provider's grant), and keeps one spare instance per adapter, made after a
//! call. The background model-list refresh is turned off here (`model_list_refresh_seconds =
//! 0`): its listings are calls too, and would run the start function at times these tests do
//! not choose. So:
//! - at load the requests are denied and nothing arrives anywhere;
//! - in a call they follow that call's grant and credential rules, as a request made in `chat`
//!   would: the provider's base URL gets the request with its credential, another origin
//!   nothing;
//! - a spare instance made after one provider's call never serves another provider's call, so
//!   what its start function fetched under one grant never reaches a call with another;
//! - a start function that never returns is cut off at the call's deadline, its slot is freed
//!   and the gateway keeps serving.
//!
//! The addresses are built into the adapter, so these tests need those ports free.

use std::time::{Duration, Instant};

use aratta_tests::bins;
use aratta_tests::config::{Config, Provider};
use aratta_tests::expect::Answer;
use aratta_tests::gateway::{Gateway, hello};
use aratta_tests::mock::{MockUpstream, RecordedRequest, Script, sha256_hex};

/// Where the variant's start function sends its first GET, and its second.
const FIRST_PORT: u16 = 47914;
const SECOND_PORT: u16 = 47915;
/// A GET to this port that gets through makes the start function sleep for an hour.
const SLEEP_PORT: u16 = 47916;

/// The credential header the misbehaving adapter describes.
const KEY_HEADER: &str = "x-test-key";

/// A misbehaving-adapter provider at `mock` reading its credential from `var`.
fn provider(name: &str, mock: &MockUpstream, var: &str) -> Provider {
    Provider::new(name, &mock.base_url())
        .adapter("misbehaving")
        .api_key_env(var)
}

/// The start function's report for the GET to `port`, from the `start` model's answer.
fn line_for(report: &str, port: u16) -> &str {
    let target = format!("127.0.0.1:{port}/");
    report
        .lines()
        .find(|l| l.contains(&target))
        .unwrap_or_else(|| panic!("no line for port {port} in the report: {report}"))
}

/// What the instance serving a call to `provider` got at its start.
async fn start_report(gateway: &Gateway, provider: &str) -> String {
    let answer = Answer::read(
        gateway
            .post_json("/api/v1/chat", &hello(&format!("{provider}:start")))
            .await,
    )
    .await;
    answer.assert_status(200);
    let body = answer.json();
    body["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text: {body}"))
        .to_owned()
}

/// The requests `mock` received, each with the credential it carried.
fn credentials_seen(mock: &MockUpstream) -> Vec<(String, Option<String>)> {
    let seen = |r: &RecordedRequest| (r.path.clone(), r.header(KEY_HEADER).map(str::to_owned));
    mock.requests().iter().map(seen).collect()
}

/// Waits until `mock` has received `count` requests; panics after 10 s.
async fn until_received(mock: &MockUpstream, count: usize, what: &str) {
    let started = Instant::now();
    while mock.requests().len() < count {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what}: after 10 s the mock has {:?}",
            credentials_seen(mock)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_request_at_instantiation_follows_the_calls_grant_and_reaches_nothing_at_load() {
    let (first_key, second_key) = ("sk-start-first", "sk-start-second");
    let first = MockUpstream::start_on(FIRST_PORT, Script::new()).await;
    let second = MockUpstream::start_on(SECOND_PORT, Script::new()).await;
    let local = MockUpstream::start(Script::new()).await;
    let config = Config::local(&local.base_url())
        .provider(provider("first", &first, "FIRST_KEY"))
        .provider(provider("second", &second, "SECOND_KEY"))
        .behaviour("model_list_refresh_seconds", "0");
    let gateway = Gateway::builder(&config)
        .adapter_file(&bins::misbehaving_variant("request-at-start"))
        .env("FIRST_KEY", first_key)
        .env("SECOND_KEY", second_key)
        .start()
        .await;

    // Load: the start function ran (the host logged its requests) and nothing arrived.
    let logs = gateway.logs();
    for port in [FIRST_PORT, SECOND_PORT] {
        let target = format!("127.0.0.1:{port}/v1/echo");
        assert!(
            logs.lines()
                .any(|l| l.contains("denied outbound request") && l.contains(&target)),
            "the load-time request to {target} was denied:\n{logs}"
        );
    }
    assert!(first.requests().is_empty() && second.requests().is_empty());

    // A call for `first`: its base URL gets the request with its key; `second` gets nothing.
    let report = start_report(&gateway, "first").await;
    assert!(
        line_for(&report, FIRST_PORT).contains("got through: 200"),
        "{report}"
    );
    assert!(
        line_for(&report, SECOND_PORT).contains("HttpRequestDenied"),
        "{report}"
    );
    // So does the spare instance made after that call: its start function ran under `first`'s
    // grant (it may already have run by now, hence the wait for both).
    until_received(&first, 2, "the spare instance's start function").await;
    let to_first = (String::from("/v1/echo"), Some(first_key.to_owned()));
    assert_eq!(credentials_seen(&first), [to_first.clone(), to_first]);
    assert!(
        second.requests().is_empty(),
        "{:?}",
        credentials_seen(&second)
    );

    // A call for `second` is not served by it: its instance started under `second`'s grant,
    // and holds nothing of what `first`'s grant reached.
    let report = start_report(&gateway, "second").await;
    assert!(
        line_for(&report, FIRST_PORT).contains("HttpRequestDenied"),
        "{report}"
    );
    assert!(
        line_for(&report, SECOND_PORT).contains("got through: 200"),
        "{report}"
    );
    assert!(!report.contains(&sha256_hex(first_key)), "{report}");
    assert_eq!(
        credentials_seen(&second)[0],
        (String::from("/v1/echo"), Some(second_key.to_owned()))
    );
    assert_eq!(first.requests().len(), 2, "{:?}", credentials_seen(&first));
    gateway.assert_answers("local:m").await;
}

#[tokio::test]
async fn a_start_function_that_never_returns_is_cut_off_at_the_calls_deadline() {
    let sleeper = MockUpstream::start_on(SLEEP_PORT, Script::new()).await;
    let local = MockUpstream::start(Script::new()).await;
    // Three slots: if cut-off instantiations kept theirs, `local` would find none.
    let config = Config::local(&local.base_url())
        .provider(provider("sleeper", &sleeper, "SLEEPER_KEY").raw("timeout_seconds", "1"))
        .behaviour("adapter_max_instances", "3")
        .behaviour("model_list_refresh_seconds", "0");
    let gateway = Gateway::builder(&config)
        .adapter_file(&bins::misbehaving_variant("request-at-start"))
        .env("SLEEPER_KEY", "k")
        .start()
        .await;
    // At load the GET is denied, so the start function returns and the adapter loads.
    assert!(sleeper.requests().is_empty());

    let started = Instant::now();
    let calls = (0..3).map(|_| {
        let gateway = &gateway;
        async move {
            let request = hello("sleeper:ok");
            Answer::read(gateway.post_json("/api/v1/chat", &request).await).await
        }
    });
    for answer in futures_util::future::join_all(calls).await {
        assert_eq!(answer.status.as_u16(), 504, "{}", answer.text);
        let error = &answer.json()["error"];
        assert_eq!(error["code"], "adapter_timeout", "{}", answer.text);
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains("adapter 'misbehaving' did not answer chat within 6s"),
            "names the adapter, the call and the deadline (1 s + 5 s): {message}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "cut off after {:?}",
        started.elapsed()
    );
    // Each instantiation got through to the granted origin, then slept.
    assert_eq!(sleeper.requests().len(), 3);
    gateway.assert_answers("local:m").await;
}
