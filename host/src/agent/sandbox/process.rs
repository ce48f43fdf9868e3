//! One sandboxed Python process: spawned with an empty environment in its own session, under
//! OS resource limits, optionally in a fresh network namespace and as an unprivileged user;
//! its output is read up to a bound and the whole process group is killed when the wall-clock
//! limit passes.
//!
//! Everything done between `fork` and `exec` (in `pre_exec`) is a raw system call
//! (`setsid`, `setrlimit`, `unshare`, `setgroups`, `setgid`, `setuid`), which is what is safe
//! in the child of a multi-threaded process.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// The uid/gid a root gateway drops sandboxed code to (`nobody`), so `RLIMIT_NPROC` applies
/// (root is exempt from it) and nothing the gateway's user owns is writable.
pub const NOBODY: u32 = 65534;

/// How strongly a process is isolated beyond its resource limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Mode {
    /// Run in a new, empty network namespace (no interfaces but a down loopback).
    pub network_namespace: bool,
    /// Switch to this uid and gid before `exec` (only possible when the gateway is root).
    pub drop_to_uid: Option<u32>,
}

/// The limits one process runs under.
#[derive(Debug, Clone, Copy)]
pub struct ProcessLimits {
    /// Wall-clock time before the process group is killed.
    pub wall: Duration,
    /// CPU seconds (`RLIMIT_CPU`; the kernel sends SIGXCPU, then SIGKILL a second later).
    pub cpu_seconds: u64,
    /// Address-space bytes (`RLIMIT_AS`).
    pub memory_bytes: u64,
    /// Processes of the sandbox's user (`RLIMIT_NPROC`), against fork bombs.
    pub max_processes: u64,
    /// Largest file the process may write (`RLIMIT_FSIZE`).
    pub max_file_bytes: u64,
    /// Bytes kept of stdout and of stderr each; the rest is read and dropped.
    pub max_output_bytes: usize,
}

/// How a process ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Exit {
    /// It exited with this status.
    Exited {
        /// The exit status.
        code: i32,
    },
    /// A signal ended it (SIGXCPU: CPU limit; SIGKILL: CPU hard limit or memory).
    Signaled {
        /// The signal number.
        signal: i32,
    },
    /// The wall-clock limit passed and its process group was killed.
    TimedOut,
}

/// What one process did.
#[derive(Debug, Clone, Serialize)]
pub struct Finished {
    /// How it ended.
    pub exit: Exit,
    /// Its standard output, up to the bound (lossy UTF-8).
    pub stdout: String,
    /// Its standard error, up to the bound (lossy UTF-8).
    pub stderr: String,
    /// Whether stdout was longer than the bound.
    pub stdout_truncated: bool,
    /// Whether stderr was longer than the bound.
    pub stderr_truncated: bool,
    /// Wall-clock time from spawn to the end.
    pub duration_ms: u64,
}

