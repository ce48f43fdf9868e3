//! The JSON error body every Aratta route answers with: `{"error": {...}}`, the same outer
//! shape as OpenAI's, so OpenAI SDKs surface Aratta's message as they would OpenAI's.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `{"error": {...}}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApiError {
    /// What went wrong.
    pub error: ApiErrorBody,
}

/// What went wrong, for a program (`type`, `code`) and a person (`message`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApiErrorBody {
    /// A sentence naming the problem and, where there is one, the fix.
    pub message: String,
    /// The error class: `invalid_request_error`, `not_found_error`, `authentication_error`,
    /// `permission_error` (a refused `Origin` or `Host`), `rate_limit_error`, `timeout_error`,
    /// `overloaded_error`, `connection_error`,
    /// `schema_mismatch_error`, `upstream_error`, `unsupported_error`, `adapter_error`,
    /// `api_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The request field at fault, when one is.
    #[serde(default)]
    pub param: Option<String>,
    /// A finer machine-readable code (e.g. `model_not_found`, `missing_credential`).
    #[serde(default)]
    pub code: Option<String>,
    /// The provider involved, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The provider's HTTP status, when the failure came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_status: Option<u16>,
}
