//! The `aratta` command line: what each subcommand takes, with the help text users see.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Aratta: an LLM gateway that runs provider adapters as sandboxed WebAssembly components.
#[derive(Debug, Parser)]
#[command(
    name = "aratta",
    version,
    about,
    long_about = "Aratta: an LLM gateway that runs provider adapters as sandboxed WebAssembly \
                  components and serves SCRI plus OpenAI-compatible endpoints.\n\n\
                  Files live in Aratta's home: $ARATTA_HOME, else ~/.aratta. The config file is \
                  $ARATTA_CONFIG, else <home>/config.toml.",
    after_help = "Start with `aratta init`, then `aratta serve`. Logs: RUST_LOG=debug for more \
                  detail, ARATTA_LOG_FORMAT=json for JSON lines."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented starter config to <home>/config.toml (or $ARATTA_CONFIG).
    Init(InitArgs),
    /// Run the gateway.
    Serve(ServeArgs),
    /// Build, install and list provider adapters.
    #[command(subcommand)]
    Adapter(AdapterCommand),
    /// Review adapter versions waiting for a human, on the running server.
    #[command(subcommand)]
    Approvals(ApprovalsCommand),
    /// Run agents: a ReAct loop over the gateway with permission-checked, audited tools.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Heal cycles of the running server: list, show one, start one for an adapter.
    #[command(subcommand)]
    Heal(HealCommand),
    /// Client keys: the keys clients send to chat, embeddings and model listings. Works on
    /// the store directly (the server need not run); a running server sees changes within a
    /// second.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Usage: requests, tokens and cost, summed by key, model, provider, day or hour (from
    /// the store; the server need not run).
    Usage(UsageArgs),
    /// Internal: compile one adapter component (read from stdin) into the compile cache. The
    /// server runs this in a child process so Cranelift's memory is never its own.
    #[command(name = "__compile-adapter", hide = true)]
    CompileAdapter(CompileAdapterArgs),
}

/// Options of the internal `__compile-adapter`: the sandbox limits the server's engine was
/// built from (the compiled code must match that engine), and the cache entry to write.
#[derive(Debug, Args)]
pub struct CompileAdapterArgs {
    /// Linear memory per instance, in bytes.
    #[arg(long)]
    pub memory_bytes: usize,
    /// Fuel per call.
    #[arg(long)]
    pub fuel: u64,
    /// Instances at once.
    #[arg(long)]
    pub max_instances: u32,
    /// The compile-cache entry to write.
    #[arg(long)]
    pub out: PathBuf,
}

