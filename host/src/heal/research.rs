//! Research: a search-capable cloud provider looks up the provider's current API with its own
//! native web search, through the gateway. It only fetches; it decides nothing.
//!
//! `[healing] research_order` lists providers (or `provider:model`); the first one that is
//! configured, enabled, credentialed, has a closed breaker and is not served by the adapter
//! being healed gets the queries. A failure moves on to the next. The search tool is chosen by
//! the provider's adapter: xAI and OpenAI get the Responses API `web_search` tool, Google
//! `googleSearch`, Anthropic the `web_search` server tool, all passed in SCRI `extra.tools`.

use std::time::Instant;

use serde_json::{Value, json};

use super::cycle::{Findings, MAX_KEPT_TEXT, bounded};
use crate::gateway::{Gateway, request_id};
use crate::resilience::breaker::BreakerState;
use crate::scri::{ChatRequest, text_of};

/// The model asked when `research_order` names only the provider.
fn default_model(adapter: &str) -> Option<&'static str> {
    match adapter {
        "xai" => Some("grok-4-fast"),
        "openai" => Some("gpt-5-mini"),
        "google" => Some("gemini-2.5-flash"),
        "anthropic" => Some("claude-sonnet-4-5"),
        _ => None,
    }
}

/// The provider's native search tool, as the adapter takes it in `extra.tools`.
fn search_tool(adapter: &str) -> Option<Value> {
    match adapter {
        "xai" | "openai" => Some(json!({"type": "web_search"})),
        "google" => Some(json!({"googleSearch": {}})),
        "anthropic" => {
            Some(json!({"type": "web_search_20250305", "name": "web_search", "max_uses": 5}))
        }
        _ => None,
    }
}

const SYSTEM: &str = "You research how a provider's HTTP API works today, for an engineer fixing a client library. \
Use web search. Report only facts you found: field names, event names, parameter names, required headers and \
versions, each with the URL of the page that says so. Do not write code and do not guess.";

/// Ask the first usable provider of `order` to research `queries`; `healed` is the adapter
/// being healed (never used for research), `context` says what failed.
pub async fn research(
    gateway: &Gateway,
    order: &[String],
    healed: &str,
    queries: &[String],
    context: &str,
) -> Findings {
    let mut findings = Findings::default();
    let breakers = gateway.breakers.status(Instant::now());
    for entry in order {
        let (name, model) = match entry.split_once(':') {
            Some((p, m)) => (p, Some(m)),
            None => (entry.as_str(), None),
        };
        let Some(provider) = gateway.providers().find(|p| p.name == name) else {
            findings.attempts.push(format!("{name}: not configured"));
            continue;
        };
        let adapter = provider.config.adapter.as_str();
        let refusal = if !provider.config.enabled {
            Some("disabled".to_owned())
        } else if provider.config.api_key_required() && !provider.has_key() {
            Some(format!(
                "no credential (${} is not set)",
                provider.config.api_key_env
            ))
        } else if adapter == healed {
            Some(format!("served by adapter {healed}, the one being healed"))
        } else if breakers.iter().any(|b| {
            b.provider == name
                && !matches!(b.state, BreakerState::Closed | BreakerState::ForcedClosed)
        }) {
            Some("its circuit breaker is not closed".to_owned())
        } else {
            None
        };
        if let Some(why) = refusal {
            findings.attempts.push(format!("{name}: {why}"));
            continue;
        }
        let (Some(tool), Some(model)) = (search_tool(adapter), model.or(default_model(adapter)))
        else {
            findings.attempts.push(format!(
                "{name}: adapter {adapter} has no known native web search tool"
            ));
            continue;
        };
        let reference = format!("{name}:{model}");
        let question = format!(
            "{context}\n\nSearch the web for:\n{}\n\nSay what the API expects now, with the URL of each source.",
            queries
                .iter()
                .map(|q| format!("- {q}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let request: ChatRequest = serde_json::from_value(json!({
            "model": reference,
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": question},
            ],
            "extra": {"tools": [tool]},
        }))
        .expect("a valid research request");
        match gateway.chat(&request, &request_id()).await {
            Ok(response) => {
                let text = text_of(&response.content);
                findings.attempts.push(format!("{reference}: answered"));
                findings.urls = urls(&text);
                findings.text = bounded(&text, MAX_KEPT_TEXT);
                findings.provider = Some(reference);
                return findings;
            }
            Err(e) => findings.attempts.push(format!("{reference}: {e}")),
        }
    }
    findings
}

/// The distinct `http(s)://` URLs in `text`, in order (trailing punctuation dropped).
pub fn urls(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("http") {
        let candidate = &rest[at..];
        let end = candidate
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | ')' | ']' | '`')
            })
            .unwrap_or(candidate.len());
        let url = candidate[..end].trim_end_matches(['.', ',', ';', ':']);
        if (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() > "https://".len()
            && !found.iter().any(|u| u == url)
        {
            found.push(url.to_owned());
        }
        rest = &candidate[end.max(4)..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_found_once_without_trailing_punctuation() {
        let text = "See https://platform.openai.com/docs/api-reference/chat. Also (https://x.ai/api) \
                    and https://platform.openai.com/docs/api-reference/chat, http not a url, \
                    [src](https://ai.google.dev/gemini-api/docs)";
        assert_eq!(
            urls(text),
            [
                "https://platform.openai.com/docs/api-reference/chat",
                "https://x.ai/api",
                "https://ai.google.dev/gemini-api/docs"
            ]
        );
    }

    #[test]
    fn every_built_in_cloud_adapter_has_a_search_tool_and_a_model() {
        for adapter in ["xai", "openai", "google", "anthropic"] {
            assert!(search_tool(adapter).is_some() && default_model(adapter).is_some());
        }
        assert!(search_tool("local").is_none());
    }
}
