//! `aratta init`: writes the commented starter config and creates the adapters directory, so a
//! new user has a file that documents every setting next to its default. `--force` replaces an
//! existing config only after copying it to `<config>.bak-<unix seconds>`, and says where.

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
    /// The existing config could not be backed up, so it was left alone.
    #[error("cannot back up {} before replacing it; it was left alone", path.display())]
    Backup {
        /// The existing file.
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
    /// Where the replaced file was copied first.
    pub backup: Option<PathBuf>,
    /// The adapters directory, which now exists.
    pub adapters_dir: PathBuf,
}

impl fmt::Display for Initialized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.replaced { "replaced" } else { "wrote" };
        writeln!(f, "{verb} {}", self.config_path.display())?;
        if let Some(backup) = &self.backup {
            writeln!(f, "the previous config is kept at {}", backup.display())?;
        }
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
    let backup = if exists {
        Some(back_up(&config_path)?)
    } else {
        None
    };
    crate::fs::write_atomic(&config_path, EXAMPLE_CONFIG.as_bytes()).map_err(|source| {
        InitError::Write {
            path: config_path.clone(),
            source,
        }
    })?;
    Ok(Initialized {
        config_path,
        replaced: exists,
        backup,
        adapters_dir,
    })
}

/// Copy `path` to `<path>.bak-<unix seconds>` (`-2`, `-3`, ... when that is taken), durably,
/// and return the copy's path.
fn back_up(path: &Path) -> Result<PathBuf, InitError> {
    let fail = |source| InitError::Backup {
        path: path.to_path_buf(),
        source,
    };
    let bytes = std::fs::read(path).map_err(fail)?;
    let base = format!("{}.bak-{}", path.display(), crate::clock::unix_seconds());
    let backup = (1..)
        .map(|n| match n {
            1 => PathBuf::from(&base),
            n => PathBuf::from(format!("{base}-{n}")),
        })
        .find(|p| !p.exists())
        .expect("some name is free");
    crate::fs::write_atomic(&backup, &bytes).map_err(fail)?;
    Ok(backup)
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
        let backup = done.backup.clone().expect("a backup");
        assert_eq!(std::fs::read_to_string(&backup).unwrap(), "# mine\n");
        assert!(
            done.to_string().contains(&format!(
                "the previous config is kept at {}",
                backup.display()
            )),
            "{done}"
        );
        // A second --force in the same second keeps both earlier files.
        let again = init(&home, true).unwrap();
        let second = again.backup.expect("another backup");
        assert_ne!(second, backup);
        assert_eq!(std::fs::read_to_string(&backup).unwrap(), "# mine\n");
        assert_eq!(std::fs::read_to_string(&second).unwrap(), EXAMPLE_CONFIG);
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
