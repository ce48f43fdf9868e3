//! The agent's code sandbox (CPython as a WebAssembly component) against its escape corpus,
//! `tests/fixtures/sandbox/escapes/*.py`. Each fixture's header names the layer that stops it:
//! `# expect: refused` with `# because: <construct>` (the AST check refuses it, naming that
//! construct and a line), or `# expect: contained` with `# because: <how>` (it passes the check
//! and the wasm boundary stops it). Then every fixture, refused or not, runs again *without* the
//! AST check, and the effect is asserted: a secret file planted on the host and a secret
//! environment variable never appear in the output, a marker file that an escaped write or a
//! spawned process would create does not exist, and the run ends within the wall-clock limit.
//!
//! Fixtures name the secret file `/tmp/aratta-secret.txt` and the marker `/tmp/aratta-marker`;
//! the test substitutes paths of its own for both.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use aratta_host::agent::sandbox::{
    ComponentSource, Exit, Limits, RunReport, Sandbox, SandboxConfig, SandboxError,
};
use aratta_tests::{bins, venv};

/// The wall-clock limit of the test sandbox; every run must end within it plus this slack.
const WALL: Duration = Duration::from_secs(4);
const SLACK: Duration = Duration::from_secs(2);
const MAX_OUTPUT: usize = 16 << 10;

/// One sandbox for the whole test process (the component is built and compiled once, into the
/// test cache every test gateway shares).
fn sandbox() -> Arc<Sandbox> {
    static SANDBOX: OnceLock<Arc<Sandbox>> = OnceLock::new();
    SANDBOX
        .get_or_init(|| {
            let config = SandboxConfig {
                source: ComponentSource {
                    componentize_py: Some(venv::componentize_py()),
                    cache_dir: Some(bins::cache_dir()),
                },
                limits: Limits {
                    wall: WALL,
                    fuel: 6_000_000_000,
                    memory_bytes: 128 << 20,
                    max_output_bytes: MAX_OUTPUT,
                },
                max_code_bytes: 64 << 10,
            };
            Arc::new(Sandbox::new(config).expect("the sandbox's engine"))
        })
        .clone()
}

/// The host-side things no run may reach: a secret file, a secret variable, a marker path.
struct Planted {
    _dir: tempfile::TempDir,
    secret: String,
    secret_file: PathBuf,
    marker: PathBuf,
}

fn plant() -> Planted {
    let dir = tempfile::tempdir().unwrap();
    let secret = format!("sk-sandbox-secret-{}", uuid_like());
    let secret_file = dir.path().join("secret.txt");
    std::fs::write(&secret_file, &secret).unwrap();
    // SAFETY: test-only; set before any sandbox runs, never changed afterwards.
    unsafe { std::env::set_var("ARATTA_SANDBOX_TEST_KEY", &secret) };
    Planted {
        marker: dir.path().join("marker"),
        secret_file,
        secret,
        _dir: dir,
    }
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}{:x}", std::process::id(), nanos)
}

impl Planted {
    fn substitute(&self, code: &str) -> String {
        code.replace("/tmp/aratta-secret.txt", self.secret_file.to_str().unwrap())
            .replace("/tmp/aratta-marker", self.marker.to_str().unwrap())
    }

    /// Complaints about effects that leaked out of one run.
    fn leaks(&self, name: &str, report: &RunReport, took: Duration) -> Vec<String> {
        let f = &report.finished;
        let mut found = Vec::new();
        for (stream, text) in [("stdout", &f.stdout), ("stderr", &f.stderr)] {
            if text.contains(&self.secret) {
                found.push(format!("{name}: the secret appeared in {stream}"));
            }
            if let Some(host) = hostname().filter(|h| name.contains("hostname") && text.contains(h))
            {
                found.push(format!(
                    "{name}: the host's /etc/hostname ({host}) appeared in {stream}"
                ));
            }
        }
        if self.marker.exists() {
            found.push(format!(
                "{name}: the marker {} was created",
                self.marker.display()
            ));
            let _ = std::fs::remove_file(&self.marker);
        }
        if took > WALL + SLACK {
            found.push(format!(
                "{name}: ran {took:?}, past the wall-clock limit {WALL:?}"
            ));
        }
        if f.stdout.len() > MAX_OUTPUT || f.stderr.len() > MAX_OUTPUT {
            found.push(format!("{name}: kept more output than the bound"));
        }
        found
    }
}

