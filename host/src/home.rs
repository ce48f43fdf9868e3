//! Aratta's home directory: where the config, installed adapters, caches and the store live.
//!
//! | what           | path                                         |
//! | -------------- | -------------------------------------------- |
//! | home           | `$ARATTA_HOME`, else `$HOME/.aratta`          |
//! | config file    | `$ARATTA_CONFIG`, else `<home>/config.toml`   |
//! | adapters       | `<home>/adapters`                            |
//! | cache          | `<home>/cache`                               |
//! | old history    | `<home>/history` (imported into the store once) |
//! | heal           | `<home>/heal` (adapter sources, build cache)  |
//! | server name    | `<home>/server-id` (see [`Home::server_name`]) |
//! | store          | `<home>/aratta.db` (client keys, usage, tools, approvals, heal cycles, adapter history; `[store] url` moves it) |
//! | agents         | `<home>/agent-audit.jsonl`, `<home>/agent-tools.json` (see `crate::agent::setup`) |
//!
//! Relative paths in the variables are resolved against the current directory once, at startup,
//! so a running server does not depend on where it was started from. An empty variable counts as
//! unset.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Names the home directory.
pub const HOME_ENV: &str = "ARATTA_HOME";
/// Names the config file, overriding `<home>/config.toml`.
pub const CONFIG_ENV: &str = "ARATTA_CONFIG";

/// Why Aratta's home directory could not be determined.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// Neither `ARATTA_HOME` nor `HOME` is set, so there is nowhere to look.
    #[error(
        "cannot find Aratta's home directory: neither ARATTA_HOME nor HOME is set; \
         set ARATTA_HOME to a directory, e.g. ARATTA_HOME=/var/lib/aratta"
    )]
    NotSet,
    /// A relative path could not be made absolute (the current directory is unreadable).
    #[error("cannot resolve {var}={}: the current directory is unavailable; use an absolute path", path.display())]
    Unresolvable {
        /// The variable holding the path.
        var: &'static str,
        /// The path as given.
        path: PathBuf,
        /// What went wrong reading the current directory.
        #[source]
        source: std::io::Error,
    },
}

/// Aratta's home directory and the paths derived from it, resolved once so every command agrees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Home {
    root: PathBuf,
    config_override: Option<PathBuf>,
}

impl Home {
    /// Resolves the home from `ARATTA_HOME`, `HOME` and `ARATTA_CONFIG`, as the CLI does.
    pub fn from_env() -> Result<Home, HomeError> {
        Self::from_vars(|name| std::env::var_os(name))
    }

    /// Resolves the home from the given variable lookup, so tests need not touch the process
    /// environment.
    pub fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> Result<Home, HomeError> {
        let non_empty = |name: &str| var(name).filter(|value| !value.is_empty());
        let root = match non_empty(HOME_ENV) {
            Some(path) => absolute(HOME_ENV, PathBuf::from(path))?,
            None => {
                let user_home = non_empty("HOME").ok_or(HomeError::NotSet)?;
                absolute("HOME", PathBuf::from(user_home))?.join(".aratta")
            }
        };
        let config_override = match non_empty(CONFIG_ENV) {
            Some(path) => Some(absolute(CONFIG_ENV, PathBuf::from(path))?),
            None => None,
        };
        Ok(Home {
            root,
            config_override,
        })
    }

    /// A home at `path` with no config override, for tests and embedding.
    pub fn at(path: impl Into<PathBuf>) -> Home {
        Home {
            root: path.into(),
            config_override: None,
        }
    }

    /// The same home with the config file named explicitly (as `ARATTA_CONFIG` does).
    pub fn with_config_path(mut self, path: impl Into<PathBuf>) -> Home {
        self.config_override = Some(path.into());
        self
    }

