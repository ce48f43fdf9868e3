//! Who may ask, end to end: the real `aratta` binary on loopback refuses what a web page in
//! the user's browser could send (a foreign `Origin`: cross-site request forgery; a foreign
//! `Host`: DNS rebinding; a `text/plain` body on an admin, agent or tool route), and the
//! refused request has no effect: the agent never ran, the breaker did not change, the
//! upstream received nothing. Same-origin and header-less callers (SDKs, curl) keep working.
//! The ingress limits (timeouts, connection and request limits) are in `ingress/limits.rs`.

#[path = "ingress/limits.rs"]
mod limits;

use aratta_tests::config::Config;
use aratta_tests::expect::Answer;
use aratta_tests::gateway::{Gateway, hello};
use aratta_tests::mock::{MockUpstream, Script};
use serde_json::{Value, json};

async fn setup() -> (MockUpstream, Gateway) {
    let mock = MockUpstream::start(Script::new()).await;
    let gateway = Gateway::start(&Config::local(&mock.base_url())).await;
    (mock, gateway)
}

/// The gateway's own `host:port`, as a browser on this machine would name it.
fn authority(gateway: &Gateway) -> String {
    gateway.base_url().trim_start_matches("http://").to_string()
}

fn port(gateway: &Gateway) -> String {
    authority(gateway).rsplit(':').next().unwrap().to_string()
}

fn agent_task() -> String {
    json!({"model": "local:m", "task": "say hi", "tools": ["current_time"]}).to_string()
}

/// A cross-site form post: what `<form enctype="text/plain">` or `fetch(..., {mode:
/// "no-cors"})` on another site makes the browser send.
async fn cross_site_post(gateway: &Gateway, path: &str, body: String) -> Answer {
    let response = gateway
        .client()
        .post(gateway.url(path))
        .header("origin", "http://evil.example")
        .header("content-type", "text/plain")
        .body(body)
        .send()
        .await
        .unwrap();
    Answer::read(response).await
}

fn error(answer: &Answer) -> Value {
    answer.json()["error"].clone()
}

#[tokio::test]
async fn a_cross_site_post_to_the_agent_route_is_refused_and_the_agent_never_runs() {
    let (mock, gateway) = setup().await;
    let answer = cross_site_post(&gateway, "/api/v1/agents/run", agent_task()).await;
    answer.assert_status(403);
    let e = error(&answer);
    assert_eq!(e["code"], "origin_not_allowed");
    assert_eq!(e["type"], "permission_error");
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("Origin header `http://evil.example`"),
        "{message}"
    );

    // The same body as text/plain without an Origin (an old browser, a careless script): 415.
    let plain = gateway
        .client()
        .post(gateway.url("/api/v1/agents/run"))
        .header("content-type", "text/plain")
        .body(agent_task())
        .send()
        .await
        .unwrap();
    let plain = Answer::read(plain).await;
    plain.assert_status(415);
    assert_eq!(error(&plain)["code"], "unsupported_media_type");
    assert!(
        error(&plain)["message"]
            .as_str()
            .unwrap()
            .contains("takes `application/json`")
    );
    // curl -d sends a form type.
    let form = gateway
        .client()
        .post(gateway.url("/api/v1/agents/run"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(agent_task())
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);

    // Nothing ran: the model was never asked, no audit line was written.
    assert!(mock.chat_requests().is_empty(), "{:?}", mock.requests());
    let audit = gateway.home().join("agent-audit.jsonl");
    assert!(
        std::fs::read_to_string(&audit)
            .unwrap_or_default()
            .is_empty()
    );

    // The control: the same run as JSON, from the gateway's own origin, reaches the model.
    let own = gateway
        .client()
        .post(gateway.url("/api/v1/agents/run"))
        .header("origin", format!("http://localhost:{}", port(&gateway)))
        .header("content-type", "application/json")
        .body(agent_task())
        .send()
        .await
        .unwrap();
    let own = Answer::read(own).await;
    own.assert_status(200);
    assert!(own.text.contains("event: answer"), "{}", own.text);
    assert_eq!(mock.chat_requests().len(), 1);
}

