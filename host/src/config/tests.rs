//! Loader tests: layering, defaults, refusals and every validation message. Each test passes its
//! own file text and environment to `load_from`, so tests never race on the process environment.

use std::path::Path;

use super::*;

const FILE: &str = "/etc/aratta/config.toml";

fn load_toml(toml: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    load_from(Some((Path::new(FILE), toml)), env.iter().copied())
}

fn error(toml: &str, env: &[(&str, &str)]) -> String {
    load_toml(toml, env).unwrap_err().to_string()
}

#[test]
fn defaults_without_a_file() {
    let config = load_from(None, std::iter::empty::<(&str, &str)>()).unwrap();
    assert_eq!(config.server.host, "127.0.0.1");
    assert_eq!(config.server.port, 8640);
    assert_eq!(config.server.request_timeout_seconds, 600);
    assert_eq!(config.server.max_body_bytes, 33_554_432);
    assert!(config.server.allowed_host_names.is_empty());
    assert_eq!(config.server.header_read_timeout_seconds, 30);
    assert_eq!(config.server.idle_timeout_seconds, 60);
    assert_eq!(config.server.body_read_timeout_seconds, 60);
    assert_eq!(config.server.max_connections, 1024);
    assert_eq!(config.server.max_concurrent_requests, 512);
    assert_eq!(config.behaviour.default_model, None);
    assert_eq!(config.behaviour.upstream_connect_timeout_seconds, 10);
    assert_eq!(config.behaviour.upstream_timeout_seconds, 300);
    assert_eq!(config.behaviour.adapter_memory_mib, 64);
    assert_eq!(config.behaviour.adapter_fuel, 5_000_000_000);
    assert_eq!(config.behaviour.adapter_max_instances, 1000);
    assert_eq!(config.behaviour.model_list_refresh_seconds, 60);
    assert!(!config.healing.enabled);
    assert_eq!(config.healing.error_threshold, 5);
    assert_eq!(config.healing.window_seconds, 300);
    assert_eq!(config.healing.cooldown_seconds, 900);
    assert_eq!(config.healing.auto_apply_confidence, 0.9);
    assert!(config.aliases.is_empty());
    assert_eq!(config.file, None);

    let local = &config.providers["local"];
    assert_eq!(config.providers.len(), 1);
    assert_eq!(local, &ProviderConfig::defaults_for("local"));
    assert_eq!(local.priority, 0);
    assert!(local.enabled);
    assert_eq!(local.adapter, "local");
    assert_eq!(local.api_key_env, "LOCAL_API_KEY");
    assert!(!local.api_key_required());
    assert_eq!(local.base_url, None);
    assert_eq!(Config::default().providers, config.providers);
}

#[test]
fn provider_defaults_depend_on_the_name() {
    let config = load_toml(
        "[providers.openai]\n[providers.my-vllm]\nadapter = \"local\"\n",
        &[],
    )
    .unwrap();
    assert!(
        !config.providers.contains_key("local"),
        "local is only implied when none is configured"
    );
    let openai = &config.providers["openai"];
    assert_eq!((openai.priority, openai.adapter.as_str()), (100, "openai"));
    assert_eq!(openai.api_key_env, "OPENAI_API_KEY");
    assert!(openai.api_key_required());
    assert_eq!(config.providers["my-vllm"].api_key_env, "MY_VLLM_API_KEY");
    assert_eq!(
        config.providers["my-vllm"].priority, 0,
        "a provider on the local adapter goes before the cloud ones"
    );
    assert_eq!(ProviderConfig::api_key_env("google"), "GEMINI_API_KEY");
    assert_eq!(config.file.as_deref(), Some(Path::new(FILE)));
}

#[test]
fn layering_is_default_then_file_then_env() {
    let toml = "[server]\nport = 9000\nhost = \"0.0.0.0\"\n";
    let from_file = load_toml(toml, &[]).unwrap();
    assert_eq!(from_file.server.port, 9000);
    assert_eq!(from_file.server.host, "0.0.0.0");
    assert_eq!(
        from_file.server.request_timeout_seconds, 600,
        "default kept"
    );

    let from_env = load_toml(toml, &[("ARATTA_SERVER__PORT", "9100")]).unwrap();
    assert_eq!(from_env.server.port, 9100);
    assert_eq!(from_env.server.host, "0.0.0.0", "file value kept");
}

