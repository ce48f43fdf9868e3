//! The host's own table of known providers: where each built-in adapter's provider lives when
//! the operator's config gives no `base_url`.
//!
//! The grant and the credential's target come from the operator or from this table, never from
//! the component: an adapter's self-declared `default-base-url` is informational (the reload
//! path compares it between versions), so a replacement `openai.wasm` declaring
//! `http://169.254.169.254` gets neither egress there nor the key. An adapter not listed here
//! is callable only once `[providers.<name>] base_url` names where its provider lives.

/// `(adapter, base URL)`, each URL as the provider's official SDK defaults it (see
/// `docs/providers/*.md`) and as the built-in adapter's `DEFAULT_BASE_URL` says.
const KNOWN: &[(&str, &str)] = &[
    ("anthropic", "https://api.anthropic.com"),
    ("google", "https://generativelanguage.googleapis.com/v1beta"),
    ("local", "http://127.0.0.1:11434/v1"),
    ("openai", "https://api.openai.com/v1"),
    ("xai", "https://api.x.ai/v1"),
];

/// The base URL the host uses for a provider served by `adapter` when the config names none.
pub fn default_base_url(adapter: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .find(|(name, _)| *name == adapter)
        .map(|(_, url)| *url)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table agrees with each built-in adapter's `DEFAULT_BASE_URL` and with its doc page.
    #[test]
    fn the_table_matches_the_built_in_adapters_and_their_docs() {
        let sources = [
            (
                "anthropic",
                include_str!("../../../adapters/anthropic/src/lib.rs"),
            ),
            (
                "google",
                include_str!("../../../adapters/google/src/lib.rs"),
            ),
            ("local", include_str!("../../../adapters/local/src/lib.rs")),
            (
                "openai",
                include_str!("../../../adapters/openai/src/lib.rs"),
            ),
            ("xai", include_str!("../../../adapters/xai/src/lib.rs")),
        ];
        for (adapter, source) in sources {
            let url = default_base_url(adapter).expect("every built-in adapter is listed");
            // A constant, or the `default_base_url` field of `openai_compatible_adapter!`.
            let constant = format!("pub const DEFAULT_BASE_URL: &str = \"{url}\";");
            let field = format!("default_base_url: \"{url}\",");
            assert!(
                source.contains(&constant) || source.contains(&field),
                "{adapter}: expected `{constant}` or `{field}`"
            );
        }
        let docs = [
            (
                "anthropic",
                include_str!("../../../docs/providers/anthropic.md"),
            ),
            ("google", include_str!("../../../docs/providers/google.md")),
            ("openai", include_str!("../../../docs/providers/openai.md")),
            ("xai", include_str!("../../../docs/providers/xai.md")),
        ];
        for (adapter, doc) in docs {
            let url = default_base_url(adapter).unwrap();
            assert!(
                doc.contains(&format!("| default base URL | `{url}`")),
                "docs/providers/{adapter}.md names {url}"
            );
        }
        assert_eq!(default_base_url("misbehaving"), None);
    }
}
