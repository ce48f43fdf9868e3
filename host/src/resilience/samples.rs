//! What the health monitor knows about one adapter error: its class (from the SCRI
//! `adapter-error` variant), the provider's raw status and body, and the shape of the request
//! that caused it. The shape names the model, message count and roles, tool names and the
//! stream flag, never the user's content, so a heal-trigger event can leave the gateway (a
//! webhook, an operator's log) without carrying what users wrote.

use serde::Serialize;
use utoipa::ToSchema;

use crate::runtime::InvokeError;
use crate::runtime::bindings::errors::{AdapterError, MismatchKind};

/// The most of a provider's raw body a sample keeps; the rest is cut at a character boundary.
pub const MAX_SAMPLE_BODY_BYTES: usize = 4096;

/// The most message roles a request shape lists (a long conversation keeps its first ones).
const MAX_SHAPE_ROLES: usize = 64;

/// Why an adapter call failed, finely enough to decide whether healing the adapter can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Transient: the provider throttled the request.
    RateLimited,
    /// Transient: no complete answer in time.
    Timeout,
    /// Transient: the provider is overloaded.
    Overloaded,
    /// Transient: the connection failed or was reset.
    Connection,
    /// Transient: the stream ended without a stop event (a cut connection).
    Truncated,
    /// The credential is missing, wrong or lacks permission.
    Unauthorized,
    /// The provider rejected the request as malformed.
    InvalidRequest,
    /// Drift: a field the adapter does not know appeared where it matters.
    UnknownField,
    /// Drift: a field the adapter relies on is absent (or renamed).
    MissingField,
    /// Drift: the provider marked a field the adapter uses as deprecated.
    DeprecatedField,
    /// Drift: the provider's tool-calling schema changed shape.
    ToolSchemaChange,
    /// Drift: the streaming event format changed.
    StreamFormatChange,
    /// Another provider-side HTTP failure (a 5xx outage, say).
    Upstream,
    /// The operation is not offered.
    Unsupported,
    /// The adapter's catch-all `other`.
    Other,
    /// The adapter crashed (a panic, its CPU or memory budget).
    AdapterTrap,
    /// The adapter did not answer within its wall-clock deadline (it stalled by itself: the
    /// provider's own timeouts come first) and the call was cancelled.
    AdapterTimeout,
}

impl ErrorClass {
    /// Every class, so a provider's `adapter_errors_total` series can exist at zero before
    /// its first error.
    pub const ALL: [ErrorClass; 17] = [
        ErrorClass::RateLimited,
        ErrorClass::Timeout,
        ErrorClass::Overloaded,
        ErrorClass::Connection,
        ErrorClass::Truncated,
        ErrorClass::Unauthorized,
        ErrorClass::InvalidRequest,
        ErrorClass::UnknownField,
        ErrorClass::MissingField,
        ErrorClass::DeprecatedField,
        ErrorClass::ToolSchemaChange,
        ErrorClass::StreamFormatChange,
        ErrorClass::Upstream,
        ErrorClass::Unsupported,
        ErrorClass::Other,
        ErrorClass::AdapterTrap,
        ErrorClass::AdapterTimeout,
    ];

    /// The class of an adapter call's failure.
    pub fn of(error: &InvokeError) -> ErrorClass {
        match error {
            InvokeError::Trap { .. } => ErrorClass::AdapterTrap,
            InvokeError::Truncated { .. } => ErrorClass::Truncated,
            InvokeError::Timeout { .. } => ErrorClass::AdapterTimeout,
            InvokeError::Overloaded { .. } => ErrorClass::Overloaded,
            InvokeError::Adapter(a) => match a {
                AdapterError::RateLimited(_) => ErrorClass::RateLimited,
                AdapterError::Timeout(_) => ErrorClass::Timeout,
                AdapterError::Overloaded(_) => ErrorClass::Overloaded,
                AdapterError::Connection(_) => ErrorClass::Connection,
                AdapterError::Unauthorized(_) => ErrorClass::Unauthorized,
                AdapterError::InvalidRequest(_) => ErrorClass::InvalidRequest,
                AdapterError::SchemaMismatch(s) => match s.kind {
                    MismatchKind::UnknownField => ErrorClass::UnknownField,
                    MismatchKind::MissingField => ErrorClass::MissingField,
                    MismatchKind::DeprecatedField => ErrorClass::DeprecatedField,
                    MismatchKind::ToolSchemaChange => ErrorClass::ToolSchemaChange,
                    MismatchKind::StreamFormatChange => ErrorClass::StreamFormatChange,
                },
                AdapterError::Upstream(_) => ErrorClass::Upstream,
                AdapterError::Unsupported(_) => ErrorClass::Unsupported,
                AdapterError::Other(_) => ErrorClass::Other,
            },
        }
    }

