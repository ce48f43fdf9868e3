//! Error classification from Anthropic's recorded error bodies.

use aratta_guest::AdapterError;

use super::fixture;
use crate::errors::{for_event, for_status};

fn case(error: &AdapterError) -> &'static str {
    match error {
        AdapterError::RateLimited(_) => "rate-limited",
        AdapterError::Timeout(_) => "timeout",
        AdapterError::Overloaded(_) => "overloaded",
        AdapterError::Connection(_) => "connection",
        AdapterError::Unauthorized(_) => "unauthorized",
        AdapterError::InvalidRequest(_) => "invalid-request",
        AdapterError::SchemaMismatch(_) => "schema-mismatch",
        AdapterError::Upstream(_) => "upstream",
        AdapterError::Unsupported(_) => "unsupported",
        AdapterError::Other(_) => "other",
    }
}

#[test]
fn each_status_and_error_type() {
    let cases = [
        (400, "invalid-request", "invalid_request_error"),
        (401, "unauthorized", "authentication_error"),
        (403, "unauthorized", "permission_error"),
        (404, "invalid-request", "not_found_error"),
        (413, "invalid-request", "request_too_large"),
        (429, "rate-limited", "rate_limit_error"),
        (500, "upstream", "api_error"),
        (529, "overloaded", "overloaded_error"),
    ];
    for (status, expected, kind) in cases {
        let body = fixture(&format!("error_{status}.json"));
        let error = for_status(status, None, body.as_bytes());
        assert_eq!(case(&error), expected, "{status}");
        let detail = error.detail();
        assert_eq!(detail.status, Some(status));
        assert_eq!(detail.body.as_deref(), Some(body.as_str()));
        assert!(detail.message.contains(kind), "{}", detail.message);
        assert!(detail.message.contains(&format!("HTTP {status}")));
    }
}

#[test]
fn rate_limits_keep_retry_after() {
    let body = fixture("error_429.json");
    let AdapterError::RateLimited(r) = for_status(429, Some(30_000), body.as_bytes()) else {
        panic!("not rate-limited")
    };
    assert_eq!(r.retry_after_ms, Some(30_000));
    assert!(r.detail.message.contains("50 requests per minute"));
}

#[test]
fn the_error_type_wins_over_a_rewritten_status() {
    // A proxy that turned Anthropic's 529 into a 500 still reports an overload.
    let body = fixture("error_529.json");
    assert_eq!(case(&for_status(500, None, body.as_bytes())), "overloaded");
    // Types Anthropic lists besides the HTTP table.
    let billing =
        br#"{"type":"error","error":{"type":"billing_error","message":"credit balance too low"}}"#;
    assert_eq!(case(&for_status(402, None, billing)), "unauthorized");
    let timeout =
        br#"{"type":"error","error":{"type":"timeout_error","message":"Request timed out"}}"#;
    assert_eq!(case(&for_status(504, None, timeout)), "timeout");
}

#[test]
fn unknown_types_and_foreign_bodies_fall_back_to_the_status() {
    let novel = br#"{"type":"error","error":{"type":"quantum_error","message":"?"}}"#;
    assert_eq!(case(&for_status(503, None, novel)), "overloaded");
    assert_eq!(case(&for_status(418, None, novel)), "upstream");
    let html = b"<html><body>502 Bad Gateway</body></html>";
    let error = for_status(502, None, html);
    assert_eq!(case(&error), "upstream");
    assert_eq!(error.detail().status, Some(502));
}

#[test]
fn stream_error_events() {
    let overloaded =
        br#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#;
    let error = for_event(overloaded, "Anthropic's stream failed");
    assert_eq!(case(&error), "overloaded");
    assert_eq!(error.detail().status, None);
    assert_eq!(case(&for_event(b"not json", "x")), "upstream");
    let limited = br#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#;
    assert!(matches!(
        for_event(limited, "x"),
        AdapterError::RateLimited(r) if r.retry_after_ms.is_none()
    ));
}
