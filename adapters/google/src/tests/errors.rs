//! Google error bodies → SCRI error cases.

use super::fixture;
use crate::errors::{duration_ms, for_status};
use aratta_guest::AdapterError;

fn case(e: &AdapterError) -> &'static str {
    match e {
        AdapterError::RateLimited(_) => "rate-limited",
        AdapterError::Unauthorized(_) => "unauthorized",
        AdapterError::InvalidRequest(_) => "invalid-request",
        AdapterError::Timeout(_) => "timeout",
        AdapterError::Overloaded(_) => "overloaded",
        AdapterError::Upstream(_) => "upstream",
        _ => "other",
    }
}

#[test]
fn each_documented_error_maps_to_its_case() {
    let cases = [
        (400, fixture!("error_400.json"), "invalid-request"),
        (
            400,
            fixture!("error_400_failed_precondition.json"),
            "invalid-request",
        ),
        (
            400,
            fixture!("error_400_api_key_invalid.json"),
            "unauthorized",
        ),
        (401, fixture!("error_401.json"), "unauthorized"),
        (403, fixture!("error_403.json"), "unauthorized"),
        (404, fixture!("error_404.json"), "invalid-request"),
        (429, fixture!("error_429.json"), "rate-limited"),
        (500, fixture!("error_500.json"), "upstream"),
        (503, fixture!("error_503.json"), "overloaded"),
        (504, fixture!("error_504.json"), "timeout"),
    ];
    for (status, body, expected) in cases {
        let error = for_status(status, None, body.as_bytes());
        assert_eq!(case(&error), expected, "{status}: {body}");
        let detail = error.detail();
        assert_eq!(detail.status, Some(status));
        assert_eq!(detail.body.as_deref(), Some(body), "the raw body is kept");
        assert!(
            detail
                .message
                .starts_with(&format!("HTTP {status} from Gemini (")),
            "{}",
            detail.message
        );
    }
}

#[test]
fn rate_limits_carry_retry_info() {
    let AdapterError::RateLimited(r) =
        for_status(429, Some(5000), fixture!("error_429.json").as_bytes())
    else {
        panic!("wrong case")
    };
    // RetryInfo in the body is more specific than a header.
    assert_eq!(r.retry_after_ms, Some(34_000));
    assert!(r.detail.message.contains("RESOURCE_EXHAUSTED"));
    let bare = br#"{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}"#;
    let AdapterError::RateLimited(r) = for_status(429, Some(2000), bare) else {
        panic!("wrong case")
    };
    assert_eq!(r.retry_after_ms, Some(2000));
}

#[test]
fn durations() {
    assert_eq!(duration_ms("34s"), Some(34_000));
    assert_eq!(duration_ms("1.5s"), Some(1500));
    assert_eq!(duration_ms("0.000340s"), Some(1));
    assert_eq!(duration_ms("34"), None);
    assert_eq!(duration_ms("-1s"), None);
}

#[test]
fn unusual_statuses_fall_back_to_googles_status_name() {
    let body =
        br#"{"error":{"code":499,"message":"The operation was cancelled.","status":"CANCELLED"}}"#;
    assert_eq!(case(&for_status(499, None, body)), "upstream");
    let body = br#"{"error":{"code":502,"message":"x","status":"UNAVAILABLE"}}"#;
    assert_eq!(case(&for_status(502, None, body)), "overloaded");
    assert_eq!(
        case(&for_status(502, None, b"<html>Bad Gateway</html>")),
        "upstream"
    );
}