    /// The label used in metrics, logs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::RateLimited => "rate_limited",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Overloaded => "overloaded",
            ErrorClass::Connection => "connection",
            ErrorClass::Truncated => "truncated",
            ErrorClass::Unauthorized => "unauthorized",
            ErrorClass::InvalidRequest => "invalid_request",
            ErrorClass::UnknownField => "unknown_field",
            ErrorClass::MissingField => "missing_field",
            ErrorClass::DeprecatedField => "deprecated_field",
            ErrorClass::ToolSchemaChange => "tool_schema_change",
            ErrorClass::StreamFormatChange => "stream_format_change",
            ErrorClass::Upstream => "upstream",
            ErrorClass::Unsupported => "unsupported",
            ErrorClass::Other => "other",
            ErrorClass::AdapterTrap => "adapter_trap",
            ErrorClass::AdapterTimeout => "adapter_timeout",
        }
    }

    /// Transient failures pass by themselves: they may be retried and are never healed.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorClass::RateLimited
                | ErrorClass::Timeout
                | ErrorClass::Overloaded
                | ErrorClass::Connection
                | ErrorClass::Truncated
        )
    }

    /// Whether a burst of this class can mean the adapter itself is out of date or broken, so
    /// that healing it may help: wire-format drift and adapter crashes, and a provider refusing
    /// the same request the same way again and again (it stopped accepting a parameter or a
    /// header version the adapter sends: the monitor counts only identical refusals, and the
    /// heal worker first checks that a minimal request fails too, so callers' own mistakes
    /// start no cycle). Outages and credentials are not the adapter's to fix.
    pub fn heals(self) -> bool {
        matches!(
            self,
            ErrorClass::InvalidRequest
                | ErrorClass::UnknownField
                | ErrorClass::MissingField
                | ErrorClass::DeprecatedField
                | ErrorClass::ToolSchemaChange
                | ErrorClass::StreamFormatChange
                | ErrorClass::AdapterTrap
                | ErrorClass::AdapterTimeout
        )
    }
}

/// The shape of the request that failed: enough to reproduce the call's structure, none of
/// the user's content.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct RequestShape {
    /// `chat`, `chat_stream` or `embed`.
    pub route: String,
    /// The model as sent to the provider.
    pub model: String,
    /// Whether the answer was streamed.
    pub stream: bool,
    /// How many messages the conversation had (chat).
    pub message_count: usize,
    /// The messages' roles in order (at most 64 listed).
    pub roles: Vec<String>,
    /// The names of the tools offered.
    pub tool_names: Vec<String>,
    /// How many texts were embedded (embed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_count: Option<usize>,
}

impl RequestShape {
    /// The shape of a chat request sent to `model`.
    pub fn chat(request: &crate::scri::ChatRequest, route: &str, model: &str) -> Self {
        RequestShape {
            route: route.to_owned(),
            model: model.to_owned(),
            stream: request.stream || route == "chat_stream",
            message_count: request.messages.len(),
            roles: request
                .messages
                .iter()
                .take(MAX_SHAPE_ROLES)
                .map(|m| role_name(&m.role))
                .collect(),
            tool_names: request.tools.iter().map(|t| t.name.clone()).collect(),
            input_count: None,
        }
    }

    /// The shape of an embedding request sent to `model`.
    pub fn embed(request: &crate::scri::EmbedRequest, model: &str) -> Self {
        RequestShape {
            route: "embed".into(),
            model: model.to_owned(),
            input_count: Some(request.inputs.len()),
            ..Default::default()
        }
    }
}

fn role_name(role: &crate::scri::Role) -> String {
    serde_json::to_value(role)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{role:?}").to_lowercase())
}

