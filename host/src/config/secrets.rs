//! Credential rules: API keys live only in the environment, never in the config.
//!
//! Any key whose last word is a credential word (`api_key`, `key`, `token`, `secret`, `password`,
//! `authorization`, ...) is refused wherever it appears, with the variable to use instead. Keys
//! that merely *name* a variable (`api_key_env`) are fine: their last word is `env`. Tables are
//! never refused themselves (only their entries are checked), and alias names are exempt
//! because they are identifiers, not values.

use figment::value::{Dict, Value};

use super::error::{Problem, ProblemKind};

/// Words that, as a key's last word, mark it as holding a credential.
const CREDENTIAL_WORDS: &[&str] = &[
    "key",
    "apikey",
    "token",
    "secret",
    "secrets",
    "password",
    "passwd",
    "authorization",
    "auth",
    "credential",
    "credentials",
    "bearer",
];

/// The conventional API-key variable for provider `name` (`<NAME>_API_KEY` for unknown names).
pub(crate) fn default_api_key_env(name: &str) -> String {
    match name {
        "openai" => "OPENAI_API_KEY".into(),
        "anthropic" => "ANTHROPIC_API_KEY".into(),
        "google" => "GEMINI_API_KEY".into(),
        "xai" => "XAI_API_KEY".into(),
        "local" => "LOCAL_API_KEY".into(),
        other => format!("{}_API_KEY", other.to_ascii_uppercase().replace('-', "_")),
    }
}

/// Whether a config key looks like it holds a credential.
pub(crate) fn looks_like_secret(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    let last_word = lower.rsplit(['_', '-', '.']).next().unwrap_or(&lower);
    CREDENTIAL_WORDS.contains(&last_word)
}

/// Every credential-looking key in one layer, as a problem that names the right variable.
///
/// `origin` describes where a key path came from; `api_key_env` gives the variable configured
/// (or defaulted) for a provider name.
pub(crate) fn refuse_secrets(
    layer: &Dict,
    origin: &dyn Fn(&[String]) -> Option<String>,
    api_key_env: &dyn Fn(&str) -> String,
) -> Vec<Problem> {
    let mut paths = Vec::new();
    collect(layer, &mut Vec::new(), &mut paths);
    paths
        .into_iter()
        .map(|path| {
            let kind = match path.as_slice() {
                [section, provider, _, ..] if section == "providers" => {
                    ProblemKind::ApiKeyInConfig {
                        env_var: api_key_env(provider),
                    }
                }
                _ => ProblemKind::SecretInConfig,
            };
            Problem::new(path.join("."), origin(&path), kind)
        })
        .collect()
}

fn collect(dict: &Dict, prefix: &mut Vec<String>, found: &mut Vec<Vec<String>>) {
    for (key, value) in dict {
        prefix.push(key.clone());
        let is_alias_name = prefix.len() == 2 && prefix[0] == "aliases";
        match value {
            Value::Dict(_, inner) => collect(inner, prefix, found),
            _ if is_alias_name => {}
            _ if looks_like_secret(key) => found.push(prefix.clone()),
            _ => {}
        }
        prefix.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dict(toml: &str) -> Dict {
        let table: toml::Table = toml::from_str(toml).unwrap();
        Value::serialize(table).unwrap().into_dict().unwrap()
    }

    fn refused(toml: &str) -> Vec<String> {
        refuse_secrets(&dict(toml), &|_| None, &default_api_key_env)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn default_variables_by_provider_name() {
        assert_eq!(default_api_key_env("openai"), "OPENAI_API_KEY");
        assert_eq!(default_api_key_env("anthropic"), "ANTHROPIC_API_KEY");
        assert_eq!(default_api_key_env("google"), "GEMINI_API_KEY");
        assert_eq!(default_api_key_env("xai"), "XAI_API_KEY");
        assert_eq!(default_api_key_env("local"), "LOCAL_API_KEY");
        assert_eq!(default_api_key_env("my-vllm"), "MY_VLLM_API_KEY");
    }

    #[test]
    fn credential_words_are_recognised() {
        for key in [
            "api_key",
            "key",
            "token",
            "access_token",
            "secret",
            "client-secret",
            "password",
            "Authorization",
            "apiKey",
        ] {
            assert!(looks_like_secret(key), "{key} should look secret");
        }
        for key in [
            "api_key_env",
            "allowed_hosts",
            "base_url",
            "tokens_per_minute",
        ] {
            assert!(!looks_like_secret(key), "{key} should not look secret");
        }
    }

    #[test]
    fn provider_keys_name_the_providers_variable() {
        let problems = refused("[providers.openai]\napi_key = \"sk-123\"\n");
        assert_eq!(
            problems,
            [
                "providers.openai.api_key: API keys are read only from the environment; set OPENAI_API_KEY instead"
            ]
        );
    }

    #[test]
    fn nested_and_top_level_secrets_are_refused() {
        let problems =
            refused("token = \"t\"\n[providers.google.headers]\nauthorization = \"Bearer x\"\n");
        assert_eq!(problems.len(), 2);
        assert!(problems[0].starts_with("providers.google.headers.authorization: "));
        assert!(problems[0].contains("GEMINI_API_KEY"));
        assert!(problems[1].starts_with("token: secrets are read only from the environment"));
    }

    #[test]
    fn the_secret_value_never_appears_in_the_message() {
        let problems = refused("[providers.openai]\ntoken = \"sk-very-secret\"\n");
        assert!(!problems[0].contains("sk-very-secret"));
    }

    #[test]
    fn alias_names_and_tables_are_not_refused() {
        assert!(refused("[aliases]\nkey = [\"local:a\"]\n[providers.token]\n").is_empty());
    }
}
