//! The targets, one per parser or encoder, and the properties they share. Each target calls
//! the pure function its route's handler calls, so a crash here is a crash of the server.

mod admin;
mod dialects;
mod dict;
mod encoders;
mod events;
mod sse;

use aratta_host::dialects::{Failure, scri as scri_dialect};
use aratta_host::gateway::GatewayError;
use aratta_host::scri::{self, ChatRequest};

use crate::Target;

/// Every target, in the order `fuzz all` and the short pass run them.
pub static TARGETS: &[Target] = &[
    dialects::OPENAI_CHAT,
    dialects::OPENAI_EMBEDDINGS,
    dialects::ANTHROPIC_MESSAGES,
    dialects::GEMINI_GENERATE,
    dialects::GEMINI_EMBED,
    dialects::GEMINI_MODEL_PATH,
    dialects::MODELS_QUERY,
    admin::SCRI_CHAT,
    admin::SCRI_EMBED,
    admin::AGENT_RUN,
    admin::TOOL_DEFS,
    admin::ADAPTER_BODIES,
    admin::KEY_SPEC,
    encoders::OPENAI_STREAM,
    encoders::ANTHROPIC_STREAM,
    encoders::GEMINI_STREAM,
    encoders::SCRI_STREAM,
    encoders::RESPONSES,
];

/// `Err(what())` unless `holds`.
pub(crate) fn ensure(holds: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if holds { Ok(()) } else { Err(what()) }
}

/// A dialect parser's refusal names the field at fault (every kind but "not JSON" does).
pub(crate) fn names_field(message: &str, param: Option<&str>, is_json: bool) -> Result<(), String> {
    ensure(!message.is_empty(), || "an error without a message".into())?;
    if !is_json {
        ensure(param.is_some_and(|p| !p.is_empty()), || {
            format!("an error that names no field: {message}")
        })?;
    }
    Ok(())
}

/// A refusal of `parse_json` (the SCRI, agent and admin bodies) is a 400 with a message, and
/// the field it names is the one the message starts with.
pub(crate) fn is_bad_request(failure: &Failure) -> Result<(), String> {
    match &failure.0 {
        GatewayError::BadRequest { message, param } => {
            ensure(!message.is_empty(), || "a 400 without a message".into())?;
            if let Some(param) = param {
                ensure(message.starts_with(param.as_str()), || {
                    format!("the 400 names `{param}` but says: {message}")
                })?;
            }
            Ok(())
        }
        other => Err(format!(
            "a body refused with something other than a 400: {other}"
        )),
    }
}

/// A decoded chat request re-encodes: its SCRI JSON is accepted by `/api/v1/chat` and reads
/// back to the same JSON, and it converts to the WIT request an adapter gets.
pub(crate) fn reencodes(request: &ChatRequest) -> Result<(), String> {
    let text =
        serde_json::to_string(request).map_err(|e| format!("SCRI does not serialise: {e}"))?;
    if too_deep(&text) {
        return Ok(());
    }
    let back = scri_dialect::chat_request(text.as_bytes()).map_err(|f| {
        format!(
            "/api/v1/chat refuses the SCRI form of a decoded request ({}): {text}",
            f.0
        )
    })?;
    let again = serde_json::to_string(&back).map_err(|e| e.to_string())?;
    ensure(again == text, || {
        format!("the SCRI form does not read back the same:\n{text}\n{again}")
    })?;
    let _ = scri::convert::chat_request(request, &request.model);
    Ok(())
}

/// Whether `text` nests deeper than serde_json reads (128 levels). A dialect request nested
/// near that limit is a level or two deeper in SCRI form (`extra` wraps the passed-through
/// fields), which is still JSON but not something `/api/v1/chat` reads back.
fn too_deep(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .is_err_and(|e| e.to_string().starts_with("recursion limit exceeded"))
}

/// The same for an embedding request and `/api/v1/embed`.
pub(crate) fn reencodes_embed(request: &scri::EmbedRequest) -> Result<(), String> {
    let text =
        serde_json::to_string(request).map_err(|e| format!("SCRI does not serialise: {e}"))?;
    if too_deep(&text) {
        return Ok(());
    }
    let back = scri_dialect::embed_request(text.as_bytes()).map_err(|f| {
        format!(
            "/api/v1/embed refuses the SCRI form of a decoded request ({}): {text}",
            f.0
        )
    })?;
    let again = serde_json::to_string(&back).map_err(|e| e.to_string())?;
    ensure(again == text, || {
        format!("the SCRI form does not read back the same:\n{text}\n{again}")
    })?;
    let _ = scri::convert::embed_request(request, &request.model);
    Ok(())
}
