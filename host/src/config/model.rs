//! The config's shape: one struct per section, each with the defaults documented in
//! `config.example.toml`.
//!
//! Sections deserialize with `deny_unknown_fields`, so a typo is an error instead of a silently
//! ignored setting. Providers are read into [`ProviderFile`] (every field optional) and then
//! resolved into [`ProviderConfig`], whose defaults depend on the provider's name.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::secrets;

/// The gateway's whole configuration, after layering and validation.
///
/// It never holds a credential (those are read from the environment when needed), so it is safe
/// to log or print.
#[derive(Clone, Debug, Serialize)]
pub struct Config {
    /// How the HTTP server listens.
    pub server: ServerConfig,
    /// Gateway-wide behaviour: default model, upstream timeouts, adapter sandbox limits.
    pub behaviour: BehaviourConfig,
    /// Providers by name (always at least one).
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Alias name → ordered `provider:model` entries, tried in order.
    pub aliases: BTreeMap<String, Vec<String>>,
    /// The self-healing worker.
    pub healing: HealingConfig,
    /// When providers' circuit breakers open and recover.
    pub breaker: BreakerConfig,
    /// How a provider's transient failures are retried before falling back.
    pub retry: RetryConfig,
    /// Hot-swapping adapters: the directory watch, verification, history and probation.
    pub reload: ReloadConfig,
    /// Where durable state (client keys, usage) is kept.
    pub store: StoreConfig,
    /// The operator's prices, `"provider:model"` or `"provider:*"` → rates, over the
    /// published table.
    pub prices: BTreeMap<String, PriceConfig>,
    /// OpenTelemetry traces over OTLP/HTTP; off unless an endpoint is set.
    pub traces: TracesConfig,
    /// The file this config was read from, if one existed.
    #[serde(skip)]
    pub file: Option<PathBuf>,
}

impl Default for Config {
    /// The config used when there is no file: defaults everywhere and one `local` provider.
    fn default() -> Self {
        ConfigFile::default().resolve(None)
    }
}

impl Config {
    /// Enabled providers in the order they are tried: by priority (lower first), then by name.
    pub fn providers_by_priority(&self) -> Vec<(&str, &ProviderConfig)> {
        let mut enabled: Vec<_> = self
            .providers
            .iter()
            .filter(|(_, provider)| provider.enabled)
            .map(|(name, provider)| (name.as_str(), provider))
            .collect();
        enabled.sort_by_key(|(name, provider)| (provider.priority, *name));
        enabled
    }

    /// The upstream timeout for one provider: its own override, else the behaviour default.
    pub fn provider_timeout(&self, name: &str) -> Duration {
        let seconds = self
            .providers
            .get(name)
            .and_then(|provider| provider.timeout_seconds)
            .unwrap_or(self.behaviour.upstream_timeout_seconds);
        Duration::from_secs(seconds)
    }
}

/// `[server]`: where and how the gateway listens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// IP address to bind; `127.0.0.1` keeps the gateway private to this machine.
    pub host: String,
    /// Port to bind.
    pub port: u16,
    /// Longest time one client request may take from the end of its headers until its answer
    /// starts: the body read, the wait for a request slot and the provider call.
    pub request_timeout_seconds: u64,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: u64,
    /// Host names (`name` for any port, or `name:port`) clients may use in `Host` and
    /// `Origin` besides the listen address: a reverse proxy's public name, a LAN host name.
    /// Any other name is refused, so a DNS-rebinding page cannot reach the server.
    pub allowed_host_names: Vec<String>,
    /// Time allowed for a request's headers to arrive, counted from when the connection
    /// opens or finishes its previous answer (slow headers: slowloris).
    pub header_read_timeout_seconds: u64,
    /// A connection with no request in flight for this long is closed.
    pub idle_timeout_seconds: u64,
    /// Time allowed for a whole request body to arrive once its headers have.
    pub body_read_timeout_seconds: u64,
    /// Open connections at most; above it the server stops accepting until one closes.
    pub max_connections: usize,
    /// Requests being read or answered at once, streams included; more wait their turn.
    pub max_concurrent_requests: usize,
    /// Whether the inference routes (chat, embeddings, model listings) demand a client key
    /// (`aratta keys create`). Unset: demanded when `host` is beyond loopback, optional on
    /// loopback (a key sent is still checked and applied).
    pub require_client_keys: Option<bool>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "127.0.0.1".into(),
            port: 8640,
            request_timeout_seconds: 600,
            max_body_bytes: 32 * 1024 * 1024,
            allowed_host_names: Vec::new(),
            header_read_timeout_seconds: 30,
            idle_timeout_seconds: 60,
            body_read_timeout_seconds: 60,
            max_connections: 1024,
            max_concurrent_requests: 512,
            require_client_keys: None,
        }
    }
}

