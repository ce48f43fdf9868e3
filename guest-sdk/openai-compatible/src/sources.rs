//! Web sources a provider cites (xAI's `citations`, OpenAI's `url_citation` annotations) as
//! SCRI text. SCRI has no citation field, so the sources follow the answer as a final `text`
//! block (a last `text-delta` when streaming) of a fixed shape a client can find and parse:
//!
//! ```text
//!
//!
//! Sources:
//! - https://x.ai/news
//! - https://docs.x.ai/developers/release-notes
//! ```
//!
//! The block starts with a blank line and [`SOURCES_HEADING`], then one `- <url>` line per
//! source, in the provider's order, each URL once.

use serde_json::Value;

/// The line that opens a sources block.
pub const SOURCES_HEADING: &str = "Sources:";

/// Sources collected from a response, in order, without repeats.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sources {
    urls: Vec<String>,
}

impl Sources {
    /// No sources yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add `url` unless it is empty or already there.
    pub fn add(&mut self, url: &str) {
        let url = url.trim();
        if !url.is_empty() && !self.urls.iter().any(|u| u == url) {
            self.urls.push(url.to_string());
        }
    }

    /// Add every URL of a `citations` array: strings (xAI) or objects with a `url` (others).
    pub fn add_citations(&mut self, citations: &Value) {
        for item in citations.as_array().into_iter().flatten() {
            match item {
                Value::String(url) => self.add(url),
                other => {
                    if let Some(url) = other.get("url").and_then(Value::as_str) {
                        self.add(url);
                    }
                }
            }
        }
    }

    /// Add the URL of an annotation when it is a `url_citation`, in either shape: flat
    /// (Responses API: `{"type":"url_citation","url":…}`) or nested (Chat Completions:
    /// `{"type":"url_citation","url_citation":{"url":…}}`).
    pub fn add_annotation(&mut self, annotation: &Value) {
        if annotation.get("type").and_then(Value::as_str) != Some("url_citation") {
            return;
        }
        let url = annotation
            .get("url")
            .or_else(|| annotation.get("url_citation").and_then(|c| c.get("url")))
            .and_then(Value::as_str);
        if let Some(url) = url {
            self.add(url);
        }
    }

    /// Whether no source was collected.
    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
    }

    /// The URLs, in order.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// The text block for these sources, or `None` when there are none.
    pub fn block(&self) -> Option<String> {
        if self.urls.is_empty() {
            return None;
        }
        let mut text = format!("\n\n{SOURCES_HEADING}\n");
        for url in &self.urls {
            text.push_str("- ");
            text.push_str(url);
            text.push('\n');
        }
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn citations_and_annotations_in_order_without_repeats() {
        let mut s = Sources::new();
        s.add_citations(&json!(["https://x.ai/news", {"url": "https://a.example"}, 3]));
        s.add_annotation(&json!({"type": "url_citation", "url": "https://x.ai/news"}));
        s.add_annotation(&json!({"type": "url_citation", "url_citation": {"url": "https://b.example", "title": "B"}}));
        s.add_annotation(&json!({"type": "file_citation", "file_id": "f"}));
        assert_eq!(
            s.block().unwrap(),
            "\n\nSources:\n- https://x.ai/news\n- https://a.example\n- https://b.example\n"
        );
        assert_eq!(Sources::new().block(), None);
    }
}
