//! The long-run entry point:
//!
//! ```text
//! cargo run --release -p aratta-fuzz --bin fuzz -- <target|all> [--seconds N | --cpu-seconds N | --inputs N] [--seed S]
//! cargo run --release -p aratta-fuzz --bin fuzz -- <target> --replay FILE
//! cargo run --release -p aratta-fuzz --bin fuzz -- --list
//! ```
//!
//! Runs each target for the budget (default 60 s), prints inputs, inputs/s, failures and the
//! slowest input's time, and writes each distinct failing input, and the slowest input (as
//! `slowest`), under `target/fuzz-crashes/<target>/`. Exits
//! 1 when anything failed. The seed defaults to the clock; a report prints it, so any run can
//! be repeated with `--seed`.

use std::process::ExitCode;
use std::time::Duration;

use aratta_fuzz::runner::{self, Budget};
use aratta_fuzz::{TARGETS, Target, corpus};

struct Args {
    targets: Vec<&'static Target>,
    budget: Budget,
    seed: u64,
    replay: Option<String>,
}

fn usage() -> String {
    let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
    format!(
        "usage: fuzz <target|all> [--seconds N | --cpu-seconds N | --inputs N] [--seed S] [--replay FILE] | --list\ntargets: {}",
        names.join(", ")
    )
}

fn parse() -> Result<Option<Args>, String> {
    let mut argv = std::env::args().skip(1);
    let mut args = Args {
        targets: Vec::new(),
        budget: Budget::Time(Duration::from_secs(60)),
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
        replay: None,
    };
    let number = |v: Option<String>, flag: &str| -> Result<u64, String> {
        v.and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{flag} takes a whole number"))
    };
    while let Some(arg) = argv.next() {
        match arg.as_str() {
            "--list" => {
                for t in TARGETS {
                    println!("{:<20} {}", t.name, t.about);
                }
                return Ok(None);
            }
            "--seconds" => {
                args.budget = Budget::Time(Duration::from_secs(number(argv.next(), &arg)?));
            }
            "--cpu-seconds" => {
                args.budget = Budget::CpuTime(Duration::from_secs(number(argv.next(), &arg)?));
            }
            "--inputs" => args.budget = Budget::Inputs(number(argv.next(), &arg)?),
            "--seed" => args.seed = number(argv.next(), &arg)?,
            "--replay" => args.replay = Some(argv.next().ok_or("--replay takes a file")?),
            "all" => args.targets.extend(TARGETS.iter()),
            name => args.targets.push(
                aratta_fuzz::target(name)
                    .ok_or_else(|| format!("no target `{name}`\n{}", usage()))?,
            ),
        }
    }
    if args.targets.is_empty() {
        return Err(usage());
    }
    Ok(Some(args))
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(Some(args)) => args,
        Ok(None) => return ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    if let Some(file) = &args.replay {
        let input = match std::fs::read(file) {
            Ok(input) => input,
            Err(e) => {
                eprintln!("cannot read {file}: {e}");
                return ExitCode::from(2);
            }
        };
        let mut failed = false;
        for target in &args.targets {
            match runner::check(target, &input) {
                Ok(()) => println!("{}: ok", target.name),
                Err(message) => {
                    failed = true;
                    println!("{}: FAILED\n{message}", target.name);
                }
            }
        }
        return if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    let mut failed = false;
    println!(
        "{:<20} {:>10} {:>9} {:>8} {:>8} {:>8} {:>9} {:>10}",
        "target", "inputs", "inputs/s", "wall s", "cpu s", "failures", "distinct", "slowest"
    );
    for target in &args.targets {
        let report = runner::run(target, args.seed, args.budget, &corpus::crash_dir());
        println!(
            "{:<20} {:>10} {:>9.0} {:>8.0} {:>8.0} {:>8} {:>9} {:>8.2}ms",
            report.target,
            report.inputs,
            report.rate(),
            report.elapsed.as_secs_f64(),
            report.cpu.as_secs_f64(),
            report.failures,
            report.crashes.len(),
            report.slowest.0.as_secs_f64() * 1e3,
        );
        // The slowest input, to look at when the time is out of line with the rest.
        let slowest = corpus::crash_dir().join(target.name).join("slowest");
        if std::fs::create_dir_all(slowest.parent().expect("a parent"))
            .and_then(|()| std::fs::write(&slowest, &report.slowest.1))
            .is_err()
        {
            eprintln!("could not write {}", slowest.display());
        }
        if !report.crashes.is_empty() {
            failed = true;
            eprintln!("{}", report.describe_crashes());
        }
    }
    println!("seed {}", args.seed);
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
