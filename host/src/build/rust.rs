//! Building a Rust adapter crate: the target check, `cargo build` with a line per compiled unit,
//! and picking the component out of cargo's JSON messages (which the heal worker's builder,
//! `crate::heal::builder`, shares).
//!
//! Cargo's own stderr (its progress bar, warnings and rendered errors) passes straight through;
//! stdout carries the JSON messages (`--message-format=json-render-diagnostics`).

use std::io::{BufRead, BufReader, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::{BuildError, Project};

/// The target adapters are compiled to; its linker emits a component directly.
pub(crate) const TARGET: &str = "wasm32-wasip2";

/// Builds the crate in `project.dir` (its Cargo.toml) and returns the component cargo wrote.
/// The crate brings its own copy of the WIT through the guest SDK; the host checks the result.
pub(crate) fn build_project(project: &Project) -> Result<PathBuf, BuildError> {
    check_target(&project.dir)?;
    build(&project.dir, &project.dir.join("Cargo.toml"))
}

/// `program` (cargo or rustc) did not start.
pub(crate) fn missing(program: &str, source: std::io::Error) -> BuildError {
    BuildError::MissingTool {
        program: program.into(),
        install: "is Rust installed (https://rustup.rs) and on PATH?".into(),
        source,
    }
}

/// Checks that the toolchain the crate builds with has the wasm32-wasip2 target.
pub(crate) fn check_target(dir: &Path) -> Result<(), BuildError> {
    let output = Command::new("rustc")
        .args(["--print", "sysroot"])
        .current_dir(dir)
        .output()
        .map_err(|source| missing("rustc", source))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if output.status.success() && !has_target(&sysroot) {
        return Err(BuildError::TargetMissing {
            dir: dir.to_path_buf(),
        });
    }
    Ok(())
}

fn has_target(sysroot: &Path) -> bool {
    sysroot.join("lib/rustlib").join(TARGET).is_dir()
}

/// Runs the release build of the crate whose manifest is `manifest` and returns the component.
pub(crate) fn build(dir: &Path, manifest: &Path) -> Result<PathBuf, BuildError> {
    let mut child = Command::new("cargo")
        .args(["build", "--release", "--target", TARGET])
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(manifest)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| missing("cargo", source))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut progress = Progress::new(std::io::stderr().is_terminal());
    let mut artifacts = Vec::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(artifact) = parse_artifact(&line) {
            if let Some(line) = progress.record(&artifact) {
                eprintln!("{line}");
            }
            artifacts.push(artifact);
        }
    }
    let status = child.wait().map_err(|source| missing("cargo", source))?;
    if !status.success() {
        return Err(BuildError::Failed {
            dir: dir.to_path_buf(),
        });
    }
    if progress.fresh > 0 {
        let units = if progress.fresh == 1 { "unit" } else { "units" };
        eprintln!("({} {units} already up to date)", progress.fresh);
    }
    find_component(&artifacts, manifest).ok_or_else(|| BuildError::NoComponent {
        dir: dir.to_path_buf(),
        hint: "an adapter crate needs `[lib] crate-type = [\"cdylib\"]` in its Cargo.toml",
    })
}

/// The cargo JSON messages this command reads; the rest are ignored.
#[derive(Debug, Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
enum Message {
    CompilerArtifact(Artifact),
    #[serde(other)]
    Other,
}

/// The finished compilation unit a line of cargo's JSON output reports, if it reports one.
pub(crate) fn parse_artifact(line: &str) -> Option<Artifact> {
    match serde_json::from_str(line) {
        Ok(Message::CompilerArtifact(artifact)) => Some(artifact),
        _ => None,
    }
}

/// A finished compilation unit.
#[derive(Debug, Deserialize)]
pub(crate) struct Artifact {
    package_id: String,
    manifest_path: PathBuf,
    target: ArtifactTarget,
    filenames: Vec<PathBuf>,
    fresh: bool,
}

#[derive(Debug, Deserialize)]
struct ArtifactTarget {
    name: String,
    kind: Vec<String>,
}

impl Artifact {
    /// `serde v1.0.228`, from either package-id format cargo has used.
    fn label(&self) -> String {
        let version = match self.package_id.rsplit_once('#') {
            Some((_, fragment)) => fragment.rsplit('@').next().unwrap_or(fragment),
            None => self.package_id.split(' ').nth(1).unwrap_or(""),
        };
        let build_script = if self.target.kind.iter().any(|k| k == "custom-build") {
            " (build script)"
        } else {
            ""
        };
        format!("{} v{version}{build_script}", self.target.name)
    }

