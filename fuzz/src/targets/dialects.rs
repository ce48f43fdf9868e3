//! The provider-dialect ingress parsers: OpenAI, Anthropic and Gemini bodies, Gemini model
//! paths, and the model-list query strings. Every refusal must be the dialect's typed error
//! naming the field; every request they accept must re-encode as SCRI.

use aratta_host::dialects::{self, anthropic, gemini, openai};
use aratta_host::scri::ModelList;
use axum::extract::Query;

use super::{dict, ensure, names_field, reencodes, reencodes_embed};
use crate::Target;

/// `POST /v1/chat/completions`.
pub const OPENAI_CHAT: Target = Target {
    name: "openai_chat",
    about: "OpenAI chat request -> SCRI (openai::chat_request)",
    dict: dict::OPENAI,
    check: openai_chat,
};

fn openai_chat(input: &[u8]) -> Result<(), String> {
    match openai::chat_request(input) {
        Ok(chat) => {
            ensure(!chat.include_usage || chat.request.stream, || {
                "include_usage without stream".into()
            })?;
            reencodes(&chat.request)
        }
        Err(e) => {
            let is_json = matches!(e, dialects::RequestError::Json { .. });
            ensure(e.status().is_client_error(), || {
                format!("status {}", e.status())
            })?;
            names_field(&e.to_string(), e.param(), is_json)
        }
    }
}

/// `POST /v1/embeddings`.
pub const OPENAI_EMBEDDINGS: Target = Target {
    name: "openai_embeddings",
    about: "OpenAI embeddings request -> SCRI (openai::embeddings_request)",
    dict: dict::OPENAI,
    check: openai_embeddings,
};

fn openai_embeddings(input: &[u8]) -> Result<(), String> {
    match openai::embeddings_request(input) {
        Ok((request, _format)) => reencodes_embed(&request),
        Err(e) => {
            let is_json = matches!(e, dialects::RequestError::Json { .. });
            names_field(&e.to_string(), e.param(), is_json)
        }
    }
}

/// `POST /v1/messages`.
pub const ANTHROPIC_MESSAGES: Target = Target {
    name: "anthropic_messages",
    about: "Anthropic Messages request -> SCRI (anthropic::messages_request)",
    dict: dict::ANTHROPIC,
    check: anthropic_messages,
};

fn anthropic_messages(input: &[u8]) -> Result<(), String> {
    match anthropic::messages_request(input) {
        Ok(request) => reencodes(&request),
        Err(e) => {
            let is_json = matches!(e, dialects::RequestError::Json { .. });
            names_field(&e.to_string(), e.to_api_error().param.as_deref(), is_json)
        }
    }
}

const GEMINI_MODEL: &str = "local:llama3.2:3b";

/// `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent`.
pub const GEMINI_GENERATE: Target = Target {
    name: "gemini_generate",
    about: "Gemini generateContent body -> SCRI (gemini::generate_request)",
    dict: dict::GEMINI,
    check: gemini_generate,
};

fn gemini_generate(input: &[u8]) -> Result<(), String> {
    let stream = !input.len().is_multiple_of(2);
    match gemini::generate_request(GEMINI_MODEL, input, stream) {
        Ok(request) => {
            ensure(
                request.model == GEMINI_MODEL && request.stream == stream,
                || {
                    format!(
                        "model {} / stream {} changed",
                        request.model, request.stream
                    )
                },
            )?;
            reencodes(&request)
        }
        Err(e) => gemini_error(&e),
    }
}

fn gemini_error(e: &dialects::RequestError) -> Result<(), String> {
    let is_json = matches!(e, dialects::RequestError::Json { .. });
    names_field(&e.to_string(), e.to_api_error().param.as_deref(), is_json)
}

/// `POST /v1beta/models/{model}:embedContent` and `:batchEmbedContents`.
pub const GEMINI_EMBED: Target = Target {
    name: "gemini_embed",
    about: "Gemini embedContent and batchEmbedContents bodies -> SCRI",
    dict: dict::GEMINI,
    check: gemini_embed,
};

