//! Value checks that types alone cannot express. Each message says what is acceptable.

use super::error::{Problem, ProblemKind};
use super::model::{Config, ProviderConfig, ServerConfig};
use super::parse_model_ref;

/// Every problem in `config`, keyed but without origins (the loader adds those).
pub(crate) fn validate(config: &Config) -> Vec<Problem> {
    let mut problems = Problems::default();
    server(config, &mut problems);
    behaviour(config, &mut problems);
    for (name, provider) in &config.providers {
        self::provider(name, provider, &mut problems);
    }
    aliases(config, &mut problems);
    healing(config, &mut problems);
    breaker(config, &mut problems);
    retry(config, &mut problems);
    reload(config, &mut problems);
    prices(config, &mut problems);
    traces(config, &mut problems);
    problems.0
}

fn traces(config: &Config, problems: &mut Problems) {
    let t = &config.traces;
    if let Some(endpoint) = &t.endpoint {
        match url::Url::parse(endpoint) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
            _ => problems.add(
                "traces.endpoint",
                "must be the collector's OTLP/HTTP URL, e.g. \"http://localhost:4318\" (gRPC is not supported)",
            ),
        }
    }
    if !(0.0..=1.0).contains(&t.sample_ratio) {
        problems.add(
            "traces.sample_ratio",
            "must be from 0.0 to 1.0 (default 1.0: every request)",
        );
    }
    if t.service_name.trim().is_empty() {
        problems.add(
            "traces.service_name",
            "must not be empty (default \"aratta\")",
        );
    }
}

fn prices(config: &Config, problems: &mut Problems) {
    for (reference, price) in &config.prices {
        let key = format!("prices.\"{reference}\"");
        match reference.split_once(':') {
            Some((provider, model)) if !provider.is_empty() && !model.is_empty() => {}
            _ => problems.add(
                key.clone(),
                "name a model as \"provider:model\", or every model of a provider as \"provider:*\"",
            ),
        }
        if let Err((rate, message)) = price.check() {
            problems.add(format!("{key}.{rate}"), message);
        }
    }
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, key: impl Into<String>, message: impl Into<String>) {
        let kind = ProblemKind::Invalid(message.into());
        self.0.push(Problem::new(key, None, kind));
    }

    fn at_least_one(&mut self, key: &str, value: u64, default: u64) {
        if value == 0 {
            self.add(key, format!("must be at least 1 (default {default})"));
        }
    }
}

fn server(config: &Config, problems: &mut Problems) {
    let server = &config.server;
    if server.host.parse::<std::net::IpAddr>().is_err() {
        problems.add(
            "server.host",
            format!(
                "`{}` is not an IP address to listen on; use 127.0.0.1 (this machine only), \
                 0.0.0.0 (every interface) or an IPv6 address like ::1",
                server.host
            ),
        );
    }
    problems.at_least_one(
        "server.request_timeout_seconds",
        server.request_timeout_seconds,
        600,
    );
    problems.at_least_one("server.max_body_bytes", server.max_body_bytes, 33_554_432);
    problems.at_least_one(
        "server.header_read_timeout_seconds",
        server.header_read_timeout_seconds,
        30,
    );
    problems.at_least_one(
        "server.idle_timeout_seconds",
        server.idle_timeout_seconds,
        60,
    );
    problems.at_least_one(
        "server.body_read_timeout_seconds",
        server.body_read_timeout_seconds,
        60,
    );
    problems.at_least_one(
        "server.max_connections",
        server.max_connections as u64,
        1024,
    );
    problems.at_least_one(
        "server.max_concurrent_requests",
        server.max_concurrent_requests as u64,
        512,
    );
    // A semaphore holds at most this many permits (usize::MAX >> 3).
    for (key, value) in [
        ("server.max_connections", server.max_connections),
        (
            "server.max_concurrent_requests",
            server.max_concurrent_requests,
        ),
    ] {
        if value > 1_000_000 {
            problems.add(key, "must be at most 1000000");
        }
    }
    for (index, name) in server.allowed_host_names.iter().enumerate() {
        if let Err(reason) = ServerConfig::parse_host_name(name) {
            problems.add(format!("server.allowed_host_names[{index}]"), reason);
        }
    }
}

fn behaviour(config: &Config, problems: &mut Problems) {
    let behaviour = &config.behaviour;
    if let Some(model) = &behaviour.default_model {
        model_choice(config, "behaviour.default_model", model, problems);
    }
    problems.at_least_one(
        "behaviour.upstream_connect_timeout_seconds",
        behaviour.upstream_connect_timeout_seconds,
        10,
    );
    problems.at_least_one(
        "behaviour.upstream_timeout_seconds",
        behaviour.upstream_timeout_seconds,
        300,
    );
    if !(1..=4096).contains(&behaviour.adapter_memory_mib) {
        problems.add(
            "behaviour.adapter_memory_mib",
            "must be from 1 to 4096 (a wasm32 adapter cannot address more than 4 GiB); default 64",
        );
    }
    problems.at_least_one(
        "behaviour.adapter_fuel",
        behaviour.adapter_fuel,
        5_000_000_000,
    );
    problems.at_least_one(
        "behaviour.adapter_max_instances",
        u64::from(behaviour.adapter_max_instances),
        1000,
    );
}