impl ServerConfig {
    /// `request_timeout_seconds` as a [`Duration`].
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_seconds)
    }

    /// `header_read_timeout_seconds` as a [`Duration`].
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_seconds)
    }

    /// `idle_timeout_seconds` as a [`Duration`].
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_seconds)
    }

    /// Whether inference requests without a client key are refused: as configured, else
    /// when the server listens beyond loopback (a `host` that is not an IP counts as beyond).
    pub fn client_keys_required(&self) -> bool {
        self.require_client_keys.unwrap_or_else(|| {
            !self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
        })
    }

    /// `body_read_timeout_seconds` as a [`Duration`].
    pub fn body_read_timeout(&self) -> Duration {
        Duration::from_secs(self.body_read_timeout_seconds)
    }

    /// One `allowed_host_names` entry as a lower-case name and its port, if it names one:
    /// `aratta.lan` (any port) or `aratta.lan:8640`. Only DNS names: IP addresses are judged
    /// by the listen address, and a trailing dot or a wildcard is refused.
    pub fn parse_host_name(entry: &str) -> Result<(String, Option<u16>), String> {
        let (name, port) = match entry.rsplit_once(':') {
            Some((name, port)) => match port.parse::<u16>() {
                Ok(port) if port > 0 => (name, Some(port)),
                _ => {
                    return Err(format!(
                        "`{entry}`: the port after `:` must be from 1 to 65535"
                    ));
                }
            },
            None => (entry, None),
        };
        let name = name.to_ascii_lowercase();
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if name.parse::<std::net::IpAddr>().is_ok() || name.starts_with('[') {
            return Err(format!(
                "`{entry}` is an IP address; list host names only (IP addresses are accepted by the listen address: see [server] host)"
            ));
        }
        if name.len() > 253 || !name.split('.').all(label_ok) {
            return Err(format!(
                "`{entry}` is not a host name (letters, digits, `-` and dots, no trailing dot or wildcard), optionally with `:port`, e.g. `aratta.lan` or `gateway.example.com:443`"
            ));
        }
        Ok((name, port))
    }
}

/// `[behaviour]`: defaults for routing, upstream calls and the adapter sandbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BehaviourConfig {
    /// Model used when a request names none: an alias or `provider:model`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_model: Option<String>,
    /// Time allowed to connect to an upstream.
    pub upstream_connect_timeout_seconds: u64,
    /// Time allowed for a whole upstream call, unless the provider overrides it.
    pub upstream_timeout_seconds: u64,
    /// Linear memory each adapter instance may use, in MiB.
    pub adapter_memory_mib: u64,
    /// CPU budget per adapter call, roughly in wasm instructions.
    pub adapter_fuel: u64,
    /// Adapter instances that may exist at once (calls in progress and open streams); a call
    /// beyond it is answered 503 with `retry-after`.
    pub adapter_max_instances: u32,
    /// How often every enabled provider's model list is fetched again in the background, for
    /// routing bare model names (`llama3.2`); requests never wait for a list. 0 turns the
    /// refresh off (no background calls to providers; bare names are then not routed).
    pub model_list_refresh_seconds: u64,
}

impl Default for BehaviourConfig {
    fn default() -> Self {
        BehaviourConfig {
            default_model: None,
            upstream_connect_timeout_seconds: 10,
            upstream_timeout_seconds: 300,
            adapter_memory_mib: 64,
            adapter_fuel: 5_000_000_000,
            adapter_max_instances: 1000,
            model_list_refresh_seconds: 60,
        }
    }
}

impl BehaviourConfig {
    /// `upstream_connect_timeout_seconds` as a [`Duration`].
    pub fn upstream_connect_timeout(&self) -> Duration {
        Duration::from_secs(self.upstream_connect_timeout_seconds)
    }

