//! The Python example adapter (`examples/adapters/python/`), end to end: built from source with
//! `aratta adapter build` (componentize-py from the test setup, `aratta_tests::venv`), installed
//! in a real `aratta serve` in place of the built-in `local` adapter it reimplements, and run
//! through the conformance cases that apply to an OpenAI-compatible adapter against the mock
//! upstream replaying the recorded OpenAI-compatible fixtures (chat, tools and tool results,
//! streams, embeddings, models, each error class). Then what the matrix does not cover: the
//! health check, a stream ending with exactly one terminal event, and the build's errors.
//!
//! Run: `cargo test --release --test python_adapter`.

#[macro_use]
#[path = "conformance/cases.rs"]
mod cases;
#[path = "conformance/chat.rs"]
mod chat;
#[path = "conformance/ctx.rs"]
mod ctx;
#[path = "conformance/failures.rs"]
mod failures;
#[path = "conformance/listing.rs"]
mod listing;
#[path = "conformance/matrix.rs"]
mod matrix;
#[path = "conformance/openai_route.rs"]
mod openai_route;
#[path = "conformance/responses.rs"]
mod responses;
#[path = "conformance/streams.rs"]
mod streams;

pub use cases::{CASES, Case, Fut};

use std::path::{Path, PathBuf};
use std::time::Duration;

use aratta_tests::bins;
use aratta_tests::expect::Answer;
use aratta_tests::gateway::{run_aratta, run_aratta_within};
use serde_json::json;
use tokio::sync::OnceCell;

use crate::ctx::{Ctx, kinds, user};

/// How long building (componentize-py, then Cranelift compiling CPython to check it) or
/// listing (compiling it again, into the shared cache) may take on a busy machine.
const SLOW_COMMAND: Duration = Duration::from_secs(300);

/// The example, built once per test process: the installed `.wasm` (in a home kept until exit).
async fn built() -> &'static Path {
    static BUILT: OnceCell<(tempfile::TempDir, PathBuf)> = OnceCell::const_new();
    let (_, path) = BUILT
        .get_or_init(|| async {
            let home = tempfile::tempdir().expect("a home for the build");
            let example = bins::workspace_root().join("examples/adapters/python");
            let tool = aratta_tests::venv::componentize_py();
            let out = run_aratta_within(
                home.path(),
                &["adapter", "build", &example.to_string_lossy()],
                &[("ARATTA_COMPONENTIZE_PY", &tool.to_string_lossy())],
                SLOW_COMMAND,
            )
            .await;
            let (stdout, stderr) = (
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
            );
            assert!(out.status.success(), "build failed:\n{stdout}\n{stderr}");
            let path = home.path().join("adapters/local.wasm");
            assert!(
                stdout.contains("installed adapter local 0.1.0")
                    && stdout.contains(&*path.to_string_lossy()),
                "{stdout}\n{stderr}"
            );
            // componentize-py's own progress reaches the terminal.
            assert!(stderr.contains("Component built successfully"), "{stderr}");
            // `adapter list` compiles it into the compile cache the test gateways share, once
            // (Cranelift takes tens of seconds on CPython), so their starts only deserialize.
            let listed =
                run_aratta_within(home.path(), &["adapter", "list"], &[], SLOW_COMMAND).await;
            let listed_text = String::from_utf8_lossy(&listed.stdout);
            assert!(
                listed.status.success() && listed_text.contains(&*path.to_string_lossy()),
                "{listed_text}\n{}",
                String::from_utf8_lossy(&listed.stderr)
            );
            (home, path)
        })
        .await;
    path
}

#[tokio::test]
async fn serves_the_conformance_cases_of_the_local_adapter() {
    matrix::run("local", Some(built().await)).await;
}

#[tokio::test]
async fn its_health_check_lists_the_models_of_the_server() {
    let path = built().await;
    let c = Ctx::start("local", Some(path)).await;
    let health = Answer::read(c.gateway.get("/api/v1/health").await)
        .await
        .assert_status(200)
        .json();
    let local = &health["providers"][0];
    assert_eq!(local["provider"], "local", "{health}");
    assert_eq!(local["reachable"], true, "{health}");
    assert_eq!(local["adapter_version"], "0.1.0", "{health}");
    // The installed file serves, not the built-in `local` it overrides.
    assert!(
        local["adapter_source"]
            .as_str()
            .is_some_and(|s| s.ends_with("adapters/local.wasm")),
        "{health}"
    );
}

#[tokio::test]
async fn a_stream_ends_with_exactly_one_stop_or_error() {
    let c = Ctx::start("local", Some(built().await)).await;
    for (case, end) in [("stream-text", "stop"), ("truncated", "error")] {
        let read = c
            .stream("/api/v1/chat", case, json!({"messages": [user("hi")]}))
            .await;
        let kinds = kinds(&read);
        let ends: Vec<&String> = kinds
            .iter()
            .filter(|k| *k == "stop" || *k == "error")
            .collect();
        assert_eq!(ends, [end], "{case}: {}", read.raw);
        assert_eq!(
            kinds.last().map(String::as_str),
            Some(end),
            "{case}: {}",
            read.raw
        );
    }
}

#[tokio::test]
async fn a_build_without_componentize_py_says_what_to_install() {
    let home = tempfile::tempdir().unwrap();
    let example = bins::workspace_root().join("examples/adapters/python");
    let out = run_aratta(
        home.path(),
        &["adapter", "build", &example.to_string_lossy()],
        &[("ARATTA_COMPONENTIZE_PY", "/nonexistent/componentize-py")],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("pip install componentize-py==0.25.1"),
        "{stderr}"
    );
    assert!(!home.path().join("adapters/local.wasm").exists());
}

#[tokio::test]
async fn the_helper_packages_unit_tests_pass() {
    let root = bins::workspace_root();
    let tool = aratta_tests::venv::componentize_py();
    let out = tokio::process::Command::new("python3")
        .args(["-m", "unittest", "discover", "-s", "guest-sdk/python/tests"])
        .current_dir(&root)
        .env("ARATTA_COMPONENTIZE_PY", &tool)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .await
        .expect("run python3");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("OK"), "{stderr}");
}
