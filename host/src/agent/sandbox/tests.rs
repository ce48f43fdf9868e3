//! The sandbox against its escape corpus (`tests/fixtures/sandbox/escapes/*.py`), and each
//! inner layer on its own: code that skips the AST check still meets the audit hook, and a
//! process that skips the hook still meets the OS limits.

use std::path::PathBuf;
use std::time::Duration;

use futures::StreamExt;

use super::*;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/sandbox/escapes")
}

fn test_config() -> SandboxConfig {
    let mut config = SandboxConfig::default();
    config.limits.cpu_seconds = 2;
    config.limits.wall = Duration::from_secs(8);
    config.limits.max_output_bytes = 16 << 10;
    config
}

/// `# expect: refused|contained` and `# because: <text>` from a fixture's first two lines.
fn header(source: &str) -> (String, String) {
    let mut lines = source.lines();
    let mut field = |name: &str| {
        let line = lines.next().unwrap_or_default();
        line.strip_prefix(&format!("# {name}: "))
            .unwrap_or_else(|| panic!("fixture line should start with `# {name}: `: {line}"))
            .to_string()
    };
    (field("expect"), field("because"))
}

/// Checks one fixture's outcome against its header; returns a complaint when it does not match.
fn judge(
    name: &str,
    expect: &str,
    because: &str,
    got: &Result<RunReport, SandboxError>,
) -> Option<String> {
    match (expect, got) {
        ("refused", Err(SandboxError::Refused { refusals })) => {
            let named = refusals
                .iter()
                .any(|r| r.construct.contains(because) || r.message.contains(because));
            let located = refusals.iter().all(|r| r.line > 0);
            (!named || !located).then(|| {
                format!("{name}: refused, but not for `{because}` with a line: {refusals:?}")
            })
        }
        ("contained", Ok(report)) => {
            let f = &report.finished;
            let ok = match because {
                "signaled" => matches!(f.exit, Exit::Signaled { .. }),
                "timed_out" => f.exit == Exit::TimedOut,
                "truncated" => f.stdout_truncated && !report.succeeded(),
                text => !report.succeeded() && f.stderr.contains(text),
            };
            (!ok).then(|| {
                format!(
                    "{name}: ran, but not contained by `{because}`: {:?} stderr={}",
                    f.exit, f.stderr
                )
            })
        }
        (_, other) => Some(format!(
            "{name}: expected {expect} ({because}), got {other:?}"
        )),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_escape_in_the_corpus_is_refused_or_contained() {
    let sandbox = Sandbox::new(test_config());
    let iso = sandbox.isolation().await.expect("a Python for the sandbox");
    eprintln!("sandbox isolation: {iso:?}");
    let mut files: Vec<_> = std::fs::read_dir(corpus_dir())
        .expect("the corpus directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "the corpus holds {} cases", files.len());
    let sandbox = &sandbox;
    let complaints: Vec<String> = futures::stream::iter(files)
        .map(|path| async move {
            let source = std::fs::read_to_string(&path).unwrap();
            let (expect, because) = header(&source);
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let got = sandbox.run(&source).await;
            judge(&name, &expect, &because, &got)
        })
        .buffer_unordered(4)
        .filter_map(|c| async move { c })
        .collect()
        .await;
    assert!(complaints.is_empty(), "{}", complaints.join("\n"));
}

#[tokio::test]
async fn ordinary_code_runs_and_its_output_comes_back() {
    let sandbox = Sandbox::new(test_config());
    let code = "import math, json\nprint(json.dumps({'r': math.sqrt(16)}))\n";
    let report = sandbox.run(code).await.unwrap();
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.finished.stdout.trim(), r#"{"r": 4.0}"#);
}

#[tokio::test]
async fn a_refusal_names_the_construct_and_line() {
    let sandbox = Sandbox::new(test_config());
    let err = sandbox.run("x = 1\ny = ().__class__\n").await.unwrap_err();
    let SandboxError::Refused { refusals } = &err else {
        panic!("{err}")
    };
    assert_eq!(refusals[0].line, 2);
    assert_eq!(refusals[0].construct, ".__class__");
    assert!(err.to_string().contains("line 2: `.__class__`"), "{err}");
}

#[tokio::test]
async fn code_over_the_size_limit_is_refused_unread() {
    let sandbox = Sandbox::new(SandboxConfig {
        max_code_bytes: 10,
        ..test_config()
    });
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

/// Runs `code` through the runner prelude without the AST check, to test the layers behind it.
async fn run_unchecked(sandbox: &Sandbox, code: &str) -> Finished {
    let iso = sandbox.isolation().await.unwrap().clone();
    let scratch = sandbox.scratch(&iso).unwrap();
    std::fs::write(scratch.path().join("main.py"), code).unwrap();
    process::run(
        &iso.interpreter,
        &["-I", "-S", "-c", PRELUDE],
        scratch.path(),
        b"",
        &sandbox.config.limits,
        iso.mode,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn the_audit_hook_stops_what_the_ast_check_would_have() {
    let sandbox = Sandbox::new(test_config());
    let cases = [
        ("import os\nos.system('id')", "os.system is not allowed"),
        ("import os\nos.fork()", "os.fork is not allowed"),
        (
            "import subprocess\nsubprocess.run(['id'])",
            "is not allowed",
        ),
        (
            "import socket\nsocket.socket()",
            "socket.__new__ is not allowed",
        ),
        (
            "open('/tmp/aratta-sandbox-escape', 'w')",
            "outside the scratch directory",
        ),
        (
            "print(open('/etc/hostname').read())",
            "outside the scratch directory",
        ),
        ("import ctypes", "is not allowed"),
    ];
    for (code, expected) in cases {
        let done = run_unchecked(&sandbox, code).await;
        assert_eq!(done.exit, Exit::Exited { code: 1 }, "{code}: {done:?}");
        assert!(done.stderr.contains(expected), "{code}: {}", done.stderr);
    }
    // Inside the scratch directory, files work.
    let done = run_unchecked(
        &sandbox,
        "open('out.txt', 'w').write('kept')\nprint(open('out.txt').read())",
    )
    .await;
    assert_eq!(done.stdout.trim(), "kept", "{done:?}");
}

#[tokio::test]
async fn the_process_has_an_empty_environment_and_no_network() {
    // SAFETY: test-only; no other thread of this test reads the variable.
    unsafe { std::env::set_var("ARATTA_SANDBOX_TEST_KEY", "sk-secret") };
    let sandbox = Sandbox::new(test_config());
    let iso = sandbox.isolation().await.unwrap().clone();
    let code = "import os, json\nprint(json.dumps(dict(os.environ)))";
    let done = process::run(
        &iso.interpreter,
        &["-I", "-S", "-c", code],
        &std::env::temp_dir(),
        b"",
        &sandbox.config.limits,
        iso.mode,
    )
    .await
    .unwrap();
    // Python itself sets LC_CTYPE when it coerces the C locale (PEP 538); nothing else.
    let env: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(done.stdout.trim()).unwrap();
    assert!(env.keys().all(|k| k == "LC_CTYPE"), "{env:?}");
    if iso.mode.network_namespace {
        let code =
            "import socket\ns = socket.socket()\ns.settimeout(2)\ns.connect(('1.1.1.1', 80))";
        let done = process::run(
            &iso.interpreter,
            &["-I", "-S", "-c", code],
            &std::env::temp_dir(),
            b"",
            &sandbox.config.limits,
            iso.mode,
        )
        .await
        .unwrap();
        assert!(done.stderr.contains("Network is unreachable"), "{done:?}");
    }
}

#[tokio::test]
async fn a_fork_bomb_without_the_hook_meets_rlimit_nproc() {
    let sandbox = Sandbox::new(test_config());
    let iso = sandbox.isolation().await.unwrap().clone();
    // SAFETY: a plain system call.
    let root = unsafe { libc::geteuid() } == 0;
    if root && iso.mode.drop_to_uid.is_none() {
        eprintln!("skipped: root without a user to drop to, RLIMIT_NPROC would not apply");
        return;
    }
    let code = "import os\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n            os.close(1); os.close(2); import time; time.sleep(30)\n        n += 1\nexcept OSError as e:\n    print('stopped after', n, type(e).__name__)\n";
    let done = process::run(
        &iso.interpreter,
        &["-I", "-S", "-c", code],
        &std::env::temp_dir(),
        b"",
        &ProcessLimits {
            wall: Duration::from_secs(5),
            ..sandbox.config.limits
        },
        iso.mode,
    )
    .await
    .unwrap();
    // The parent stops forking at the limit and reports; its sleeping children die with it.
    assert!(done.stdout.contains("BlockingIOError"), "{done:?}");
}
