//! `aratta adapter build`, `list`, `source` and `wit`: turning an adapter project into an
//! installed, checked component, showing what the server would load, exporting an adapter's
//! source, and writing the WIT contract for authors.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::build::{self, BuildError, Language};
use crate::config::Config;
use crate::home::Home;
use crate::runtime::outbound::Outbound;
use crate::runtime::{AdapterSummary, LoadError, Runtime, SandboxLimits};

/// Why an adapter command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    /// Compiling the project failed.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The component was built but the host would refuse it.
    #[error("the built component {} is not a usable adapter", path.display())]
    Invalid {
        /// The built file.
        path: PathBuf,
        /// What the host's check found.
        #[source]
        source: LoadError,
    },
    /// Copying the component into the adapters directory failed.
    #[error("cannot install the adapter as {}", path.display())]
    Install {
        /// The destination.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The adapter's source could not be exported or recorded.
    #[error(transparent)]
    Source(#[from] crate::heal::source::SourceError),
    /// The WIT package could not be written.
    #[error("cannot write the WIT package to {}", dir.display())]
    Wit {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The runtime that lists adapters could not start.
    #[error("cannot start the adapter runtime to list adapters")]
    Runtime(#[source] LoadError),
}

/// What `aratta adapter build` installed.
#[derive(Debug, Clone)]
pub struct Installed {
    /// The adapter as the host sees it (name, version, description).
    pub summary: AdapterSummary,
    /// Where it now lives.
    pub path: PathBuf,
}

impl std::fmt::Display for Installed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "installed adapter {} {} as {}; `aratta serve` loads it on start",
            self.summary.name,
            self.summary.version,
            self.path.display()
        )
    }
}

/// Builds the adapter project in `dir` with its language's toolchain (streaming progress to
/// stderr), checks the component as the server would, and installs it as
/// `<adapters_dir>/<name>.wasm`.
pub async fn build(dir: &Path, home: &Home) -> Result<Installed, AdapterError> {
    // Toolchains run inside the project (so its rust-toolchain.toml applies): paths must be absolute.
    let dir = std::path::absolute(dir).map_err(|_| BuildError::NotAProject {
        dir: dir.to_path_buf(),
    })?;
    let built = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || build::build(&dir))
            .await
            .expect("the build thread does not panic")?
    };
    let summary = crate::runtime::inspect_component(&built.component)
        .await
        .map_err(|source| AdapterError::Invalid {
            path: built.component.clone(),
            source,
        })?;
    let path = install(&built.component, &summary.name, &home.adapters_dir())?;
    if built.language == Language::Rust {
        // So the heal worker can patch and rebuild this adapter from its source.
        crate::heal::source::record(home, &summary.name, &dir)?;
    }
    Ok(Installed { summary, path })
}

/// Writes the WIT package adapters are checked against into `dir` (`aratta adapter wit`).
pub fn wit(dir: &Path) -> Result<String, AdapterError> {
    let files = crate::runtime::contract::write(dir).map_err(|source| AdapterError::Wit {
        dir: dir.to_path_buf(),
        source,
    })?;
    Ok(format!(
        "wrote {} ({} files): world `{}` of package {}, with the WASI packages it uses under deps/",
        dir.display(),
        files.len(),
        crate::runtime::contract::WORLD,
        crate::runtime::contract::PACKAGE,
    ))
}

/// Exports an adapter's source (`aratta adapter source NAME [DIR]`) and says how to build it.
pub fn source(args: &crate::cli::SourceArgs, home: &Home) -> Result<String, AdapterError> {
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}-adapter-source", args.name)));
    let tree = crate::heal::source::export(home, &args.name, &dir)?;
    let crate_dir = tree.root.join(&tree.crate_dir);
    Ok(format!(
        "wrote the source of adapter {} to {} (edit paths of the heal worker are relative to it); \
         build and install it with `aratta adapter build {}`",
        args.name,
        tree.root.display(),
        crate_dir.display()
    ))
}

