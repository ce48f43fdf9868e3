//! Child-process plumbing for the harness: a clean environment for `aratta`, and capturing its
//! output line by line.

use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::oneshot;

use crate::bins;

/// What the server prints once bound, followed by its URL (found anywhere in a line, so a log
/// prefix does not hide it).
pub(super) const LISTENING: &str = "aratta listening on ";

/// Output captured from a child process, shared with its reader tasks.
#[derive(Clone, Default)]
pub(super) struct Captured(Arc<Mutex<String>>);

impl Captured {
    pub(super) fn push_line(&self, line: &str) {
        let mut text = self.0.lock().expect("capture lock");
        text.push_str(line);
        text.push('\n');
    }

    pub(super) fn text(&self) -> String {
        self.0.lock().expect("capture lock").clone()
    }
}

/// A command for `binary` with a clean environment: no inherited `ARATTA_*` or `*_API_KEY`,
/// then `ARATTA_HOME`, the shared `ARATTA_CACHE_DIR`, `NO_COLOR`, then the test's own variables.
pub(super) fn aratta_command(binary: &Path, home: &Path, env: &[(String, String)]) -> Command {
    let mut command = Command::new(binary);
    for key in not_inherited(std::env::vars_os().map(|(k, _)| k.to_string_lossy().into_owned())) {
        command.env_remove(key);
    }
    command
        .env("ARATTA_HOME", home)
        .env("ARATTA_CACHE_DIR", bins::cache_dir())
        .env("NO_COLOR", "1")
        .current_dir(home);
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

/// The variables of the test's environment the child must not see: `ARATTA_*` and `*_API_KEY`.
pub(super) fn not_inherited(keys: impl Iterator<Item = String>) -> Vec<String> {
    keys.filter(|k| k.starts_with("ARATTA_") || k.ends_with("_API_KEY"))
        .collect()
}

/// Copies a child's output line by line into `into` (to its end, so the child never blocks on
/// a full pipe); sends the listening URL once seen.
pub(super) async fn capture(
    output: impl AsyncRead + Unpin,
    into: Captured,
    mut listening: Option<oneshot::Sender<String>>,
) {
    let mut reader = BufReader::new(output);
    let mut raw = Vec::new();
    loop {
        raw.clear();
        match reader.read_until(b'\n', &mut raw).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let line = strip_ansi(String::from_utf8_lossy(&raw).trim_end_matches(['\n', '\r']));
        into.push_line(&line);
        if let Some(at) = line.find(LISTENING)
            && let Some(url) = line[at + LISTENING.len()..].split_whitespace().next()
            && let Some(tx) = listening.take()
        {
            let _ = tx.send(url.trim_end_matches('/').to_string());
        }
    }
}

/// Removes ANSI escape sequences (colours) from a log line.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ ... final byte in @..~
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
