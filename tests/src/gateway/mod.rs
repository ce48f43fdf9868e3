//! Runs the real `aratta` binary for a test.
//!
//! [`Gateway::start`] writes the config into a fresh temporary `ARATTA_HOME`, optionally drops
//! adapter `.wasm` files into `<home>/adapters/`, spawns `aratta serve --port 0` and waits (60 s at
//! most) for the server's `aratta listening on http://HOST:PORT` line. The child runs with
//! `ARATTA_HOME`, the shared `ARATTA_CACHE_DIR`, and without any inherited `ARATTA_*` or
//! `*_API_KEY` variable unless the test sets one. It is killed when the [`Gateway`] drops.
//!
//! ```no_run
//! # async fn demo() {
//! use aratta_tests::{config::Config, gateway::Gateway, mock::{MockUpstream, Script}};
//! let mock = MockUpstream::start(Script::new()).await;
//! let gateway = Gateway::start(&Config::local(&mock.base_url())).await;
//! let answer = gateway
//!     .post_json("/v1/chat/completions", &serde_json::json!({"model": "local:m", "messages": []}))
//!     .await;
//! # }
//! ```

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::process::Child;
use tokio::sync::oneshot;

use crate::bins;
use crate::config::Config;
use crate::expect::{self, Answer};

mod process;

use process::{Captured, aratta_command, capture};

/// How long a gateway may take to print its listening line.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a gateway did not come up.
#[derive(Debug)]
pub struct StartFailure {
    /// What went wrong (early exit, timeout, spawn error).
    pub reason: String,
    /// The exit status, when the child exited.
    pub status: Option<ExitStatus>,
    /// Everything the child printed on stdout.
    pub stdout: String,
    /// Everything the child printed on stderr.
    pub stderr: String,
}

impl std::fmt::Display for StartFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "aratta did not start: {}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.reason, self.stdout, self.stderr
        )
    }
}

/// Everything needed to start one gateway. Made by [`Gateway::builder`].
pub struct GatewayBuilder {
    config: String,
    adapters: Vec<(String, Vec<u8>)>,
    env: Vec<(String, String)>,
    binary: Option<PathBuf>,
}

impl GatewayBuilder {
    /// Copies an adapter `.wasm` into `<home>/adapters/` under its own file name.
    pub fn adapter_file(self, path: &Path) -> Self {
        let name = path
            .file_name()
            .expect("adapter path has a file name")
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(path)
            .unwrap_or_else(|e| panic!("cannot read adapter {}: {e}", path.display()));
        self.adapter_bytes(&name, bytes)
    }

    /// Writes `bytes` as `<home>/adapters/<file_name>` (for corrupt or foreign modules).
    pub fn adapter_bytes(mut self, file_name: &str, bytes: Vec<u8>) -> Self {
        self.adapters.push((file_name.to_string(), bytes));
        self
    }

    /// Sets an environment variable for the child (after the inherited ones are cleaned).
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Runs this binary instead of [`bins::aratta_bin`] (used to test the harness itself).
    pub fn binary(mut self, path: &Path) -> Self {
        self.binary = Some(path.to_path_buf());
        self
    }

    /// Starts the gateway; panics with the child's output when it does not come up.
    pub async fn start(self) -> Gateway {
        self.try_start().await.unwrap_or_else(|f| panic!("{f}"))
    }

    /// Starts the gateway, or reports why it did not come up.
    pub async fn try_start(self) -> Result<Gateway, StartFailure> {
        let home = tempfile::Builder::new()
            .prefix("aratta-home-")
            .tempdir()
            .expect("create a temporary ARATTA_HOME");
        std::fs::write(home.path().join("config.toml"), &self.config).expect("write config.toml");
        if !self.adapters.is_empty() {
            let dir = home.path().join("adapters");
            std::fs::create_dir_all(&dir).expect("create <home>/adapters");
            for (name, bytes) in &self.adapters {
                std::fs::write(dir.join(name), bytes).expect("write adapter file");
            }
        }
        let binary = self.binary.clone().unwrap_or_else(bins::aratta_bin);
        launch(home, binary, self.env).await
    }
}

