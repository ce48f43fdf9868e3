//! Why the gateway could not answer, and how each reason reaches a client: an HTTP status
//! and a JSON error whose `type` says whose fault it was.

use http::StatusCode;

use crate::runtime::InvokeError;
use crate::runtime::bindings::errors::{AdapterError, MismatchKind};
use crate::scri::{ApiErrorBody, Attempt};

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The request itself is wrong.
    #[error("{message}")]
    BadRequest {
        /// What is wrong.
        message: String,
        /// The field at fault.
        param: Option<String>,
    },
    /// The model names no provider or alias.
    #[error("{message}")]
    UnknownModel {
        /// What is wrong, and what would be valid.
        message: String,
    },
    /// The provider's adapter is not loaded.
    #[error(
        "provider '{provider}' uses adapter '{adapter}', which is not loaded; install it with `aratta adapter build` or drop its .wasm into the adapters directory"
    )]
    NoAdapter {
        /// The provider.
        provider: String,
        /// The adapter it names.
        adapter: String,
    },
    /// The provider has no `base_url` and its adapter is not in the host's table of known
    /// providers: the adapter's own default is never trusted with egress or the key.
    #[error(
        "provider '{provider}' has no base URL: adapter '{adapter}' is not one the host knows, and its self-declared default is not trusted; set providers.{provider}.base_url in the config"
    )]
    NoBaseUrl {
        /// The provider.
        provider: String,
        /// The adapter it names.
        adapter: String,
    },
    /// The adapter reports something the host cannot use.
    #[error("adapter '{adapter}' is unusable: {reason}")]
    BadAdapter {
        /// The adapter.
        adapter: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The provider needs a credential that is not in the environment.
    #[error(
        "provider '{provider}' needs an API key: set {env} in the environment of `aratta serve`"
    )]
    MissingCredential {
        /// The provider.
        provider: String,
        /// The variable to set.
        env: String,
    },
    /// The adapter or the provider behind it failed.
    #[error("provider '{provider}': {}", describe(.error))]
    Invoke {
        /// The provider.
        provider: String,
        /// What failed.
        error: InvokeError,
    },
    /// The provider's circuit breaker is open: it failed repeatedly and is not called until
    /// it recovers.
    #[error(
        "provider '{provider}' is failing and its circuit breaker is open; see GET /api/v1/breakers"
    )]
    CircuitOpen {
        /// The provider.
        provider: String,
    },
    /// The client's key may not do this (a model outside its list).
    #[error("{message}")]
    Forbidden {
        /// What was refused, and what the key allows.
        message: String,
    },
    /// An admin route was called without the right token.
    #[error("not authorized: {reason}")]
    AdminDenied {
        /// Why.
        reason: String,
    },
    /// The whole request took longer than `[server] request_timeout_seconds`.
    #[error("no answer within {seconds} s ([server] request_timeout_seconds)")]
    Timeout {
        /// The limit.
        seconds: u64,
    },
    /// Every provider of an alias was tried and failed.
    #[error("all {} providers of '{reference}' failed; last: {last}", attempts.len())]
    Exhausted {
        /// The alias (or model reference) the request named.
        reference: String,
        /// What was tried.
        attempts: Vec<Attempt>,
        /// The last failure.
        last: Box<GatewayError>,
    },
}

fn describe(e: &InvokeError) -> String {
    match e {
        InvokeError::Adapter(AdapterError::SchemaMismatch(s)) => format!(
            "the provider's response no longer matches the expected format ({} at `{}`): {}",
            mismatch_name(s.kind),
            s.path,
            s.detail.message
        ),
        InvokeError::Adapter(a) => {
            let d = a.detail();
            match d.status {
                Some(status) => format!("{} (upstream status {status})", d.message),
                None => d.message.clone(),
            }
        }
        other => other.to_string(),
    }
}

fn mismatch_name(k: MismatchKind) -> &'static str {
    match k {
        MismatchKind::UnknownField => "unknown field",
        MismatchKind::MissingField => "missing field",
        MismatchKind::DeprecatedField => "deprecated field",
        MismatchKind::ToolSchemaChange => "tool schema change",
        MismatchKind::StreamFormatChange => "stream format change",
    }
}

impl GatewayError {
    /// Whether another provider may succeed where this one failed. A caller's own mistake
    /// (an invalid request, an unsupported operation) fails the same everywhere.
    pub fn falls_back(&self) -> bool {
        !matches!(
            self,
            GatewayError::BadRequest { .. }
                | GatewayError::AdminDenied { .. }
                | GatewayError::Forbidden { .. }
                | GatewayError::UnknownModel { .. }
                | GatewayError::Timeout { .. }
                // The instance pool is shared by every adapter: another provider would find
                // it as full.
                | GatewayError::Invoke {
                    error: InvokeError::Overloaded { .. },
                    ..
                }
                | GatewayError::Invoke {
                    error: InvokeError::Adapter(
                        AdapterError::InvalidRequest(_) | AdapterError::Unsupported(_)
                    ),
                    ..
                }
        )
    }

