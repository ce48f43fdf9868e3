//! The `aratta` binary as a user meets it before any server runs: help, version, and a clear
//! error for an unknown command. (Being an integration test of this package also makes
//! `cargo test` build `target/<profile>/aratta`, which the end-to-end suite in `tests/` runs.)

use std::process::Command;

fn aratta(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_aratta"))
        .args(args)
        .env(
            "ARATTA_HOME",
            std::env::temp_dir().join("aratta-cli-test-home"),
        )
        .output()
        .expect("run aratta")
}

#[test]
fn help_lists_every_command() {
    let out = aratta(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for command in ["init", "serve", "adapter"] {
        assert!(
            text.contains(command),
            "--help does not mention `{command}`:\n{text}"
        );
    }
}

#[test]
fn version_is_the_crate_version() {
    let out = aratta(&["--version"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn an_unknown_command_fails_with_usage() {
    let out = aratta(&["serv"]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("serve"), "no suggestion in:\n{text}");
}