#[test]
fn env_sets_providers_aliases_and_options() {
    let config = load_toml(
        "[providers.local]\n[providers.openai]\n",
        &[
            (
                "ARATTA_PROVIDERS__LOCAL__BASE_URL",
                "http://127.0.0.1:8000/v1",
            ),
            ("ARATTA_ALIASES__FAST", r#"["local:a","openai:b"]"#),
            ("ARATTA_BEHAVIOUR__DEFAULT_MODEL", "local:llama3.2:3b"),
            ("ARATTA_HEALING__ENABLED", "true"),
        ],
    )
    .unwrap();
    assert_eq!(
        config.providers["local"].base_url.as_deref(),
        Some("http://127.0.0.1:8000/v1")
    );
    assert_eq!(config.aliases["fast"], ["local:a", "openai:b"]);
    assert_eq!(
        config.behaviour.default_model.as_deref(),
        Some("local:llama3.2:3b")
    );
    assert!(config.healing.enabled);
}

#[test]
fn program_variables_do_not_leak_into_config() {
    let env = [
        ("ARATTA_HOME", "/srv"),
        ("ARATTA_CONFIG", "/etc/x.toml"),
        ("ARATTA_ADMIN_TOKEN", "t0ken"),
        ("ARATTA_LOG_FORMAT", "json"),
    ];
    load_toml("", &env).unwrap();
}

#[test]
fn providers_by_priority_orders_enabled_ones() {
    let config = load_toml(
        "[providers.local]\n[providers.openai]\n[providers.anthropic]\n\
         [providers.xai]\npriority = 100\nenabled = false\n[providers.google]\npriority = -1\n",
        &[],
    )
    .unwrap();
    let order: Vec<&str> = config
        .providers_by_priority()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(order, ["google", "local", "anthropic", "openai"]);
}

#[test]
fn model_refs_split_at_the_first_colon() {
    assert_eq!(
        parse_model_ref("local:llama3.2:3b"),
        Some(("local", "llama3.2:3b"))
    );
    assert_eq!(parse_model_ref("openai:gpt-4o"), Some(("openai", "gpt-4o")));
    assert_eq!(parse_model_ref("gpt-4o"), None);
    assert_eq!(parse_model_ref(":gpt"), None);
    assert_eq!(parse_model_ref("local:"), None);
}

#[test]
fn api_keys_in_the_file_are_refused_with_the_right_variable() {
    assert_eq!(
        error("[providers.openai]\napi_key = \"sk-abc\"\n", &[]),
        "providers.openai.api_key: API keys are read only from the environment; \
         set OPENAI_API_KEY instead (set in /etc/aratta/config.toml)"
    );
    let custom = error(
        "[providers.openai]\napi_key_env = \"WORK_OPENAI\"\ntoken = \"sk-abc\"\n",
        &[],
    );
    assert!(custom.contains("set WORK_OPENAI instead"), "{custom}");
    assert!(!custom.contains("sk-abc"));
}

#[test]
fn api_keys_in_config_variables_are_refused_too() {
    let message = error("", &[("ARATTA_PROVIDERS__ANTHROPIC__API_KEY", "sk-ant")]);
    assert_eq!(
        message,
        "providers.anthropic.api_key: API keys are read only from the environment; \
         set ANTHROPIC_API_KEY instead (set in ARATTA_PROVIDERS__ANTHROPIC__API_KEY)"
    );
    let message = error("[server]\npassword = \"x\"\n", &[]);
    assert!(message.starts_with("server.password: secrets are read only from the environment"));
}

#[test]
fn unknown_keys_name_the_key_the_file_and_the_fix() {
    assert_eq!(
        error("[server]\nprot = 1\n", &[]),
        "server.prot: unknown key (did you mean `port`?); valid keys here: host, port, \
         request_timeout_seconds, max_body_bytes, allowed_host_names, \
         header_read_timeout_seconds, idle_timeout_seconds, body_read_timeout_seconds, \
         max_connections, max_concurrent_requests, require_client_keys (set in \
         /etc/aratta/config.toml)"
    );
    assert!(
        error("[behavior]\n", &[]).starts_with("behavior: unknown key (did you mean `behaviour`?)")
    );
    let message = error("[providers.openai]\nbase_uri = \"https://x\"\n", &[]);
    assert!(
        message.starts_with("providers.openai.base_uri: unknown key (did you mean `base_url`?)"),
        "{message}"
    );
    let message = error("", &[("ARATTA_SERVER__PROT", "1")]);
    assert!(
        message.ends_with("(set in ARATTA_SERVER__PROT)"),
        "{message}"
    );
}

#[test]
fn wrong_types_say_what_is_expected() {
    let message = error("[server]\nport = \"high\"\n", &[]);
    assert_eq!(
        message,
        "server.port: expected a whole number from 1 to 65535, found string \"high\" \
         (set in /etc/aratta/config.toml)"
    );
    let message = error("", &[("ARATTA_SERVER__PORT", "70000")]);
    assert!(
        message.starts_with("server.port: expected a whole number from 1 to 65535"),
        "{message}"
    );
}

#[test]
fn syntax_errors_and_missing_files() {
    let message = error("[server\nport = 1\n", &[]);
    assert!(
        message.starts_with("config file /etc/aratta/config.toml is not valid TOML: "),
        "{message}"
    );
    assert!(message.contains("line 1"), "{message}");

    let dir = tempfile::tempdir().unwrap();
    let home = crate::home::Home::at(dir.path());
    let config = load(None, &home).unwrap();
    assert_eq!(config.file, None, "a missing default file is fine");
    let missing = dir.path().join("nope.toml");
    let message = load(Some(&missing), &home).unwrap_err().to_string();
    assert_eq!(
        message,
        format!(
            "config file {} does not exist; create it with `aratta init`, or name an existing file",
            missing.display()
        )
    );
    let message = load(None, &home.clone().with_config_path(&missing)).unwrap_err();
    assert!(matches!(message, ConfigError::NotFound { .. }));
}

#[test]
fn load_reads_the_home_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let home = crate::home::Home::at(dir.path());
    std::fs::write(home.config_path(), "[server]\nport = 9999\n").unwrap();
    let config = load(None, &home).unwrap();
    assert_eq!(config.server.port, 9999);
    assert_eq!(config.file, Some(home.config_path()));
}