/// Copies the component to `<dir>/<name>.wasm` atomically, so a server starting at the same
/// moment never reads half a file.
fn install(built: &Path, name: &str, dir: &Path) -> Result<PathBuf, AdapterError> {
    let path = dir.join(format!("{name}.wasm"));
    let failed = |source| AdapterError::Install {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    let bytes = std::fs::read(built).map_err(failed)?;
    crate::fs::write_atomic(&path, &bytes).map_err(failed)?;
    Ok(path)
}

/// Loads every adapter the server would (built-in and installed) under the config's sandbox
/// limits, and renders the table `aratta adapter list` prints.
pub async fn list(home: &Home, config: &Config) -> Result<String, AdapterError> {
    let limits = SandboxLimits {
        memory_bytes: usize::try_from(config.behaviour.adapter_memory_mib << 20)
            .unwrap_or(usize::MAX),
        fuel: config.behaviour.adapter_fuel,
        max_instances: 4,
    };
    let outbound = Outbound::new(config.behaviour.upstream_connect_timeout());
    // The server's cache: listing warms it for the next `aratta serve`, and reuses it.
    let runtime = Runtime::new(
        limits,
        Some(home.component_cache(&|v| std::env::var(v).ok())),
        outbound,
    )
    .map_err(AdapterError::Runtime)?
    .with_local_deadline(std::time::Duration::from_secs(
        config.reload.verify_timeout_seconds,
    ));
    let refused = runtime.load_all(&home.adapters_dir()).await;
    let adapters: Vec<AdapterSummary> = runtime
        .adapters()
        .values()
        .map(|adapter| AdapterSummary::from(adapter.as_ref()))
        .collect();
    Ok(render_list(&adapters, &refused, config))
}

/// The table of adapters (with the providers using each), refused files, and providers whose
/// adapter is missing.
fn render_list(
    adapters: &[AdapterSummary],
    refused: &[impl std::fmt::Display],
    config: &Config,
) -> String {
    let used_by = |adapter: &str| {
        let names: Vec<&str> = config
            .providers
            .iter()
            .filter(|(_, provider)| provider.adapter == adapter)
            .map(|(name, _)| name.as_str())
            .collect();
        if names.is_empty() {
            "-".to_string()
        } else {
            names.join(", ")
        }
    };
    let mut rows = vec![[
        "NAME".to_string(),
        "VERSION".into(),
        "SOURCE".into(),
        "USED BY".into(),
    ]];
    for adapter in adapters {
        rows.push([
            adapter.name.clone(),
            adapter.version.clone(),
            adapter.source.clone(),
            used_by(&adapter.name),
        ]);
    }
    let mut out = String::new();
    if adapters.is_empty() {
        out.push_str("no adapters found; install one with `aratta adapter build <CRATE_DIR>`\n");
    } else {
        let widths: Vec<usize> = (0..4)
            .map(|column| rows.iter().map(|row| row[column].len()).max().unwrap_or(0))
            .collect();
        for row in &rows {
            let line = format!(
                "{:<w0$}  {:<w1$}  {:<w2$}  {}",
                row[0],
                row[1],
                row[2],
                row[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    if !refused.is_empty() {
        out.push_str("\nrefused (the server skips these):\n");
        for error in refused {
            let text = error.to_string().replace('\n', "\n    ");
            let _ = writeln!(out, "  {text}");
        }
    }
    for (name, provider) in config.providers_by_priority() {
        if !adapters
            .iter()
            .any(|adapter| adapter.name == provider.adapter)
        {
            let _ = writeln!(
                out,
                "\nwarning: provider `{name}` uses adapter `{}`, which is not installed; build it \
                 with `aratta adapter build <CRATE_DIR>` or set providers.{name}.enabled = false",
                provider.adapter
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(name: &str, source: &str) -> AdapterSummary {
        AdapterSummary {
            name: name.into(),
            version: "0.1.0".into(),
            description: format!("{name} adapter"),
            source: source.into(),
        }
    }

    #[test]
    fn the_list_shows_adapters_refusals_and_missing_ones() {
        let config = crate::config::load_from(
            Some((
                Path::new("c.toml"),
                "[providers.local]\n[providers.vllm]\nadapter = \"local\"\n[providers.openai]\n",
            )),
            std::iter::empty::<(&str, &str)>(),
        )
        .unwrap();
        let adapters = [
            summary("local", "built-in"),
            summary("extra", "/h/adapters/extra.wasm"),
        ];
        let refused = ["/h/adapters/bad.wasm: not a valid WebAssembly component: truncated"];
        let text = render_list(&adapters, &refused, &config);
        let expected = "\
NAME   VERSION  SOURCE                  USED BY
local  0.1.0    built-in                local, vllm
extra  0.1.0    /h/adapters/extra.wasm  -

refused (the server skips these):
  /h/adapters/bad.wasm: not a valid WebAssembly component: truncated

warning: provider `openai` uses adapter `openai`, which is not installed;";
        assert!(text.starts_with(expected), "{text}");
    }

    #[test]
    fn an_empty_list_says_how_to_install() {
        let text = render_list(&[], &[] as &[String], &Config::default());
        assert!(text.starts_with("no adapters found; install one with `aratta adapter build"));
    }

    #[test]
    fn install_writes_name_dot_wasm() {
        let dir = tempfile::tempdir().unwrap();
        let built = dir.path().join("built.wasm");
        std::fs::write(&built, b"\0asm").unwrap();
        let adapters = dir.path().join("home/adapters");
        let path = install(&built, "local", &adapters).unwrap();
        assert_eq!(path, adapters.join("local.wasm"));
        assert_eq!(std::fs::read(path).unwrap(), b"\0asm");
    }

    #[tokio::test]
    async fn a_directory_without_a_project_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = build(dir.path(), &Home::at(dir.path())).await.unwrap_err();
        assert!(
            err.to_string().contains("is not an adapter project"),
            "{err}"
        );
    }
}
