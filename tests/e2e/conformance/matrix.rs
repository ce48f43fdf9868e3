//! The matrix itself: which cases each adapter declares it does not support, each case's
//! outcome, and the printed table of cases × adapters.
//!
//! A case an adapter does not support is declared in [`DECLARED`]: `unsupported` when the
//! gateway must say so (and that answer is asserted), `n/a` when there is nothing to send. A
//! known adapter bug is declared in [`KNOWN_FAILURES`]: still run and printed, not failing.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Mutex;

use aratta_tests::conformance;
use futures_util::FutureExt as _;

use crate::CASES;
use crate::ctx::Ctx;

/// Chat Completions carries no reasoning signatures.
const NO_SIGNATURES: &str = "OpenAI-compatible servers return reasoning without signatures";
/// Only the OpenAI and xAI adapters use the Responses API.
const NO_RESPONSES: &str = "the provider has no Responses API";
/// Only Gemini reports these.
const GEMINI_ONLY: &str = "a Gemini finish reason / prompt feedback; others have no equivalent";
/// Only Gemini signs its function calls.
const NO_CALL_SIGNATURES: &str = "only Gemini signs function calls (thought signatures)";

/// Cases an adapter declares it does not support: `(adapter, case, asserted?, why)`.
const DECLARED: &[(&str, &str, bool, &str)] = &[
    ("xai", "embeddings", true, "xAI offers no embedding model"),
    (
        "anthropic",
        "embeddings",
        true,
        "Anthropic has no embeddings API",
    ),
    ("local", "reasoning-signature", false, NO_SIGNATURES),
    ("local", "openai-route-reasoning", false, NO_SIGNATURES),
    (
        "local",
        "content-filter",
        false,
        "local servers do not filter content",
    ),
    (
        "xai",
        "content-filter",
        false,
        "xAI documents no content-filter finish reason",
    ),
    (
        "xai",
        "midstream-error",
        false,
        "no recorded xAI error event inside a stream",
    ),
    ("local", "malformed-call", false, GEMINI_ONLY),
    ("openai", "malformed-call", false, GEMINI_ONLY),
    ("xai", "malformed-call", false, GEMINI_ONLY),
    ("anthropic", "malformed-call", false, GEMINI_ONLY),
    ("local", "blocked-prompt", false, GEMINI_ONLY),
    ("openai", "blocked-prompt", false, GEMINI_ONLY),
    ("xai", "blocked-prompt", false, GEMINI_ONLY),
    ("anthropic", "blocked-prompt", false, GEMINI_ONLY),
    ("local", "responses-search", false, NO_RESPONSES),
    ("anthropic", "responses-search", false, NO_RESPONSES),
    ("google", "responses-search", false, NO_RESPONSES),
    ("local", "responses-stream", false, NO_RESPONSES),
    ("anthropic", "responses-stream", false, NO_RESPONSES),
    ("google", "responses-stream", false, NO_RESPONSES),
    (
        "local",
        "openai-route-call-signature",
        false,
        NO_CALL_SIGNATURES,
    ),
    (
        "openai",
        "openai-route-call-signature",
        false,
        NO_CALL_SIGNATURES,
    ),
    (
        "xai",
        "openai-route-call-signature",
        false,
        NO_CALL_SIGNATURES,
    ),
    (
        "anthropic",
        "openai-route-call-signature",
        false,
        NO_CALL_SIGNATURES,
    ),
    (
        "local",
        "openai-route-native-tools",
        false,
        "local servers have no server-side tools",
    ),
    (
        "google",
        "openai-route-native-tools",
        false,
        "Gemini's built-in tools have no `type` (`{\"google_search\": {}}`): send them in SCRI `extra.tools`",
    ),
];

/// Known adapter bugs: `(adapter, case, what)`. Run and printed as `KNOWN-FAIL`, not failing.
const KNOWN_FAILURES: &[(&str, &str, &str)] = &[];