async fn breaker_state(gateway: &Gateway) -> String {
    let all = Answer::read(gateway.get("/api/v1/breakers").await).await;
    all.assert_status(200);
    let all = all.json();
    let local = all
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["provider"] == "local")
        .unwrap()
        .clone();
    local["state"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_cross_site_post_to_an_admin_route_changes_nothing() {
    let (_mock, gateway) = setup().await;
    assert_eq!(breaker_state(&gateway).await, "closed");
    let answer = cross_site_post(&gateway, "/api/v1/breakers/local/open", String::new()).await;
    answer.assert_status(403);
    assert_eq!(error(&answer)["code"], "origin_not_allowed");
    // A page with an opaque origin (sandboxed frame, file: page) says `null`.
    let null = gateway
        .client()
        .post(gateway.url("/api/v1/breakers/local/open"))
        .header("origin", "null")
        .send()
        .await
        .unwrap();
    assert_eq!(null.status(), 403);
    // Another local service's page (same host, other port) is another site.
    let other_port = gateway
        .client()
        .post(gateway.url("/api/v1/breakers/local/open"))
        .header("origin", "http://127.0.0.1:1")
        .send()
        .await
        .unwrap();
    assert_eq!(other_port.status(), 403);
    let tools = cross_site_post(
        &gateway,
        "/api/v1/tools",
        json!({"name": "t", "description": "d", "parameters": {"type": "object"}}).to_string(),
    )
    .await;
    tools.assert_status(403);
    assert_eq!(
        breaker_state(&gateway).await,
        "closed",
        "the breaker did not move"
    );
    let listed = Answer::read(gateway.get("/api/v1/tools/t").await).await;
    listed.assert_status(404);

    // The control: no Origin (curl, the CLI) and no body: the breaker opens.
    let ok = gateway
        .client()
        .post(gateway.url("/api/v1/breakers/local/open"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(breaker_state(&gateway).await, "forced_open");
}

#[tokio::test]
async fn a_rebinding_host_is_refused_before_the_upstream_is_called() {
    let (mock, gateway) = setup().await;
    let port = port(&gateway);
    for host in [format!("evil.example:{port}"), "evil.example".into()] {
        let response = gateway
            .client()
            .post(gateway.url("/v1/chat/completions"))
            .header("host", &host)
            .json(&hello("local:m"))
            .send()
            .await
            .unwrap();
        let answer = Answer::read(response).await;
        answer.assert_status(403);
        assert_eq!(error(&answer)["code"], "host_not_allowed");
        assert!(
            error(&answer)["message"]
                .as_str()
                .unwrap()
                .contains(&format!(
                    "the Host header `{host}` does not name this server"
                )),
            "{}",
            answer.text
        );
    }
    // Each API refuses in its own shape: Anthropic's and Google's SDKs show the message.
    let anthropic = gateway
        .client()
        .post(gateway.url("/v1/messages"))
        .header("host", format!("evil.example:{port}"))
        .json(&json!({"model": "local:m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    let anthropic = Answer::read(anthropic).await;
    anthropic.assert_status(403);
    assert_eq!(anthropic.json()["type"], "error");
    assert_eq!(anthropic.json()["error"]["type"], "permission_error");
    let gemini = gateway
        .client()
        .post(gateway.url("/v1beta/models/local:m:generateContent"))
        .header("host", format!("evil.example:{port}"))
        .json(&json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}))
        .send()
        .await
        .unwrap();
    let gemini = Answer::read(gemini).await;
    gemini.assert_status(403);
    assert_eq!(gemini.json()["error"]["status"], "PERMISSION_DENIED");
    // Reads too: a rebound page cannot read the metrics or the model list.
    let read = gateway
        .client()
        .get(gateway.url("/api/v1/metrics"))
        .header("host", format!("evil.example:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 403);
    assert!(mock.chat_requests().is_empty(), "{:?}", mock.requests());

    // The control: every name of loopback at the gateway's port is served.
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let response = gateway
            .client()
            .post(gateway.url("/v1/chat/completions"))
            .header("host", &host)
            .json(&hello("local:m"))
            .send()
            .await
            .unwrap();
        Answer::read(response).await.assert_status(200);
    }
    assert_eq!(mock.chat_requests().len(), 3);
}

#[tokio::test]
async fn same_origin_and_origin_less_callers_are_served() {
    let (mock, gateway) = setup().await;
    let own = format!("http://{}", authority(&gateway));
    for origin in [None, Some(own.as_str())] {
        let mut request = gateway
            .client()
            .post(gateway.url("/v1/chat/completions"))
            .json(&hello("local:m"));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        Answer::read(request.send().await.unwrap())
            .await
            .assert_status(200);
    }
    assert_eq!(mock.chat_requests().len(), 2);
}

#[tokio::test]
async fn listed_host_names_are_accepted_beyond_the_listen_address() {
    let mock = MockUpstream::start(Script::new()).await;
    let config =
        Config::local(&mock.base_url()).raw("[server]\nallowed_host_names = [\"aratta.lan\"]\n");
    let gateway = Gateway::start(&config).await;
    let port = port(&gateway);
    let send = |host: String| {
        gateway
            .client()
            .post(gateway.url("/v1/chat/completions"))
            .header("host", host)
            .json(&hello("local:m"))
            .send()
    };
    assert_eq!(
        send(format!("aratta.lan:{port}")).await.unwrap().status(),
        200
    );
    assert_eq!(
        send(format!("other.lan:{port}")).await.unwrap().status(),
        403
    );
    assert_eq!(mock.chat_requests().len(), 1);
}
