//! `aratta adapter build DIR` for a Python adapter: componentize-py turns the project's main
//! module, with CPython, into a component of the host's `adapter` world.
//!
//! A Python project is a directory with a `pyproject.toml` (its marker). The main module, which
//! defines the `Provider` class, is `app` (`app.py`) unless `pyproject.toml` names another in
//! `[tool.aratta] module = "..."`. The helper package `aratta_adapter` (`guest-sdk/python/`)
//! ships inside the binary and is written to the build's scratch directory, after the project on
//! the module path, so a project with its own `aratta_adapter/` uses that copy. componentize-py
//! is the one `ARATTA_COMPONENTIZE_PY` names, else the one on `PATH`, found the way the agent's
//! code sandbox finds it.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{BuildError, Project, run_step, write_files, written};

/// The componentize-py release the Python helper and the agents' code sandbox are written
/// and tested against.
pub const COMPONENTIZE_PY_PIN: &str = "componentize-py==0.25.1";

/// The environment variable naming the componentize-py executable.
pub const COMPONENTIZE_PY_VAR: &str = "ARATTA_COMPONENTIZE_PY";

/// The componentize-py to run: `configured` (the value of [`COMPONENTIZE_PY_VAR`]) when given,
/// else `componentize-py` on `PATH`. The error says what was looked for and not found; the
/// caller adds what to install ([`COMPONENTIZE_PY_PIN`]).
pub fn find_componentize_py(configured: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = configured {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(format!(
                "{COMPONENTIZE_PY_VAR}={} is not a file",
                path.display()
            ))
        };
    }
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("componentize-py"))
        .find(|p| p.is_file())
        .ok_or_else(|| "componentize-py is not on PATH".to_string())
}

macro_rules! helper {
    ($file:literal) => {
        (
            concat!("aratta_adapter/", $file),
            include_str!(concat!("../../../guest-sdk/python/aratta_adapter/", $file)),
        )
    };
}

/// The helper package as shipped: (path below the module path, source).
const HELPER: &[(&str, &str)] = &[
    helper!("__init__.py"),
    helper!("errors.py"),
    helper!("events.py"),
    helper!("http.py"),
    helper!("sse.py"),
    helper!("openai/__init__.py"),
    helper!("openai/request.py"),
    helper!("openai/response.py"),
    helper!("openai/stream.py"),
];

/// The main module when `pyproject.toml` names none.
const DEFAULT_MODULE: &str = "app";

/// The program this builder runs.
const PROGRAM: &str = "componentize-py";

