//! Hostile answers from an adapter (`tests/adapters/misbehaving`): tool arguments nested 10,000
//! deep and a 40 MB text. The host must answer each in a defined way, through every route that
//! reads them, and keep serving.

use aratta_tests::bins;
use aratta_tests::config::{Config, Provider};
use aratta_tests::expect::Answer;
use aratta_tests::gateway::{Gateway, hello};
use aratta_tests::mock::{MockUpstream, Script};

/// The variable the misbehaving provider reads its credential from.
const KEY_VAR: &str = "MISBEHAVING_API_KEY";

async fn gateway(mock: &MockUpstream) -> Gateway {
    let config = Config::new()
        .provider(Provider::new("local", &mock.base_url()))
        .provider(Provider::new("misbehaving", &mock.base_url()).api_key_env(KEY_VAR));
    Gateway::builder(&config)
        .adapter_file(&bins::misbehaving_adapter())
        .env(KEY_VAR, "k")
        .start()
        .await
}

/// The deep arguments the adapter sends, as text.
fn deep() -> String {
    format!("{}{}", "[".repeat(10_000), "]".repeat(10_000))
}

/// Arguments nested 10,000 deep are never parsed into a tree (serde_json would refuse past 128
/// levels, and a recursive walk could overflow a worker's stack): every route carries them as
/// the adapter's text, byte for byte, and the gateway keeps serving.
#[tokio::test]
async fn tool_arguments_nested_10000_deep_are_carried_as_text_on_every_route() {
    let mock = MockUpstream::start(Script::new()).await;
    let gateway = gateway(&mock).await;
    let model = "misbehaving:deep-args";
    let mut body = hello(model);
    body["max_tokens"] = 16.into();

    let scri = Answer::read(gateway.post_json("/api/v1/chat", &body).await).await;
    scri.assert_status(200);
    assert_eq!(scri.json()["content"][0]["arguments"], deep().as_str());

    let openai = Answer::read(gateway.post_json("/v1/chat/completions", &body).await).await;
    openai.assert_status(200);
    let call = &openai.json()["choices"][0]["message"]["tool_calls"][0]["function"];
    assert_eq!(call["arguments"], deep().as_str());

    // The Messages API wants an object: text that does not parse as one is kept under `_raw`.
    let anthropic = Answer::read(gateway.post_json("/v1/messages", &body).await).await;
    anthropic.assert_status(200);
    assert_eq!(
        anthropic.json()["content"][0]["input"]["_raw"],
        deep().as_str()
    );

    gateway.assert_answers("local:m").await;
}

/// A 40 MB answer is relayed whole, and the gateway's memory grows by a small multiple of it
/// (the lifted string, the SCRI value, the encoded body), not without bound.
#[tokio::test]
async fn a_40_mb_answer_is_relayed_whole_with_bounded_gateway_memory() {
    let mock = MockUpstream::start(Script::new()).await;
    let gateway = gateway(&mock).await;
    let before = gateway.peak_rss_kib();
    for route in ["/api/v1/chat", "/v1/chat/completions"] {
        let answer = Answer::read(
            gateway
                .post_json(route, &hello("misbehaving:huge-text"))
                .await,
        )
        .await;
        answer.assert_status(200);
        let body = answer.json();
        let text = if route == "/api/v1/chat" {
            &body["content"][0]["text"]
        } else {
            &body["choices"][0]["message"]["content"]
        };
        assert_eq!(text.as_str().map(str::len), Some(40 << 20), "{route}");
    }
    let after = gateway.peak_rss_kib();
    println!("gateway VmHWM: {before} KiB before, {after} KiB after two 40 MB answers");
    assert!(
        after - before < 400 << 10,
        "peak memory grew by {} KiB for 40 MB answers",
        after - before
    );
    gateway.assert_answers("local:m").await;
}
