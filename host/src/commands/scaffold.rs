//! `aratta adapter new NAME --lang rust|python|js`: a working adapter for OpenAI-compatible
//! servers, in the chosen language, that `aratta adapter build` turns into a component as it is.
//!
//! Each scaffold is the project's own example with the name changed, so what a user starts
//! from is what the tests build and serve:
//!
//! | language | made from | files |
//! |---|---|---|
//! | Rust | the built-in `local` adapter's source tree (the heal worker's standalone workspace: the guest SDK and WIT vendored) | `Cargo.toml` (workspace), `adapters/NAME/`, `guest-sdk/`, `wit/` |
//! | Python | `examples/adapters/python/` | `pyproject.toml`, `app.py` |
//! | JavaScript | `examples/adapters/js/` | `package.json`, `package-lock.json`, `src/adapter.js` |
//!
//! Every scaffold declares Ollama's URL as its default base URL and no credential, like
//! `local`; the operator's `base_url` decides where it really goes.

use std::path::{Path, PathBuf};

use crate::cli::{Lang, NewArgs};
use crate::heal::source::{self, SourceError};

/// Why no scaffold was written.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The name cannot name an adapter.
    #[error(
        "`{0}` cannot name an adapter: use 1 to 64 lowercase letters, digits, `-` or `_`, \
         starting with a letter"
    )]
    InvalidName(String),
    /// The destination already holds files.
    #[error("{} is not empty; choose a new directory with --dir", .0.display())]
    NotEmpty(PathBuf),
    /// Writing the scaffold failed.
    #[error("cannot write {}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The built-in source the Rust scaffold starts from could not be unpacked.
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// Writes the scaffold and says how to build it.
pub fn new_adapter(args: &NewArgs) -> Result<String, ScaffoldError> {
    let name = args.name.as_str();
    if !valid_name(name) {
        return Err(ScaffoldError::InvalidName(name.to_owned()));
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(name));
    if std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(ScaffoldError::NotEmpty(dir));
    }
    let build_dir = match args.lang {
        Lang::Rust => rust(name, &dir)?,
        Lang::Python => {
            write_files(&dir, &python_files(name))?;
            dir.clone()
        }
        Lang::Js => {
            write_files(&dir, &js_files(name))?;
            dir.clone()
        }
    };
    Ok(format!(
        "created adapter `{name}` ({}) in {}\n\
         build and install it:  aratta adapter build {}\n\
         then serve it:         [providers.{name}] adapter = \"{name}\", base_url = \"http://HOST:PORT/v1\"",
        args.lang,
        dir.display(),
        build_dir.display(),
    ))
}

/// Adapter names become file names (`NAME.wasm`) and config keys.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// `text` with `from` replaced by `to`. The templates are the examples, so the tests check that
/// each replacement still finds its text (and the end-to-end test builds each scaffold).
fn replace(text: &str, from: &str, to: &str) -> String {
    text.replace(from, to)
}

const PY_APP: &str = include_str!("../../../examples/adapters/python/app.py");
const PY_PROJECT: &str = include_str!("../../../examples/adapters/python/pyproject.toml");

fn python_files(name: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "pyproject.toml",
            replace(
                PY_PROJECT,
                "name = \"aratta-adapter-local-py\"",
                &format!("name = \"aratta-adapter-{name}\""),
            ),
        ),
        (
            "app.py",
            replace(PY_APP, "name=\"local\"", &format!("name=\"{name}\"")),
        ),
        (".gitignore", "__pycache__/\n".to_owned()),
    ]
}

const JS_ADAPTER: &str = include_str!("../../../examples/adapters/js/src/adapter.js");
const JS_PACKAGE: &str = include_str!("../../../examples/adapters/js/package.json");
const JS_LOCK: &str = include_str!("../../../examples/adapters/js/package-lock.json");
const JS_EXAMPLE_NAME: &str = "openai-compatible-js";

fn js_files(name: &str) -> Vec<(&'static str, String)> {
    let package = |text: &str| {
        replace(
            text,
            "\"name\": \"aratta-adapter-openai-compatible-js\"",
            &format!("\"name\": \"aratta-adapter-{name}\""),
        )
    };
    vec![
        ("package.json", package(JS_PACKAGE)),
        ("package-lock.json", package(JS_LOCK)),
        (
            "src/adapter.js",
            replace(
                JS_ADAPTER,
                &format!("name: \"{JS_EXAMPLE_NAME}\""),
                &format!("name: \"{name}\""),
            ),
        ),
        (".gitignore", "node_modules/\n".to_owned()),
    ]
}

