//! Constructors for [`AdapterError`] and [`ErrorDetail`], so every adapter reports failures the
//! same way: a one-line message written by the adapter, plus the provider's raw status and body.

use crate::{AdapterError, ErrorDetail, MismatchKind, SchemaMismatch};

/// How much of a provider's body an error keeps. Enough for the heal worker to see what drifted,
/// small enough that an HTML error page does not flood the host's logs.
pub const MAX_ERROR_BODY: usize = 8 * 1024;

/// Cut `body` to at most [`MAX_ERROR_BODY`] bytes on a character boundary, decoding it lossily:
/// error bodies are kept for people and the heal worker, not parsed again.
pub fn truncate_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.len() <= MAX_ERROR_BODY {
        return text.into_owned();
    }
    let mut end = MAX_ERROR_BODY;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut cut = text[..end].to_string();
    cut.push_str("…[truncated]");
    cut
}

impl ErrorDetail {
    /// A detail with only the adapter's message, for failures that never reached the provider.
    pub fn new(message: impl Into<String>) -> Self {
        ErrorDetail {
            message: message.into(),
            status: None,
            body: None,
        }
    }

    /// Attach the provider's HTTP status, so the host can tell a 401 from a 429.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Attach the provider's raw body, truncated to [`MAX_ERROR_BODY`] bytes.
    pub fn with_body(mut self, body: &[u8]) -> Self {
        self.body = Some(truncate_body(body));
        self
    }
}

impl AdapterError {
    /// The operation is not offered by this adapter or provider; `operation` names it
    /// (e.g. `embed`), so the operator sees what was asked for.
    pub fn unsupported(operation: &str) -> Self {
        AdapterError::Unsupported(ErrorDetail::new(format!(
            "this adapter does not support `{operation}`"
        )))
    }

    /// The provider could not be reached (refused, reset, DNS, TLS, denied by the host).
    pub fn connection(message: impl Into<String>) -> Self {
        AdapterError::Connection(ErrorDetail::new(message))
    }

    /// No complete answer arrived in time.
    pub fn timeout(message: impl Into<String>) -> Self {
        AdapterError::Timeout(ErrorDetail::new(message))
    }

    /// The caller's request cannot be expressed for this provider; never retried.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        AdapterError::InvalidRequest(ErrorDetail::new(message))
    }

    /// A failure that fits no other case.
    pub fn other(message: impl Into<String>) -> Self {
        AdapterError::Other(ErrorDetail::new(message))
    }

    /// The provider's answer drifted from the wire format: `path` is a JSON path into it
    /// (e.g. `choices[0].message`), `body` what the provider sent.
    pub fn schema_mismatch(
        kind: MismatchKind,
        path: impl Into<String>,
        message: impl Into<String>,
        body: &[u8],
    ) -> Self {
        AdapterError::SchemaMismatch(SchemaMismatch {
            kind,
            path: path.into(),
            detail: ErrorDetail::new(message).with_body(body),
        })
    }

    /// A field the adapter relies on is absent: the most common drift, so it has a shortcut.
    pub fn missing_field(path: &str, body: &[u8]) -> Self {
        Self::schema_mismatch(
            MismatchKind::MissingField,
            path,
            format!("the provider's response has no `{path}`"),
            body,
        )
    }

    /// The stream's framing or event format is not what the adapter expects, including a
    /// stream that ended before it said it was complete.
    pub fn stream_format(path: &str, message: impl Into<String>, body: &[u8]) -> Self {
        Self::schema_mismatch(MismatchKind::StreamFormatChange, path, message, body)
    }

    /// The detail every case carries, for logging and tests.
    pub fn detail(&self) -> &ErrorDetail {
        match self {
            AdapterError::RateLimited(r) => &r.detail,
            AdapterError::SchemaMismatch(s) => &s.detail,
            AdapterError::Timeout(d)
            | AdapterError::Overloaded(d)
            | AdapterError::Connection(d)
            | AdapterError::Unauthorized(d)
            | AdapterError::InvalidRequest(d)
            | AdapterError::Upstream(d)
            | AdapterError::Unsupported(d)
            | AdapterError::Other(d) => d,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_bodies_are_kept_whole() {
        assert_eq!(truncate_body(b"{\"error\":1}"), "{\"error\":1}");
    }

    #[test]
    fn long_bodies_are_cut_on_a_char_boundary() {
        let body = "é".repeat(MAX_ERROR_BODY); // two bytes each
        let cut = truncate_body(body.as_bytes());
        assert!(cut.ends_with("…[truncated]"));
        assert!(cut.len() <= MAX_ERROR_BODY + "…[truncated]".len());
    }

    #[test]
    fn unsupported_names_the_operation() {
        let err = AdapterError::unsupported("embed");
        assert!(matches!(err, AdapterError::Unsupported(_)));
        assert!(err.detail().message.contains("`embed`"));
    }

    #[test]
    fn missing_field_keeps_path_and_body() {
        let AdapterError::SchemaMismatch(m) = AdapterError::missing_field("choices", b"{}") else {
            panic!("wrong case")
        };
        assert_eq!(m.kind, MismatchKind::MissingField);
        assert_eq!(m.path, "choices");
        assert_eq!(m.detail.body.as_deref(), Some("{}"));
    }
}
