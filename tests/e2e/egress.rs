//! Where an adapter's requests may go, proved with the misbehaving adapter: only granted
//! origins (no other port, scheme or user info), never a granted name that resolves to loopback
//! unless the operator's base_url names it, no redirect followed out of the grant, the
//! credential only on the base URL's origin, no credential or `Host` header set by the adapter,
//! and a header/resource flood that fails the call while the gateway's memory stays bounded.
//! Describe-time cases (what an adapter declares) are in `declared.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aratta_tests::bins;
use aratta_tests::config::{Config, Provider, quote};
use aratta_tests::expect::{self, Answer};
use aratta_tests::gateway::{Gateway, GatewayBuilder};
use aratta_tests::mock::{MockUpstream, Script};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The variable the misbehaving provider reads its credential from.
const KEY_VAR: &str = "MISBEHAVING_API_KEY";
/// The credential the tests give it.
const SECRET: &str = "sk-egress-test-secret";

/// A gateway with `local` at `local` and `misbehaving` at `granted` (plus `extra` config lines
/// in the misbehaving provider's table), the credential set.
fn builder(local: &MockUpstream, granted: &str, extra: &[(&str, &str)]) -> GatewayBuilder {
    let mut misbehaving = Provider::new("misbehaving", granted).api_key_env(KEY_VAR);
    for (key, value) in extra {
        misbehaving = misbehaving.raw(key, value);
    }
    let config = Config::new()
        .provider(Provider::new("local", &local.base_url()))
        .provider(misbehaving);
    Gateway::builder(&config)
        .adapter_file(&bins::misbehaving_adapter())
        .env(KEY_VAR, SECRET)
}

/// Asks the misbehaving adapter to act out `model` through SCRI.
async fn misbehave(gateway: &Gateway, model: &str, extra: Option<Value>) -> Answer {
    let mut request = json!({
        "model": format!("misbehaving:{model}"),
        "messages": [{"role": "user", "content": "go"}]
    });
    if let Some(extra) = extra {
        request["extra"] = extra;
    }
    Answer::read(gateway.post_json("/api/v1/chat", &request).await).await
}

/// What the adapter reported for a GET of `url` (with `more` merged into `extra`).
async fn exfiltrate(gateway: &Gateway, url: &str, more: Value) -> String {
    let mut extra = json!({"url": url});
    if let Value::Object(more) = more {
        extra.as_object_mut().unwrap().extend(more);
    }
    let answer = misbehave(gateway, "exfiltrate", Some(extra)).await;
    answer.assert_status(200);
    answer.json()["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text: {}", answer.text))
        .to_owned()
}

fn assert_denied(text: &str, what: &str) {
    assert!(
        text.starts_with("exfiltrate: request failed") && text.contains("HttpRequestDenied"),
        "{what}: the adapter saw an ordinary denial: {text}"
    );
}

/// A plain TCP server on 127.0.0.1 that counts the connections it accepts and answers each
/// with `response`: it sees a connection even when no HTTP request is recorded.
async fn counting_server(response: String) -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    (port, accepted)
}

fn ok_response() -> String {
    "HTTP/1.1 200 OK\r\ncontent-length: 7\r\nconnection: close\r\n\r\nreached".into()
}

#[tokio::test]
async fn requests_outside_the_grant_are_denied_and_nothing_arrives() {
    let granted = MockUpstream::start(Script::new()).await;
    let other = MockUpstream::start(Script::new()).await;
    let gateway = builder(&granted, &granted.base_url(), &[]).start().await;
    let (g, o) = (granted.addr().port(), other.addr().port());
    for (url, what) in [
        (
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "cloud metadata",
        ),
        (format!("http://[::1]:{g}/v1/echo"), "IPv6 loopback"),
        (
            format!("http://localhost:{g}/v1/echo"),
            "the granted port by another name",
        ),
        (
            format!("http://localhost:{o}/v1/echo"),
            "localhost on another port",
        ),
        (
            format!("http://127.0.0.1:{o}/v1/echo"),
            "the granted host on another port",
        ),
        (
            format!("https://127.0.0.1:{g}/v1/echo"),
            "the granted origin on another scheme",
        ),
        (
            format!("http://user@127.0.0.1:{g}/v1/echo"),
            "user info on the granted origin",
        ),
    ] {
        let text = exfiltrate(&gateway, &url, json!({})).await;
        assert_denied(&text, what);
    }
    assert!(other.requests().is_empty(), "{:?}", other.requests());
    assert!(
        granted.requests_to("/v1/echo").is_empty(),
        "nothing reached the granted mock by a denied form: {:?}",
        granted.requests()
    );
    let logs = gateway.logs();
    assert!(
        logs.contains("169.254.169.254") && logs.contains("the URI carries user info"),
        "each denial is logged with its reason:\n{logs}"
    );
}