/// Spawns `aratta serve --port 0` in `home` and waits for its listening line.
async fn launch(
    home: tempfile::TempDir,
    binary: PathBuf,
    env: Vec<(String, String)>,
) -> Result<Gateway, StartFailure> {
    let mut command = aratta_command(&binary, home.path(), &env);
    command
        .args(["serve", "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Err(StartFailure {
                reason: format!("cannot spawn {}: {e}", binary.display()),
                status: None,
                stdout: String::new(),
                stderr: String::new(),
            });
        }
    };

    let stdout = Captured::default();
    let stderr = Captured::default();
    let (url_tx, url_rx) = oneshot::channel();
    let out_task = tokio::spawn(capture(
        child.stdout.take().expect("piped stdout"),
        stdout.clone(),
        Some(url_tx),
    ));
    let err_task = tokio::spawn(capture(
        child.stderr.take().expect("piped stderr"),
        stderr.clone(),
        None,
    ));

    let exited = |status: std::io::Result<ExitStatus>| {
        let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
        format!("exited before listening ({status})")
    };
    let outcome = tokio::select! {
        url = url_rx => url.map_err(|_| None),
        status = child.wait() => Err(Some(exited(status))),
        _ = tokio::time::sleep(STARTUP_TIMEOUT) =>
            Err(Some(format!("no listening line within {STARTUP_TIMEOUT:?}"))),
    };
    // stdout can close a moment before the exit is reported; prefer saying how it exited.
    let outcome = match outcome {
        Err(None) => Err(
            match tokio::time::timeout(Duration::from_secs(5), child.wait()).await {
                Ok(status) => exited(status),
                Err(_) => "closed stdout before the listening line".to_string(),
            },
        ),
        other => other.map_err(Option::unwrap_or_default),
    };
    match outcome {
        Ok(base_url) => Ok(Gateway {
            base_url,
            child,
            home,
            stdout,
            stderr,
            client: client(),
            binary,
            env,
        }),
        Err(reason) => {
            let _ = child.start_kill();
            let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
                .await
                .ok()
                .and_then(Result::ok);
            // The readers finish at EOF, once the child is gone.
            let _ = tokio::time::timeout(Duration::from_secs(5), out_task).await;
            let _ = tokio::time::timeout(Duration::from_secs(5), err_task).await;
            Err(StartFailure {
                reason,
                status,
                stdout: stdout.text(),
                stderr: stderr.text(),
            })
        }
    }
}

/// A running `aratta serve`. Killed on drop; its `ARATTA_HOME` is deleted with it.
pub struct Gateway {
    base_url: String,
    child: Child,
    home: tempfile::TempDir,
    stdout: Captured,
    stderr: Captured,
    client: reqwest::Client,
    binary: PathBuf,
    env: Vec<(String, String)>,
}

impl Gateway {
    /// Kills the server (SIGKILL, as a crash or power cut would leave things) and starts it
    /// again on the same `ARATTA_HOME` with the same environment; panics if it does not come
    /// back. The new server listens on a new port, and its logs start empty.
    pub async fn restart(mut self) -> Gateway {
        let _ = self.child.kill().await;
        launch(self.home, self.binary, self.env)
            .await
            .unwrap_or_else(|f| panic!("{f}"))
    }

    /// Prepares a gateway with this config (add adapters or env, then `start`).
    pub fn builder(config: &Config) -> GatewayBuilder {
        Self::builder_toml(&config.to_toml())
    }

    /// Prepares a gateway whose `config.toml` is exactly `toml`.
    pub fn builder_toml(toml: &str) -> GatewayBuilder {
        GatewayBuilder {
            config: toml.to_string(),
            adapters: Vec::new(),
            env: Vec::new(),
            binary: None,
        }
    }

    /// Starts a gateway with this config and nothing else; panics if it does not come up.
    pub async fn start(config: &Config) -> Gateway {
        Self::builder(config).start().await
    }