/// One recorded adapter error, as a heal-trigger event carries it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorSample {
    /// When it happened, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// The provider called.
    pub provider: String,
    /// The adapter that answered, and its version.
    pub adapter: String,
    /// The adapter's version.
    pub adapter_version: String,
    /// The error's class.
    pub class: ErrorClass,
    /// The adapter's one-line explanation.
    pub message: String,
    /// The provider's HTTP status: the adapter's, else the last response the call received.
    pub status: Option<u16>,
    /// Where a schema mismatch was found, as a JSON path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The provider's raw body, at most 4 KiB of it.
    pub body: Option<String>,
    /// Whether `body` was cut to fit.
    pub body_truncated: bool,
    /// What the request looked like.
    pub request: RequestShape,
}

impl ErrorSample {
    /// A sample of `error`, raised by `adapter` (name, version) for `provider`.
    /// `upstream_status` is the last status the call received from the provider, used when
    /// the error itself carries none (a schema mismatch found in a 200 body, say).
    pub fn new(
        provider: &str,
        adapter: (&str, &str),
        error: &InvokeError,
        upstream_status: Option<u16>,
        request: RequestShape,
    ) -> Self {
        let (message, status, body, path) = match error {
            InvokeError::Adapter(a) => {
                let d = a.detail();
                let path = match a {
                    AdapterError::SchemaMismatch(s) => Some(s.path.clone()),
                    _ => None,
                };
                (d.message.clone(), d.status, d.body.as_deref(), path)
            }
            other => (other.to_string(), None, None, None),
        };
        let (body, body_truncated) = match body {
            Some(b) => {
                let cut = bounded(b, MAX_SAMPLE_BODY_BYTES);
                (Some(cut.to_owned()), cut.len() < b.len())
            }
            None => (None, false),
        };
        ErrorSample {
            at_unix_ms: crate::clock::unix_millis(),
            provider: provider.to_owned(),
            adapter: adapter.0.to_owned(),
            adapter_version: adapter.1.to_owned(),
            class: ErrorClass::of(error),
            message,
            status: status.or(upstream_status),
            path,
            body,
            body_truncated,
            request,
        }
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
pub fn bounded(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::bindings::errors::{ErrorDetail, RateLimit, SchemaMismatch};

    #[test]
    fn all_lists_each_class_once() {
        let labels: std::collections::BTreeSet<&str> =
            ErrorClass::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(labels.len(), ErrorClass::ALL.len());
    }

    fn detail(body: &str) -> ErrorDetail {
        ErrorDetail {
            message: "m".into(),
            status: Some(200),
            body: Some(body.into()),
        }
    }

    #[test]
    fn classes_follow_the_adapter_error_variant() {
        let drift = InvokeError::Adapter(AdapterError::SchemaMismatch(SchemaMismatch {
            kind: MismatchKind::ToolSchemaChange,
            path: "choices[0].message.tool_calls".into(),
            detail: detail("{}"),
        }));
        assert_eq!(ErrorClass::of(&drift), ErrorClass::ToolSchemaChange);
        assert!(ErrorClass::of(&drift).heals());
        let limited = InvokeError::Adapter(AdapterError::RateLimited(RateLimit {
            retry_after_ms: Some(1000),
            detail: detail("{}"),
        }));
        let class = ErrorClass::of(&limited);
        assert!(class.is_transient() && !class.heals());
        for transient in [
            ErrorClass::Timeout,
            ErrorClass::Overloaded,
            ErrorClass::Connection,
            ErrorClass::Truncated,
        ] {
            assert!(transient.is_transient() && !transient.heals());
        }
        // A repeated identical refusal may be drift (the monitor and the worker tell them apart).
        assert!(ErrorClass::InvalidRequest.heals() && !ErrorClass::InvalidRequest.is_transient());
        assert!(!ErrorClass::Unauthorized.heals() && !ErrorClass::Upstream.heals());
    }

    #[test]
    fn a_sample_keeps_status_path_and_a_bounded_body() {
        let long = "é".repeat(MAX_SAMPLE_BODY_BYTES);
        let e = InvokeError::Adapter(AdapterError::SchemaMismatch(SchemaMismatch {
            kind: MismatchKind::MissingField,
            path: "choices".into(),
            detail: detail(&long),
        }));
        let s = ErrorSample::new("p", ("local", "1.0.0"), &e, None, RequestShape::default());
        assert_eq!(s.status, Some(200));
        assert_eq!(s.path.as_deref(), Some("choices"));
        let body = s.body.unwrap();
        assert!(body.len() <= MAX_SAMPLE_BODY_BYTES && s.body_truncated);
        assert!(body.chars().all(|c| c == 'é'));
    }
}
