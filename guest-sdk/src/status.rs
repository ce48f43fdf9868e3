//! Classify a provider's HTTP failure into the [`AdapterError`] case the host acts on
//! (retry, fall back, open a breaker), always keeping the raw status and body.

use crate::error::truncate_body;
use crate::{AdapterError, ErrorDetail, RateLimit};

/// The provider's advice on when to retry, in milliseconds, from `retry-after-ms` (preferred,
/// more precise) or `retry-after` in seconds. HTTP-date values are ignored: the adapter world
/// has no clock, and providers that rate-limit LLM calls send seconds.
pub fn retry_after_ms(retry_after: Option<&str>, retry_after_ms: Option<&str>) -> Option<u64> {
    if let Some(ms) = retry_after_ms.and_then(|v| v.trim().parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(ms.ceil() as u64);
    }
    let secs = retry_after?.trim().parse::<f64>().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| (secs * 1000.0).ceil() as u64)
}

/// The provider's own one-line explanation, when the body is the usual JSON error shape
/// (`{"error":{"message":…}}`, `{"error":"…"}` or `{"message":…}`).
pub fn provider_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let message = match value.get("error") {
        Some(serde_json::Value::String(s)) => Some(s.as_str()),
        Some(err) => err.get("message").and_then(|m| m.as_str()),
        None => None,
    }
    .or_else(|| value.get("message").and_then(|m| m.as_str()))
    .or_else(|| value.get("detail").and_then(|m| m.as_str()))?;
    Some(message.chars().take(300).collect())
}

/// The error for a non-success `status` with `body`; `retry_after_ms` comes from
/// [`retry_after_ms`] and is only used for 429.
///
/// 429 → rate-limited; 401/403 → unauthorized; 400/404/413/422 → invalid-request;
/// 408/504 → timeout; 503/529 → overloaded; other 5xx → upstream; anything else → upstream too,
/// since the status is always kept in the detail.
pub fn error_for_status(status: u16, retry_after_ms: Option<u64>, body: &[u8]) -> AdapterError {
    let what = match provider_message(body) {
        Some(m) => format!("HTTP {status} from the provider: {m}"),
        None => format!("HTTP {status} from the provider"),
    };
    let detail = ErrorDetail {
        message: what,
        status: Some(status),
        body: Some(truncate_body(body)),
    };
    match status {
        429 => AdapterError::RateLimited(RateLimit {
            retry_after_ms,
            detail,
        }),
        401 | 403 => AdapterError::Unauthorized(detail),
        400 | 404 | 413 | 422 => AdapterError::InvalidRequest(detail),
        408 | 504 => AdapterError::Timeout(detail),
        503 | 529 => AdapterError::Overloaded(detail),
        _ => AdapterError::Upstream(detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_prefers_milliseconds() {
        assert_eq!(retry_after_ms(Some("2"), Some("1500")), Some(1500));
        assert_eq!(retry_after_ms(Some("2"), None), Some(2000));
        assert_eq!(retry_after_ms(Some("0.5"), None), Some(500));
        assert_eq!(
            retry_after_ms(Some("Wed, 21 Oct 2015 07:28:00 GMT"), None),
            None
        );
        assert_eq!(retry_after_ms(None, Some("bogus")), None);
        assert_eq!(retry_after_ms(Some("-1"), None), None);
    }

    #[test]
    fn statuses_map_to_cases() {
        let case = |s| match error_for_status(s, None, b"") {
            AdapterError::RateLimited(_) => "rate-limited",
            AdapterError::Unauthorized(_) => "unauthorized",
            AdapterError::InvalidRequest(_) => "invalid-request",
            AdapterError::Timeout(_) => "timeout",
            AdapterError::Overloaded(_) => "overloaded",
            AdapterError::Upstream(_) => "upstream",
            _ => "other",
        };
        assert_eq!(case(429), "rate-limited");
        assert_eq!(case(401), "unauthorized");
        assert_eq!(case(403), "unauthorized");
        for s in [400, 404, 413, 422] {
            assert_eq!(case(s), "invalid-request", "{s}");
        }
        assert_eq!(case(408), "timeout");
        assert_eq!(case(504), "timeout");
        assert_eq!(case(503), "overloaded");
        assert_eq!(case(529), "overloaded");
        assert_eq!(case(500), "upstream");
        assert_eq!(case(502), "upstream");
        assert_eq!(case(418), "upstream");
    }

    #[test]
    fn rate_limit_keeps_retry_status_and_body() {
        let body = br#"{"error":{"message":"Rate limit reached","type":"requests"}}"#;
        let AdapterError::RateLimited(r) = error_for_status(429, Some(1200), body) else {
            panic!("wrong case")
        };
        assert_eq!(r.retry_after_ms, Some(1200));
        assert_eq!(r.detail.status, Some(429));
        assert_eq!(
            r.detail.body.as_deref(),
            Some(std::str::from_utf8(body).unwrap())
        );
        assert!(r.detail.message.contains("Rate limit reached"));
    }

    #[test]
    fn provider_messages_in_common_shapes() {
        // OpenAI / vLLM / llama.cpp.
        assert_eq!(
            provider_message(br#"{"error":{"message":"bad","type":"invalid_request_error"}}"#),
            Some("bad".into())
        );
        // Ollama native errors.
        assert_eq!(
            provider_message(br#"{"error":"model 'x' not found"}"#),
            Some("model 'x' not found".into())
        );
        // vLLM's older flat shape.
        assert_eq!(
            provider_message(br#"{"object":"error","message":"flat","code":400}"#),
            Some("flat".into())
        );
        assert_eq!(provider_message(b"<html>502</html>"), None);
    }
}
