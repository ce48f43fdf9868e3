//! What the heal model is told and the JSON Schemas its answers must follow. Prompts carry the
//! trigger's samples (status, raw provider body, request shape: never user content), the
//! adapter's identity, and its source files, each headed by its path relative to the source
//! root, which is what edits name.

use std::path::Path;

use serde_json::{Value, json};

use super::cycle::{Diagnosis, Findings};
use crate::resilience::samples::ErrorSample;

/// Name of the diagnosis schema.
pub const DIAGNOSIS: &str = "aratta_heal_diagnosis";
/// Name of the fix schema.
pub const FIX: &str = "aratta_heal_fix";

/// The most source text put in one prompt.
pub const MAX_SOURCE_BYTES: usize = 160 * 1024;

/// The diagnosis schema: what changed, and what to search for.
pub fn diagnosis_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["classification", "summary", "search_queries"],
        "properties": {
            "classification": {
                "type": "string",
                "enum": [
                    "renamed_response_field", "renamed_stream_event", "refused_request_parameter",
                    "new_required_header", "changed_error_format", "adapter_bug", "not_drift"
                ]
            },
            "summary": {"type": "string"},
            "search_queries": {"type": "array", "minItems": 1, "maxItems": 3, "items": {"type": "string"}}
        }
    })
}

/// The fix schema: search/replace edits with a confidence.
pub fn fix_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["summary", "confidence", "edits"],
        "properties": {
            "summary": {"type": "string"},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "edits": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["file", "search", "replace"],
                    "properties": {
                        "file": {"type": "string"},
                        "search": {"type": "string"},
                        "replace": {"type": "string"}
                    }
                }
            }
        }
    })
}

/// The system prompt of the diagnose phase.
pub const DIAGNOSE_SYSTEM: &str = "You maintain Aratta's provider adapters: Rust crates compiled to WebAssembly that \
translate Aratta's request format to one AI provider's HTTP API and back. A provider changed its API and the \
adapter now fails. From the error samples (the provider's raw status and body, and the shape of the request) \
and the adapter's source, say what changed and what to search the provider's current documentation for. \
Answer with one JSON object following the aratta_heal_diagnosis schema.";

/// The system prompt of the fix phase.
pub const FIX_SYSTEM: &str = "You maintain Aratta's provider adapters: Rust crates compiled to WebAssembly. Write the \
smallest change to the adapter's source that makes it speak the provider's current API. Answer with one JSON object \
following the aratta_heal_fix schema: `edits` is a list of {file, search, replace}; `file` is a path relative to the \
source root exactly as shown in the headers below; `search` is text copied exactly from that file that occurs there \
exactly once; `replace` is what it becomes. Only edit .rs files under the adapter's src/ or guest-sdk/src/. Never add \
dependencies, unsafe code, extern blocks, include_str!/include_bytes!/env!/option_env! or #[path]. `confidence` is \
your probability (0 to 1) that the change fixes the failure and breaks nothing.";

/// What the cycle is about, shared by both prompts.
pub struct Subject<'a> {
    /// Adapter name.
    pub adapter: &'a str,
    /// Its version.
    pub version: &'a str,
    /// The provider that failed.
    pub provider: &'a str,
    /// The SCRI operation that failed.
    pub operation: &'a str,
    /// The error class.
    pub class: &'a str,
    /// The samples, oldest first.
    pub samples: &'a [ErrorSample],
}

impl Subject<'_> {
    fn header(&self) -> String {
        let samples: Vec<Value> = self
            .samples
            .iter()
            .map(|s| {
                json!({
                    "class": s.class,
                    "message": s.message,
                    "status": s.status,
                    "path": s.path,
                    "provider_body": s.body,
                    "request_shape": s.request,
                })
            })
            .collect();
        format!(
            "Adapter: {} {} (serving provider `{}`)\nFailing operation: {}\nError class: {}\nError samples (newest last):\n{}\n",
            self.adapter,
            self.version,
            self.provider,
            self.operation,
            self.class,
            serde_json::to_string_pretty(&samples).unwrap_or_default()
        )
    }
}

/// The diagnose phase's user message.
pub fn diagnose(subject: &Subject<'_>, sources: &str) -> String {
    format!(
        "{}\nThe adapter's source that handles it:\n{sources}",
        subject.header()
    )
}

/// The fix phase's user message; `feedback` says why the previous attempt was refused.
pub fn fix(
    subject: &Subject<'_>,
    diagnosis: &Diagnosis,
    research: &Findings,
    sources: &str,
    feedback: Option<&str>,
) -> String {
    let research = if research.provider.is_some() {
        format!(
            "Research findings (from {}):\n{}\nSources:\n{}\n",
            research.provider.as_deref().unwrap_or_default(),
            research.text,
            research.urls.join("\n")
        )
    } else {
        "No research was possible: rely on the error samples.\n".to_owned()
    };
    let feedback = feedback
        .map(|f| format!("\nYour previous fix was refused:\n{f}\nCorrect it.\n"))
        .unwrap_or_default();
    format!(
        "{}\nDiagnosis ({}): {}\n\n{research}\nSource files:\n{sources}{feedback}",
        subject.header(),
        diagnosis.classification,
        diagnosis.summary
    )
}

/// `files` (relative paths under `root`) as prompt text, the ones mentioning `keywords` most
/// first, up to [`MAX_SOURCE_BYTES`]; files that do not fit are named, not shown.
pub fn sources(root: &Path, files: &[std::path::PathBuf], keywords: &[String]) -> String {
    let mut scored: Vec<(usize, String, String)> = files
        .iter()
        .filter_map(|rel| {
            let text = std::fs::read_to_string(root.join(rel)).ok()?;
            let score = keywords
                .iter()
                .filter(|k| !k.is_empty())
                .map(|k| text.matches(k.as_str()).count())
                .sum();
            Some((score, rel.to_string_lossy().replace('\\', "/"), text))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut out = String::new();
    let mut left_out = Vec::new();
    for (_, path, text) in scored {
        if out.len() + text.len() > MAX_SOURCE_BYTES {
            left_out.push(path);
            continue;
        }
        out.push_str(&format!("===== {path} =====\n{text}\n"));
    }
    if !left_out.is_empty() {
        out.push_str(&format!("(not shown, for size: {})\n", left_out.join(", ")));
    }
    out
}

/// Words worth looking for in the source: field paths, quoted names and the body's keys.
pub fn keywords(samples: &[ErrorSample]) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut add = |w: &str| {
        let w = w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_');
        if w.len() >= 3 && !words.iter().any(|x| x == w) {
            words.push(w.to_owned());
        }
    };
    for s in samples {
        if let Some(path) = &s.path {
            for part in path.split(['.', '[', ']']) {
                add(part);
            }
        }
        for quoted in s.message.split(['`', '\'', '"']).skip(1).step_by(2) {
            add(quoted);
        }
    }
    words
}