/// Whether `adapter` declares `case` unsupported: `(asserted?, why)`.
pub fn declared(adapter: &str, case: &str) -> Option<(bool, &'static str)> {
    DECLARED
        .iter()
        .find(|(a, c, _, _)| *a == adapter && *c == case)
        .map(|(_, _, asserted, why)| (*asserted, *why))
}

#[derive(Clone, Debug)]
enum Outcome {
    Pass,
    Unsupported,
    NotApplicable,
    Fail(String),
    KnownFail(String),
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Unsupported => "unsupported",
            Outcome::NotApplicable => "n/a",
            Outcome::Fail(_) => "FAIL",
            Outcome::KnownFail(_) => "KNOWN-FAIL",
        }
    }
}

static MATRIX: Mutex<BTreeMap<&'static str, Vec<Outcome>>> = Mutex::new(BTreeMap::new());

fn panic_text(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".to_string())
}

/// Runs every case against `adapter` (its spec names the mock and the fixtures) and records its
/// column. `installed` is a component serving under the adapter's name in place of the
/// built-in one (the Python example for `local`); the column is labelled with its file name.
pub async fn run(adapter: &'static str, installed: Option<&Path>) {
    let ctx = Ctx::start(adapter, installed).await;
    let label = match installed.and_then(Path::file_name) {
        Some(file) => format!("{adapter} ({})", file.to_string_lossy()),
        None => adapter.to_string(),
    };
    let mut outcomes = Vec::new();
    for (name, case) in CASES {
        let declared = declared(adapter, name);
        if let Some((false, _)) = declared {
            outcomes.push(Outcome::NotApplicable);
            continue;
        }
        let result = AssertUnwindSafe(case(&ctx)).catch_unwind().await;
        let known = KNOWN_FAILURES
            .iter()
            .find(|(a, c, _)| *a == adapter && c == name);
        outcomes.push(match (result, declared, known) {
            (Ok(()), Some(_), _) => Outcome::Unsupported,
            (Ok(()), None, _) => Outcome::Pass,
            (Err(p), _, Some(_)) => Outcome::KnownFail(panic_text(p)),
            (Err(p), _, None) => Outcome::Fail(panic_text(p)),
        });
    }
    let failures: Vec<String> = CASES
        .iter()
        .zip(&outcomes)
        .filter_map(|((name, _), o)| match o {
            Outcome::Fail(why) => Some(format!("{name}: {why}")),
            _ => None,
        })
        .collect();
    for ((name, _), outcome) in CASES.iter().zip(&outcomes) {
        println!("{label:>10} {name:<28} {}", outcome.label());
        if let Outcome::KnownFail(why) = outcome {
            println!("           known failure: {why}");
        }
    }
    let matrix = {
        let mut all = MATRIX.lock().unwrap_or_else(|e| e.into_inner());
        all.insert(adapter, outcomes);
        if all.len() == conformance::SPECS.len() {
            Some(render(&all))
        } else {
            None
        }
    };
    if let Some(text) = matrix {
        // Past libtest's capture, so the matrix shows on a passing run too.
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }
    assert!(
        failures.is_empty(),
        "{label} failed {} case(s):\n{}\n--- gateway logs ---\n{}",
        failures.len(),
        failures.join("\n"),
        ctx.gateway.logs()
    );
}

fn render(all: &BTreeMap<&'static str, Vec<Outcome>>) -> String {
    let adapters: Vec<&str> = conformance::SPECS.iter().map(|s| s.adapter).collect();
    let mut out = format!("\nconformance matrix\n{:<28}", "case");
    for a in &adapters {
        out.push_str(&format!(" {a:<11}"));
    }
    out.push('\n');
    for (i, (name, _)) in CASES.iter().enumerate() {
        out.push_str(&format!("{name:<28}"));
        for a in &adapters {
            let label = all.get(a).map_or("-", |o| o[i].label());
            out.push_str(&format!(" {label:<11}"));
        }
        out.push('\n');
    }
    out.push_str("\ndeclared (unsupported / n/a):\n");
    for (adapter, case, _, why) in DECLARED {
        out.push_str(&format!("  {adapter:<10} {case:<28} {why}\n"));
    }
    out
}