    /// `upstream_timeout_seconds` as a [`Duration`].
    pub fn upstream_timeout(&self) -> Duration {
        Duration::from_secs(self.upstream_timeout_seconds)
    }

    /// `model_list_refresh_seconds` as a [`Duration`]; `None` when it is 0 (off).
    pub fn model_list_refresh(&self) -> Option<Duration> {
        (self.model_list_refresh_seconds > 0)
            .then(|| Duration::from_secs(self.model_list_refresh_seconds))
    }
}

/// `[breaker]`: when a provider's circuit breaker opens (no more calls to it), and how it
/// recovers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerConfig {
    /// Provider-side failures within `window_seconds` that open the breaker.
    pub failure_threshold: u32,
    /// The sliding window failures are counted in.
    pub window_seconds: u64,
    /// Seconds an open breaker waits before letting probe requests through.
    pub recovery_seconds: u64,
    /// Successful probes that close a half-open breaker.
    pub half_open_successes: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 5,
            window_seconds: 60,
            recovery_seconds: 30,
            half_open_successes: 2,
        }
    }
}

/// `[reload]`: how new adapter versions are picked up, verified, kept and judged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReloadConfig {
    /// Whether `aratta serve` watches the adapters directory and swaps changed files in.
    pub watch: bool,
    /// How long a changed file must stay quiet before it is read, in milliseconds.
    pub debounce_ms: u64,
    /// Versions kept per adapter in the history (in the store), for rollback.
    pub history_limit: usize,
    /// Longest a verification call may take.
    pub verify_timeout_seconds: u64,
    /// Provider → model: verification also sends a one-message chat to this model.
    pub verify_chat: BTreeMap<String, String>,
    /// How long a freshly swapped version is on probation.
    pub probation_seconds: u64,
    /// Calls a version on probation must have served before its error rate counts.
    pub probation_min_calls: u32,
    /// Share of calls (0–1) failing because of the adapter that rolls it back.
    pub probation_error_rate: f64,
}

impl Default for ReloadConfig {
    fn default() -> Self {
        ReloadConfig {
            watch: true,
            debounce_ms: 300,
            history_limit: 10,
            verify_timeout_seconds: 10,
            verify_chat: BTreeMap::new(),
            probation_seconds: 120,
            probation_min_calls: 5,
            probation_error_rate: 0.5,
        }
    }
}

/// `[healing]`: when the health monitor fires heal triggers, and what the heal worker does with
/// them (see `crate::heal`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealingConfig {
    /// Whether the heal worker runs cycles on heal triggers (the monitor counts and alerts
    /// either way).
    pub enabled: bool,
    /// Whether a verified fix at or above `auto_apply_confidence` is swapped in without a
    /// human; otherwise every fix waits in the approval queue.
    pub auto_apply: bool,
    /// The model that diagnoses and writes fixes (alias or `provider:model`); default
    /// `[behaviour] default_model`. Local models are the point: the adapter's source and the
    /// provider's error bodies stay on the machine.
    #[serde(alias = "diagnose_model", skip_serializing_if = "Option::is_none")]
    pub heal_model: Option<String>,
    /// Providers (or `provider:model`) asked to research the provider's current API with
    /// their own web search, first usable one first.
    pub research_order: Vec<String>,
    /// Errors of one class within `window_seconds` that fire a heal trigger.
    pub error_threshold: u32,
    /// The window errors are counted in.
    pub window_seconds: u64,
    /// How long a provider and error class stay quiet after a trigger, and the least time
    /// between two heal cycles of one adapter.
    pub cooldown_seconds: u64,
    /// The confidence (0–1) from which `auto_apply` swaps a verified fix in.
    pub auto_apply_confidence: f64,
    /// How long one build of a patched adapter may take.
    pub build_timeout_seconds: u64,
    /// Where heal builds keep each adapter's patched copy and cargo's target directory
    /// (default `<home>/heal/build`); kept between cycles so a rebuild compiles only the
    /// patched crate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_dir: Option<std::path::PathBuf>,
    /// Where heal triggers and cycle outcomes are POSTed as JSON (an `http://` or `https://`
    /// URL); none by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_webhook_url: Option<String>,
    /// How long one webhook delivery may take before it is abandoned (and logged).
    pub alert_webhook_timeout_seconds: u64,
}