fn write_files(dir: &Path, files: &[(&str, String)]) -> Result<(), ScaffoldError> {
    for (relative, text) in files {
        let path = dir.join(relative);
        write(&path, text)?;
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), ScaffoldError> {
    let failed = |source| ScaffoldError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(failed)?;
    }
    std::fs::write(path, text).map_err(failed)
}

/// The built-in `local` tree, its adapter crate renamed to `NAME` with a fresh `lib.rs`.
/// Returns the crate directory (what `aratta adapter build` takes).
fn rust(name: &str, dir: &Path) -> Result<PathBuf, ScaffoldError> {
    source::unpack_builtin("local", dir)?;
    let crate_dir = dir.join("adapters").join(name);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ScaffoldError::Io { path, source }
    };
    std::fs::rename(dir.join("adapters/local"), &crate_dir).map_err(io(&crate_dir))?;
    let package = format!("aratta-adapter-{name}");
    for (file, from, to) in [
        (
            dir.join("Cargo.toml"),
            "\"adapters/local\"".to_owned(),
            format!("\"adapters/{name}\""),
        ),
        // Its release profile (stripped, opt-level 3, one codegen unit) follows the rename.
        (
            dir.join("Cargo.toml"),
            "[profile.release.package.aratta-adapter-local]".to_owned(),
            format!("[profile.release.package.{package}]"),
        ),
        (
            dir.join("Cargo.lock"),
            "name = \"aratta-adapter-local\"".to_owned(),
            format!("name = \"{package}\""),
        ),
        (
            crate_dir.join("Cargo.toml"),
            "name = \"aratta-adapter-local\"".to_owned(),
            format!("name = \"{package}\""),
        ),
    ] {
        let text = std::fs::read_to_string(&file).map_err(io(&file))?;
        write(&file, &replace(&text, &from, &to))?;
    }
    write(&crate_dir.join("src/lib.rs"), &rust_lib(name))?;
    write(
        &crate_dir.join("README.md"),
        &format!(
            "# {name}\n\nAn Aratta adapter for OpenAI-compatible servers, made by \
             `aratta adapter new`. Build and install it with `aratta adapter build .`\n"
        ),
    )?;
    Ok(crate_dir)
}

fn rust_lib(name: &str) -> String {
    let type_name: String = name
        .split(['-', '_'])
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    format!(
        r#"//! An Aratta adapter for OpenAI-compatible servers (Ollama, vLLM, llama.cpp), made by
//! `aratta adapter new`. `aratta-openai-compatible` does the wire format; override a method of
//! `OpenAiCompatible` to change one operation.

use aratta_guest::AuthScheme;
use aratta_openai_compatible::{{Dialect, openai_compatible_adapter}};

openai_compatible_adapter! {{
    /// The adapter.
    pub struct {type_name} {{
        name: "{name}",
        description: "OpenAI-compatible servers",
        // Where it expects the server when the operator sets no base_url (only the operator's
        // base_url is ever granted).
        default_base_url: "http://127.0.0.1:11434/v1",
        auth: AuthScheme::None,
        dialect: Dialect::LOCAL,
    }}
}}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for good in ["a", "my-adapter", "acme_2"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "My", "2x", "a b", "a/b", "é", &"a".repeat(65)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn the_python_and_js_templates_take_the_name() {
        let py = python_files("acme");
        assert!(py[0].1.contains("name = \"aratta-adapter-acme\""));
        assert!(py[1].1.contains("name=\"acme\"") && !py[1].1.contains("name=\"local\""));
        let js = js_files("acme");
        assert!(js[0].1.contains("\"name\": \"aratta-adapter-acme\""));
        assert!(!js[1].1.contains(JS_EXAMPLE_NAME));
        assert!(js[2].1.contains("name: \"acme\""));
    }

    #[test]
    fn the_rust_template_names_its_type_after_the_adapter() {
        let lib = rust_lib("my-acme_x");
        assert!(lib.contains("pub struct MyAcmeX {"), "{lib}");
        assert!(lib.contains("name: \"my-acme_x\""), "{lib}");
    }

    #[test]
    fn a_non_empty_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x"), "").unwrap();
        let args = NewArgs {
            name: "acme".into(),
            lang: Lang::Python,
            dir: Some(dir.path().to_path_buf()),
        };
        assert!(matches!(
            new_adapter(&args),
            Err(ScaffoldError::NotEmpty(_))
        ));
    }
}