    /// A short outcome label for lineage and metrics.
    pub fn kind(&self) -> &'static str {
        self.body().0.as_str()
    }

    /// Every [`Self::kind`] a call to a provider can fail with, for the metrics series that
    /// must exist at zero before the first failure. Not `not_found_error` (a model naming no
    /// provider never reaches one) nor the admin token's refusal (it shares
    /// `authentication_error` with a provider refusing the credential, which is listed).
    pub fn call_failure_kinds() -> impl Iterator<Item = &'static str> {
        StatusKind::CALL_FAILURES.iter().map(|k| k.as_str())
    }

    /// Whether the gateway itself is overloaded (every adapter instance slot busy): not the
    /// provider's or the adapter's fault, so the breaker, the health monitor and probation
    /// leave it out.
    pub fn is_overload(&self) -> bool {
        matches!(self.innermost(), GatewayError::Invoke { error, .. } if error.is_overload())
    }

    /// `Retry-After` seconds to pass on to the client: the provider's, or one second when the
    /// gateway's instance pool is full (a slot frees as soon as any call ends).
    pub fn retry_after_seconds(&self) -> Option<u64> {
        match self.innermost() {
            GatewayError::Invoke {
                error: InvokeError::Overloaded { .. },
                ..
            } => Some(1),
            GatewayError::Invoke {
                error: InvokeError::Adapter(AdapterError::RateLimited(r)),
                ..
            } => r.retry_after_ms.map(|ms| ms.div_ceil(1000)),
            _ => None,
        }
    }

    fn innermost(&self) -> &GatewayError {
        match self {
            GatewayError::Exhausted { last, .. } => last.innermost(),
            other => other,
        }
    }

    fn body(&self) -> (StatusKind, Option<&'static str>) {
        use StatusKind::*;
        match self {
            GatewayError::BadRequest { .. } => (InvalidRequest, None),
            GatewayError::UnknownModel { .. } => (NotFound, Some("model_not_found")),
            GatewayError::NoAdapter { .. } => (Unavailable, Some("adapter_not_loaded")),
            GatewayError::BadAdapter { .. } => (AdapterFault, Some("adapter_invalid")),
            GatewayError::NoBaseUrl { .. } => (Unavailable, Some("base_url_required")),
            GatewayError::MissingCredential { .. } => (Unavailable, Some("missing_credential")),
            GatewayError::CircuitOpen { .. } => (Unavailable, Some("circuit_open")),
            GatewayError::AdminDenied { .. } => (ClientAuth, Some("admin_token_required")),
            GatewayError::Forbidden { .. } => (Permission, Some("model_not_allowed")),
            GatewayError::Timeout { .. } => (Timeout, Some("request_timeout")),
            GatewayError::Exhausted { last, .. } => last.body(),
            GatewayError::Invoke { error, .. } => match error {
                InvokeError::Trap { .. } => (AdapterFault, Some("adapter_trapped")),
                InvokeError::Truncated { .. } => (Connection, Some("stream_truncated")),
                InvokeError::Timeout { .. } => (Timeout, Some("adapter_timeout")),
                InvokeError::Overloaded { .. } => (Overloaded, Some("instance_pool_exhausted")),
                InvokeError::Adapter(a) => match a {
                    AdapterError::RateLimited(_) => (RateLimited, None),
                    AdapterError::Timeout(_) => (Timeout, Some("upstream_timeout")),
                    AdapterError::Overloaded(_) => (Overloaded, None),
                    AdapterError::Connection(_) => (Connection, None),
                    AdapterError::Unauthorized(_) => (UpstreamAuth, Some("upstream_unauthorized")),
                    AdapterError::InvalidRequest(_) => (InvalidRequest, Some("upstream_rejected")),
                    AdapterError::SchemaMismatch(_) => (SchemaMismatch, None),
                    AdapterError::Upstream(_) => (Upstream, None),
                    AdapterError::Unsupported(_) => (Unsupported, None),
                    AdapterError::Other(_) => (AdapterFault, None),
                },
            },
        }
    }

    /// The HTTP status for a client.
    pub fn status(&self) -> StatusCode {
        self.body().0.status()
    }

    /// The JSON error for a client.
    pub fn to_api_error(&self) -> ApiErrorBody {
        let (kind, code) = self.body();
        let (provider, upstream_status) = match self.innermost() {
            GatewayError::Invoke { provider, error } => (
                Some(provider.clone()),
                match error {
                    InvokeError::Adapter(a) => a.detail().status,
                    _ => None,
                },
            ),
            GatewayError::NoAdapter { provider, .. }
            | GatewayError::NoBaseUrl { provider, .. }
            | GatewayError::MissingCredential { provider, .. } => (Some(provider.clone()), None),
            _ => (None, None),
        };
        ApiErrorBody {
            message: self.to_string(),
            kind: kind.as_str().to_owned(),
            param: match self {
                GatewayError::BadRequest { param, .. } => param.clone(),
                GatewayError::UnknownModel { .. } => Some("model".into()),
                _ => None,
            },
            code: code.map(str::to_owned),
            provider,
            upstream_status,
        }
    }
}