/// `aratta keys ...`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a key and print it. It is shown this once: the store keeps only its hash.
    Create(KeysCreateArgs),
    /// List every key, revoked and expired ones marked.
    List(StoreArgs),
    /// Show one key.
    Show {
        /// The key's id (`key_…`, see `aratta keys list`).
        #[arg(value_name = "ID")]
        id: String,
        /// Where the store is, and how to print.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Change a key's name, owner, lifetime, models, routes or limits; its clients keep the
    /// key (a running server applies the change within a second).
    Update(KeysUpdateArgs),
    /// Revoke a key: refused from now on (within a second by a running server).
    Revoke {
        /// The key's id (`key_…`).
        #[arg(value_name = "ID")]
        id: String,
        /// Where the store is, and how to print.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Options of `aratta keys create`.
#[derive(Debug, Args)]
pub struct KeysCreateArgs {
    /// What the key is for ("ci", "alice's laptop").
    #[arg(long)]
    pub name: String,
    /// Who holds it, what it may use, and its limits (none unless set).
    #[command(flatten)]
    pub settings: KeySettingsArgs,
    /// Where the store is, and how to print.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Options of `aratta keys update`: each given option is set, each `--clear`ed one removed,
/// the rest kept.
#[derive(Debug, Args)]
pub struct KeysUpdateArgs {
    /// The key's id (`key_…`, see `aratta keys list`).
    #[arg(value_name = "ID")]
    pub id: String,
    /// A new name.
    #[arg(long)]
    pub name: Option<String>,
    /// New settings: each replaces the key's own (a list, whole).
    #[command(flatten)]
    pub settings: KeySettingsArgs,
    /// Remove a setting, comma-separated or repeated: owner, expiry, models, routes, rpm, tpm,
    /// max-concurrent, budget (its period too).
    #[arg(long, value_name = "WHAT", value_delimiter = ',', value_parser = ["owner", "expiry", "models", "routes", "rpm", "tpm", "max-concurrent", "budget"])]
    pub clear: Vec<String>,
    /// Where the store is, and how to print.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// A key's settings, as `keys create` sets them and `keys update` changes them: one
/// declaration, so the two commands never disagree on a flag.
#[derive(Debug, Args)]
pub struct KeySettingsArgs {
    /// Who holds it.
    #[arg(long)]
    pub owner: Option<String>,
    /// How long from now until it stops working, e.g. `30d`, `12h`; a key made without it
    /// works until revoked.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub expires_in: Option<std::time::Duration>,
    /// The models it may ask for, comma-separated: aliases, `provider:model`, bare names, or
    /// prefixes ending in `*` (`openai:*`); a key made without it may ask for any.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub models: Vec<String>,
    /// The routes it may use, comma-separated: chat, embeddings, models; a key made without it
    /// may use all.
    #[arg(long, value_name = "A,B", value_delimiter = ',', value_parser = parse_route)]
    pub routes: Vec<crate::keys::Route>,
    /// Requests per minute at most.
    #[arg(long, value_name = "N")]
    pub rpm: Option<u64>,
    /// Tokens (input and output) per minute at most.
    #[arg(long, value_name = "N")]
    pub tpm: Option<u64>,
    /// Requests at once at most.
    #[arg(long, value_name = "N")]
    pub max_concurrent: Option<u64>,
    /// US dollars per budget period at most.
    #[arg(long, value_name = "USD")]
    pub budget_usd: Option<f64>,
    /// The budget's period: day, week or month (month unless set).
    #[arg(long, value_name = "PERIOD", value_parser = parse_period)]
    pub budget_period: Option<crate::keys::Period>,
}

impl KeySettingsArgs {
    /// `--expires-in` in whole seconds, at least one.
    pub fn expires_in_seconds(&self) -> Option<u64> {
        self.expires_in.map(|d| d.as_secs().max(1))
    }

    /// `--models`, if given.
    pub fn models(&self) -> Option<Vec<String>> {
        (!self.models.is_empty()).then(|| self.models.clone())
    }

    /// `--routes`, if given.
    pub fn routes(&self) -> Option<Vec<crate::keys::Route>> {
        (!self.routes.is_empty()).then(|| self.routes.clone())
    }
}

fn parse_period(name: &str) -> Result<crate::keys::Period, String> {
    match name {
        "day" => Ok(crate::keys::Period::Day),
        "week" => Ok(crate::keys::Period::Week),
        "month" => Ok(crate::keys::Period::Month),
        _ => Err(format!("`{name}` is not a period; use day, week or month")),
    }
}

fn parse_route(name: &str) -> Result<crate::keys::Route, String> {
    crate::keys::Route::parse(name)
        .ok_or_else(|| format!("`{name}` is not a route kind; use chat, embeddings or models"))
}

/// Options of `aratta usage`.
#[derive(Debug, Args)]
pub struct UsageArgs {
    /// Sum by key, model, provider, day or hour.
    #[arg(long, default_value = "key", value_parser = ["key", "model", "provider", "day", "hour"])]
    pub by: String,
    /// From: a duration back from now (24h, 7d), a date (2026-12-01) or an RFC 3339
    /// date-time. Default: 30 days back.
    #[arg(long, default_value = "30d")]
    pub since: String,
    /// Until (not included), in the same forms. Default: now.
    #[arg(long)]
    pub until: Option<String>,
    /// Only this client key's requests (`key_…`).
    #[arg(long)]
    pub key: Option<String>,
    /// Only this provider's requests.
    #[arg(long)]
    pub provider: Option<String>,
    /// Where the store is, and how to print.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Which store a `keys` command works on, and how it prints.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Config file whose [store] url names the store. Overrides $ARATTA_CONFIG.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `aratta heal ...`: what the heal worker did (each phase, the diff, the decision), and
/// starting a cycle for an adapter now.
#[derive(Debug, Subcommand)]
pub enum HealCommand {
    /// List the cycles, newest first.
    List(ServerArgs),
    /// Show one cycle: each phase, the diagnosis, the sources, the verification, the diff.
    Show {
        /// The cycle's id (see `aratta heal list`).
        #[arg(value_name = "ID")]
        id: String,
        /// Where the server is.
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Start a cycle for an adapter now, from the most recent errors the server saw for it.
    Run {
        /// The adapter's name.
        #[arg(value_name = "ADAPTER")]
        adapter: String,
        /// Follow the cycle until it ends, printing each phase.
        #[arg(long)]
        wait: bool,
        /// Where the server is.
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// `aratta agent ...`.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Run one agent on a task in this process (no server needed) and print each step as it
    /// happens. Tool calls are audited to $ARATTA_AGENT_AUDIT, else <home>/agent-audit.jsonl.
    Run(AgentRunArgs),
}

/// Options of `aratta agent run`.
#[derive(Debug, Args)]
pub struct AgentRunArgs {
    /// The task for the agent.
    #[arg(value_name = "TASK")]
    pub task: String,
    /// Model to use: an alias from the config, `provider:model`, or a bare model name that
    /// providers list.
    #[arg(long, value_name = "ALIAS")]
    pub model: String,
    /// Tools the agent may use, comma-separated (default: every tool within its tier).
    /// Built-in: python (elevated), current_time (restricted); HTTP tools come from
    /// $ARATTA_AGENT_TOOLS or <home>/agent-tools.json.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub tools: Vec<String>,
    /// Permission tier: restricted, standard, elevated or system.
    #[arg(long, default_value = "standard")]
    pub tier: crate::tools::Tier,
    /// Model turns before the run stops without an answer.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_iterations: u32,
    /// Sampling temperature.
    #[arg(long, value_name = "T")]
    pub temperature: Option<f32>,
    /// System instructions for the model.
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,
    /// The agent's name in the audit log.
    #[arg(long, default_value = "cli")]
    pub name: String,
    /// Print each step as one JSON object per line.
    #[arg(long)]
    pub json: bool,
    /// Config file to use. Overrides $ARATTA_CONFIG.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// Options of `aratta init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite an existing config file.
    #[arg(long)]
    pub force: bool,
}

/// Options of `aratta serve`. Flags win over ARATTA_* variables, which win over the file.
#[derive(Debug, Args)]
#[command(
    after_help = "Any config key can also be set as ARATTA_<SECTION>__<KEY>, e.g. \
                  ARATTA_SERVER__PORT=9000 or ARATTA_PROVIDERS__LOCAL__BASE_URL=http://127.0.0.1:8000/v1."
)]
pub struct ServeArgs {
    /// Config file to use (must exist). Overrides $ARATTA_CONFIG and <home>/config.toml.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// IP address to listen on, e.g. 127.0.0.1 or 0.0.0.0. Overrides server.host.
    #[arg(long, value_name = "H")]
    pub host: Option<String>,
    /// Port to listen on (0 picks a free one; the bound address is printed). Overrides server.port.
    #[arg(long, value_name = "P")]
    pub port: Option<u16>,
}

/// `aratta adapter ...`.
#[derive(Debug, Subcommand)]
pub enum AdapterCommand {
    /// Build an adapter project (Rust, Python or JavaScript) into a component with its
    /// language's toolchain, check it as the server would, and install it into
    /// <home>/adapters/<name>.wasm.
    Build(BuildArgs),
    /// Create a working adapter for OpenAI-compatible servers in Rust, Python or JavaScript,
    /// ready for `aratta adapter build`.
    New(NewArgs),
    /// Write the WIT package adapters are checked against (world `adapter` and its WASI
    /// dependencies), to build an adapter in any language that makes components.
    Wit(WitArgs),
    /// List the adapters `aratta serve` would load (built-in and installed), and any refused
    /// files with the reason.
    List(ListArgs),
    /// Roll an adapter of the running server back to a version kept in its history.
    Rollback(RollbackArgs),
    /// Write an adapter's Rust source (the exact tree the heal worker patches) to a directory,
    /// to read it or fork it; build the copy with `aratta adapter build DIR/adapters/NAME`.
    Source(SourceArgs),
}

/// Options of `aratta adapter source`.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// The adapter's name (built in, or installed with `aratta adapter build`).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Where to write it; must be new or empty (default: ./NAME-adapter-source).
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// How to reach the running server. The admin token, when the server demands one, is read
/// from $ARATTA_ADMIN_TOKEN.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The server's URL, e.g. http://127.0.0.1:8640. Default: the config's [server] host and port.
    #[arg(long, env = "ARATTA_URL", value_name = "URL")]
    pub url: Option<String>,
    /// Config file to read the server's address from. Overrides $ARATTA_CONFIG.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// Options of `aratta adapter rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The adapter's name.
    #[arg(value_name = "ADAPTER")]
    pub name: String,
    /// The version to restore: its described version or a SHA-256 prefix (default: the
    /// version before the serving one).
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    /// Where the server is.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `aratta approvals ...`: candidates wait in the queue until a human decides; approving
/// verifies the candidate with a real call and swaps it in.
#[derive(Debug, Subcommand)]
pub enum ApprovalsCommand {
    /// List the queue, newest first.
    List(ServerArgs),
    /// Approve a candidate: verify it and swap it in.
    Approve {
        /// The candidate's id (see `aratta approvals list`).
        #[arg(value_name = "ID")]
        id: String,
        /// Where the server is.
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Reject a candidate.
    Reject {
        /// The candidate's id.
        #[arg(value_name = "ID")]
        id: String,
        /// Why, for the record.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// Where the server is.
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Queue a component (.wasm) for approval.
    Propose {
        /// The candidate component.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Why it should replace the serving version.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// Where the server is.
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// Options of `aratta adapter build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Directory of the adapter project: the one holding its Cargo.toml, pyproject.toml or
    /// package.json.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Options of `aratta adapter new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The adapter's name: what the config's `adapter = "..."` and the installed file use.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The language to write it in.
    #[arg(long, value_enum, default_value_t = Lang::Rust)]
    pub lang: Lang,
    /// Where to create it; must be new or empty (default: ./NAME).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The languages `aratta adapter new` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// A cargo workspace with the guest SDK vendored.
    Rust,
    /// A componentize-py project.
    Python,
    /// A jco / componentize-js project.
    Js,
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Lang::Rust => "Rust",
            Lang::Python => "Python",
            Lang::Js => "JavaScript",
        })
    }
}

/// Options of `aratta adapter wit`.
#[derive(Debug, Args)]
pub struct WitArgs {
    /// Where to write the package (created if missing).
    #[arg(value_name = "DIR", default_value = "wit")]
    pub dir: PathBuf,
}

/// Options of `aratta adapter list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Config file whose sandbox limits and providers to use. Overrides $ARATTA_CONFIG.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("aratta").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_takes_config_host_and_port() {
        let cli = parse(&[
            "serve",
            "--config",
            "/etc/a.toml",
            "--host",
            "0.0.0.0",
            "--port",
            "9000",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("expected serve");
        };
        assert_eq!(args.config, Some(PathBuf::from("/etc/a.toml")));
        assert_eq!(args.host.as_deref(), Some("0.0.0.0"));
        assert_eq!(args.port, Some(9000));
    }

    #[test]
    fn port_zero_asks_for_a_free_port() {
        let Command::Serve(args) = parse(&["serve", "--port", "0"]).unwrap().command else {
            panic!("serve expected")
        };
        assert_eq!(args.port, Some(0));
        assert!(parse(&["serve", "--port", "65536"]).is_err());
    }

    #[test]
    fn init_and_adapter_commands_parse() {
        assert!(matches!(
            parse(&["init", "--force"]).unwrap().command,
            Command::Init(InitArgs { force: true })
        ));
        let cli = parse(&["adapter", "build", "adapters/local"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Adapter(AdapterCommand::Build(BuildArgs { ref dir })) if dir == &PathBuf::from("adapters/local")
        ));
        let cli = parse(&[
            "agent",
            "run",
            "--model",
            "fast",
            "--tools",
            "python,current_time",
            "--tier",
            "elevated",
            "sum 1..10",
        ])
        .unwrap();
        let Command::Agent(AgentCommand::Run(run)) = cli.command else {
            panic!("agent run expected")
        };
        assert_eq!(run.tools, ["python", "current_time"]);
        assert_eq!(run.tier, crate::tools::Tier::Elevated);
        assert_eq!((run.task.as_str(), run.max_iterations), ("sum 1..10", 10));
        assert!(parse(&["agent", "run", "--model", "m", "--tier", "root", "x"]).is_err());
        let cli = parse(&["adapter", "source", "local"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Adapter(AdapterCommand::Source(SourceArgs { ref name, dir: None })) if name == "local"
        ));
        let cli = parse(&["adapter", "list", "--config", "x.toml"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Adapter(AdapterCommand::List(_))
        ));
    }

    /// The server runs `aratta <COMMAND> ...` to compile in a child: the name it uses must be
    /// the one this parser knows, and the command must stay out of `--help`.
    #[test]
    fn the_child_compile_command_parses_and_is_hidden() {
        let cli = parse(&[
            crate::runtime::compile_child::COMMAND,
            "--memory-bytes",
            "67108864",
            "--fuel",
            "5",
            "--max-instances",
            "2",
            "--out",
            "x.cwasm",
        ])
        .unwrap();
        let Command::CompileAdapter(args) = cli.command else {
            panic!("the child compile command expected")
        };
        assert_eq!(
            (args.memory_bytes, args.fuel, args.max_instances),
            (67_108_864, 5, 2)
        );
        assert_eq!(args.out, PathBuf::from("x.cwasm"));
        let help = parse(&["--help"]).unwrap_err().to_string();
        assert!(!help.contains("compile-adapter"), "{help}");
    }
}
