//! Running one target: the corpus seeds first, unchanged, then mutated inputs until the budget
//! (a number of inputs, a wall-clock time or a CPU time) is spent. A panic is caught and counted as a crash, as is a
//! broken property; each distinct crash's input is written to a file so it can be replayed
//! (`fuzz <target> --replay FILE`) and added to the corpus. Inputs run on a thread with a
//! 2 MiB stack, the size of a tokio worker's, so a recursion that would overflow a request
//! handler's stack overflows here too.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

use crate::Target;
use crate::corpus;
use crate::mutate::Mutator;

/// How long a run goes on.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    /// This many inputs (seeds included): the short pass in `cargo test`.
    Inputs(u64),
    /// This much wall-clock time: the long run.
    Time(Duration),
    /// This much CPU time on the fuzzing thread: a long run on a machine that is also doing
    /// other work, where wall-clock time would overstate how much was fuzzed.
    CpuTime(Duration),
}

/// One distinct failure.
#[derive(Debug, Clone)]
pub struct Crash {
    /// The panic message and location, or the broken property.
    pub message: String,
    /// The input that caused it.
    pub input: Vec<u8>,
    /// Where the input was written, if it could be.
    pub saved: Option<PathBuf>,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The target's name.
    pub target: &'static str,
    /// The PRNG seed; the same seed and budget replay the same inputs.
    pub seed: u64,
    /// Inputs run.
    pub inputs: u64,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// CPU time the fuzzing thread used.
    pub cpu: Duration,
    /// Failing inputs in total (a crash found again counts again).
    pub failures: u64,
    /// Distinct failures (by message), with their first input; at most 32 kept.
    pub crashes: Vec<Crash>,
    /// The slowest input and its time, to spot inputs that cost too much.
    pub slowest: (Duration, Vec<u8>),
}

thread_local! {
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Route panics on a fuzzing thread into `LAST_PANIC` instead of stderr; other threads
/// (a failing test's assertion) keep the default hook.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CATCHING.get() {
                LAST_PANIC.set(Some(info.to_string()));
            } else {
                previous(info);
            }
        }));
    });
}

/// Run `target` on `input` once: `Err` with the panic or the broken property.
pub fn check(target: &Target, input: &[u8]) -> Result<(), String> {
    install_hook();
    CATCHING.set(true);
    let result = panic::catch_unwind(AssertUnwindSafe(|| (target.check)(input)));
    CATCHING.set(false);
    match result {
        Ok(outcome) => outcome,
        Err(_) => Err(LAST_PANIC
            .take()
            .unwrap_or_else(|| "panicked (no message)".into())),
    }
}

/// Run `target` from `seed` within `budget`, writing failing inputs under `crash_dir`.
pub fn run(target: &'static Target, seed: u64, budget: Budget, crash_dir: &Path) -> Report {
    let crash_dir = crash_dir.join(target.name);
    let work = move || run_here(target, seed, budget, &crash_dir);
    std::thread::Builder::new()
        .name(format!("fuzz-{}", target.name))
        .stack_size(2 << 20)
        .spawn(work)
        .expect("spawn the fuzzing thread")
        .join()
        .expect("the fuzzing loop itself does not panic")
}

fn run_here(target: &'static Target, seed: u64, budget: Budget, crash_dir: &Path) -> Report {
    let seeds = corpus::load(target.name);
    let mut mutator = Mutator::new(seed, &seeds, target.dict);
    let mut report = Report {
        target: target.name,
        seed,
        inputs: 0,
        elapsed: Duration::ZERO,
        cpu: Duration::ZERO,
        failures: 0,
        crashes: Vec::new(),
        slowest: (Duration::ZERO, Vec::new()),
    };
    let start = Instant::now();
    loop {
        let done = match budget {
            Budget::Inputs(n) => report.inputs >= n,
            // Look at the clock every 64 inputs: it costs more than a small input.
            Budget::Time(limit) => report.inputs.is_multiple_of(64) && start.elapsed() >= limit,
            Budget::CpuTime(limit) => report.inputs.is_multiple_of(64) && thread_cpu() >= limit,
        };
        if done {
            break;
        }
        let input = match seeds.get(report.inputs as usize) {
            Some(seed_input) => seed_input.clone(),
            None => mutator.next_input(),
        };
        let began = Instant::now();
        let outcome = check(target, &input);
        let took = began.elapsed();
        if took > report.slowest.0 {
            report.slowest = (took, input.clone());
        }
        report.inputs += 1;
        if let Err(message) = outcome {
            report.failures += 1;
            let known = report.crashes.iter().any(|c| c.message == message);
            if !known && report.crashes.len() < 32 {
                let saved = save(crash_dir, &input);
                report.crashes.push(Crash {
                    message,
                    input,
                    saved,
                });
            }
        }
    }
    report.elapsed = start.elapsed();
    report.cpu = thread_cpu();
    report
}

/// CPU time used by the calling thread so far.
fn thread_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID exists on every
    // platform the harness builds for (Linux, macOS).
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// Write `input` to `dir/crash-<hash>`; the name is stable, so a crash found twice is one file.
fn save(dir: &Path, input: &[u8]) -> Option<PathBuf> {
    std::fs::create_dir_all(dir).ok()?;
    let path = dir.join(format!("crash-{:016x}", fnv1a(input)));
    std::fs::write(&path, input).ok()?;
    Some(path)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Report {
    /// Inputs per second of the fuzzing thread's CPU time: what the harness does, whatever
    /// else the machine was busy with.
    pub fn rate(&self) -> f64 {
        self.inputs as f64 / self.cpu.as_secs_f64().max(1e-9)
    }

    /// A human summary of the crashes: message, saved file and the input (cut at 2 KB).
    pub fn describe_crashes(&self) -> String {
        let mut out = String::new();
        for crash in &self.crashes {
            let shown = String::from_utf8_lossy(&crash.input[..crash.input.len().min(2048)]);
            out.push_str(&format!(
                "\n--- {} (seed {}):\n{}\nsaved: {}\ninput ({} bytes): {shown}\n",
                self.target,
                self.seed,
                crash.message,
                crash
                    .saved
                    .as_ref()
                    .map_or("(not saved)".into(), |p| p.display().to_string()),
                crash.input.len(),
            ));
        }
        out
    }
}