    /// The server's root URL, e.g. `http://127.0.0.1:43121`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `base_url` + `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The server's process id (for reading `/proc/<pid>/status`), while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The server's peak resident memory so far, in KiB (`VmHWM` in `/proc/<pid>/status`).
    pub fn peak_rss_kib(&self) -> u64 {
        let pid = self.pid().expect("the gateway runs");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("procfs");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/<pid>/status")
    }

    /// The temporary `ARATTA_HOME`.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// What the server printed on stdout so far (ANSI colours removed).
    pub fn stdout(&self) -> String {
        self.stdout.text()
    }

    /// What the server printed on stderr so far (ANSI colours removed).
    pub fn stderr(&self) -> String {
        self.stderr.text()
    }

    /// stdout and stderr together.
    pub fn logs(&self) -> String {
        format!("{}{}", self.stdout(), self.stderr())
    }

    /// Waits up to `timeout` for a log line containing every one of `needles`; returns it.
    pub async fn wait_for_log(&self, needles: &[&str], timeout: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let logs = self.logs();
            if let Some(line) = logs
                .lines()
                .find(|line| needles.iter().all(|n| line.contains(n)))
            {
                return Some(line.to_string());
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether the server process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// A client for this gateway (no proxy, 30 s overall timeout).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// `GET path`; panics if the request cannot be sent at all.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path} failed: {e}\n{}", self.logs()))
    }

    /// `POST path` with a JSON body; panics if the request cannot be sent at all.
    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path} failed: {e}\n{}", self.logs()))
    }

    /// Panics unless a plain chat with `model` on `/v1/chat/completions` answers 200 with a
    /// valid `chat.completion` (e.g. to show the server still serves after a fault).
    pub async fn assert_answers(&self, model: &str) {
        let answer =
            Answer::read(self.post_json("/v1/chat/completions", &hello(model)).await).await;
        answer.assert_status(200);
        expect::chat_completion(&answer.json());
    }

    /// `POST path` with a raw body and `content-type: application/json`.
    pub async fn post_raw(&self, path: &str, body: &str) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path} failed: {e}\n{}", self.logs()))
    }
}

/// A one-message chat request body for `model`, valid on both chat routes (OpenAI and SCRI).
pub fn hello(model: &str) -> Value {
    serde_json::json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

/// The common setup: a mock upstream running `script` and a gateway whose only provider is
/// `local` pointing at it.
pub async fn local_gateway(script: crate::mock::Script) -> (crate::mock::MockUpstream, Gateway) {
    let mock = crate::mock::MockUpstream::start(script).await;
    let gateway = Gateway::start(&Config::local(&mock.base_url())).await;
    (mock, gateway)
}

/// Runs `aratta <args>` to completion (e.g. `init`) with the same environment rules as the server.
pub async fn run_aratta(home: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    run_aratta_within(home, args, env, STARTUP_TIMEOUT).await
}

/// [`run_aratta`] for a command that may take up to `timeout` (e.g. `adapter build`).
pub async fn run_aratta_within(
    home: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    timeout: Duration,
) -> std::process::Output {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let binary = bins::aratta_bin();
    let mut command = aratta_command(&binary, home, &env);
    command.args(args).stdin(Stdio::null()).kill_on_drop(true);
    tokio::time::timeout(timeout, command.output())
        .await
        .unwrap_or_else(|_| panic!("`aratta {}` did not finish in {timeout:?}", args.join(" ")))
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()))
}

/// A client that never uses a proxy from the environment, and never reuses a connection the
/// gateway may have closed: its idle keep-alive connections are dropped after 30 s, before the
/// server's own idle timeout (`[server] idle_timeout_seconds`, 60 s by default) closes them.
/// (A test that blocked its thread for a minute, building an adapter variant, once sent its
/// next request on a connection the server had closed: "error sending request".)
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        .expect("build the test HTTP client")
}

#[cfg(test)]
mod tests;
