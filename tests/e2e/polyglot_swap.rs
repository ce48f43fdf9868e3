//! One adapter in three languages, hot-swapped under load. `aratta adapter new poly --lang
//! rust|python|js` scaffolds it three times and `aratta adapter build` builds each (cargo,
//! componentize-py from the test setup, jco from the cached npm toolchain). A gateway serves
//! provider `main` through the Rust build while requests are in flight; the Python build is
//! dropped into its adapters directory, then the JavaScript build. Every request answers 200
//! across both swaps, and after each one `/api/v1/adapters` reports the new component's SHA-256
//! and new requests are answered by it.
//!
//! Run: `cargo test --release --test polyglot_swap`.

mod swap_kit;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aratta_tests::bins;
use aratta_tests::config::{Config, Provider};
use aratta_tests::gateway::{Gateway, run_aratta_within};
use aratta_tests::mock::{Behaviour, MockUpstream, Script};
use serde_json::Value;
use swap_kit::{SLOW, adapters, ask, drop_file, sha256};

/// Building (a cold cargo build of the scaffold, CPython or the JS engine compiled by
/// Cranelift to check it) may take minutes on a busy machine.
const SLOW_COMMAND: Duration = Duration::from_secs(600);

/// `aratta adapter new poly --lang <lang>` into `dir`, then `aratta adapter build`: the bytes
/// installed.
async fn scaffold_and_build(lang: &str, root: &Path) -> Vec<u8> {
    let home = root.join(format!("home-{lang}"));
    let project = root.join(lang);
    std::fs::create_dir_all(&home).expect("a home for the build");
    let new = run_aratta_within(
        &home,
        &[
            "adapter",
            "new",
            "poly",
            "--lang",
            lang,
            "--dir",
            &project.to_string_lossy(),
        ],
        &[],
        SLOW_COMMAND,
    )
    .await;
    let stdout = String::from_utf8_lossy(&new.stdout).into_owned();
    assert!(new.status.success(), "adapter new --lang {lang}: {new:?}");
    let build_dir = stdout
        .lines()
        .find_map(|l| l.strip_prefix("build and install it:  aratta adapter build "))
        .unwrap_or_else(|| panic!("adapter new says how to build: {stdout}"))
        .to_owned();
    if lang == "js" {
        // The pinned jco and componentize-js, installed once under target/ (no npm ci per build).
        let toolchain = aratta_tests::npm::install(
            "js-toolchain",
            &bins::workspace_root().join("examples/adapters/js"),
        );
        std::os::unix::fs::symlink(toolchain.join("node_modules"), project.join("node_modules"))
            .expect("link node_modules");
    }
    let componentize_py = aratta_tests::venv::componentize_py();
    let build = run_aratta_within(
        &home,
        &["adapter", "build", &build_dir],
        &[("ARATTA_COMPONENTIZE_PY", &componentize_py.to_string_lossy())],
        SLOW_COMMAND,
    )
    .await;
    assert!(
        build.status.success(),
        "adapter build ({lang}):\n{}\n{}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );
    // Compile it into the compile cache the gateways share, so the swap verifies in seconds.
    let listed = run_aratta_within(&home, &["adapter", "list"], &[], SLOW_COMMAND).await;
    assert!(listed.status.success(), "adapter list ({lang}): {listed:?}");
    std::fs::read(home.join("adapters/poly.wasm")).expect("the installed component")
}

/// The `poly` entry of `GET /api/v1/adapters`.
async fn poly(gateway: &Gateway) -> Value {
    let all = adapters(gateway).await;
    all["adapters"]
        .as_array()
        .and_then(|list| list.iter().find(|a| a["name"] == "poly").cloned())
        .unwrap_or_else(|| panic!("no poly adapter: {all}"))
}

/// Waits (120 s at most) until `poly` serves the component with `sha`.
async fn wait_for_sha(gateway: &Gateway, sha: &str, lang: &str) {
    for _ in 0..1200 {
        if poly(gateway).await["sha256"] == sha {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the {lang} build never served: {}\n{}",
        adapters(gateway).await,
        gateway.logs()
    );
}

#[tokio::test]
async fn rust_then_python_then_javascript_swap_in_under_load_and_no_request_fails() {
    let root = tempfile::tempdir().expect("a scratch directory");
    let rust = scaffold_and_build("rust", root.path()).await;
    let python = scaffold_and_build("python", root.path()).await;
    let js = scaffold_and_build("js", root.path()).await;
    eprintln!(
        "component sizes: rust {} KiB, python {} KiB, js {} KiB",
        rust.len() / 1024,
        python.len() / 1024,
        js.len() / 1024
    );
    // The scaffold keeps the built-in adapters' release profile (stripped, opt-level 3).
    assert!(
        rust.len() < 3 << 19,
        "the Rust scaffold's component is {} bytes: its release profile was lost",
        rust.len()
    );

    let mock = MockUpstream::start(Script::new().with_model("slow", Behaviour::Delay(SLOW))).await;
    let config = Config::new()
        .provider(Provider::new("main", &mock.base_url()).adapter("poly"))
        .raw("[reload]\ndebounce_ms = 100\n[breaker]\nfailure_threshold = 1000\n");
    let gateway = Arc::new(
        Gateway::builder(&config)
            .adapter_bytes("poly.wasm", rust.clone())
            .start()
            .await,
    );
    assert_eq!(poly(&gateway).await["sha256"], sha256(&rust));
    assert_eq!(ask(&gateway, "m").await.0, 200);

    // Requests held 300 ms upstream, two started every 25 ms until the last swap is done:
    // ~80 a second, ~24 in flight. A CPython call costs 2-9 ms of gateway CPU (the README's
    // table of adapter languages), so this keeps the Python phase within two cores while
    // the JavaScript candidate compiles beside it; at twice the rate the machine saturates
    // and requests time out in the queue, which is a capacity limit, not a swap failure.
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (gateway, stop) = (gateway.clone(), stop.clone());
        tokio::spawn(async move {
            let mut tasks = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..2 {
                    let gateway = gateway.clone();
                    tasks.push(tokio::spawn(async move { ask(&gateway, "slow").await.0 }));
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            tasks
        })
    };
    tokio::time::sleep(SLOW).await;
    for (lang, bytes) in [("python", &python), ("js", &js)] {
        drop_file(&gateway, "poly.wasm", bytes);
        wait_for_sha(&gateway, &sha256(bytes), lang).await;
        // A little more load on the new language before the next swap.
        tokio::time::sleep(SLOW * 2).await;
        for _ in 0..5 {
            assert_eq!(
                ask(&gateway, "m").await.0,
                200,
                "{lang} answers after its swap"
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    let tasks = load.await.expect("the load task");
    let sent = tasks.len();
    assert!(
        sent >= 100,
        "only {sent} requests were in flight across the swaps"
    );
    let mut failed = 0;
    for task in tasks {
        if task.await.expect("a request task") != 200 {
            failed += 1;
        }
    }
    assert_eq!(
        failed,
        0,
        "{failed} of {sent} requests failed across the swaps\n{}",
        gateway.logs()
    );
    eprintln!("{sent} requests across the Rust -> Python -> JavaScript swaps, none failed");
    let events = adapters(&gateway).await["events"].clone();
    for bytes in [&python, &js] {
        let sha = sha256(bytes);
        assert!(
            events.as_array().is_some_and(|e| e
                .iter()
                .any(|e| e["action"] == "swapped" && e["sha256"] == sha)),
            "a swapped event for {sha}: {events}"
        );
    }
}
