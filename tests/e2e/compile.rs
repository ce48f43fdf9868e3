//! A first start compiles the adapters (Cranelift, ~1 s and tens of MB each) in child
//! processes, so the server's own memory is what a start from the compile cache gives: the
//! effect is measured as the server's peak RSS, cold against warm. A component that does not
//! compile is refused with the compiler's reason, and the rest serves.

use aratta_tests::bins;
use aratta_tests::config::Config;
use aratta_tests::gateway::Gateway;
use aratta_tests::mock::{MockUpstream, Script};

/// What compiling in the server's process used to add to its peak RSS was ~60 MB; a server
/// that compiled nothing itself stays within this of a warm start.
const COMPILE_MEMORY_KIB: u64 = 16 * 1024;

#[tokio::test]
async fn a_first_start_compiles_in_child_processes_and_the_server_stays_as_small_as_a_warm_start() {
    let mock = MockUpstream::start(Script::new()).await;
    let cache = tempfile::tempdir().expect("temporary cache");
    let cache_dir = cache.path().to_str().expect("utf-8 path");
    let config = Config::local(&mock.base_url());

    let cold = Gateway::builder(&config)
        .env("ARATTA_CACHE_DIR", cache_dir)
        .start()
        .await;
    let logs = cold.logs();
    assert!(
        logs.contains("compiled built-in adapter local in")
            && logs.contains("(in a child process)"),
        "{logs}"
    );
    cold.assert_answers("local:llama3.2").await;
    let cold_kib = cold.peak_rss_kib();
    let entries = std::fs::read_dir(cache.path())
        .expect("the cache directory exists")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
        })
        .count();
    assert!(
        entries >= 5,
        "one compiled entry per built-in adapter, found {entries}"
    );

    let warm = cold.restart().await;
    assert!(
        !warm.logs().contains("compiling built-in adapter"),
        "{}",
        warm.logs()
    );
    warm.assert_answers("local:llama3.2").await;
    let warm_kib = warm.peak_rss_kib();
    println!("peak RSS: cold start {cold_kib} KiB, warm start {warm_kib} KiB");
    assert!(
        cold_kib <= warm_kib + COMPILE_MEMORY_KIB,
        "a cold start peaked at {cold_kib} KiB, a warm one at {warm_kib} KiB: the compile ran in the server"
    );
}

#[tokio::test]
async fn a_component_that_does_not_compile_is_refused_with_the_compilers_reason() {
    let mock = MockUpstream::start(Script::new()).await;
    let cache = tempfile::tempdir().expect("temporary cache");
    let whole = std::fs::read(bins::misbehaving_adapter()).expect("the built test adapter");
    // A component cut short, as a slow writer leaves it: the header is right, the rest is not.
    let truncated = whole[..whole.len() / 2].to_vec();
    let gateway = Gateway::builder(&Config::local(&mock.base_url()))
        .env(
            "ARATTA_CACHE_DIR",
            cache.path().to_str().expect("utf-8 path"),
        )
        .adapter_bytes("broken.wasm", truncated)
        .start()
        .await;
    let refusal = gateway
        .wait_for_log(
            &["broken.wasm", "not a valid WebAssembly component"],
            std::time::Duration::from_secs(30),
        )
        .await;
    assert!(refusal.is_some(), "{}", gateway.logs());
    gateway.assert_answers("local:llama3.2").await;
}