/// Research providers tried in this order unless `[healing] research_order` says otherwise.
pub const DEFAULT_RESEARCH_ORDER: [&str; 4] = ["xai", "openai", "google", "anthropic"];

impl Default for HealingConfig {
    fn default() -> Self {
        HealingConfig {
            enabled: false,
            auto_apply: false,
            heal_model: None,
            research_order: DEFAULT_RESEARCH_ORDER.map(str::to_owned).to_vec(),
            error_threshold: 5,
            window_seconds: 300,
            cooldown_seconds: 900,
            auto_apply_confidence: 0.9,
            build_timeout_seconds: 300,
            build_dir: None,
            alert_webhook_url: None,
            alert_webhook_timeout_seconds: 5,
        }
    }
}

impl HealingConfig {
    /// The model that diagnoses and fixes: `heal_model`, else `[behaviour] default_model`.
    pub fn model<'a>(&'a self, behaviour: &'a BehaviourConfig) -> Option<&'a str> {
        self.heal_model
            .as_deref()
            .or(behaviour.default_model.as_deref())
    }
}

/// `[retry]`: how often a provider's transient failures (rate limits, timeouts, overload,
/// connection failures) are retried, and how long to wait, before falling back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    /// Retries per provider after the first attempt; 0 (the default) falls back at once.
    pub max_retries: u32,
    /// The first backoff delay; later ones double, with jitter.
    pub base_delay_ms: u64,
    /// The longest wait worth it: a longer backoff is cut to this, and a provider's
    /// `retry-after` above it means falling back instead of waiting.
    pub max_delay_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_retries: 0,
            base_delay_ms: 250,
            max_delay_ms: 10_000,
        }
    }
}

/// One `[providers.<name>]` entry with its name-dependent defaults filled in.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProviderConfig {
    /// Where the provider's API lives; `None` means the host's table of known providers
    /// (`gateway::known`), never the adapter's own default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Order in which providers offering the same model are tried (lower first, then by
    /// name); 0 for providers on the `local` adapter, 100 for the others, so local goes first.
    pub priority: i32,
    /// Disabled providers stay configured but are never called.
    pub enabled: bool,
    /// The adapter (component) that speaks this provider's API.
    pub adapter: String,
    /// The environment variable holding the API key.
    pub api_key_env: String,
    /// Hosts (`host` or `host:port`) the adapter may reach beyond the base URL's.
    pub allowed_hosts: Vec<String>,
    /// `allowed_hosts` entries that also receive the credential; by default only the base
    /// URL's origin does, so an echoing endpoint on another granted host never sees the key.
    pub credential_hosts: Vec<String>,
    /// Overrides `behaviour.upstream_timeout_seconds` for this provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
}

impl ProviderConfig {
    /// The defaults for a provider called `name`, as if its section were empty.
    pub fn defaults_for(name: &str) -> ProviderConfig {
        ProviderFile::default().resolve(name)
    }

    /// The environment variable that holds `name`'s API key when `api_key_env` is not set:
    /// the provider's conventional variable (`GEMINI_API_KEY` for google), else `<NAME>_API_KEY`.
    pub fn api_key_env(name: &str) -> String {
        secrets::default_api_key_env(name)
    }

    /// Whether a missing key is an error: local servers usually need none.
    pub fn api_key_required(&self) -> bool {
        self.adapter != "local"
    }
}

/// The file's form of the whole config, before name-dependent defaults are resolved.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ConfigFile {
    server: ServerConfig,
    behaviour: BehaviourConfig,
    providers: BTreeMap<String, ProviderFile>,
    aliases: BTreeMap<String, Vec<String>>,
    healing: HealingConfig,
    breaker: BreakerConfig,
    retry: RetryConfig,
    reload: ReloadConfig,
    store: StoreConfig,
    prices: BTreeMap<String, PriceConfig>,
    traces: TracesConfig,
}

