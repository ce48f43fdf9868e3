//! `aratta adapter build DIR` for every language that makes a component: find out what the
//! project is written in, run that language's toolchain against the host's own WIT, and hand
//! back the component for the host to check and install.
//!
//! | project holds | language | toolchain |
//! |---|---|---|
//! | `Cargo.toml` | Rust | `cargo build --target wasm32-wasip2` ([`rust`]) |
//! | `pyproject.toml` | Python | componentize-py ([`python`]) |
//! | `package.json` | JavaScript | `jco componentize` ([`js`]) |
//!
//! The markers are checked in that order, so a Rust crate that also carries a `package.json`
//! (for its own tooling) is still built as Rust.

pub(crate) mod js;
pub mod python;
pub(crate) mod rust;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::runtime::contract;

/// A language an adapter can be written in, with the file that marks its projects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// A cargo crate built for `wasm32-wasip2`.
    Rust,
    /// A Python project built with componentize-py.
    Python,
    /// An npm project built with jco / componentize-js.
    Js,
}

impl Language {
    /// Every language, in the order projects are recognised.
    pub const ALL: &'static [Language] = &[Language::Rust, Language::Python, Language::Js];

    /// The file whose presence makes a directory a project of this language.
    pub fn marker(self) -> &'static str {
        match self {
            Language::Rust => "Cargo.toml",
            Language::Python => "pyproject.toml",
            Language::Js => "package.json",
        }
    }

    /// What `dir` is written in, from the first marker file it holds.
    pub fn detect(dir: &Path) -> Result<Language, BuildError> {
        Language::ALL
            .iter()
            .copied()
            .find(|language| dir.join(language.marker()).is_file())
            .ok_or_else(|| BuildError::NotAProject {
                dir: dir.to_path_buf(),
            })
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Language::Rust => "Rust",
            Language::Python => "Python",
            Language::Js => "JavaScript",
        })
    }
}

/// What a language's builder works with.
#[derive(Debug)]
pub struct Project {
    /// The project's directory, absolute (toolchains run inside it).
    pub dir: PathBuf,
    /// A directory holding the host's WIT package (`world adapter` and its `deps/`), written
    /// fresh for this build, so the component is made against the contract the host checks.
    pub wit: PathBuf,
    /// A scratch directory for the build's outputs, removed after the build.
    pub scratch: PathBuf,
}

/// Why a project did not become a component.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The directory holds no project file of any supported language.
    #[error(
        "{} is not an adapter project: it holds none of {}; create one with \
         `aratta adapter new NAME --lang rust|python|js`",
        dir.display(),
        markers()
    )]
    NotAProject {
        /// The directory given.
        dir: PathBuf,
    },
    /// A program the build needs is not installed.
    #[error("cannot run `{program}`: {install}")]
    MissingTool {
        /// The program.
        program: String,
        /// How to install it.
        install: String,
        /// Why it did not start.
        #[source]
        source: std::io::Error,
    },
    /// A toolchain program ran and reported failure; its messages were already shown.
    #[error("`{program}` failed for {} ({status}; see its messages above)", dir.display())]
    ToolFailed {
        /// The program.
        program: String,
        /// The project directory.
        dir: PathBuf,
        /// How it exited.
        status: std::process::ExitStatus,
    },
    /// A project file is not what its language's build expects.
    #[error("{}: {reason}", path.display())]
    Invalid {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong and what the build expects.
        reason: String,
    },
    /// The build's scratch space or the WIT could not be written.
    #[error("cannot prepare the build in {}", path.display())]
    Scratch {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The toolchain used in the crate lacks the `wasm32-wasip2` standard library.
    #[error(
        "the {target} target is not installed for the Rust toolchain used in {}; install it with \
         `rustup target add {target}` (run it in that directory so the crate's toolchain gets it)",
        dir.display(),
        target = rust::TARGET
    )]
    TargetMissing {
        /// The crate directory.
        dir: PathBuf,
    },
    /// Cargo reported failure; its messages were already shown.
    #[error("cargo build failed for {} (see the compiler's messages above)", dir.display())]
    Failed {
        /// The crate directory.
        dir: PathBuf,
    },
    /// The build succeeded but produced no component.
    #[error("building {} produced no .wasm component; {hint}", dir.display())]
    NoComponent {
        /// The project directory.
        dir: PathBuf,
        /// What the project most likely lacks.
        hint: &'static str,
    },
}

fn markers() -> String {
    Language::ALL
        .iter()
        .map(|l| format!("{} ({l})", l.marker()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes `files` (path below `dir`, text) into the build's scratch space: the helper packages
/// the binary carries for Python and JavaScript adapters.
pub(crate) fn write_files(dir: &Path, files: &[(&str, &str)]) -> Result<(), BuildError> {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap_or(dir))
            .and_then(|()| std::fs::write(&path, text))
            .map_err(|source| BuildError::Scratch {
                path: path.clone(),
                source,
            })?;
    }
    Ok(())
}

/// Runs one toolchain step in `dir` with no input and its stdout on stderr, so `aratta adapter
/// build`'s own stdout stays its own; `not_started` says what to install when it cannot start.
pub(crate) fn run_step(
    command: &mut Command,
    program: &str,
    dir: &Path,
    not_started: impl FnOnce(std::io::Error) -> BuildError,
) -> Result<(), BuildError> {
    let status = command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(std::io::stderr())
        .status()
        .map_err(not_started)?;
    if status.success() {
        Ok(())
    } else {
        Err(BuildError::ToolFailed {
            program: program.into(),
            dir: dir.to_path_buf(),
            status,
        })
    }
}

/// The component a toolchain step wrote to `out`, or `hint` when it reported success anyway.
pub(crate) fn written(out: PathBuf, dir: &Path, hint: &'static str) -> Result<PathBuf, BuildError> {
    if out.is_file() {
        Ok(out)
    } else {
        Err(BuildError::NoComponent {
            dir: dir.to_path_buf(),
            hint,
        })
    }
}

/// A component built from a project, and the scratch space it lives in until it is installed.
#[derive(Debug)]
pub struct Built {
    /// What the project is written in.
    pub language: Language,
    /// The component file.
    pub component: PathBuf,
    /// Keeps the scratch directory (and maybe the component) alive.
    _scratch: tempfile::TempDir,
}

/// Builds the project in `dir` with its language's toolchain, streaming progress to stderr.
pub fn build(dir: &Path) -> Result<Built, BuildError> {
    let language = Language::detect(dir)?;
    eprintln!("building {} as a {language} adapter", dir.display());
    let scratch = tempfile::Builder::new()
        .prefix("aratta-build-")
        .tempdir()
        .map_err(|source| BuildError::Scratch {
            path: std::env::temp_dir(),
            source,
        })?;
    let wit = scratch.path().join("wit");
    contract::write(&wit).map_err(|source| BuildError::Scratch {
        path: wit.clone(),
        source,
    })?;
    let project = Project {
        dir: dir.to_path_buf(),
        wit,
        scratch: scratch.path().to_path_buf(),
    };
    let component = match language {
        Language::Rust => rust::build_project(&project)?,
        Language::Python => python::build_project(&project)?,
        Language::Js => js::build_project(&project)?,
    };
    Ok(Built {
        language,
        component,
        _scratch: scratch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_recognised_by_its_marker_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = Language::detect(dir.path()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("is not an adapter project"), "{text}");
        assert!(text.contains("Cargo.toml (Rust)"), "{text}");
        std::fs::write(dir.path().join("Cargo.toml"), "").unwrap();
        assert_eq!(Language::detect(dir.path()).unwrap(), Language::Rust);
    }
}