fn provider(name: &str, provider: &ProviderConfig, problems: &mut Problems) {
    let key = |field: &str| format!("providers.{name}.{field}");
    if !is_identifier(name) {
        problems.add(
            format!("providers.{name}"),
            "provider names use lowercase letters, digits, `-` and `_`, starting with a letter or \
             digit (they appear in `provider:model` and in environment variable names)",
        );
    }
    if let Some(url) = &provider.base_url
        && let Err(message) = check_base_url(url)
    {
        problems.add(key("base_url"), message);
    }
    if provider.adapter != name && !is_identifier(&provider.adapter) {
        problems.add(
            key("adapter"),
            "must name an installed adapter (lowercase letters, digits, `-`, `_`); \
             see `aratta adapter list`",
        );
    }
    let env_ok = provider
        .api_key_env
        .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && provider
            .api_key_env
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !env_ok {
        problems.add(
            key("api_key_env"),
            format!(
                "must name the environment variable that holds the key (like {}), not the key itself",
                ProviderConfig::api_key_env(name)
            ),
        );
    }
    for host in &provider.allowed_hosts {
        if !is_host_and_port(host) {
            problems.add(
                key("allowed_hosts"),
                format!(
                    "`{host}` is not a host; write `api.example.com`, `api.example.com:8443` or \
                     `http://10.0.0.5:8080` (no path or wildcard)"
                ),
            );
        }
    }
    for host in &provider.credential_hosts {
        let granted = provider.allowed_hosts.iter().any(|a| same_origin(a, host));
        if !is_host_and_port(host) {
            problems.add(
                key("credential_hosts"),
                format!(
                    "`{host}` is not a host; write `api.example.com`, `api.example.com:8443` or \
                     `http://10.0.0.5:8080` (no path or wildcard)"
                ),
            );
        } else if !granted {
            problems.add(
                key("credential_hosts"),
                format!(
                    "`{host}` is not in allowed_hosts; add it there too (the base URL's host \
                     always gets the credential and needs no entry)"
                ),
            );
        }
    }
    if provider.timeout_seconds == Some(0) {
        problems.add(
            key("timeout_seconds"),
            "must be at least 1; leave it out to use behaviour.upstream_timeout_seconds",
        );
    }
}

fn aliases(config: &Config, problems: &mut Problems) {
    for (alias, entries) in &config.aliases {
        let key = format!("aliases.{alias}");
        if config.providers.contains_key(alias) {
            problems.add(
                &key,
                format!(
                    "an alias cannot be named like a provider (`{alias}:...` would be ambiguous); \
                     rename the alias"
                ),
            );
        }
        if alias.is_empty() || alias.contains(':') {
            problems.add(
                &key,
                "alias names cannot be empty or contain `:` (that separates provider and model)",
            );
        }
        if entries.is_empty() {
            problems.add(
                &key,
                "needs at least one `provider:model` entry, e.g. [\"local:llama3.2\"]",
            );
        }
        for entry in entries {
            if let Err(message) = model_ref(config, entry) {
                problems.add(&key, message);
            }
        }
    }
}

fn breaker(config: &Config, problems: &mut Problems) {
    let b = &config.breaker;
    problems.at_least_one(
        "breaker.failure_threshold",
        u64::from(b.failure_threshold),
        5,
    );
    problems.at_least_one("breaker.window_seconds", b.window_seconds, 60);
    problems.at_least_one("breaker.recovery_seconds", b.recovery_seconds, 30);
    problems.at_least_one(
        "breaker.half_open_successes",
        u64::from(b.half_open_successes),
        2,
    );
}

