//! Compiling adapters in a child process. Cranelift's working memory for one adapter is tens
//! of MB, and glibc keeps most of it after the compile is done: a first start that compiled
//! the built-in adapters in the server's own process left it at ~98 MB of RSS for good, against
//! ~35 MB after a start from the compile cache. A child (`aratta` itself, run with the hidden
//! `__compile-adapter` command) compiles one component into the compile cache and exits, so
//! the server only maps the result, as on any later start. A component that crashes
//! Cranelift crashes the child, not the gateway.
//!
//! Only the `aratta` binary opts in ([`compile_in_child_processes`]); a library user (the
//! tests, the benchmark, the fuzzer) compiles in-process.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use wasmtime::component::Component;

use super::SandboxLimits;
use super::engine::{build_engine, write_entry};

/// The executable that compiles, when this process opted in.
static EXECUTABLE: OnceLock<PathBuf> = OnceLock::new();

/// The hidden command the child runs.
pub const COMMAND: &str = "__compile-adapter";

/// The child's exit status for a component that does not compile (its stderr says why).
const INVALID: i32 = 3;

/// How long one compile may take before the child is killed. An adapter compiles in about a
/// second on two cores; a component that keeps Cranelift busy for minutes is refused rather
/// than left to hold up a start or a reload.
const COMPILE_TIMEOUT: Duration = Duration::from_secs(300);

/// Compile adapters in child processes of `executable` (the running `aratta`) from now on.
pub fn compile_in_child_processes(executable: PathBuf) {
    let _ = EXECUTABLE.set(executable);
}

/// Why a child did not produce a compiled component.
#[derive(Debug, thiserror::Error)]
pub enum ChildError {
    /// The component does not compile; what wasmtime said.
    #[error("{0}")]
    Invalid(String),
    /// The child died or failed for another reason than the component.
    #[error("the compiler process failed ({status}): {stderr}")]
    Failed {
        /// How it ended.
        status: ExitStatus,
        /// What it printed.
        stderr: String,
    },
    /// The compile took longer than its timeout ([`COMPILE_TIMEOUT`]); the child was killed.
    #[error("compiling took longer than {0:?}; the compiler process was stopped")]
    TimedOut(Duration),
    /// The child could not be run at all.
    #[error("could not run the compiler process {executable}: {source}")]
    Spawn {
        /// What was run.
        executable: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// Compiles components for an engine built from `limits`, in a child process.
#[derive(Debug, Clone)]
pub struct ChildCompiler {
    executable: PathBuf,
    limits: SandboxLimits,
    timeout: Duration,
}

impl ChildCompiler {
    /// A compiler for engines built from `limits`, if this process opted in.
    pub fn for_limits(limits: SandboxLimits) -> Option<Self> {
        EXECUTABLE.get().map(|executable| ChildCompiler {
            executable: executable.clone(),
            limits,
            timeout: COMPILE_TIMEOUT,
        })
    }

    /// Compile `bytes` and write the result to `out` (a compile-cache entry).
    pub fn compile_to(&self, bytes: &[u8], out: &Path) -> Result<(), ChildError> {
        let spawn_error = |source| ChildError::Spawn {
            executable: self.executable.clone(),
            source,
        };
        let mut child = Command::new(&self.executable)
            .arg(COMMAND)
            .args(["--memory-bytes", &self.limits.memory_bytes.to_string()])
            .args(["--fuel", &self.limits.fuel.to_string()])
            .args(["--max-instances", &self.limits.max_instances.to_string()])
            .arg("--out")
            .arg(out)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        // A child that exits early closes its stdin; its status says why, so a failed write
        // is not the error to report.
        let _ = child.stdin.take().expect("stdin is piped").write_all(bytes);
        // Read stderr on the side, so a child that writes much never blocks on a full pipe.
        let mut stderr_pipe = child.stderr.take().expect("stderr is piped");
        let reader = std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = stderr_pipe.read_to_end(&mut text);
            text
        });
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait().map_err(spawn_error)? {
                Some(status) => break status,
                None if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(ChildError::TimedOut(self.timeout));
                }
                None => std::thread::sleep(Duration::from_millis(10)),
            }
        };
        let stderr = reader.join().unwrap_or_default();
        let stderr = String::from_utf8_lossy(&stderr).trim().to_owned();
        match status.code() {
            Some(0) => Ok(()),
            Some(INVALID) => Err(ChildError::Invalid(stderr)),
            _ => Err(ChildError::Failed { status, stderr }),
        }
    }
}

/// The child's side: read a component from stdin, compile it for an engine built from
/// `limits`, and write the compile-cache entry `out`. Returns the process exit code.
pub fn run_child(limits: SandboxLimits, out: &Path) -> i32 {
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
        eprintln!("could not read the component from stdin: {e}");
        return 1;
    }
    let engine = match build_engine(&limits) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let component = match Component::new(&engine, &bytes) {
        Ok(component) => component,
        Err(e) => {
            eprintln!("{e:#}");
            return INVALID;
        }
    };
    match write_entry(out, &component) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("could not write {}: {e:#}", out.display());
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A compiler whose "executable" is a shell script with `body`.
    fn script(dir: &Path, body: &str, timeout: Duration) -> ChildCompiler {
        let path = dir.join("compiler.sh");
        std::fs::write(&path, format!("#!/bin/sh\ncat > /dev/null\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        ChildCompiler {
            executable: path,
            limits: SandboxLimits {
                memory_bytes: 1 << 20,
                fuel: 1,
                max_instances: 1,
            },
            timeout,
        }
    }

    fn compile(body: &str, timeout: Duration) -> Result<(), ChildError> {
        let dir = tempfile::tempdir().unwrap();
        script(dir.path(), body, timeout).compile_to(&[0; 100_000], &dir.path().join("x.cwasm"))
    }

    #[test]
    fn a_component_that_does_not_compile_reads_as_invalid_with_the_compilers_words() {
        let result = compile(
            "echo 'unexpected end-of-file' >&2; exit 3",
            Duration::from_secs(30),
        );
        assert!(
            matches!(&result, Err(ChildError::Invalid(why)) if why == "unexpected end-of-file"),
            "{result:?}"
        );
    }

    #[test]
    fn a_compiler_that_dies_is_a_failure_naming_how() {
        let result = compile(
            "echo 'out of memory' >&2; kill -9 $$",
            Duration::from_secs(30),
        );
        let Err(e @ ChildError::Failed { .. }) = result else {
            panic!("{result:?}")
        };
        let text = e.to_string();
        assert!(
            text.contains("signal: 9") && text.contains("out of memory"),
            "{text}"
        );
    }

    #[test]
    fn a_compiler_that_hangs_is_killed_at_its_timeout() {
        let started = Instant::now();
        let result = compile("sleep 30", Duration::from_millis(300));
        assert!(matches!(result, Err(ChildError::TimedOut(_))), "{result:?}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_missing_executable_cannot_be_spawned() {
        let compiler = ChildCompiler {
            executable: PathBuf::from("/nonexistent/aratta"),
            ..script(
                tempfile::tempdir().unwrap().path(),
                "",
                Duration::from_secs(1),
            )
        };
        let result = compiler.compile_to(b"", Path::new("/nonexistent/x.cwasm"));
        assert!(
            matches!(result, Err(ChildError::Spawn { .. })),
            "{result:?}"
        );
    }
}
