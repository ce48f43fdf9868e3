//! Building a JavaScript or TypeScript adapter (a directory with `package.json`) with jco:
//! `npm ci` when the project's `node_modules` lacks jco, then `jco componentize --bundle`
//! against the host's WIT, world `adapter`, with the StarlingMonkey engine.
//!
//! Adapters import the helper module `aratta-adapter` (`guest-sdk/js`). It is embedded in the
//! binary and written into the build's scratch space, where the bundler finds it only after the
//! project's own `node_modules`: a project that installs its own copy builds with that one.
//!
//! The versions of jco and componentize-js are the project's (its devDependencies and lock
//! file), so a build is as reproducible as the project makes it. jco and npm print to stderr;
//! jco's stdout is sent there too, so `aratta adapter build`'s stdout stays its own.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{BuildError, Project, run_step, write_files, written};
use crate::runtime::contract;

/// The helper module's files, as `node_modules/aratta-adapter/<name>`.
static HELPER: &[(&str, &str)] = &[
    (
        "package.json",
        include_str!("../../../guest-sdk/js/package.json"),
    ),
    (
        "aratta-adapter.js",
        include_str!("../../../guest-sdk/js/aratta-adapter.js"),
    ),
    ("openai.js", include_str!("../../../guest-sdk/js/openai.js")),
];

/// Entry modules tried, in order, when `package.json` names no `main`.
const ENTRIES: &[&str] = &["src/adapter.js", "src/adapter.ts", "adapter.js", "index.js"];

/// jco's package inside the project's `node_modules`.
const JCO: &str = "node_modules/@bytecodealliance/jco";

const INSTALL_NODE: &str = "install Node.js 20 or later with npm (https://nodejs.org, or your \
                            package manager's `nodejs` and `npm`) and put them on PATH";

/// Builds the project in `project.dir` and returns the component jco wrote.
pub(crate) fn build_project(project: &Project) -> Result<PathBuf, BuildError> {
    let dir = &project.dir;
    check_node(dir)?;
    let entry = entry(dir)?;
    if !dir.join(JCO).join("package.json").is_file() {
        install_dependencies(dir)?;
    }
    let jco = jco_bin(dir)?;
    let config = write_helper(&project.scratch)?;
    let out = project.scratch.join("adapter.wasm");
    eprintln!(
        "componentizing {} with jco (StarlingMonkey; about a minute)",
        entry.display()
    );
    let mut command = Command::new("node");
    command
        .arg(&jco)
        .arg("componentize")
        .arg(&entry)
        .arg("--wit")
        .arg(&project.wit)
        .args([
            "--world-name",
            contract::WORLD,
            "--bundle",
            "--bundle-config",
        ])
        .arg(&config)
        .arg("--out")
        .arg(&out);
    run_step(&mut command, "jco componentize", dir, |source| {
        missing("node", source)
    })?;
    written(out, dir, "jco reported success but wrote no component")
}

fn missing(program: &str, source: std::io::Error) -> BuildError {
    BuildError::MissingTool {
        program: program.into(),
        install: INSTALL_NODE.into(),
        source,
    }
}

/// Fails with what to install when `node` does not run.
fn check_node(dir: &Path) -> Result<(), BuildError> {
    Command::new("node")
        .arg("--version")
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .map(drop)
        .map_err(|source| missing("node", source))
}

/// The adapter's entry module: `main` of `package.json` when that file exists (`npm init`
/// writes `index.js` whether or not it exists), else the first of [`ENTRIES`] that does.
fn entry(dir: &Path) -> Result<PathBuf, BuildError> {
    let manifest = dir.join("package.json");
    let text = std::fs::read_to_string(&manifest).map_err(|source| BuildError::Scratch {
        path: manifest.clone(),
        source,
    })?;
    let main = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("main")?.as_str().map(str::to_string));
    main.iter()
        .map(String::as_str)
        .chain(ENTRIES.iter().copied())
        .map(|c| dir.join(c))
        .find(|p| p.is_file())
        .ok_or(BuildError::NoComponent {
            dir: dir.to_path_buf(),
            hint: "it has none of its package.json's `main`, src/adapter.js, src/adapter.ts, \
                   adapter.js, index.js to start from",
        })
}

/// `npm ci` (with a lock file) or `npm install`, printing npm's own progress.
fn install_dependencies(dir: &Path) -> Result<(), BuildError> {
    let verb = if dir.join("package-lock.json").is_file() {
        "ci"
    } else {
        "install"
    };
    eprintln!("installing the project's dependencies (node_modules has no jco): npm {verb}");
    run_step(
        Command::new("npm").args([verb, "--no-audit", "--no-fund"]),
        &format!("npm {verb}"),
        dir,
        |source| missing("npm", source),
    )
}

/// The script of jco's `jco` command, from its package.json (`bin`).
fn jco_bin(dir: &Path) -> Result<PathBuf, BuildError> {
    let package = dir.join(JCO);
    let bin = std::fs::read_to_string(package.join("package.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|v| match v.get("bin")? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Object(m) => m.get("jco")?.as_str().map(str::to_string),
            _ => None,
        });
    bin.map(|b| package.join(b))
        .ok_or_else(|| BuildError::MissingTool {
            program: "jco".into(),
            install: "the project does not depend on jco; add it with `npm install --save-dev \
                      --save-exact @bytecodealliance/jco@1.34.0 \
                      @bytecodealliance/componentize-js@0.22.0`"
                .into(),
            source: std::io::ErrorKind::NotFound.into(),
        })
}

/// Writes the helper module and a bundle configuration that resolves bare imports from the
/// project's `node_modules` first, then from the helper's; returns the configuration's path.
fn write_helper(scratch: &Path) -> Result<PathBuf, BuildError> {
    let modules = scratch.join("js").join("node_modules");
    let helper = modules.join("aratta-adapter");
    write_files(&helper, HELPER)?;
    let config = scratch.join("js").join("bundle.config.mjs");
    let modules = serde_json::to_string(&modules.to_string_lossy()).expect("a string serializes");
    let text =
        format!("export default {{ resolve: {{ modules: [\"node_modules\", {modules}] }} }};\n");
    write_files(&scratch.join("js"), &[("bundle.config.mjs", &text)])?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_is_an_existing_main_else_the_first_conventional_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("package.json"), "{}").unwrap();
        assert!(entry(dir.path()).is_err());
        std::fs::write(dir.path().join("index.js"), "").unwrap();
        assert_eq!(entry(dir.path()).unwrap(), dir.path().join("index.js"));
        std::fs::create_dir(dir.path().join("lib")).unwrap();
        std::fs::write(dir.path().join("lib/a.js"), "").unwrap();
        std::fs::write(dir.path().join("package.json"), r#"{"main":"lib/a.js"}"#).unwrap();
        assert_eq!(entry(dir.path()).unwrap(), dir.path().join("lib/a.js"));
        std::fs::write(dir.path().join("package.json"), r#"{"main":"gone.js"}"#).unwrap();
        assert_eq!(entry(dir.path()).unwrap(), dir.path().join("index.js"));
    }

    #[test]
    fn the_helper_resolves_after_the_projects_node_modules() {
        let scratch = tempfile::tempdir().unwrap();
        let config = write_helper(scratch.path()).unwrap();
        let text = std::fs::read_to_string(config).unwrap();
        let helper = scratch.path().join("js/node_modules");
        assert!(
            text.contains(&format!("[\"node_modules\", \"{}\"]", helper.display())),
            "{text}"
        );
        assert!(helper.join("aratta-adapter/aratta-adapter.js").is_file());
    }
}