fn invalid(toml: &str) -> String {
    let message = error(toml, &[]);
    message
        .strip_suffix(" (set in /etc/aratta/config.toml)")
        .unwrap_or(&message)
        .to_string()
}

#[test]
fn server_values_are_checked() {
    assert_eq!(
        invalid("[server]\nport = 70000\n").split(':').next(),
        Some("server.port")
    );
    assert_eq!(
        invalid("[server]\nhost = \"localhost\"\n"),
        "server.host: `localhost` is not an IP address to listen on; use 127.0.0.1 (this machine \
         only), 0.0.0.0 (every interface) or an IPv6 address like ::1"
    );
    load_toml("[server]\nhost = \"::1\"\n", &[]).unwrap();
    assert_eq!(
        invalid("[server]\nrequest_timeout_seconds = 0\n"),
        "server.request_timeout_seconds: must be at least 1 (default 600)"
    );
}

#[test]
fn ingress_values_are_checked() {
    for key in [
        "header_read_timeout_seconds",
        "idle_timeout_seconds",
        "body_read_timeout_seconds",
        "max_connections",
        "max_concurrent_requests",
    ] {
        let message = invalid(&format!("[server]\n{key} = 0\n"));
        assert!(
            message.starts_with(&format!("server.{key}: must be at least 1 (default ")),
            "{message}"
        );
    }
    assert_eq!(
        invalid("[server]\nmax_connections = 2000000\n"),
        "server.max_connections: must be at most 1000000"
    );
    let ok = load_toml(
        "[server]\nallowed_host_names = [\"Aratta.LAN\", \"gw.example.com:443\"]\n",
        &[],
    )
    .unwrap();
    assert_eq!(ok.server.allowed_host_names.len(), 2);
    assert_eq!(
        ServerConfig::parse_host_name("Aratta.LAN"),
        Ok(("aratta.lan".into(), None))
    );
    assert_eq!(
        invalid("[server]\nallowed_host_names = [\"ok.lan\", \"*.evil.example\"]\n"),
        "server.allowed_host_names[1]: `*.evil.example` is not a host name (letters, digits, \
         `-` and dots, no trailing dot or wildcard), optionally with `:port`, e.g. `aratta.lan` \
         or `gateway.example.com:443`"
    );
    for bad in [
        "10.0.0.1",
        "[::1]:80",
        "aratta.lan.",
        "aratta.lan:0",
        "a..b",
        "",
    ] {
        assert!(ServerConfig::parse_host_name(bad).is_err(), "{bad}");
    }
}