/// Error classes a client sees, each with one HTTP status.
#[derive(Debug, Clone, Copy)]
enum StatusKind {
    InvalidRequest,
    ClientAuth,
    Permission,
    NotFound,
    RateLimited,
    Timeout,
    Overloaded,
    Connection,
    UpstreamAuth,
    SchemaMismatch,
    Upstream,
    Unsupported,
    AdapterFault,
    Unavailable,
}

impl StatusKind {
    /// The classes a provider call can end in (see [`GatewayError::call_failure_kinds`]).
    const CALL_FAILURES: [StatusKind; 11] = [
        StatusKind::InvalidRequest,
        StatusKind::RateLimited,
        StatusKind::Timeout,
        StatusKind::Overloaded,
        StatusKind::Connection,
        StatusKind::UpstreamAuth,
        StatusKind::SchemaMismatch,
        StatusKind::Upstream,
        StatusKind::Unsupported,
        StatusKind::AdapterFault,
        StatusKind::Unavailable,
    ];

    fn as_str(self) -> &'static str {
        match self {
            StatusKind::InvalidRequest => "invalid_request_error",
            StatusKind::ClientAuth => "authentication_error",
            StatusKind::Permission => "permission_error",
            StatusKind::NotFound => "not_found_error",
            StatusKind::RateLimited => "rate_limit_error",
            StatusKind::Timeout => "timeout_error",
            StatusKind::Overloaded => "overloaded_error",
            StatusKind::Connection => "connection_error",
            StatusKind::UpstreamAuth => "authentication_error",
            StatusKind::SchemaMismatch => "schema_mismatch_error",
            StatusKind::Upstream => "upstream_error",
            StatusKind::Unsupported => "unsupported_error",
            StatusKind::AdapterFault => "adapter_error",
            StatusKind::Unavailable => "provider_unavailable_error",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            StatusKind::InvalidRequest | StatusKind::Unsupported => StatusCode::BAD_REQUEST,
            StatusKind::NotFound => StatusCode::NOT_FOUND,
            StatusKind::ClientAuth => StatusCode::UNAUTHORIZED,
            StatusKind::Permission => StatusCode::FORBIDDEN,
            StatusKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            StatusKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
            StatusKind::Overloaded | StatusKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            StatusKind::Connection
            | StatusKind::UpstreamAuth
            | StatusKind::SchemaMismatch
            | StatusKind::Upstream
            | StatusKind::AdapterFault => StatusCode::BAD_GATEWAY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::bindings::errors::{ErrorDetail, RateLimit, SchemaMismatch};

    /// Every way a call to a provider can fail, as the gateway's walk records it.
    fn call_failures() -> Vec<GatewayError> {
        let detail = || ErrorDetail {
            message: "m".into(),
            status: None,
            body: None,
        };
        let adapter = || "a".to_owned();
        let provider = || "p".to_owned();
        let invoke = |error| GatewayError::Invoke {
            provider: provider(),
            error,
        };
        let mut all: Vec<GatewayError> = [
            AdapterError::RateLimited(RateLimit {
                retry_after_ms: None,
                detail: detail(),
            }),
            AdapterError::Timeout(detail()),
            AdapterError::Overloaded(detail()),
            AdapterError::Connection(detail()),
            AdapterError::Unauthorized(detail()),
            AdapterError::InvalidRequest(detail()),
            AdapterError::SchemaMismatch(SchemaMismatch {
                kind: MismatchKind::UnknownField,
                path: "x".into(),
                detail: detail(),
            }),
            AdapterError::Upstream(detail()),
            AdapterError::Unsupported(detail()),
            AdapterError::Other(detail()),
        ]
        .into_iter()
        .map(|e| invoke(InvokeError::Adapter(e)))
        .collect();
        all.extend([
            invoke(InvokeError::Trap {
                adapter: adapter(),
                message: "m".into(),
            }),
            invoke(InvokeError::Truncated { adapter: adapter() }),
            invoke(InvokeError::Overloaded {
                adapter: adapter(),
                limit: "l".into(),
            }),
            GatewayError::NoAdapter {
                provider: provider(),
                adapter: adapter(),
            },
            GatewayError::NoBaseUrl {
                provider: provider(),
                adapter: adapter(),
            },
            GatewayError::BadAdapter {
                adapter: adapter(),
                reason: "r".into(),
            },
            GatewayError::MissingCredential {
                provider: provider(),
                env: "E".into(),
            },
        ]);
        all
    }

    #[test]
    fn every_call_failure_has_a_listed_kind() {
        let listed: Vec<&str> = GatewayError::call_failure_kinds().collect();
        for e in call_failures() {
            assert!(listed.contains(&e.kind()), "{e}: {} not listed", e.kind());
        }
        let unique: std::collections::BTreeSet<&str> = listed.iter().copied().collect();
        assert_eq!(unique.len(), listed.len(), "{listed:?}");
    }
}