#[tokio::test]
async fn the_adapter_cannot_set_credential_or_host_headers() {
    let granted = MockUpstream::start(Script::new()).await;
    let gateway = builder(&granted, &granted.base_url(), &[]).start().await;
    let echo = format!("{}/echo", granted.base_url());
    for header in ["authorization", "x-test-key", "host", "proxy-authorization"] {
        let headers = json!({"headers": [[header, "forged"]]});
        let text = exfiltrate(&gateway, &echo, headers).await;
        assert!(
            text.contains(&format!("setting header {header} refused"))
                && text.contains("Forbidden"),
            "{header}: {text}"
        );
    }
    assert!(granted.requests_to("/v1/echo").is_empty());
    // An ordinary header passes, and the credential is the host's.
    let text = exfiltrate(&gateway, &echo, json!({"headers": [["x-trace", "1"]]})).await;
    assert!(text.contains("got through: 200"), "{text}");
    let received = granted.requests_to("/v1/echo");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].header_values("x-test-key"), [SECRET]);
    assert_eq!(received[0].header("authorization"), None);
    assert_eq!(
        received[0].header("host"),
        Some(format!("127.0.0.1:{}", granted.addr().port()).as_str())
    );
}

#[tokio::test]
async fn the_credential_goes_to_the_base_url_origin_only() {
    let base = MockUpstream::start(Script::new()).await;
    let upload = MockUpstream::start(Script::new()).await;
    let origin = format!("http://127.0.0.1:{}", upload.addr().port());
    let allowed = format!("[{}]", quote(&origin));
    // `local` names the upload mock as its base URL, so the address check lets it through;
    // the misbehaving provider is only granted it.
    let gateway = builder(&upload, &base.base_url(), &[("allowed_hosts", &allowed)])
        .start()
        .await;
    let text = exfiltrate(&gateway, &format!("{origin}/v1/echo"), json!({})).await;
    assert!(text.contains("got through: 200"), "{text}");
    let at_upload = upload.requests_to("/v1/echo");
    assert_eq!(at_upload.len(), 1, "the allowed host was reached");
    assert!(
        at_upload[0].header("x-test-key").is_none()
            && at_upload[0].header("authorization").is_none(),
        "the allowed host never received the credential: {:?}",
        at_upload[0]
    );
    assert!(!text.contains(SECRET));
    misbehave(&gateway, "echo-headers", None)
        .await
        .assert_status(200);
    assert_eq!(
        base.requests_to("/v1/echo")[0].header_values("x-test-key"),
        [SECRET]
    );
    drop(gateway);

    // Named in credential_hosts, it gets the credential too.
    let gateway = builder(
        &upload,
        &base.base_url(),
        &[("allowed_hosts", &allowed), ("credential_hosts", &allowed)],
    )
    .start()
    .await;
    let text = exfiltrate(&gateway, &format!("{origin}/v1/echo"), json!({})).await;
    assert!(text.contains("got through: 200"), "{text}");
    let at_upload = upload.requests_to("/v1/echo");
    assert_eq!(at_upload.len(), 2);
    assert_eq!(at_upload[1].header_values("x-test-key"), [SECRET]);
}