fn hostname() -> Option<String> {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| h.len() >= 4)
}

fn corpus() -> Vec<(String, String)> {
    let dir = bins::workspace_root().join("tests/fixtures/sandbox/escapes");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the corpus directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

/// `# expect: refused|contained` and `# because: <text>` from a fixture's first two lines.
fn header(name: &str, source: &str) -> (String, String) {
    let mut lines = source.lines();
    let mut field = |field: &str| {
        let line = lines.next().unwrap_or_default();
        line.strip_prefix(&format!("# {field}: "))
            .unwrap_or_else(|| panic!("{name}: line should start with `# {field}: `: {line}"))
            .to_string()
    };
    (field("expect"), field("because"))
}

/// Checks the checked run of one fixture against its header.
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
                "timed_out" => f.exit == Exit::TimedOut,
                "cpu_limit" => f.exit == Exit::CpuLimit,
                "output_limit" => f.exit == Exit::OutputLimit && f.stdout_truncated,
                "memory_limit" => {
                    f.exit == Exit::MemoryLimit
                        || matches!(&f.exit, Exit::Raised { error } if error.starts_with("MemoryError"))
                }
                text => match text.strip_prefix("raised ") {
                    Some(error) => {
                        matches!(&f.exit, Exit::Raised { error: e } if e.contains(error))
                    }
                    None => panic!("{name}: unknown containment `{text}`"),
                },
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
async fn every_escape_in_the_corpus_is_refused_or_contained_and_leaks_nothing() {
    let planted = plant();
    let sandbox = sandbox();
    let corpus = corpus();
    assert!(
        corpus.len() >= 70,
        "the corpus holds {} cases",
        corpus.len()
    );
    let mut complaints = Vec::new();
    for (name, source) in &corpus {
        let (expect, because) = header(name, source);
        let code = planted.substitute(source);
        let got = sandbox.run(&code).await;
        complaints.extend(judge(name, &expect, &because, &got));
        if let Ok(report) = &got {
            complaints.extend(planted.leaks(
                name,
                report,
                Duration::from_millis(report.finished.duration_ms),
            ));
        }
        // The same code with the AST check skipped: the wasm boundary alone.
        let started = Instant::now();
        match sandbox.run_unchecked(&code).await {
            Ok(report) => complaints.extend(planted.leaks(
                &format!("{name} (unchecked)"),
                &report,
                started.elapsed(),
            )),
            Err(e) => complaints.push(format!("{name} (unchecked): did not run: {e}")),
        }
    }
    assert!(complaints.is_empty(), "{}", complaints.join("\n"));
}

#[tokio::test]
async fn ordinary_code_runs_and_its_output_comes_back() {
    let code = "import math, json\nprint(json.dumps({'r': math.sqrt(16)}))\n";
    let report = sandbox().run(code).await.unwrap();
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.finished.stdout.trim(), r#"{"r": 4.0}"#);
    // Each run draws fresh random numbers (the component's snapshot does not fix the seed).
    let draw = "import random\nprint(random.random())";
    let first = sandbox().run(draw).await.unwrap().finished.stdout;
    let second = sandbox().run(draw).await.unwrap().finished.stdout;
    assert_ne!(first, second);
}

#[tokio::test]
async fn a_refusal_names_the_construct_and_line() {
    let err = sandbox()
        .run("import operator\ndef f():\n    pass\ng = operator.attrgetter('x')\n")
        .await
        .unwrap_err();
    let SandboxError::Refused { refusals } = &err else {
        panic!("{err}")
    };
    assert_eq!(
        (refusals[0].line, refusals[0].construct.as_str()),
        (4, ".attrgetter")
    );
    assert!(err.to_string().contains("line 4: `.attrgetter`"), "{err}");
}

#[tokio::test]
async fn the_environment_is_empty_and_files_live_in_the_scratch_directory_only() {
    let planted = plant();
    let code = planted.substitute(
        "import os, json\n\
         print(json.dumps(dict(os.environ)))\n\
         open('out.txt', 'w').write('kept')\n\
         print(open('out.txt').read())\n\
         print(sorted(os.listdir('/')))\n\
         try:\n    open('/tmp/aratta-secret.txt').read()\nexcept OSError as e:\n    print(type(e).__name__)\n",
    );
    let report = sandbox().run_unchecked(&code).await.unwrap();
    assert!(report.succeeded(), "{report:?}");
    let lines: Vec<&str> = report.finished.stdout.lines().collect();
    assert_eq!(
        lines,
        ["{}", "kept", "['out.txt']", "FileNotFoundError"],
        "{report:?}"
    );
}

/// The component has no `socket` module (only what was snapshotted at build time exists), and
/// below it WASI grants no TCP, UDP or name lookup: `_socket`, where the interpreter has it
/// built in, reaches the host's denial. Either way the host's listener is never reached.
#[tokio::test]
async fn a_socket_to_a_listening_host_port_never_connects_and_names_are_not_resolved() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let code = format!(
        "import importlib\n\
         for name in ['socket', '_socket']:\n\
         \x20   try:\n\
         \x20       m = __import__(name)\n\
         \x20   except ImportError as e:\n\
         \x20       print(name, 'missing')\n\
         \x20       continue\n\
         \x20   for what, attempt in [('connect', lambda: m.socket().connect(('127.0.0.1', {port}))),\n\
         \x20                         ('lookup', lambda: m.getaddrinfo(b'localhost', {port}))]:\n\
         \x20       try:\n\
         \x20           attempt()\n\
         \x20           print(name, what, 'succeeded')\n\
         \x20       except Exception as e:\n\
         \x20           print(name, what, 'failed', type(e).__name__, e)\n"
    );
    let report = sandbox().run_unchecked(&code).await.unwrap();
    let out = &report.finished.stdout;
    eprintln!("{out}");
    assert!(!out.contains("succeeded"), "{report:?}");
    assert!(out.contains("socket missing"), "{report:?}");
    // Beneath the missing module, WASI itself refuses: no TCP, no name lookup.
    assert!(
        out.contains("_socket connect failed PermissionError"),
        "{report:?}"
    );
    assert!(out.contains("_socket lookup failed"), "{report:?}");
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the host's listener was reached"
    );
}

