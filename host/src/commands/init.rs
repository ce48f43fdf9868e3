//! `aratta init`: writes the commented starter config and creates the adapters directory, so a
//! new user has a file that documents every setting next to its default.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::home::Home;

/// The starter config: `config.example.toml` at the repository root, compiled in.
pub const EXAMPLE_CONFIG: &str = include_str!("../../../config.example.toml");

/// Why `aratta init` could not set up the home directory.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The config file exists and `--force` was not given.
    #[error(
        "{} already exists; leaving it alone (use `aratta init --force` to overwrite it)",
        path.display()
    )]
    Exists {
        /// The existing file.
        path: PathBuf,
    },
    /// A directory could not be created.
    #[error("cannot create directory {}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The config file could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What `aratta init` did, printed for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initialized {
    /// The config file written.
    pub config_path: PathBuf,
    /// Whether an existing file was replaced (`--force`).
    pub replaced: bool,
    /// The adapters directory, which now exists.
    pub adapters_dir: PathBuf,
}

impl fmt::Display for Initialized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.replaced { "replaced" } else { "wrote" };
        writeln!(f, "{verb} {}", self.config_path.display())?;
        writeln!(
            f,
            "adapters directory: {} (install adapters with `aratta adapter build <CRATE_DIR>`)",
            self.adapters_dir.display()
        )?;
        write!(f, "next: review the config, then run `aratta serve`")
    }
}

/// Writes [`EXAMPLE_CONFIG`] to `home.config_path()` and creates the adapters directory.
/// An existing config is only replaced when `force` is set.
pub fn init(home: &Home, force: bool) -> Result<Initialized, InitError> {
    let config_path = home.config_path();
    let exists = config_path.try_exists().unwrap_or(true);
    if exists && !force {
        return Err(InitError::Exists { path: config_path });
    }
    if let Some(parent) = config_path.parent() {
        create_dir(parent)?;
    }
    let adapters_dir = home.adapters_dir();
    create_dir(&adapters_dir)?;
    crate::fs::write_atomic(&config_path, EXAMPLE_CONFIG.as_bytes()).map_err(|source| {
        InitError::Write {
            path: config_path.clone(),
            source,
        }
    })?;
    Ok(Initialized {
        config_path,
        replaced: exists,
        adapters_dir,
    })
}

fn create_dir(path: &Path) -> Result<(), InitError> {
    std::fs::create_dir_all(path).map_err(|source| InitError::CreateDir {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_example_and_creates_directories() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path().join("nested/home"));
        let done = init(&home, false).unwrap();
        assert_eq!(done.config_path, home.config_path());
        assert!(!done.replaced);
        assert_eq!(
            std::fs::read_to_string(home.config_path()).unwrap(),
            EXAMPLE_CONFIG
        );
        assert!(home.adapters_dir().is_dir());
        assert!(
            done.to_string()
                .starts_with(&format!("wrote {}", home.config_path().display()))
        );
        crate::config::load(None, &home).expect("the written config loads");
    }

    #[test]
    fn never_overwrites_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        std::fs::write(home.config_path(), "# mine\n").unwrap();
        let err = init(&home, false).unwrap_err();
        assert!(
            err.to_string().contains("use `aratta init --force`"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(home.config_path()).unwrap(),
            "# mine\n"
        );

        let done = init(&home, true).unwrap();
        assert!(done.replaced);
        assert!(done.to_string().starts_with("replaced "));
        assert_eq!(
            std::fs::read_to_string(home.config_path()).unwrap(),
            EXAMPLE_CONFIG
        );
    }

    #[test]
    fn honours_an_explicit_config_path() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("etc/aratta.toml");
        let home = Home::at(dir.path().join("home")).with_config_path(&target);
        init(&home, false).unwrap();
        assert!(target.is_file());
    }
}