#[tokio::test]
async fn a_granted_name_or_address_in_private_space_is_refused_before_connecting() {
    let local = MockUpstream::start(Script::new()).await;
    let (port, accepted) = counting_server(ok_response()).await;
    let allowed = format!(
        "[{}, {}, {}]",
        quote(&format!("http://localhost:{port}")),
        quote(&format!("http://127.0.0.2:{port}")),
        quote("http://169.254.169.254")
    );
    let gateway = builder(&local, &local.base_url(), &[("allowed_hosts", &allowed)])
        .start()
        .await;
    for (url, kind) in [
        (format!("http://localhost:{port}/"), "loopback"),
        (format!("http://127.0.0.2:{port}/"), "loopback"),
        (
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "link-local",
        ),
    ] {
        let text = exfiltrate(&gateway, &url, json!({})).await;
        assert_denied(&text, &url);
        let logs = gateway.logs();
        assert!(
            logs.lines()
                .any(|l| l.contains("denied outbound connection") && l.contains(kind)),
            "the refusal names the address kind ({kind}) for {url}:\n{logs}"
        );
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        0,
        "no connection was opened"
    );
    // The operator's own base URL on loopback still works.
    misbehave(&gateway, "echo-headers", None)
        .await
        .assert_status(200);
    gateway.assert_answers("local:m").await;
}

#[tokio::test]
async fn a_redirect_is_not_followed_by_the_host_nor_out_of_the_grant_by_the_adapter() {
    let local = MockUpstream::start(Script::new()).await;
    let other = MockUpstream::start(Script::new()).await;
    let target = format!("http://127.0.0.1:{}/v1/steal", other.addr().port());
    let redirect = format!(
        "HTTP/1.1 302 Found\r\nlocation: {target}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
    let (port, accepted) = counting_server(redirect).await;
    let base = format!("http://127.0.0.1:{port}/v1");
    let gateway = builder(&local, &base, &[]).start().await;
    let text = exfiltrate(&gateway, &format!("{base}/go"), json!({})).await;
    assert!(
        text.contains("got through: 302"),
        "the host hands the redirect back: {text}"
    );
    let text = exfiltrate(&gateway, &format!("{base}/go"), json!({"follow": true})).await;
    assert!(
        text.contains(&format!("followed 302 to {target}")) && text.contains("HttpRequestDenied"),
        "{text}"
    );
    assert!(
        accepted.load(Ordering::SeqCst) >= 1,
        "the base URL was reached"
    );
    assert!(other.requests().is_empty(), "{:?}", other.requests());
}

#[tokio::test]
async fn a_header_and_resource_flood_fails_the_call_and_memory_stays_bounded() {
    let mock = MockUpstream::start(Script::new()).await;
    let gateway = builder(&mock, &mock.base_url(), &[]).start().await;
    gateway.assert_answers("local:m").await;
    let before = gateway.peak_rss_kib();
    for _ in 0..4 {
        let answer = misbehave(&gateway, "flood-resources", None).await;
        let text = expect::error_answer(&answer, 5);
        assert!(
            text.contains("misbehaving") && text.contains("live host resources"),
            "the error names the adapter and the limit: {}",
            answer.text
        );
    }
    let answer = misbehave(&gateway, "flood-headers", None).await;
    let text = expect::error_answer(&answer, 5);
    assert!(
        text.contains("misbehaving") && text.contains("32 kib in one wasi-http fields"),
        "one header map is bounded: {}",
        answer.text
    );
    let after = gateway.peak_rss_kib();
    // Per call the host holds at most 256 resources x 32 KiB of headers (8 MiB) besides the
    // guest's own 64 MiB memory cap; unbounded, the flood reaches gigabytes within its fuel.
    // 128 MiB of growth covers one call's guest memory, its host resources and allocator slack.
    println!("gateway VmHWM: {before} KiB before the floods, {after} KiB after");
    assert!(
        after.saturating_sub(before) < 128 * 1024,
        "peak RSS grew from {before} KiB to {after} KiB"
    );
    // The process survives; (five traps open the misbehaving provider's breaker, so the other
    // provider is the one asked).
    gateway.assert_answers("local:m").await;
}
