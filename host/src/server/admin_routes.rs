//! Operator routes: circuit breakers (`/api/v1/breakers`) and metrics (`/metrics` as
//! Prometheus text, `/api/v1/metrics` as JSON). Changing a breaker is an admin action: when
//! the server listens beyond loopback it needs `Authorization: Bearer $ARATTA_ADMIN_TOKEN`.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use http::HeaderMap;

use crate::gateway::{Gateway, GatewayError};
use crate::resilience::{Action, BreakerStatus};

use crate::dialects::scri::Failure;

/// Who may use admin routes.
#[derive(Debug, Clone)]
pub struct AdminPolicy {
    /// Whether a token is demanded (the server listens beyond loopback).
    pub required: bool,
    /// `ARATTA_ADMIN_TOKEN`, when set.
    pub token: Option<String>,
}

impl AdminPolicy {
    /// The policy for a server bound to `host`, with `token` from the environment.
    pub fn for_bind(host: &str, token: Option<String>) -> Self {
        let loopback = host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
        AdminPolicy {
            required: !loopback,
            token: token.filter(|t| !t.is_empty()),
        }
    }

    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<(), Failure> {
        if !self.required {
            return Ok(());
        }
        let Some(expected) = &self.token else {
            return Err(Failure(GatewayError::AdminDenied {
                reason: "admin routes are disabled while the server listens beyond loopback and ARATTA_ADMIN_TOKEN is unset".into(),
            }));
        };
        let given = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match given {
            Some(given) if constant_time_eq(given.as_bytes(), expected.as_bytes()) => Ok(()),
            Some(_) => Err(Failure(GatewayError::AdminDenied {
                reason: "the admin token is wrong".into(),
            })),
            None => Err(Failure(GatewayError::AdminDenied {
                reason: "send `Authorization: Bearer <ARATTA_ADMIN_TOKEN>`".into(),
            })),
        }
    }
}

/// An admin route's pass: a handler that takes it runs only for a request its server's
/// [`AdminPolicy`] admits, checked before the body is read. The policy is the server's (an
/// `Extension` laid over every route by [`super::app`]); a router without one refuses every
/// admin action rather than allowing it.
pub struct Admin;

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Admin {
    type Rejection = Failure;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Self, Failure> {
        let policy = parts.extensions.get::<Arc<AdminPolicy>>().ok_or_else(|| {
            Failure(GatewayError::AdminDenied {
                reason: "this server has no admin policy; admin routes are refused".into(),
            })
        })?;
        policy.check(&parts.headers).map(|()| Admin)
    }
}

/// Compare without leaking where the first difference is, or the expected length: the
/// SHA-256 digests of both sides (always 32 bytes) are compared in constant time by `subtle`.
fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    Sha256::digest(given)
        .ct_eq(&Sha256::digest(expected))
        .into()
}

/// Every provider's breaker.
pub async fn breakers(State(gw): State<Arc<Gateway>>) -> Json<Vec<BreakerStatus>> {
    Json(gw.breakers.status(Instant::now()))
}

/// `POST /api/v1/breakers/{provider}/{open|close|reset}`.
pub async fn set_breaker(
    _admin: Admin,
    State(gw): State<Arc<Gateway>>,
    Path((provider, action)): Path<(String, String)>,
) -> Result<Json<Vec<BreakerStatus>>, Failure> {
    let action = match action.as_str() {
        "open" => Action::Open,
        "close" => Action::Close,
        "reset" => Action::Reset,
        other => {
            return Err(crate::dialects::scri::bad_request(
                &format!("unknown breaker action `{other}`; use open, close or reset"),
                Some("action".into()),
            ));
        }
    };
    if !gw.breakers.set(&provider, action) {
        return Err(Failure(GatewayError::UnknownModel {
            message: format!("no provider named '{provider}'"),
        }));
    }
    tracing::warn!(%provider, ?action, "circuit breaker set by an operator");
    gw.metrics
        .circuit_transitions
        .with_label_values(&[provider.as_str(), action.label()])
        .inc();
    gw.metrics
        .open_circuits
        .set(gw.breakers.open_count() as i64);
    Ok(Json(gw.breakers.status(Instant::now())))
}

/// Prometheus text format.
pub async fn prometheus(State(gw): State<Arc<Gateway>>) -> impl IntoResponse {
    (
        [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        gw.metrics.prometheus_text(),
    )
}

/// The same metrics as JSON.
pub async fn metrics_json(State(gw): State<Arc<Gateway>>) -> Json<serde_json::Value> {
    Json(gw.metrics.json())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(a) = auth {
            h.insert(http::header::AUTHORIZATION, a.parse().unwrap());
        }
        h
    }

    #[test]
    fn loopback_needs_no_token() {
        let p = AdminPolicy::for_bind("127.0.0.1", None);
        assert!(p.check(&headers(None)).is_ok());
        assert!(
            AdminPolicy::for_bind("::1", None)
                .check(&headers(None))
                .is_ok()
        );
    }

    #[test]
    fn beyond_loopback_the_token_is_demanded() {
        let open = AdminPolicy::for_bind("0.0.0.0", None);
        assert!(open.check(&headers(Some("Bearer x"))).is_err());
        let p = AdminPolicy::for_bind("0.0.0.0", Some("s3cret".into()));
        assert!(p.check(&headers(None)).is_err());
        assert!(p.check(&headers(Some("Bearer wrong"))).is_err());
        assert!(p.check(&headers(Some("Bearer s3cret"))).is_ok());
        assert!(p.check(&headers(Some("Bearer s3cre"))).is_err(), "a prefix");
        assert!(p.check(&headers(Some("Bearer s3cret2"))).is_err(), "longer");
        assert!(p.check(&headers(Some("Bearer "))).is_err(), "empty");
    }
}