    fn wasm_library(&self) -> Option<&PathBuf> {
        let is_cdylib = self.target.kind.iter().any(|k| k == "cdylib");
        let wasm = self
            .filenames
            .iter()
            .find(|f| f.extension().is_some_and(|e| e == "wasm"));
        wasm.filter(|_| is_cdylib)
    }
}

/// Counts units and words a line for each one compiled.
struct Progress {
    compiled: usize,
    fresh: usize,
    clear_line: bool,
}

impl Progress {
    fn new(clear_line: bool) -> Self {
        Progress {
            compiled: 0,
            fresh: 0,
            clear_line,
        }
    }

    fn record(&mut self, artifact: &Artifact) -> Option<String> {
        if artifact.fresh {
            self.fresh += 1;
            return None;
        }
        self.compiled += 1;
        // Cargo draws its progress bar on stderr's last line; erase it before writing ours.
        let clear = if self.clear_line { "\r\x1b[2K" } else { "" };
        Some(format!(
            "{clear}[{}] compiled {}",
            self.compiled,
            artifact.label()
        ))
    }
}

/// The `.wasm` built for the crate at `manifest`, else the only `.wasm` library built at all.
pub(crate) fn find_component(artifacts: &[Artifact], manifest: &Path) -> Option<PathBuf> {
    let manifest = manifest
        .canonicalize()
        .unwrap_or_else(|_| manifest.to_path_buf());
    let same_manifest = |a: &&Artifact| {
        a.manifest_path
            .canonicalize()
            .unwrap_or_else(|_| a.manifest_path.clone())
            == manifest
    };
    if let Some(found) = artifacts
        .iter()
        .filter(same_manifest)
        .find_map(Artifact::wasm_library)
    {
        return Some(found.clone());
    }
    let mut libraries = artifacts.iter().filter_map(Artifact::wasm_library);
    match (libraries.next(), libraries.next()) {
        (Some(only), None) => Some(only.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERDE: &str = r#"{"reason":"compiler-artifact","package_id":"registry+https://github.com/rust-lang/crates.io-index#serde@1.0.228","manifest_path":"/reg/serde/Cargo.toml","target":{"kind":["lib"],"crate_types":["lib"],"name":"serde","src_path":"/reg/serde/src/lib.rs"},"profile":{},"features":[],"filenames":["/t/libserde.rlib"],"executable":null,"fresh":false}"#;
    const ADAPTER: &str = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/adapters/local#aratta-adapter-local@0.1.0","manifest_path":"/w/adapters/local/Cargo.toml","target":{"kind":["cdylib"],"crate_types":["cdylib"],"name":"aratta_adapter_local"},"filenames":["/t/wasm32-wasip2/release/aratta_adapter_local.wasm"],"fresh":true}"#;

    fn artifact(json: &str) -> Artifact {
        match serde_json::from_str(json).unwrap() {
            Message::CompilerArtifact(artifact) => artifact,
            other => panic!("not an artifact: {other:?}"),
        }
    }

    #[test]
    fn other_messages_are_ignored() {
        let message: Message =
            serde_json::from_str(r#"{"reason":"build-finished","success":true}"#).unwrap();
        assert!(matches!(message, Message::Other));
    }

    #[test]
    fn progress_lines_name_the_unit_and_count_fresh_ones() {
        let mut progress = Progress::new(false);
        assert_eq!(
            progress.record(&artifact(SERDE)).as_deref(),
            Some("[1] compiled serde v1.0.228")
        );
        assert_eq!(progress.record(&artifact(ADAPTER)), None);
        assert_eq!((progress.compiled, progress.fresh), (1, 1));
        let old_format = SERDE.replace(
            "registry+https://github.com/rust-lang/crates.io-index#serde@1.0.228",
            "serde 1.0.1 (registry+https://github.com/rust-lang/crates.io-index)",
        );
        assert_eq!(artifact(&old_format).label(), "serde v1.0.1");
    }

    #[test]
    fn the_component_is_the_crates_cdylib() {
        let artifacts = [artifact(SERDE), artifact(ADAPTER)];
        let found = find_component(&artifacts, Path::new("/w/adapters/local/Cargo.toml"));
        assert_eq!(
            found,
            Some(PathBuf::from(
                "/t/wasm32-wasip2/release/aratta_adapter_local.wasm"
            ))
        );
        assert_eq!(
            find_component(&artifacts[..1], Path::new("/x/Cargo.toml")),
            None
        );
    }

    #[test]
    fn a_sysroot_without_the_target_is_detected() {
        let sysroot = tempfile::tempdir().unwrap();
        assert!(!has_target(sysroot.path()));
        std::fs::create_dir_all(sysroot.path().join("lib/rustlib/wasm32-wasip2")).unwrap();
        assert!(has_target(sysroot.path()));
    }
}
