//! What the sandbox does without its component: it fails closed. The escape corpus and the
//! wasm boundary are proved against the real component in `tests/e2e/code_sandbox.rs`, which
//! installs componentize-py.

use super::*;

fn without_componentize_py() -> (tempfile::TempDir, Sandbox) {
    let cache = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::new(SandboxConfig {
        source: ComponentSource {
            componentize_py: Some(cache.path().join("no-such-componentize-py")),
            cache_dir: Some(cache.path().to_path_buf()),
        },
        ..SandboxConfig::default()
    })
    .unwrap();
    (cache, sandbox)
}

#[tokio::test]
async fn without_componentize_py_nothing_runs_and_the_error_says_what_to_install() {
    let (cache, sandbox) = without_componentize_py();
    let marker = cache.path().join("ran");
    let code = format!("open({:?}, 'w').write('ran')", marker.display().to_string());
    for attempt in [sandbox.run(&code).await, sandbox.run_unchecked(&code).await] {
        let err = attempt.unwrap_err();
        assert!(matches!(err, SandboxError::Unavailable { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("pip install componentize-py==0.25.1"),
            "{text}"
        );
        assert!(text.contains("ARATTA_COMPONENTIZE_PY"), "{text}");
    }
    assert!(!marker.exists(), "the code ran somewhere");
}

#[tokio::test]
async fn code_over_the_size_limit_is_refused_unread() {
    let (_cache, sandbox) = without_componentize_py();
    let sandbox = Sandbox {
        config: SandboxConfig {
            max_code_bytes: 10,
            ..sandbox.config.clone()
        },
        ..sandbox
    };
    let err = sandbox.run("print('hello world')").await.unwrap_err();
    assert!(
        matches!(
            err,
            SandboxError::TooLarge {
                bytes: 20,
                limit: 10
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_damaged_cached_component_is_discarded_not_run() {
    let (_cache, sandbox) = without_componentize_py();
    let cached = sandbox.config.source.cached_path().unwrap();
    std::fs::create_dir_all(cached.parent().unwrap()).unwrap();
    std::fs::write(&cached, b"\0asm truncated").unwrap();
    let err = sandbox.run("print(1)").await.unwrap_err();
    // It tried to build anew, which needs componentize-py.
    assert!(matches!(err, SandboxError::Unavailable { .. }), "{err}");
    assert!(!cached.exists(), "the damaged build is still cached");
}