fn reload(config: &Config, problems: &mut Problems) {
    let r = &config.reload;
    problems.at_least_one("reload.debounce_ms", r.debounce_ms, 300);
    problems.at_least_one(
        "reload.verify_timeout_seconds",
        r.verify_timeout_seconds,
        10,
    );
    if r.history_limit < 2 {
        problems.add(
            "reload.history_limit",
            "must be at least 2: the serving version and one to roll back to (default 10)",
        );
    }
    if !(0.0..=1.0).contains(&r.probation_error_rate) {
        problems.add(
            "reload.probation_error_rate",
            "must be from 0.0 to 1.0 (default 0.5: roll back when more than half the calls fail)",
        );
    }
    for provider in r.verify_chat.keys() {
        if !config.providers.contains_key(provider) {
            problems.add(
                format!("reload.verify_chat.{provider}"),
                format!(
                    "names no configured provider (configured: {})",
                    config
                        .providers
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
    }
}

fn retry(config: &Config, problems: &mut Problems) {
    let r = &config.retry;
    if r.max_retries > 10 {
        problems.add(
            "retry.max_retries",
            "must be at most 10 (default 0); past a few retries, falling back answers sooner",
        );
    }
    problems.at_least_one("retry.base_delay_ms", r.base_delay_ms, 250);
    if r.max_delay_ms < r.base_delay_ms {
        problems.add(
            "retry.max_delay_ms",
            format!(
                "must be at least base_delay_ms ({}); default 10000",
                r.base_delay_ms
            ),
        );
    }
}

fn healing(config: &Config, problems: &mut Problems) {
    let healing = &config.healing;
    problems.at_least_one(
        "healing.error_threshold",
        u64::from(healing.error_threshold),
        5,
    );
    problems.at_least_one("healing.window_seconds", healing.window_seconds, 300);
    if !(0.0..=1.0).contains(&healing.auto_apply_confidence) {
        problems.add(
            "healing.auto_apply_confidence",
            "must be from 0.0 to 1.0 (default 0.9; 1.0 applies only certain fixes)",
        );
    }
    problems.at_least_one(
        "healing.alert_webhook_timeout_seconds",
        healing.alert_webhook_timeout_seconds,
        5,
    );
    if let Some(url) = &healing.alert_webhook_url {
        let scheme = url::Url::parse(url)
            .ok()
            .map(|u| (u.scheme().to_owned(), u.has_host()));
        if !matches!(scheme, Some((s, true)) if s == "http" || s == "https") {
            problems.add(
                "healing.alert_webhook_url",
                format!("`{url}` is not an http:// or https:// URL with a host (e.g. https://alerts.example.com/aratta)"),
            );
        }
    }
    problems.at_least_one(
        "healing.build_timeout_seconds",
        healing.build_timeout_seconds,
        300,
    );
    if let Some(model) = &healing.heal_model {
        model_choice(config, "healing.heal_model", model, problems);
    }
    if healing.enabled && healing.model(&config.behaviour).is_none() {
        problems.add(
            "healing.heal_model",
            "healing is enabled but names no model to diagnose and fix with; set heal_model \
             (e.g. \"local:qwen2.5-coder:7b\") or [behaviour] default_model",
        );
    }
    for (i, entry) in healing.research_order.iter().enumerate() {
        let provider = entry.split_once(':').map_or(entry.as_str(), |(p, _)| p);
        if provider.is_empty() || entry.ends_with(':') {
            problems.add(
                format!("healing.research_order[{i}]"),
                format!("`{entry}` is not a provider name or `provider:model`"),
            );
        }
    }
}

/// A model setting: an alias name or a `provider:model` naming a configured provider.
fn model_choice(config: &Config, key: &str, model: &str, problems: &mut Problems) {
    if config.aliases.contains_key(model) {
        return;
    }
    if let Err(message) = model_ref(config, model) {
        problems.add(key, format!("{message}, or name an alias"));
    }
}

fn model_ref(config: &Config, entry: &str) -> Result<(), String> {
    let Some((provider, _model)) = parse_model_ref(entry) else {
        return Err(format!(
            "`{entry}` is not `provider:model` (e.g. `local:llama3.2`)"
        ));
    };
    if config.providers.contains_key(provider) {
        return Ok(());
    }
    let configured: Vec<&str> = config.providers.keys().map(String::as_str).collect();
    Err(format!(
        "`{entry}` names provider `{provider}`, which is not configured (configured: {}); \
         add [providers.{provider}] or fix the name",
        configured.join(", ")
    ))
}

fn check_base_url(text: &str) -> Result<(), String> {
    let example = "write it like https://api.openai.com/v1 or http://127.0.0.1:11434/v1";
    let url =
        url::Url::parse(text).map_err(|e| format!("`{text}` is not a URL ({e}); {example}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "`{text}` must start with http:// or https://; {example}"
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{text}` has no host; {example}"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not contain credentials (user:password@); API keys are read only from the \
             environment (see api_key_env)"
                .into(),
        );
    }
    Ok(())
}

fn is_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Whether two `host[:port]` entries name the same origin (case and default port aside).
fn same_origin(a: &str, b: &str) -> bool {
    use crate::runtime::outbound::Origin;
    Origin::parse(a).is_some_and(|a| Origin::parse(b).is_some_and(|b| a == b))
}

/// `host[:port]` (https implied), or `http://host[:port]` / `https://host[:port]` for an
/// origin with an explicit scheme (no path, query, credentials or wildcard).
fn is_host_and_port(entry: &str) -> bool {
    if let Some((scheme, rest)) = entry.split_once("://") {
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        return matches!(scheme, "http" | "https")
            && !rest.contains("://")
            && is_host_and_port(rest);
    }
    if entry.is_empty() || entry.contains(['/', '*', '@', '?', '#', ' ']) {
        return false;
    }
    url::Url::parse(&format!("http://{entry}"))
        .is_ok_and(|url| url.host_str().is_some_and(|host| !host.is_empty()))
}