/// Builds the Python project with componentize-py against the host's WIT, its progress on
/// stderr; returns the component, in the build's scratch directory.
pub(crate) fn build_project(project: &Project) -> Result<PathBuf, BuildError> {
    let configured = std::env::var_os(COMPONENTIZE_PY_VAR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let tool = find_componentize_py(configured.as_deref()).map_err(|reason| missing(&reason))?;
    let module = main_module(&project.dir)?;
    let helper = project.scratch.join("python");
    write_files(&helper, HELPER)?;
    let out = project.scratch.join("adapter.wasm");
    eprintln!(
        "componentize-py: module `{module}` of {}",
        project.dir.display()
    );
    let mut command = Command::new(&tool);
    command
        .arg("-d")
        .arg(&project.wit)
        .args(["-w", "adapter", "componentize", "-p"])
        .arg(&project.dir)
        .arg("-p")
        .arg(&helper)
        .arg(&module)
        .arg("-o")
        .arg(&out)
        // The component's modules come from the project and the helper package only.
        .env_remove("PYTHONPATH")
        .env_remove("VIRTUAL_ENV");
    run_step(&mut command, PROGRAM, &project.dir, |source| {
        BuildError::MissingTool {
            program: tool.display().to_string(),
            install: install_hint(),
            source,
        }
    })?;
    written(
        out,
        &project.dir,
        "componentize-py reported success but wrote no component",
    )
}

fn install_hint() -> String {
    format!(
        "install it with `pip install {COMPONENTIZE_PY_PIN}` and put it on PATH, or set \
         {COMPONENTIZE_PY_VAR} to its path"
    )
}

/// componentize-py was not found: `reason` says where it was looked for.
fn missing(reason: &str) -> BuildError {
    BuildError::MissingTool {
        program: PROGRAM.into(),
        install: install_hint(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, reason.to_string()),
    }
}

/// The main module: `[tool.aratta] module` of `pyproject.toml`, else `app`; its file must exist.
fn main_module(dir: &Path) -> Result<String, BuildError> {
    let path = dir.join("pyproject.toml");
    let module = match std::fs::read_to_string(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => DEFAULT_MODULE.to_string(),
        Err(e) => {
            return Err(BuildError::Invalid {
                path,
                reason: e.to_string(),
            });
        }
        Ok(text) => module_in(&text).map_err(|reason| BuildError::Invalid {
            path: path.clone(),
            reason,
        })?,
    };
    let file = dir.join(format!("{module}.py"));
    let package = dir.join(&module).join("__init__.py");
    if file.is_file() || package.is_file() {
        Ok(module)
    } else {
        Err(BuildError::Invalid {
            path: dir.to_path_buf(),
            reason: format!(
                "no {module}.py (or {module}/__init__.py): the main module, which defines \
                 `Provider`, is `{DEFAULT_MODULE}` unless pyproject.toml names another in \
                 [tool.aratta] module = \"...\""
            ),
        })
    }
}

/// `[tool.aratta] module` of a `pyproject.toml`'s text, else [`DEFAULT_MODULE`].
fn module_in(pyproject: &str) -> Result<String, String> {
    let doc: toml::Table = toml::from_str(pyproject).map_err(|e| e.to_string())?;
    let entry = doc
        .get("tool")
        .and_then(|t| t.get("aratta"))
        .and_then(|a| a.get("module"));
    let Some(entry) = entry else {
        return Ok(DEFAULT_MODULE.to_string());
    };
    match entry.as_str() {
        Some(name)
            if !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            Ok(name.to_string())
        }
        _ => Err(format!(
            "[tool.aratta] module must be a Python module name (like \"app\"), found {entry}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_module_is_app_unless_pyproject_names_one() {
        assert_eq!(module_in("[project]\nname = \"x\"\n").unwrap(), "app");
        assert_eq!(
            module_in("[tool.aratta]\nmodule = \"my_adapter\"\n").unwrap(),
            "my_adapter"
        );
        let err = module_in("[tool.aratta]\nmodule = \"../evil\"\n").unwrap_err();
        assert!(err.contains("must be a Python module name"), "{err}");
    }

    #[test]
    fn a_project_without_its_module_is_refused_with_the_convention() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[tool.aratta]\nmodule = \"main\"\n",
        )
        .unwrap();
        let err = main_module(dir.path()).unwrap_err();
        assert!(err.to_string().contains("no main.py"), "{err}");
        std::fs::write(dir.path().join("main.py"), "").unwrap();
        assert_eq!(main_module(dir.path()).unwrap(), "main");
    }

    #[test]
    fn the_helper_package_is_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        write_files(dir.path(), HELPER).unwrap();
        for (name, text) in HELPER {
            assert_eq!(
                std::fs::read_to_string(dir.path().join(name)).unwrap(),
                *text
            );
        }
        // Every module of the package in the source tree is shipped.
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-sdk/python");
        for entry in walk(&source.join("aratta_adapter")) {
            let name = entry
                .strip_prefix(&source)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            assert!(
                HELPER.iter().any(|(n, _)| *n == name),
                "{name} is not shipped"
            );
        }
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.extend(walk(&path));
            } else if path.extension().is_some_and(|e| e == "py") {
                files.push(path);
            }
        }
        files
    }

    #[test]
    fn a_missing_componentize_py_names_what_to_install() {
        let err = missing("componentize-py is not on PATH");
        let text = format!("{err}: {}", std::error::Error::source(&err).unwrap());
        assert!(
            text.contains("pip install componentize-py==0.25.1"),
            "{text}"
        );
        assert!(text.contains("ARATTA_COMPONENTIZE_PY"), "{text}");
        assert!(text.contains("not on PATH"), "{text}");
    }
}
