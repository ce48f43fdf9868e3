//! HTTP tools end to end: a tool declared in `ARATTA_AGENT_TOOLS` is called by POSTing the
//! model's arguments as JSON to its URL, and the response body is what the model reads.

use aratta_tests::config::Config;
use aratta_tests::gateway::Gateway;
use serde_json::{Value, json};

use super::scripted::{Scripted, Turn, Wire};
use super::{audit_lines, run_http, temp_audit};

#[tokio::test]
async fn http_tools_post_the_arguments_and_return_the_body() {
    let (service_url, received) = weather_service().await;
    let tools_dir = tempfile::tempdir().unwrap();
    let tools_file = tools_dir.path().join("tools.json");
    std::fs::write(
        &tools_file,
        json!([{
            "name": "weather", "description": "Current weather", "tier": "standard",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            "url": service_url
        }])
        .to_string(),
    )
    .unwrap();
    let script = vec![
        Turn::Calls(None, vec![("weather", json!({"city": "Paris"}))]),
        Turn::Answer("18 degrees"),
    ];
    let mock = Scripted::start(Wire::OpenAi, script, None).await;
    let (_dir, audit) = temp_audit();
    let gateway = Gateway::builder(&Config::local(&mock.base_url()))
        .env("ARATTA_AGENT_AUDIT", audit.to_str().unwrap())
        .env("ARATTA_AGENT_TOOLS", tools_file.to_str().unwrap())
        .start()
        .await;
    let steps = run_http(
        &gateway,
        &json!({"model": "local:m", "task": "weather?", "tools": ["weather"]}),
    )
    .await;
    let result = steps.iter().find(|s| s["type"] == "tool_result").unwrap();
    assert_eq!(result["outcome"], "ok", "{result}");
    assert_eq!(result["content"], r#"{"temp_c":18}"#);
    assert_eq!(received.lock().unwrap().clone(), [json!({"city": "Paris"})]);
    assert_eq!(audit_lines(&audit)[0]["tool"], "weather");
}

/// A tiny HTTP tool: records each JSON body and answers `{"temp_c":18}`.
async fn weather_service() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use http_body_util::BodyExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/weather", listener.local_addr().unwrap());
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let sink = sink.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let sink = sink.clone();
                        async move {
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            sink.lock()
                                .unwrap()
                                .push(serde_json::from_slice::<Value>(&body).unwrap());
                            Ok::<_, std::convert::Infallible>(hyper::Response::new(
                                http_body_util::Full::new(bytes::Bytes::from_static(
                                    br#"{"temp_c":18}"#,
                                )),
                            ))
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (url, received)
}
