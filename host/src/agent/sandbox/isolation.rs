//! Which Python interpreter runs sandboxed code, and how strongly this machine lets it be
//! isolated. Probed once per sandbox by starting the interpreter under each mode, strongest
//! first: a network namespace and an unprivileged user, then each alone, then neither. A
//! weaker mode is logged as a warning; the AST rules and the audit hook still apply in every
//! mode, and the result of every run says which mode it ran in.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::process::{self, Exit, Mode, NOBODY, ProcessLimits};

/// The interpreter and isolation mode the sandbox settled on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Isolation {
    /// The Python interpreter (a real binary, not a version-manager shim).
    pub interpreter: PathBuf,
    /// The OS isolation applied on top of the resource limits.
    #[serde(flatten)]
    pub mode: Mode,
}

/// Interpreters worth trying, in order: the configured one, else the system's
/// `/usr/bin/python3` (readable by an unprivileged user), then `python3` on `PATH` resolved
/// to the binary behind it (pyenv and similar put a shell script there).
pub async fn candidates(configured: Option<&Path>) -> Vec<PathBuf> {
    if let Some(path) = configured {
        return vec![path.to_path_buf()];
    }
    let mut found = Vec::new();
    for fixed in ["/usr/bin/python3", "/usr/local/bin/python3"] {
        if Path::new(fixed).exists() {
            found.push(PathBuf::from(fixed));
        }
    }
    let resolved = tokio::process::Command::new("python3")
        .args(["-I", "-S", "-c", "import sys; print(sys.executable)"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .await;
    if let Ok(out) = resolved
        && out.status.success()
    {
        let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if path.is_absolute() && !found.contains(&path) {
            found.push(path);
        }
    }
    found
}

/// The strongest mode in which one of `interpreters` starts, or every failure when none does.
pub async fn probe(interpreters: &[PathBuf]) -> Result<Isolation, Vec<String>> {
    // SAFETY: a plain system call.
    let root = unsafe { libc::geteuid() } == 0;
    let drop = root.then_some(NOBODY);
    let mut modes = vec![
        Mode {
            network_namespace: true,
            drop_to_uid: drop,
        },
        Mode {
            network_namespace: false,
            drop_to_uid: drop,
        },
    ];
    if drop.is_some() {
        modes.push(Mode {
            network_namespace: true,
            drop_to_uid: None,
        });
        modes.push(Mode {
            network_namespace: false,
            drop_to_uid: None,
        });
    }
    let limits = ProcessLimits {
        wall: Duration::from_secs(10),
        cpu_seconds: 5,
        memory_bytes: 512 << 20,
        max_processes: 64,
        max_file_bytes: 1 << 20,
        max_output_bytes: 4096,
    };
    let scratch = std::env::temp_dir();
    let mut failures = Vec::new();
    for mode in modes {
        for interpreter in interpreters {
            let args = ["-I", "-S", "-c", "import json, math"];
            match process::run(interpreter, &args, &scratch, b"", &limits, mode).await {
                Ok(done) if done.exit == (Exit::Exited { code: 0 }) => {
                    return Ok(Isolation {
                        interpreter: interpreter.clone(),
                        mode,
                    });
                }
                Ok(done) => failures.push(format!(
                    "{} with {mode:?}: {:?} {}",
                    interpreter.display(),
                    done.exit,
                    done.stderr.trim()
                )),
                Err(e) => failures.push(format!("{} with {mode:?}: {e}", interpreter.display())),
            }
        }
    }
    Err(failures)
}
