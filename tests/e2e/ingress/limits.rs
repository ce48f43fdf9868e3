//! The ingress limits, end to end with raw sockets: a client sending its headers one byte a
//! second is disconnected after `header_read_timeout_seconds` while others are served; a
//! trickled body ends in a 408 before anything reaches the upstream; a connection left idle
//! is closed after `idle_timeout_seconds`; above `max_connections` new connections wait
//! (they are not accepted and dropped) and are served once others close; above
//! `max_concurrent_requests` requests wait for a slot.

use std::time::{Duration, Instant};

use aratta_tests::config::Config;
use aratta_tests::expect::Answer;
use aratta_tests::gateway::{Gateway, hello};
use aratta_tests::mock::{Behaviour, MockUpstream, Script};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn gateway_with(server: &str) -> (MockUpstream, Gateway) {
    let mock = MockUpstream::start(Script::new()).await;
    let config = Config::local(&mock.base_url()).raw(&format!("[server]\n{server}\n"));
    (mock, Gateway::start(&config).await)
}

fn authority(gateway: &Gateway) -> &str {
    gateway.base_url().trim_start_matches("http://")
}

async fn connect(gateway: &Gateway) -> TcpStream {
    TcpStream::connect(authority(gateway)).await.unwrap()
}

/// Read until the server closes the connection (or `limit` passes); what it sent.
async fn read_to_close(tcp: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&out).into_owned()),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn a_slowloris_client_is_disconnected_after_the_header_timeout_while_others_are_served() {
    let (mock, gateway) = gateway_with("header_read_timeout_seconds = 2").await;
    let mut slow = connect(&gateway).await;
    let started = Instant::now();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {}\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        authority(&gateway)
    );
    let mut closed_at = None;
    for (i, byte) in head.bytes().enumerate() {
        if slow.write_all(&[byte]).await.is_err() {
            closed_at = Some(started.elapsed());
            break;
        }
        if i == 1 {
            // Meanwhile an ordinary client is served at once.
            let t0 = Instant::now();
            Answer::read(
                gateway
                    .post_json("/v1/chat/completions", &hello("local:m"))
                    .await,
            )
            .await
            .assert_status(200);
            assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
        }
        // A peek: has the server hung up?
        let mut probe = [0u8; 256];
        if let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(1000), slow.read(&mut probe)).await
        {
            // 0: closed; or an error answer followed by the close.
            let _ = n;
            closed_at = Some(started.elapsed());
            break;
        }
    }
    let closed_at = closed_at.expect("the slow client was never disconnected");
    assert!(
        closed_at >= Duration::from_millis(1500) && closed_at < Duration::from_secs(6),
        "disconnected after {closed_at:?}, the header timeout is 2 s"
    );
    assert_eq!(mock.chat_requests().len(), 1, "only the ordinary request");
}

#[tokio::test]
async fn a_trickled_body_ends_in_a_timeout_and_never_reaches_the_upstream() {
    let (mock, gateway) = gateway_with("body_read_timeout_seconds = 2").await;
    let mut tcp = connect(&gateway).await;
    let body = serde_json::to_string(&hello("local:m")).unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        authority(&gateway),
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    // One byte a second: the body would take a minute.
    let trickle = async {
        for byte in body.as_bytes() {
            if tcp.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(3500), trickle).await;
    let answer = read_to_close(&mut tcp, Duration::from_secs(10))
        .await
        .expect("the server closed the connection");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_read_timeout"), "{answer}");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(12), "{elapsed:?}");
    assert!(mock.chat_requests().is_empty());
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let (_mock, gateway) = gateway_with("idle_timeout_seconds = 2").await;
    let mut tcp = connect(&gateway).await;
    let get = format!(
        "GET /api/v1/health HTTP/1.1\r\nHost: {}\r\n\r\n",
        authority(&gateway)
    );
    tcp.write_all(get.as_bytes()).await.unwrap();
    let mut buf = [0u8; 4096];
    let n = tcp.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let started = Instant::now();
    // Keep-alive: the connection stays open, then the watchdog closes it.
    let rest = read_to_close(&mut tcp, Duration::from_secs(10)).await;
    assert!(rest.is_some(), "the idle connection was never closed");
    let idle = started.elapsed();
    assert!(
        idle >= Duration::from_millis(1500) && idle < Duration::from_secs(5),
        "closed after {idle:?}, the idle timeout is 2 s"
    );
}

#[tokio::test]
async fn above_the_connection_limit_new_connections_wait_and_are_served_once_others_close() {
    let (mock, gateway) = gateway_with("max_connections = 2").await;
    let holders = [connect(&gateway).await, connect(&gateway).await];
    tokio::time::sleep(Duration::from_millis(300)).await;
    let body = hello("local:m");
    let request = gateway.post_json("/v1/chat/completions", &body);
    let mut request = std::pin::pin!(request);
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), &mut request)
            .await
            .is_err(),
        "a third connection was served while two were open"
    );
    assert!(mock.chat_requests().is_empty());
    // One closes: the waiting connection is accepted and served (not refused, not reset).
    let [first, _second] = holders;
    drop(first);
    let answer = tokio::time::timeout(Duration::from_secs(5), request)
        .await
        .expect("served once a connection closed");
    Answer::read(answer).await.assert_status(200);
    assert_eq!(mock.chat_requests().len(), 1);
}

#[tokio::test]
async fn above_the_request_limit_requests_wait_for_a_slot() {
    let (mock, gateway) = gateway_with("max_concurrent_requests = 1").await;
    mock.push([Behaviour::Delay(Duration::from_millis(1500))]);
    let started = Instant::now();
    let body = hello("local:m");
    let slow = gateway.post_json("/v1/chat/completions", &body);
    let quick = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let answer = gateway
            .post_json("/v1/chat/completions", &hello("local:m"))
            .await;
        (answer, started.elapsed())
    };
    let (slow, (quick, quick_done)) = tokio::join!(slow, quick);
    let slow_done = started.elapsed();
    Answer::read(slow).await.assert_status(200);
    Answer::read(quick).await.assert_status(200);
    // The second request could only start once the first one had its answer.
    assert!(
        quick_done >= Duration::from_millis(1400),
        "the second request finished after {quick_done:?}, before the first freed its slot"
    );
    assert!(slow_done >= Duration::from_millis(1500));
    assert_eq!(mock.chat_requests().len(), 2);
}
