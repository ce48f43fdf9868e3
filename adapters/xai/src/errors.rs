//! xAI's errors, classified by what their bodies say.
//!
//! xAI answers `{"code": <gRPC status text>, "error": <message>}` (some 422s are plain text).
//! The SDK maps the status; this refines the cases where xAI's status misleads:
//!
//! | status, body | case | why |
//! | --- | --- | --- |
//! | 400 "Incorrect API key provided" | `unauthorized` | xAI reports a bad key as 400 (its docs: "An incorrect API key is supplied"), not 401 |
//! | 403 or 429 "used all available credits or reached its monthly spending limit" | `unauthorized` | the team is out of credit: not transient, retrying cannot help until the operator buys credit or raises the limit |
//! | 410 (e.g. "Live search is deprecated") | `invalid-request` | a retired feature (`search_parameters`) fails the same everywhere; the message says what replaces it |
//!
//! A plain-text body (some 422s) is quoted in the message. Everything else keeps the SDK's
//! case (429 rate-limited, 401/403 unauthorized, 400/404/422 invalid-request, 503 overloaded,
//! 5xx upstream) with the status and raw body.

use aratta_guest::{AdapterError, ErrorDetail};

/// The error, reclassified by what xAI's body says (see the module table).
pub fn classify(error: AdapterError) -> AdapterError {
    let detail = error.detail();
    let body = detail.body.as_deref().unwrap_or("").to_ascii_lowercase();
    let status = detail.status;
    let out_of_credit =
        body.contains("used all available credits") || body.contains("spending limit");
    match error {
        AdapterError::InvalidRequest(d)
            if status == Some(400)
                && (body.contains("incorrect api key") || body.contains("invalid api key")) =>
        {
            AdapterError::Unauthorized(d)
        }
        AdapterError::RateLimited(r) if out_of_credit => credits(r.detail),
        AdapterError::Unauthorized(d) if out_of_credit => credits(d),
        AdapterError::Upstream(d) if status == Some(410) => {
            AdapterError::InvalidRequest(ErrorDetail {
                message: format!(
                    "xAI retired this feature. Live Search (`search_parameters`) is replaced by \
                     the server-side tools: send `extra.tools: [{{\"type\":\"web_search\"}}, \
                     {{\"type\":\"x_search\"}}]`. {}",
                    d.message
                ),
                ..d
            })
        }
        AdapterError::InvalidRequest(d) => AdapterError::InvalidRequest(plain_text(d)),
        other => other,
    }
}

/// xAI answers some 422s in plain text (`Failed to deserialize the JSON body …`), which the
/// SDK cannot quote from JSON: the text goes into the message so the caller sees the reason.
fn plain_text(detail: ErrorDetail) -> ErrorDetail {
    let text = detail.body.as_deref().unwrap_or("").trim();
    let is_plain = !text.is_empty()
        && !text.starts_with('{')
        && !text.starts_with('<')
        && !detail.message.contains(text);
    if !is_plain {
        return detail;
    }
    let quoted: String = text.chars().take(300).collect();
    ErrorDetail {
        message: format!("{}: {quoted}", detail.message),
        ..detail
    }
}

fn credits(detail: ErrorDetail) -> AdapterError {
    AdapterError::Unauthorized(ErrorDetail {
        message: format!(
            "xAI credits exhausted: the team has no credit left or reached its spending limit, \
             which retrying does not fix; buy credit or raise the limit in the xAI console. {}",
            detail.message
        ),
        ..detail
    })
}
