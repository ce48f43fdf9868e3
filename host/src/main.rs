//! The `aratta` binary: sets up logging, parses the command line and runs the command.
//! Errors print as `error: <message>` with their causes, and exit with status 1.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use aratta_host::cli::{AdapterCommand, AgentCommand, Cli, Command};
use aratta_host::commands;
use aratta_host::home::Home;
use aratta_host::runtime::SandboxLimits;
use aratta_host::runtime::compile_child;

/// Log filter for the server when `RUST_LOG` is unset.
const SERVE_LOG_FILTER: &str = "info,wasmtime=warn,cranelift_codegen=warn";
/// Log filter for one-shot commands, which report through their own output.
const COMMAND_LOG_FILTER: &str = "warn,aratta_host=off,wasmtime=off,cranelift_codegen=off";

fn main() -> ExitCode {
    quiet_library_backtraces();
    let cli = Cli::parse();
    if let Command::CompileAdapter(args) = &cli.command {
        let limits = SandboxLimits {
            memory_bytes: args.memory_bytes,
            fuel: args.fuel,
            max_instances: args.max_instances,
        };
        let code = compile_child::run_child(limits, &args.out);
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    if let Some(executable) = this_executable() {
        compile_child::compile_in_child_processes(executable);
    }
    let serving = matches!(cli.command, Command::Serve(_));
    if let Err(error) = init_logging(if serving {
        SERVE_LOG_FILTER
    } else {
        COMMAND_LOG_FILTER
    }) {
        report(&error);
        return ExitCode::FAILURE;
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            report(&error);
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let home = Home::from_env()?;
    match cli.command {
        Command::Init(args) => {
            println!("{}", commands::init::init(&home, args.force)?);
        }
        Command::Serve(args) => {
            let config = commands::serve_config(&args, &home)?;
            if let Some(file) = &config.file {
                tracing::info!(config = %file.display(), "config loaded");
            } else {
                tracing::info!(expected = %home.config_path().display(), "no config file; using defaults (run `aratta init` to create one)");
            }
            async_runtime()?.block_on(aratta_host::bootstrap::serve(config, home))?;
        }
        Command::Adapter(AdapterCommand::Build(args)) => {
            let installed =
                async_runtime()?.block_on(commands::adapter::build(&args.dir, &home))?;
            println!("{installed}");
        }
        Command::Adapter(AdapterCommand::List(args)) => {
            let config = aratta_host::config::load(args.config.as_deref(), &home)?;
            print!(
                "{}",
                async_runtime()?.block_on(commands::adapter::list(&home, &config))?
            );
        }
        Command::Adapter(AdapterCommand::New(args)) => {
            println!("{}", commands::scaffold::new_adapter(&args)?);
        }
        Command::Adapter(AdapterCommand::Wit(args)) => {
            println!("{}", commands::adapter::wit(&args.dir)?);
        }
        Command::Adapter(AdapterCommand::Source(args)) => {
            println!("{}", commands::adapter::source(&args, &home)?);
        }
        Command::Adapter(AdapterCommand::Rollback(args)) => {
            print!(
                "{}",
                async_runtime()?.block_on(commands::approvals::run_rollback(&args, &home))?
            );
        }
        Command::Approvals(command) => {
            print!(
                "{}",
                async_runtime()?.block_on(commands::approvals::run(&command, &home))?
            );
        }
        Command::Heal(command) => {
            print!(
                "{}",
                async_runtime()?.block_on(commands::heal::run(&command, &home))?
            );
        }
        Command::Usage(args) => {
            print!(
                "{}",
                async_runtime()?.block_on(commands::usage::run(&args, &home))?
            );
        }
        Command::Keys(command) => {
            print!(
                "{}",
                async_runtime()?.block_on(commands::keys::run(&command, &home))?
            );
        }
        Command::Agent(AgentCommand::Run(args)) => {
            async_runtime()?.block_on(commands::agent::run(&args, &home))?;
        }
        Command::CompileAdapter(_) => unreachable!("handled before logging starts"),
    }
    Ok(())
}

/// Errors from libraries do not capture backtraces unless `RUST_LIB_BACKTRACE` asks for them.
/// With `RUST_BACKTRACE=1` alone every error captured one, and wasmtime creates an error for
/// each store it drops (to end the call's fiber): ~15-20 µs of CPU per request. Panics still
/// print backtraces as `RUST_BACKTRACE` says.
fn quiet_library_backtraces() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: called first thing in `main`, before any other thread exists.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
}

/// This executable, for the adapter compiles it runs as child processes. On Linux
/// `/proc/self/exe` names the running binary even after an upgrade replaced the file, so a
/// child always compiles for this version's engine.
fn this_executable() -> Option<std::path::PathBuf> {
    let proc_self = std::path::Path::new("/proc/self/exe");
    if proc_self.exists() {
        return Some(proc_self.to_owned());
    }
    std::env::current_exe().ok()
}

fn async_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Logs to stderr, filtered by `RUST_LOG` (else `default_filter`), coloured only on a terminal
/// (and not under `NO_COLOR`); `ARATTA_LOG_FORMAT=json` writes one JSON object per line for log
/// collectors.
fn init_logging(default_filter: &str) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::try_new(&directives)
            .with_context(|| format!("RUST_LOG={directives:?} is not a valid log filter (e.g. RUST_LOG=info,aratta_host=debug)"))?,
        _ => EnvFilter::new(default_filter),
    };
    // Colour only for a person at a terminal: a log file or a collector gets plain text.
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    match std::env::var("ARATTA_LOG_FORMAT").as_deref() {
        Ok("json") => builder.json().init(),
        Ok("text") | Ok("") | Err(_) => builder.init(),
        Ok(other) => anyhow::bail!(
            "ARATTA_LOG_FORMAT={other:?} is not a log format; use `text` (the default) or `json`"
        ),
    }
    Ok(())
}

/// Prints an error and its causes, one per line, without Debug output.
fn report(error: &anyhow::Error) {
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}