    /// The home directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The config file: `ARATTA_CONFIG` when set, else `<home>/config.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.config_override
            .clone()
            .unwrap_or_else(|| self.root.join("config.toml"))
    }

    /// The config file when the user named it (`ARATTA_CONFIG`); such a file must exist.
    pub fn config_override(&self) -> Option<&Path> {
        self.config_override.as_deref()
    }

    /// Where installed adapter components (`<name>.wasm`) live.
    pub fn adapters_dir(&self) -> PathBuf {
        self.root.join("adapters")
    }

    /// Where compiled-component caches live; safe to delete.
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }

    /// Where compiled components are cached: `ARATTA_CACHE_DIR` (read with `var`) when set
    /// and not empty, else [`Home::cache_dir`]. One rule for the server, `aratta adapter list`
    /// and the agents' sandbox, so all of them warm and reuse one cache.
    pub fn component_cache(&self, var: &dyn Fn(&str) -> Option<String>) -> PathBuf {
        var("ARATTA_CACHE_DIR")
            .filter(|v| !v.is_empty())
            .map_or_else(|| self.cache_dir(), PathBuf::from)
    }

    /// Where older versions kept earlier adapter versions, one directory per adapter; imported
    /// into the store once (see `crate::reload::history`).
    pub fn history_dir(&self) -> PathBuf {
        self.root.join("history")
    }

    /// Where older versions kept the tool registry, imported into the store once (see
    /// `crate::tools::file`).
    pub fn tools_path(&self) -> PathBuf {
        self.root.join("tools.json")
    }

    /// The store's database unless `[store] url` names another (see `crate::store`).
    pub fn store_path(&self) -> PathBuf {
        self.root.join("aratta.db")
    }

    /// This server's name among those sharing a store, stable across its restarts (kept in
    /// `<home>/server-id`, made on first use): what it runs (heal cycles) is told apart from
    /// what the others run. Without a writable home, a name for this run only.
    pub fn server_name(&self) -> String {
        let path = self.root.join("server-id");
        if let Ok(name) = std::fs::read_to_string(&path)
            && let name = name.trim()
            && !name.is_empty()
        {
            return name.to_owned();
        }
        let name = format!("srv_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
        let written = std::fs::create_dir_all(&self.root)
            .and_then(|()| crate::fs::write_atomic(&path, name.as_bytes()));
        if let Err(e) = written {
            tracing::warn!(file = %path.display(), error = %e, "cannot keep this server's name; heal cycles it leaves running will not be marked interrupted after a restart");
        }
        name
    }

    /// Where older versions kept the approval queue, imported into the store once (see
    /// `crate::reload::approvals`).
    pub fn approvals_dir(&self) -> PathBuf {
        self.root.join("approvals")
    }

    /// The heal worker's cycles, adapter sources and build cache (see `crate::heal`).
    pub fn heal_dir(&self) -> PathBuf {
        self.root.join("heal")
    }
}

fn absolute(var: &'static str, path: PathBuf) -> Result<PathBuf, HomeError> {
    if path.is_absolute() {
        return Ok(path);
    }
    std::path::absolute(&path).map_err(|source| HomeError::Unresolvable { var, path, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn home_from(vars: &[(&str, &str)]) -> Result<Home, HomeError> {
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        Home::from_vars(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_to_dot_aratta_under_home() {
        let home = home_from(&[("HOME", "/home/ana")]).unwrap();
        assert_eq!(home.root(), Path::new("/home/ana/.aratta"));
        assert_eq!(
            home.config_path(),
            Path::new("/home/ana/.aratta/config.toml")
        );
        assert_eq!(home.adapters_dir(), Path::new("/home/ana/.aratta/adapters"));
        assert_eq!(home.cache_dir(), Path::new("/home/ana/.aratta/cache"));
        assert_eq!(home.history_dir(), Path::new("/home/ana/.aratta/history"));
        assert_eq!(home.config_override(), None);
    }

    #[test]
    fn aratta_home_wins_over_home() {
        let home = home_from(&[("HOME", "/home/ana"), ("ARATTA_HOME", "/srv/aratta")]).unwrap();
        assert_eq!(home.root(), Path::new("/srv/aratta"));
        assert_eq!(home.config_path(), Path::new("/srv/aratta/config.toml"));
    }

    #[test]
    fn aratta_config_overrides_the_config_path_only() {
        let home = home_from(&[
            ("ARATTA_HOME", "/srv/aratta"),
            ("ARATTA_CONFIG", "/etc/aratta.toml"),
        ])
        .unwrap();
        assert_eq!(home.config_path(), Path::new("/etc/aratta.toml"));
        assert_eq!(home.config_override(), Some(Path::new("/etc/aratta.toml")));
        assert_eq!(home.adapters_dir(), Path::new("/srv/aratta/adapters"));
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let home = home_from(&[("HOME", "/home/ana"), ("ARATTA_HOME", "")]).unwrap();
        assert_eq!(home.root(), Path::new("/home/ana/.aratta"));
    }

    #[test]
    fn relative_paths_become_absolute() {
        let home = home_from(&[("ARATTA_HOME", "relative/home")]).unwrap();
        assert!(home.root().is_absolute());
        assert!(home.root().ends_with("relative/home"));
    }

    #[test]
    fn no_home_at_all_is_a_clear_error() {
        let err = home_from(&[]).unwrap_err();
        assert!(matches!(err, HomeError::NotSet));
        assert!(err.to_string().contains("set ARATTA_HOME"));
    }

    #[test]
    fn at_and_with_config_path() {
        let home = Home::at("/tmp/h").with_config_path("/tmp/c.toml");
        assert_eq!(home.root(), Path::new("/tmp/h"));
        assert_eq!(home.config_path(), Path::new("/tmp/c.toml"));
    }
}