fn gemini_embed(input: &[u8]) -> Result<(), String> {
    for parsed in [
        gemini::embed_request(GEMINI_MODEL, input),
        gemini::batch_embed_request(GEMINI_MODEL, input),
    ] {
        match parsed {
            Ok(request) => {
                ensure(request.model == GEMINI_MODEL, || "the model changed".into())?;
                reencodes_embed(&request)?;
            }
            Err(e) => gemini_error(&e)?,
        }
    }
    Ok(())
}

/// The `{model}:{method}` path of the Gemini routes, and `GET /v1beta/models/{model}`.
pub const GEMINI_MODEL_PATH: Target = Target {
    name: "gemini_model_path",
    about: "Gemini model path split at the last colon (gemini::split_model_method)",
    dict: dict::MODEL_PATH,
    check: gemini_model_path,
};

fn gemini_model_path(input: &[u8]) -> Result<(), String> {
    // axum hands the handler the percent-decoded path as a String.
    let rest = String::from_utf8_lossy(input);
    let list = model_list();
    let _ = gemini::model(&list, &rest);
    let Some((model, method)) = gemini::split_model_method(&rest) else {
        return ensure(!rest.contains(':'), || {
            format!("`{rest}` has a colon but no split")
        });
    };
    ensure(!method.contains(':'), || {
        format!("method `{method}` holds a colon")
    })?;
    let unprefixed = rest.strip_prefix("models/").unwrap_or(&rest);
    ensure(format!("{model}:{method}") == unprefixed, || {
        format!("`{rest}` split into `{model}` and `{method}`")
    })?;
    // The model travels untouched into the request.
    let body = br#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#;
    match gemini::generate_request(model, body, false) {
        Ok(request) => ensure(request.model == model, || "the model changed".into()),
        Err(e) => Err(format!("a valid body refused for model `{model}`: {e}")),
    }
}

/// `GET /v1/models` (Anthropic's paging) and `GET /v1beta/models` (Gemini's).
pub const MODELS_QUERY: Target = Target {
    name: "models_query",
    about: "model-list query strings and paging (anthropic / gemini models_page)",
    dict: dict::QUERY,
    check: models_query,
};

fn models_query(input: &[u8]) -> Result<(), String> {
    let Ok(query) = std::str::from_utf8(input) else {
        return Ok(());
    };
    // A query hyper would not accept never reaches the handler.
    let Ok(uri) = format!("/v1/models?{query}").parse::<http::Uri>() else {
        return Ok(());
    };
    let list = model_list();
    let total = list.models.len() + list.aliases.len();
    if let Ok(Query(q)) = Query::<anthropic::ModelsQuery>::try_from_uri(&uri) {
        let page = anthropic::models_page(&list, &q);
        let n = page["data"].as_array().map_or(usize::MAX, Vec::len);
        ensure(n <= total, || {
            format!("an Anthropic page of {n} from {total}")
        })?;
    }
    if let Ok(Query(q)) = Query::<gemini::ModelsQuery>::try_from_uri(&uri) {
        let page = gemini::models_page(&list, &q);
        let n = page["models"].as_array().map_or(usize::MAX, Vec::len);
        ensure(n <= total, || format!("a Gemini page of {n} from {total}"))?;
    }
    Ok(())
}

/// Three models and an alias, as `GET /api/v1/models` would list them.
fn model_list() -> ModelList {
    let caps = serde_json::json!({"tools": true, "vision": false, "streaming": true,
        "embeddings": false, "reasoning": false});
    let entry = |provider: &str, model: &str| {
        serde_json::json!({"id": format!("{provider}:{model}"), "provider": provider,
            "model": model, "created": 1_700_000_000u64, "capabilities": caps})
    };
    serde_json::from_value(serde_json::json!({
        "models": [entry("local", "llama3.2:3b"), entry("openai", "gpt-4.1"),
                   entry("anthropic", "claude-sonnet-4-5")],
        "aliases": {"fast": ["local:llama3.2:3b", "openai:gpt-4.1"]},
        "unavailable": [],
    }))
    .expect("a valid model list")
}