impl ConfigFile {
    /// Fills in provider defaults, adding `local` when no provider is configured.
    pub(crate) fn resolve(self, file: Option<PathBuf>) -> Config {
        let mut providers: BTreeMap<String, ProviderConfig> = self
            .providers
            .into_iter()
            .map(|(name, provider)| {
                let resolved = provider.resolve(&name);
                (name, resolved)
            })
            .collect();
        if providers.is_empty() {
            providers.insert("local".into(), ProviderConfig::defaults_for("local"));
        }
        Config {
            server: self.server,
            behaviour: self.behaviour,
            providers,
            aliases: self.aliases,
            healing: self.healing,
            breaker: self.breaker,
            retry: self.retry,
            reload: self.reload,
            store: self.store,
            prices: self.prices,
            traces: self.traces,
            file,
        }
    }
}

/// `[store]`: where durable state is kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// The SQLite database (`sqlite://PATH` or a path), or a PostgreSQL database several
    /// servers share (`postgres://…`). Unset: `<home>/aratta.db`.
    pub url: Option<String>,
    /// Days usage records are kept; 0 keeps them for ever.
    pub usage_retention_days: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            url: None,
            usage_retention_days: 90,
        }
    }
}

/// `[traces]`: where spans go. Collector credentials are not configured here: the standard
/// `OTEL_EXPORTER_OTLP_HEADERS` (or `OTEL_EXPORTER_OTLP_TRACES_HEADERS`) environment variable
/// carries them, as in every OpenTelemetry SDK.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TracesConfig {
    /// The collector's OTLP/HTTP endpoint: its base (`http://localhost:4318`, to which
    /// `/v1/traces` is added) or the full traces URL. Unset: no traces, at no cost.
    pub endpoint: Option<String>,
    /// `service.name` of every span.
    pub service_name: String,
    /// The share of requests traced when the caller sent no `traceparent` (0.0–1.0); a
    /// caller's sampled flag is always followed.
    pub sample_ratio: f64,
}

impl Default for TracesConfig {
    fn default() -> Self {
        TracesConfig {
            endpoint: None,
            service_name: "aratta".into(),
            sample_ratio: 1.0,
        }
    }
}

/// `[prices."provider:model"]`: what a model's tokens cost, in US dollars per million (the
/// published table's entries are read into the same shape: see `crate::usage`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceConfig {
    /// Prompt tokens not read from or written to a cache.
    pub input: f64,
    /// Generated tokens.
    #[serde(default)]
    pub output: f64,
    /// Prompt tokens read from the cache (default: `input`).
    #[serde(default)]
    pub cache_read: Option<f64>,
    /// Prompt tokens written to the cache (default: `input`).
    #[serde(default)]
    pub cache_write: Option<f64>,
}

impl PriceConfig {
    /// Whether every rate is a finite number of dollars, zero or more; the first that is not,
    /// named, otherwise.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let rates = [
            ("input", Some(self.input)),
            ("output", Some(self.output)),
            ("cache_read", self.cache_read),
            ("cache_write", self.cache_write),
        ];
        for (name, rate) in rates {
            if let Some(r) = rate
                && !(r.is_finite() && r >= 0.0)
            {
                return Err((
                    name,
                    format!("{r} is not a price: US dollars per million tokens, 0 or more"),
                ));
            }
        }
        Ok(())
    }
}

/// The file's form of one provider: every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ProviderFile {
    base_url: Option<String>,
    priority: Option<i32>,
    enabled: Option<bool>,
    adapter: Option<String>,
    api_key_env: Option<String>,
    allowed_hosts: Vec<String>,
    credential_hosts: Vec<String>,
    timeout_seconds: Option<u64>,
}

impl ProviderFile {
    fn resolve(self, name: &str) -> ProviderConfig {
        let adapter = self.adapter.unwrap_or_else(|| name.to_string());
        ProviderConfig {
            base_url: self.base_url,
            // Local models first: by the adapter, so a `[providers.vllm] adapter = "local"`
            // goes before the cloud too.
            priority: self
                .priority
                .unwrap_or(if adapter == "local" { 0 } else { 100 }),
            enabled: self.enabled.unwrap_or(true),
            adapter,
            api_key_env: self
                .api_key_env
                .unwrap_or_else(|| ProviderConfig::api_key_env(name)),
            allowed_hosts: self.allowed_hosts,
            credential_hosts: self.credential_hosts,
            timeout_seconds: self.timeout_seconds,
        }
    }
}
