//! OpenAI's model list (`GET /models`) as SCRI model infos.
//!
//! The list says only `id`, `created` and `owned_by`, so capabilities come from the model
//! family, read off the id (fine-tunes, `ft:<base>:<org>::<id>`, take their base model's).
//! The table follows OpenAI's model pages; a family it does not know gets what every current
//! chat model has (streaming, tools) when its id looks like a chat model (`gpt-…`, `o<digit>…`),
//! and nothing otherwise. Context windows are given only where OpenAI publishes one number for
//! the whole family.

use aratta_guest::http::Request;
use aratta_guest::{AdapterError, CallContext, ModelCapabilities, ModelInfo};
use aratta_openai_compatible::response;

/// `GET {base}/models`, with capabilities from [`capabilities`].
pub fn list(ctx: &CallContext) -> Result<Vec<ModelInfo>, AdapterError> {
    let bytes = Request::get(ctx, "/models")
        .header("accept", "application/json")
        .send()?
        .error_for_status()?
        .bytes()?;
    parse(&bytes)
}

/// A `/models` body as SCRI model infos.
pub fn parse(body: &[u8]) -> Result<Vec<ModelInfo>, AdapterError> {
    let mut models = response::models(body)?;
    for model in &mut models {
        model.capabilities = capabilities(&model.id);
    }
    Ok(models)
}

/// Markers of models that do not chat (audio, images, moderation, legacy completions).
const NOT_CHAT: &[&str] = &[
    "whisper",
    "tts",
    "transcribe",
    "dall-e",
    "gpt-image",
    "moderation",
    "realtime",
    "sora",
    "davinci",
    "babbage",
];

/// A family: id prefix, then tools, vision, reasoning, context window, max output tokens.
type Family = (&'static str, bool, bool, bool, Option<u32>, Option<u32>);

/// Known chat families, most specific prefix first.
#[rustfmt::skip]
const FAMILIES: &[Family] = &[
    // prefix           tools  vision reason context          max output
    ("gpt-5-chat",      false, true,  false, Some(128_000),   Some(16_384)),
    ("gpt-5.",          true,  true,  true,  None,            None),
    ("gpt-5",           true,  true,  true,  Some(400_000),   Some(128_000)),
    ("o1-mini",         false, false, true,  Some(128_000),   Some(65_536)),
    ("o1-preview",      false, false, true,  Some(128_000),   Some(32_768)),
    ("o1",              true,  true,  true,  Some(200_000),   Some(100_000)),
    ("o3-mini",         true,  false, true,  Some(200_000),   Some(100_000)),
    ("o3",              true,  true,  true,  Some(200_000),   Some(100_000)),
    ("o4-mini",         true,  true,  true,  Some(200_000),   Some(100_000)),
    ("gpt-4.1",         true,  true,  false, Some(1_047_576), Some(32_768)),
    ("gpt-4o-search",   false, true,  false, Some(128_000),   Some(16_384)),
    ("gpt-4o",          true,  true,  false, Some(128_000),   Some(16_384)),
    ("chatgpt-4o",      false, true,  false, Some(128_000),   Some(16_384)),
    ("gpt-4-turbo",     true,  true,  false, Some(128_000),   Some(4_096)),
    ("gpt-4",           true,  false, false, Some(8_192),     Some(8_192)),
    ("gpt-3.5-turbo",   true,  false, false, Some(16_385),    Some(4_096)),
];

/// What the model with `id` can do, as far as its family tells.
pub fn capabilities(id: &str) -> ModelCapabilities {
    let base = id
        .strip_prefix("ft:")
        .map_or(id, |rest| rest.split(':').next().unwrap_or(rest));
    let none = ModelCapabilities {
        context_window: None,
        max_output_tokens: None,
        tools: false,
        vision: false,
        streaming: false,
        embeddings: false,
        reasoning: false,
    };
    if base.starts_with("text-embedding-") {
        return ModelCapabilities {
            context_window: Some(8_191),
            embeddings: true,
            ..none
        };
    }
    if NOT_CHAT.iter().any(|m| base.contains(m)) {
        return none;
    }
    if let Some(&(_, tools, vision, reasoning, context, max_out)) = FAMILIES
        .iter()
        .find(|(prefix, ..)| family_matches(base, prefix))
    {
        return ModelCapabilities {
            context_window: context,
            max_output_tokens: max_out,
            // Search models (`gpt-4o-mini-search-preview`) take no function tools.
            tools: tools && !base.contains("search"),
            vision,
            streaming: true,
            embeddings: false,
            reasoning,
        };
    }
    let o_series = base.starts_with('o') && base[1..].starts_with(|c: char| c.is_ascii_digit());
    if base.starts_with("gpt-") || o_series {
        return ModelCapabilities {
            tools: true,
            streaming: true,
            reasoning: o_series,
            ..none
        };
    }
    none
}

/// `prefix` names `id`'s family: the id is the prefix, or continues it with `-` (a variant or
/// a date), or the prefix ends in `.` (a point release).
fn family_matches(id: &str, prefix: &str) -> bool {
    match id.strip_prefix(prefix) {
        Some("") => true,
        Some(rest) => prefix.ends_with('.') || rest.starts_with('-'),
        None => false,
    }
}