#[test]
fn behaviour_values_are_checked() {
    assert_eq!(
        invalid("[behaviour]\ndefault_model = \"llama3.2\"\n"),
        "behaviour.default_model: `llama3.2` is not `provider:model` (e.g. `local:llama3.2`), \
         or name an alias"
    );
    assert!(
        invalid("[behaviour]\nadapter_memory_mib = 8192\n")
            .starts_with("behaviour.adapter_memory_mib: must be from 1 to 4096")
    );
    assert_eq!(
        invalid("[behaviour]\nadapter_max_instances = 0\n"),
        "behaviour.adapter_max_instances: must be at least 1 (default 1000)"
    );
    let off = load_toml("[behaviour]\nmodel_list_refresh_seconds = 0\n", &[]).unwrap();
    assert_eq!(
        off.behaviour.model_list_refresh(),
        None,
        "0 turns the refresh off"
    );
    let ok = load_toml(
        "[aliases]\nfast = [\"local:a\"]\n[behaviour]\ndefault_model = \"fast\"\n",
        &[],
    );
    assert!(ok.is_ok());
}

#[test]
fn provider_values_are_checked() {
    assert_eq!(
        invalid("[providers.local]\nbase_url = \"localhost:11434\"\n"),
        "providers.local.base_url: `localhost:11434` must start with http:// or https://; \
         write it like https://api.openai.com/v1 or http://127.0.0.1:11434/v1"
    );
    assert!(
        invalid("[providers.local]\nbase_url = \"not a url\"\n")
            .starts_with("providers.local.base_url: `not a url` is not a URL")
    );
    let creds = invalid("[providers.local]\nbase_url = \"http://u:p4ss@host/v1\"\n");
    assert!(
        creds.contains("must not contain credentials") && !creds.contains("p4ss"),
        "{creds}"
    );
    let upper = invalid("[providers.OpenAI]\n");
    assert!(
        upper.starts_with("providers.OpenAI: provider names use lowercase"),
        "{upper}"
    );
    let key = invalid("[providers.openai]\napi_key_env = \"sk-proj-123\"\n");
    assert_eq!(
        key,
        "providers.openai.api_key_env: must name the environment variable that holds the key \
         (like OPENAI_API_KEY), not the key itself"
    );
    assert!(
        invalid("[providers.local]\nallowed_hosts = [\"https://x.com/v1\"]\n")
            .starts_with("providers.local.allowed_hosts: `https://x.com/v1` is not a host")
    );
    load_toml("[providers.local]\nallowed_hosts = [\"a.example.com\", \"b.example.com:8443\", \"[::1]:80\"]\n", &[]).unwrap();
    assert!(
        invalid("[providers.local]\ncredential_hosts = [\"up.example.com\"]\n").starts_with(
            "providers.local.credential_hosts: `up.example.com` is not in allowed_hosts"
        )
    );
    assert!(
        invalid("[providers.local]\nallowed_hosts = [\"a.b\"]\ncredential_hosts = [\"https://a.b/v1\"]\n")
            .starts_with("providers.local.credential_hosts: `https://a.b/v1` is not a host")
    );
    load_toml(
        "[providers.local]\nallowed_hosts = [\"http://10.0.0.5:8080\", \"https://c.d/\"]\n",
        &[],
    )
    .unwrap();
    let config = load_toml(
        "[providers.local]\nallowed_hosts = [\"UP.example.com:443\"]\ncredential_hosts = [\"up.example.com\"]\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        config.providers["local"].credential_hosts,
        ["up.example.com"]
    );
    assert!(
        invalid("[providers.local]\ntimeout_seconds = 0\n")
            .starts_with("providers.local.timeout_seconds: must be at least 1")
    );
}

