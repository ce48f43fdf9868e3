//! The harness's own tests, with shell scripts standing in for `aratta`.

use super::process::not_inherited;
use super::*;
use std::os::unix::fs::PermissionsExt as _;

fn script(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("fake-aratta");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test]
async fn reads_the_listening_line_and_passes_home_cache_and_env() {
    let dir = tempfile::tempdir().unwrap();
    // Prints what it was given, then the listening line, then stays up.
    let fake = script(
        dir.path(),
        r#"echo "args=$* home=$ARATTA_HOME cache=$ARATTA_CACHE_DIR color=$NO_COLOR"
echo "kept=$ARATTA_TEST_SET"
printf '\033[32maratta listening on http://127.0.0.1:1234\033[0m\n'
exec sleep 30"#,
    );
    let gateway = Gateway::builder_toml("# empty\n")
        .binary(&fake)
        .env("ARATTA_TEST_SET", "yes")
        .start()
        .await;
    assert_eq!(gateway.base_url(), "http://127.0.0.1:1234");
    let out = gateway.stdout();
    assert!(out.contains("args=serve --port 0"), "{out}");
    assert!(
        out.contains(&format!("home={}", gateway.home().display())),
        "{out}"
    );
    assert!(
        out.contains(&format!("cache={}", bins::cache_dir().display())),
        "{out}"
    );
    assert!(out.contains("color=1"), "{out}");
    assert!(out.contains("kept=yes"), "{out}");
    assert_eq!(
        std::fs::read_to_string(gateway.home().join("config.toml")).unwrap(),
        "# empty\n"
    );
}

#[test]
fn drops_inherited_aratta_and_api_key_variables() {
    let parent = [
        "PATH",
        "ARATTA_HOME",
        "ARATTA_LOG",
        "OPENAI_API_KEY",
        "API_KEYS",
        "HOME",
    ];
    let dropped = not_inherited(parent.iter().map(|k| k.to_string()));
    assert_eq!(dropped, ["ARATTA_HOME", "ARATTA_LOG", "OPENAI_API_KEY"]);
}

#[tokio::test]
async fn an_early_exit_reports_status_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let fake = script(dir.path(), "echo 'config: bad key' >&2\nexit 3");
    let failure = Gateway::builder_toml("")
        .binary(&fake)
        .try_start()
        .await
        .err()
        .expect("the fake exits before listening");
    assert_eq!(failure.status.and_then(|s| s.code()), Some(3));
    assert!(failure.stderr.contains("config: bad key"), "{failure}");
    assert!(failure.to_string().contains("exited before listening"));
}
