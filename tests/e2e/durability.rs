//! What users keep across restarts: tools registered over HTTP survive the server being
//! killed (they are in the store, `<home>/aratta.db`), a damaged `tools.json` left by an older
//! version is kept aside and reported rather than lost, and `aratta init --force` keeps a copy
//! of the config it replaces.

use aratta_host::store::Store;
use aratta_tests::config::Config;
use aratta_tests::expect::Answer;
use aratta_tests::gateway::{Gateway, run_aratta};
use aratta_tests::mock::{MockUpstream, Script};
use serde_json::{Value, json};

fn tool(name: &str) -> Value {
    json!({
        "name": name,
        "description": format!("{name} for the durability test"),
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}
    })
}

/// The names the registry lists, in order, without the agent executor's built-in tools.
async fn names(gateway: &Gateway) -> Vec<String> {
    let answer = Answer::read(gateway.get("/api/v1/tools").await).await;
    answer.assert_status(200);
    answer.json()["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .filter(|n| n != "python" && n != "current_time")
        .collect()
}

#[tokio::test]
async fn registered_tools_survive_the_server_being_killed_and_restarted() {
    let mock = MockUpstream::start(Script::new()).await;
    let gateway = Gateway::start(&Config::local(&mock.base_url())).await;
    let answer = Answer::read(
        gateway
            .post_json(
                "/api/v1/tools",
                &json!([tool("get_weather"), tool("get_time"), tool("get_tide")]),
            )
            .await,
    )
    .await;
    answer.assert_status(201);
    let deleted = gateway
        .client()
        .delete(gateway.url("/api/v1/tools/get_time"))
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success(), "{}", deleted.status());
    assert_eq!(names(&gateway).await, ["get_weather", "get_tide"]);

    let store = Store::open(&gateway.home().join("aratta.db"))
        .await
        .unwrap();
    let kept: Vec<String> = store
        .tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(
        kept,
        ["get_weather", "get_tide"],
        "written to the store; the executor's pinned tools are not"
    );

    let gateway = gateway.restart().await;
    assert_eq!(
        names(&gateway).await,
        ["get_weather", "get_tide"],
        "after a restart, in the order registered\n{}",
        gateway.logs()
    );
    let answer = Answer::read(gateway.get("/api/v1/tools/get_weather").await).await;
    answer.assert_status(200);
    assert_eq!(
        answer.json()["parameters"],
        tool("get_weather")["parameters"]
    );
}

#[tokio::test]
async fn a_damaged_tools_file_from_an_older_version_is_kept_aside_and_reported_and_the_server_starts()
 {
    let mock = MockUpstream::start(Script::new()).await;
    let gateway = Gateway::start(&Config::local(&mock.base_url())).await;
    std::fs::write(
        gateway.home().join("tools.json"),
        "{\"version\": 1, \"tools\": [",
    )
    .unwrap();
    let gateway = gateway.restart().await;
    let logs = gateway.logs();
    let line = logs
        .lines()
        .find(|l| l.contains("tools.json") && l.contains("not a saved tool list"))
        .unwrap_or_else(|| panic!("the damaged file is reported:\n{logs}"));
    assert!(line.contains("moved to"), "{line}");
    let aside: Vec<_> = std::fs::read_dir(gateway.home())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("tools.json.corrupt-")
        })
        .collect();
    assert_eq!(aside.len(), 1, "kept aside once");
    assert_eq!(
        std::fs::read_to_string(&aside[0]).unwrap(),
        "{\"version\": 1, \"tools\": [",
        "kept as it was"
    );
    assert!(names(&gateway).await.is_empty());
    Answer::read(gateway.post_json("/api/v1/tools", &tool("fresh")).await)
        .await
        .assert_status(201);
    let gateway = gateway.restart().await;
    assert_eq!(names(&gateway).await, ["fresh"]);
}

#[tokio::test]
async fn init_force_keeps_a_backup_of_the_config_it_replaces_and_says_where() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(&config, "# my own settings\n").unwrap();
    let forced = run_aratta(home.path(), &["init", "--force"], &[]).await;
    assert!(forced.status.success(), "{forced:?}");
    let stdout = String::from_utf8_lossy(&forced.stdout);
    let backup = stdout
        .lines()
        .find_map(|l| l.strip_prefix("the previous config is kept at "))
        .unwrap_or_else(|| panic!("says where the backup is: {stdout}"));
    assert_eq!(
        std::fs::read_to_string(backup).unwrap(),
        "# my own settings\n"
    );
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .contains("[providers.local]")
    );
}