#[test]
fn aliases_are_checked() {
    assert_eq!(
        invalid("[aliases]\nfast = [\"llama3.2\"]\n"),
        "aliases.fast: `llama3.2` is not `provider:model` (e.g. `local:llama3.2`)"
    );
    assert_eq!(
        invalid("[aliases]\nfast = [\"openai:gpt-4o\"]\n"),
        "aliases.fast: `openai:gpt-4o` names provider `openai`, which is not configured \
         (configured: local); add [providers.openai] or fix the name"
    );
    assert!(
        invalid("[aliases]\nlocal = [\"local:a\"]\n")
            .starts_with("aliases.local: an alias cannot be named like a provider")
    );
    assert!(invalid("[aliases]\nfast = []\n").starts_with("aliases.fast: needs at least one"));
    let config = load_toml(
        "[aliases]\nsmall = [\"local:llama3.2:3b\", \"local:qwen\"]\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        config.aliases["small"],
        ["local:llama3.2:3b", "local:qwen"],
        "order kept"
    );
}

#[test]
fn healing_values_are_checked() {
    assert!(
        invalid("[healing]\nauto_apply_confidence = 1.5\n")
            .starts_with("healing.auto_apply_confidence: must be from 0.0 to 1.0")
    );
    assert!(
        invalid("[healing]\ndiagnose_model = \"nope:x\"\n")
            .starts_with("healing.heal_model: `nope:x` names provider `nope`")
    );
}

#[test]
fn retry_and_alert_values_are_checked() {
    let config = load_toml("[retry]\nmax_retries = 2\n[healing]\nalert_webhook_url = \"https://alerts.example.com/a\"\n", &[]).unwrap();
    assert_eq!(config.retry.max_retries, 2);
    assert_eq!(config.retry.base_delay_ms, 250);
    assert_eq!(config.healing.alert_webhook_timeout_seconds, 5);
    assert!(
        invalid("[healing]\nalert_webhook_url = \"ftp://x/y\"\n").starts_with(
            "healing.alert_webhook_url: `ftp://x/y` is not an http:// or https:// URL"
        )
    );
    assert!(
        invalid("[retry]\nbase_delay_ms = 500\nmax_delay_ms = 100\n")
            .starts_with("retry.max_delay_ms: must be at least base_delay_ms (500)")
    );
    assert!(
        invalid("[retry]\nmax_retries = 11\n").starts_with("retry.max_retries: must be at most 10")
    );
}

#[test]
fn all_problems_are_reported_together() {
    let message = error(
        "[server]\nrequest_timeout_seconds = 0\n[healing]\nwindow_seconds = 0\n",
        &[],
    );
    assert!(
        message.starts_with("2 problems in the config:\n  - server.request_timeout_seconds"),
        "{message}"
    );
}

#[test]
fn the_example_config_loads_cleanly() {
    let example = include_str!("../../../config.example.toml");
    let config = load_from(
        Some((Path::new("config.example.toml"), example)),
        std::iter::empty::<(&str, &str)>(),
    )
    .unwrap();
    assert!(config.providers["local"].enabled);
    assert!(!config.aliases.is_empty());
}

#[test]
fn printing_the_config_is_safe_and_serializable() {
    let config = Config::default();
    let printed = toml::to_string(&config).unwrap();
    assert!(printed.contains("[providers.local]"), "{printed}");
    assert!(format!("{config:?}").contains("LOCAL_API_KEY"));
}

#[test]
fn traces_are_off_by_default_and_a_bad_endpoint_or_ratio_is_named() {
    let config = load_from(None, std::iter::empty::<(&str, &str)>()).unwrap();
    assert_eq!(config.traces.endpoint, None);
    let config = load_toml("[traces]\nendpoint = \"http://127.0.0.1:4318\"\n", &[]).unwrap();
    assert_eq!(config.traces.service_name, "aratta");
    assert_eq!(config.traces.sample_ratio, 1.0);
    let message = error(
        "[traces]\nendpoint = \"grpc://collector:4317\"\nsample_ratio = 2.0\n",
        &[],
    );
    assert!(
        message.contains("traces.endpoint") && message.contains("gRPC is not supported"),
        "{message}"
    );
    assert!(
        message.contains("traces.sample_ratio") && message.contains("0.0 to 1.0"),
        "{message}"
    );
}
