//! The command line and config checks: `aratta init` and what `aratta serve` refuses at startup.

use aratta_tests::config::{Config, Provider};
use aratta_tests::gateway::{Gateway, StartFailure, run_aratta};
use aratta_tests::mock::{MockUpstream, Script};

/// Starts a gateway that must refuse `config`, and returns what it printed.
async fn refused(config: &Config) -> StartFailure {
    match Gateway::builder(config).try_start().await {
        Ok(gateway) => panic!(
            "aratta started with a config it must refuse:\n{}\nlogs:\n{}",
            config.to_toml(),
            gateway.logs()
        ),
        Err(failure) => {
            assert!(
                failure.status.is_some_and(|s| !s.success()),
                "exits with an error: {failure}"
            );
            failure
        }
    }
}

#[tokio::test]
async fn init_writes_the_config_and_refuses_to_overwrite_it_without_force() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");

    let first = run_aratta(home.path(), &["init"], &[]).await;
    assert!(first.status.success(), "{first:?}");
    let written = std::fs::read_to_string(&config).expect("init writes <home>/config.toml");
    assert!(written.contains("[providers.local]"), "{written}");
    assert!(
        home.path().join("adapters").is_dir(),
        "init creates <home>/adapters"
    );

    std::fs::write(&config, "# my own settings\n").unwrap();
    let second = run_aratta(home.path(), &["init"], &[]).await;
    assert!(!second.status.success(), "{second:?}");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("--force"),
        "says how to overwrite: {stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "# my own settings\n",
        "an existing config is left alone"
    );

    let forced = run_aratta(home.path(), &["init", "--force"], &[]).await;
    assert!(forced.status.success(), "{forced:?}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), written);
}

#[tokio::test]
async fn the_written_config_starts_a_server() {
    let home = tempfile::tempdir().unwrap();
    let init = run_aratta(home.path(), &["init"], &[]).await;
    assert!(init.status.success(), "{init:?}");
    let written = std::fs::read_to_string(home.path().join("config.toml")).unwrap();
    // The starter config must be accepted as it is (the gateway does not need Ollama to start).
    let gateway = Gateway::builder_toml(&written).start().await;
    assert!(gateway.base_url().starts_with("http://"));
}

#[tokio::test]
async fn an_api_key_in_the_config_is_refused_naming_the_variable_to_use() {
    let mock = MockUpstream::start(Script::new()).await;
    let secret = "sk-proj-do-not-print-me";
    let cases = [
        (
            Config::new().provider(
                Provider::new("local", &mock.base_url()).raw("api_key", &format!("\"{secret}\"")),
            ),
            "LOCAL_API_KEY",
        ),
        (
            Config::new().provider(
                Provider::new("my-vllm", &mock.base_url())
                    .adapter("local")
                    .raw("api_key", &format!("\"{secret}\"")),
            ),
            "MY_VLLM_API_KEY",
        ),
        (
            Config::new().provider(
                Provider::new("local", &mock.base_url())
                    .api_key_env("TEAM_LLM_KEY")
                    .raw("token", &format!("\"{secret}\"")),
            ),
            "TEAM_LLM_KEY",
        ),
    ];
    for (config, variable) in cases {
        let failure = refused(&config).await;
        assert!(
            failure.stderr.contains(variable),
            "names {variable}: {failure}"
        );
        assert!(
            !failure.stderr.contains(secret) && !failure.stdout.contains(secret),
            "the key itself is never printed: {failure}"
        );
    }
}

#[tokio::test]
async fn an_unknown_key_is_refused_with_a_suggestion() {
    let mock = MockUpstream::start(Script::new()).await;
    let config = Config::local(&mock.base_url()).behaviour("upstream_timeout_secs", "5");
    let failure = refused(&config).await;
    assert!(
        failure.stderr.contains("upstream_timeout_secs"),
        "{failure}"
    );
    assert!(
        failure.stderr.contains("upstream_timeout_seconds"),
        "suggests the right key: {failure}"
    );
}
