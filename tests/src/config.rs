//! The gateway config a test runs with, rendered to the TOML that `aratta` reads from
//! `$ARATTA_HOME/config.toml`. Every test builds its config here, so the key names the suite
//! expects live in this one file:
//!
//! ```toml
//! [behaviour]
//! upstream_timeout_seconds = 1
//!
//! [providers.local]
//! adapter = "local"
//! base_url = "http://127.0.0.1:PORT/v1"
//! api_key_env = "SOME_VAR"        # only when the provider takes a credential
//! allowed_hosts = ["..."]         # only when the test grants extra hosts
//!
//! [aliases]
//! fast = ["local:a", "backup:b"]
//! ```

use std::fmt::Write as _;

/// One `[providers.<name>]` table.
#[derive(Clone, Debug)]
pub struct Provider {
    name: String,
    adapter: String,
    base_url: String,
    api_key_env: Option<String>,
    allowed_hosts: Vec<String>,
    extra: Vec<(String, String)>,
}

impl Provider {
    /// A provider named `name` using the adapter of the same name, reached at `base_url`.
    pub fn new(name: &str, base_url: &str) -> Self {
        Provider {
            name: name.to_string(),
            adapter: name.to_string(),
            base_url: base_url.to_string(),
            api_key_env: None,
            allowed_hosts: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// Uses adapter `adapter` instead of the one named like the provider.
    pub fn adapter(mut self, adapter: &str) -> Self {
        self.adapter = adapter.to_string();
        self
    }

    /// Reads the provider's credential from environment variable `var`.
    pub fn api_key_env(mut self, var: &str) -> Self {
        self.api_key_env = Some(var.to_string());
        self
    }

    /// Grants the adapter one more host besides the base URL's.
    pub fn allowed_host(mut self, host: &str) -> Self {
        self.allowed_hosts.push(host.to_string());
        self
    }

    /// Adds `key = <value>` to the table; `value` is a TOML literal (quote strings yourself).
    pub fn raw(mut self, key: &str, value: &str) -> Self {
        self.extra.push((key.to_string(), value.to_string()));
        self
    }
}

/// A whole config file.
#[derive(Clone, Debug, Default)]
pub struct Config {
    behaviour: Vec<(String, String)>,
    providers: Vec<Provider>,
    aliases: Vec<(String, Vec<String>)>,
    raw: Vec<String>,
}

impl Config {
    /// An empty config (no providers).
    pub fn new() -> Self {
        Self::default()
    }

    /// The common case: one provider `local` (adapter `local`) at `base_url`.
    pub fn local(base_url: &str) -> Self {
        Self::new().provider(Provider::new("local", base_url))
    }

    /// Adds a provider.
    pub fn provider(mut self, provider: Provider) -> Self {
        self.providers.push(provider);
        self
    }

    /// Adds alias `name`, tried in order over `targets` (`provider:model`).
    pub fn alias(mut self, name: &str, targets: &[&str]) -> Self {
        self.aliases.push((
            name.to_string(),
            targets.iter().map(|t| t.to_string()).collect(),
        ));
        self
    }

    /// Sets `[behaviour] key = value`; `value` is a TOML literal.
    pub fn behaviour(mut self, key: &str, value: &str) -> Self {
        self.behaviour.push((key.to_string(), value.to_string()));
        self
    }

    /// Appends raw TOML at the end of the file.
    pub fn raw(mut self, toml: &str) -> Self {
        self.raw.push(toml.to_string());
        self
    }

    /// The TOML text.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        if !self.behaviour.is_empty() {
            out.push_str("[behaviour]\n");
            for (key, value) in &self.behaviour {
                let _ = writeln!(out, "{key} = {value}");
            }
            out.push('\n');
        }
        for p in &self.providers {
            let _ = writeln!(out, "[providers.{}]", p.name);
            let _ = writeln!(out, "adapter = {}", quote(&p.adapter));
            let _ = writeln!(out, "base_url = {}", quote(&p.base_url));
            if let Some(var) = &p.api_key_env {
                let _ = writeln!(out, "api_key_env = {}", quote(var));
            }
            if !p.allowed_hosts.is_empty() {
                let _ = writeln!(out, "allowed_hosts = {}", list(&p.allowed_hosts));
            }
            for (key, value) in &p.extra {
                let _ = writeln!(out, "{key} = {value}");
            }
            out.push('\n');
        }
        if !self.aliases.is_empty() {
            out.push_str("[aliases]\n");
            for (name, targets) in &self.aliases {
                let _ = writeln!(out, "{} = {}", quote(name), list(targets));
            }
            out.push('\n');
        }
        for raw in &self.raw {
            out.push_str(raw);
            out.push('\n');
        }
        out
    }
}

/// A TOML basic string (JSON string escapes are valid TOML escapes).
pub fn quote(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| quote(i)).collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_providers_aliases_and_behaviour() {
        let toml = Config::local("http://127.0.0.1:1/v1")
            .provider(Provider::new("backup", "http://127.0.0.1:2/v1").adapter("local"))
            .alias("fast", &["local:a", "backup:b"])
            .behaviour("upstream_timeout_seconds", "1")
            .to_toml();
        assert!(toml.starts_with("[behaviour]\nupstream_timeout_seconds = 1\n"));
        assert!(toml.contains(
            "[providers.backup]\nadapter = \"local\"\nbase_url = \"http://127.0.0.1:2/v1\"\n"
        ));
        assert!(toml.contains("[aliases]\n\"fast\" = [\"local:a\", \"backup:b\"]\n"));
    }
}