/// Run `program args` in `cwd` with `stdin` as input, under `limits` and `mode`.
pub async fn run(
    program: &Path,
    args: &[&str],
    cwd: &Path,
    stdin: &[u8],
    limits: &ProcessLimits,
    mode: Mode,
) -> std::io::Result<Finished> {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let limits_copy = *limits;
    // SAFETY: the closure only makes async-signal-safe system calls and allocates nothing.
    unsafe {
        command.pre_exec(move || confine(&limits_copy, mode));
    }
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + limits.wall;
    let mut child = command.spawn()?;
    let pid = child.id().map(|p| p as i32);
    let cap = limits.max_output_bytes;
    let out = tokio::spawn(read_bounded(child.stdout.take(), cap));
    let err = tokio::spawn(read_bounded(child.stderr.take(), cap));
    if let Some(mut input) = child.stdin.take() {
        // A process that exits without reading its input closes the pipe: not an error here.
        let _ = tokio::time::timeout_at(deadline, input.write_all(stdin)).await;
    }
    let exit = match tokio::time::timeout_at(deadline, child.wait()).await {
        Ok(status) => {
            // Whatever the leader left behind in its group goes with it. Its group id stays
            // taken while any member lives, so this cannot reach another process's group.
            kill_group(pid);
            exit_of(status?)
        }
        Err(_) => {
            kill_group(pid);
            let _ = child.wait().await;
            Exit::TimedOut
        }
    };
    // A process still holding the pipes after that left the group (`setsid`): wait for it
    // until the deadline, then try the group once more.
    let grace = deadline.max(tokio::time::Instant::now() + Duration::from_millis(200));
    let both = async { (out.await, err.await) };
    let (out, err) = match tokio::time::timeout_at(grace, both).await {
        Ok(pair) => pair,
        Err(_) => {
            kill_group(pid);
            return Ok(Finished {
                exit: Exit::TimedOut,
                stdout: String::new(),
                stderr: "the sandbox's processes outlived it and were killed".into(),
                stdout_truncated: false,
                stderr_truncated: false,
                duration_ms: started.elapsed().as_millis() as u64,
            });
        }
    };
    let (stdout, stdout_truncated) = out.unwrap_or_default();
    let (stderr, stderr_truncated) = err.unwrap_or_default();
    Ok(Finished {
        exit,
        stdout,
        stderr,
        stdout_truncated,
        stderr_truncated,
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

fn exit_of(status: std::process::ExitStatus) -> Exit {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Exited { code },
        (None, Some(signal)) => Exit::Signaled { signal },
        (None, None) => Exit::Exited { code: -1 },
    }
}

/// SIGKILL to every process in the sandbox's group (its leader called `setsid`, so the group id
/// is the leader's pid).
fn kill_group(pid: Option<i32>) {
    if let Some(pid) = pid.filter(|p| *p > 0) {
        // SAFETY: plain system call; ESRCH (already gone) is fine.
        unsafe {
            libc::killpg(pid, libc::SIGKILL);
        }
    }
}

async fn read_bounded(pipe: Option<impl AsyncRead + Unpin>, cap: usize) -> (String, bool) {
    let Some(mut pipe) = pipe else {
        return (String::new(), false);
    };
    let mut kept = Vec::new();
    let mut truncated = false;
    let mut buf = [0u8; 8192];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = cap.saturating_sub(kept.len());
                if n > room {
                    truncated = true;
                }
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    (String::from_utf8_lossy(&kept).into_owned(), truncated)
}

/// Between fork and exec: a new session (so the group can be killed whole), the resource
/// limits, the network namespace, then the unprivileged user. Order matters: `unshare` of the
/// network namespace needs root's capabilities, which `setuid` gives up.
fn confine(limits: &ProcessLimits, mode: Mode) -> std::io::Result<()> {
    // SAFETY: each call is a single async-signal-safe system call on plain values.
    unsafe {
        if libc::setsid() < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let cpu = limits.cpu_seconds.max(1);
        set_limit(libc::RLIMIT_CPU, cpu, cpu + 1)?;
        set_limit(libc::RLIMIT_AS, limits.memory_bytes, limits.memory_bytes)?;
        set_limit(
            libc::RLIMIT_FSIZE,
            limits.max_file_bytes,
            limits.max_file_bytes,
        )?;
        set_limit(libc::RLIMIT_CORE, 0, 0)?;
        set_limit(libc::RLIMIT_NOFILE, 64, 64)?;
        if mode.network_namespace {
            let flags = if libc::geteuid() == 0 {
                libc::CLONE_NEWNET
            } else {
                libc::CLONE_NEWUSER | libc::CLONE_NEWNET
            };
            if libc::unshare(flags) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        if let Some(uid) = mode.drop_to_uid
            && (libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(uid) != 0
                || libc::setuid(uid) != 0)
        {
            return Err(std::io::Error::last_os_error());
        }
        // Last, so it counts the sandbox's own user, not root (which the kernel exempts).
        set_limit(
            libc::RLIMIT_NPROC,
            limits.max_processes,
            limits.max_processes,
        )?;
    }
    Ok(())
}

unsafe fn set_limit(
    resource: libc::__rlimit_resource_t,
    soft: u64,
    hard: u64,
) -> std::io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: soft as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    // SAFETY: `limit` is a valid rlimit for the duration of the call.
    if unsafe { libc::setrlimit(resource, &limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
