//! Retrying a provider's transient failures before falling back to the next provider.
//!
//! Only transient classes are retried (rate limits, timeouts, overload, connection failures;
//! see [`ErrorClass::is_transient`]); a caller's invalid request never is. Delays grow
//! exponentially from `base` with jitter (the `backon` crate's backoff iterator), capped at
//! `cap`. A provider's `retry-after` is honoured: the retry waits at least that long, and
//! when it asks for longer than `cap` or than the request has left, the gateway falls back
//! at once instead of waiting.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};

use super::samples::ErrorClass;
use crate::runtime::InvokeError;
use crate::runtime::bindings::errors::AdapterError;

/// How a provider's transient failures are retried (from `[retry]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries per provider after the first attempt; 0 falls back at once.
    pub max_retries: u32,
    /// The first backoff delay.
    pub base: Duration,
    /// The longest delay, backoff or `retry-after`, worth waiting for.
    pub cap: Duration,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Wait this long, then call the same provider again.
    Retry(Duration),
    /// Move on to the next provider (or give up), for this reason.
    FallBack(Why),
}

/// Why a failure is not retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The failure is not transient.
    NotTransient,
    /// Every allowed retry was used.
    OutOfRetries,
    /// The provider's `retry-after` is longer than `cap`.
    RetryAfterTooLong,
    /// Waiting would overrun the request's deadline.
    PastDeadline,
}

/// One provider's retries within one request.
pub struct Retries {
    policy: RetryPolicy,
    backoff: ExponentialBackoff,
}

impl RetryPolicy {
    /// Retries for one provider call.
    pub fn start(&self) -> Retries {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.base)
            .with_max_delay(self.cap)
            .with_max_times(self.max_retries as usize)
            .with_jitter()
            .build();
        Retries {
            policy: *self,
            backoff,
        }
    }
}

impl Retries {
    /// After `error`, with `remaining` time left before the request's deadline: retry (after
    /// how long) or fall back.
    pub fn next(&mut self, error: &InvokeError, remaining: Duration) -> Next {
        if !ErrorClass::of(error).is_transient() {
            return Next::FallBack(Why::NotTransient);
        }
        let Some(backoff) = self.backoff.next() else {
            return Next::FallBack(Why::OutOfRetries);
        };
        let delay = match retry_after(error) {
            Some(asked) if asked > self.policy.cap => {
                return Next::FallBack(Why::RetryAfterTooLong);
            }
            Some(asked) => asked,
            // backon's jitter adds up to one more delay on top: keep the cap a cap.
            None => backoff.min(self.policy.cap),
        };
        if delay >= remaining {
            return Next::FallBack(Why::PastDeadline);
        }
        Next::Retry(delay)
    }
}

/// The provider's `retry-after`, when it gave one.
pub fn retry_after(error: &InvokeError) -> Option<Duration> {
    match error {
        InvokeError::Adapter(AdapterError::RateLimited(r)) => {
            r.retry_after_ms.map(Duration::from_millis)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::bindings::errors::{ErrorDetail, RateLimit};

    fn detail() -> ErrorDetail {
        ErrorDetail {
            message: "m".into(),
            status: Some(503),
            body: None,
        }
    }

    fn policy(max_retries: u32) -> RetryPolicy {
        RetryPolicy {
            max_retries,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(2),
        }
    }

    fn limited(ms: Option<u64>) -> InvokeError {
        InvokeError::Adapter(AdapterError::RateLimited(RateLimit {
            retry_after_ms: ms,
            detail: detail(),
        }))
    }

    const LONG: Duration = Duration::from_secs(600);

    #[test]
    fn transient_errors_back_off_with_jitter_within_the_cap_until_out_of_retries() {
        let mut r = policy(3).start();
        let overloaded = InvokeError::Adapter(AdapterError::Overloaded(detail()));
        let mut delays = Vec::new();
        while let Next::Retry(d) = r.next(&overloaded, LONG) {
            delays.push(d);
        }
        assert_eq!(delays.len(), 3);
        assert!(delays[0] >= Duration::from_millis(100) && delays[0] <= Duration::from_millis(200));
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(2)));
        assert_eq!(r.next(&overloaded, LONG), Next::FallBack(Why::OutOfRetries));
    }

    #[test]
    fn the_callers_mistakes_are_never_retried() {
        let mut r = policy(3).start();
        let invalid = InvokeError::Adapter(AdapterError::InvalidRequest(detail()));
        assert_eq!(r.next(&invalid, LONG), Next::FallBack(Why::NotTransient));
    }

    #[test]
    fn retry_after_is_honoured_or_falls_back_when_too_long() {
        let mut r = policy(3).start();
        assert_eq!(
            r.next(&limited(Some(1500)), LONG),
            Next::Retry(Duration::from_millis(1500))
        );
        assert_eq!(
            r.next(&limited(Some(20_000)), LONG),
            Next::FallBack(Why::RetryAfterTooLong)
        );
        let mut r = policy(3).start();
        assert_eq!(
            r.next(&limited(Some(1500)), Duration::from_secs(1)),
            Next::FallBack(Why::PastDeadline)
        );
    }

    #[test]
    fn no_retries_means_fall_back_at_once() {
        let mut r = policy(0).start();
        assert_eq!(
            r.next(&limited(None), LONG),
            Next::FallBack(Why::OutOfRetries)
        );
    }
}