/// The numbers the README states: run with `--nocapture` to read them.
#[tokio::test]
async fn measurements() {
    let sandbox = sandbox();
    sandbox.ready().await.unwrap();
    let wasm = std::fs::read_dir(bins::cache_dir().join("sandbox"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        // The newest: a cache may still hold builds of an older guest.
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
        .expect("the built component in the cache");
    eprintln!(
        "component size: {:.1} MB",
        wasm.metadata().unwrap().len() as f64 / 1e6
    );
    // A cache holding only the built .wasm: the first load compiles it, the next deserializes.
    let cache = tempfile::tempdir().unwrap();
    std::fs::create_dir(cache.path().join("sandbox")).unwrap();
    std::fs::copy(
        &wasm,
        cache.path().join("sandbox").join(wasm.file_name().unwrap()),
    )
    .unwrap();
    for what in [
        "first load (Cranelift compile)",
        "later load (cached .cwasm)",
    ] {
        let fresh = Sandbox::new(SandboxConfig {
            source: ComponentSource {
                componentize_py: None,
                cache_dir: Some(cache.path().to_path_buf()),
            },
            ..SandboxConfig::default()
        })
        .unwrap();
        let started = Instant::now();
        fresh.ready().await.unwrap();
        eprintln!("{what}: {:?}", started.elapsed());
    }
    for (what, code) in [
        ("print(1+1)", "print(1+1)"),
        (
            "sum of squares below 10^6",
            "print(sum(i * i for i in range(10**6)))",
        ),
        (
            "json round trip of 10^4 items",
            "import json\nprint(len(json.loads(json.dumps(list(range(10**4))))))",
        ),
    ] {
        let mut times = Vec::new();
        for _ in 0..5 {
            let started = Instant::now();
            let report = sandbox.run(code).await.unwrap();
            assert!(report.succeeded(), "{report:?}");
            times.push(started.elapsed());
        }
        times.sort();
        eprintln!("{what}: median {:?} (instantiate, check and run)", times[2]);
    }
    let report = sandbox.run("while True:\n    pass\n").await.unwrap();
    assert_eq!(report.finished.exit, Exit::CpuLimit);
    eprintln!(
        "a spin loop spends the test's 6e9 fuel in {} ms",
        report.finished.duration_ms
    );
}
