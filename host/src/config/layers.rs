//! The two figment layers above the defaults: the TOML file and `ARATTA_*` environment variables.
//!
//! Environment variables map to keys as `ARATTA_<SECTION>__<KEY>[__<KEY>...]`, lowercased:
//! `ARATTA_SERVER__PORT=9000` is `server.port`, `ARATTA_PROVIDERS__LOCAL__BASE_URL` is
//! `providers.local.base_url`, and `ARATTA_ALIASES__FAST='["local:a","openai:b"]'` is an alias.
//! Values are parsed like figment's `Env` (numbers, booleans, `[..]` arrays, else strings).
//! Variables without `__` are never config: that keeps `ARATTA_HOME`, `ARATTA_CONFIG`,
//! `ARATTA_ADMIN_TOKEN` and `ARATTA_LOG_FORMAT` (listed in [`NOT_CONFIG`]) out of it.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider, Source};

use super::error::ConfigError;

/// Prefix of every config environment variable.
pub const ENV_PREFIX: &str = "ARATTA_";

/// `ARATTA_*` variables that are settings of the program, not of the config.
pub const NOT_CONFIG: &[&str] = &[
    "ARATTA_HOME",
    "ARATTA_CONFIG",
    "ARATTA_ADMIN_TOKEN",
    "ARATTA_LOG_FORMAT",
];

/// The config file's contents as a figment layer.
#[derive(Clone, Debug)]
pub(crate) struct FileLayer {
    pub(crate) path: PathBuf,
    pub(crate) dict: Dict,
}

impl FileLayer {
    /// Parses `text` (read from `path`), reporting syntax errors with line and column.
    pub(crate) fn parse(path: &Path, text: &str) -> Result<FileLayer, ConfigError> {
        let syntax = |message: String| ConfigError::Syntax {
            path: path.to_path_buf(),
            message,
        };
        let table: toml::Table = toml::from_str(text).map_err(|e| syntax(e.to_string()))?;
        let dict = Value::serialize(table)
            .ok()
            .and_then(Value::into_dict)
            .ok_or_else(|| syntax("the file could not be read as a table of settings".into()))?;
        Ok(FileLayer {
            path: path.to_path_buf(),
            dict,
        })
    }
}

impl Provider for FileLayer {
    fn metadata(&self) -> Metadata {
        Metadata::named("config file").source(Source::File(self.path.clone()))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}

/// The config variables of an environment as a figment layer.
#[derive(Clone, Debug, Default)]
pub(crate) struct EnvLayer {
    pub(crate) dict: Dict,
}

impl EnvLayer {
    /// Builds the layer from `(name, value)` pairs, ignoring everything that is not config.
    pub(crate) fn from_vars<K, V>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, ConfigError>
    where
        K: Into<OsString>,
        V: Into<OsString>,
    {
        let mut config_vars = BTreeMap::new();
        for (name, value) in vars {
            let Ok(name) = name.into().into_string() else {
                continue;
            };
            if !is_config_var(&name) {
                continue;
            }
            let value = value.into().into_string().map_err(|_| ConfigError::Env {
                name: name.clone(),
                reason: "the value is not valid UTF-8".into(),
            })?;
            config_vars.insert(name, value);
        }

        let mut layer = EnvLayer::default();
        for (name, value) in &config_vars {
            let keys: Vec<String> = name[ENV_PREFIX.len()..]
                .split("__")
                .map(str::to_ascii_lowercase)
                .collect();
            if keys.iter().any(String::is_empty) {
                return Err(ConfigError::Env {
                    name: name.clone(),
                    reason: "expected ARATTA_<SECTION>__<KEY>, e.g. ARATTA_SERVER__PORT".into(),
                });
            }
            let parsed: Value = value.parse().unwrap_or_else(|never| match never {});
            insert(&mut layer.dict, &keys, parsed).map_err(|()| ConfigError::Env {
                name: name.clone(),
                reason: "conflicts with another ARATTA_ variable that sets an enclosing or nested \
                         key as a whole; keep only one of them"
                    .into(),
            })?;
        }
        Ok(layer)
    }
}

/// The environment variable that sets the key at `keys`.
pub(crate) fn env_var_name(keys: &[impl AsRef<str>]) -> String {
    let keys: Vec<&str> = keys.iter().map(AsRef::as_ref).collect();
    format!("{ENV_PREFIX}{}", keys.join("__").to_ascii_uppercase())
}

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        Metadata::named("environment")
            .source(Source::Custom("environment".into()))
            .interpolater(|_, keys| env_var_name(keys))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}

fn is_config_var(name: &str) -> bool {
    name.starts_with(ENV_PREFIX) && name.contains("__") && !NOT_CONFIG.contains(&name)
}

/// Inserts `value` at `keys`, creating tables on the way; `Err` if a non-table is in the way.
fn insert(dict: &mut Dict, keys: &[String], value: Value) -> Result<(), ()> {
    let (last, parents) = keys.split_last().expect("at least one key");
    let mut current = dict;
    for key in parents {
        let entry = current
            .entry(key.clone())
            .or_insert_with(|| Value::from(Dict::new()));
        match entry {
            Value::Dict(_, inner) => current = inner,
            _ => return Err(()),
        }
    }
    match current.get(last) {
        Some(Value::Dict(..)) => Err(()),
        _ => {
            current.insert(last.clone(), value);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(vars: &[(&str, &str)]) -> Result<EnvLayer, ConfigError> {
        EnvLayer::from_vars(vars.iter().copied())
    }

    #[test]
    fn nested_keys_are_lowercased_and_values_parsed() {
        let env = layer(&[
            ("ARATTA_SERVER__PORT", "9000"),
            (
                "ARATTA_PROVIDERS__LOCAL__BASE_URL",
                "http://127.0.0.1:8000/v1",
            ),
            ("ARATTA_ALIASES__FAST", r#"["local:a","openai:b"]"#),
        ])
        .unwrap();
        let value = Value::from(env.dict);
        assert_eq!(value.find_ref("server.port").unwrap().to_u128(), Some(9000));
        assert_eq!(
            value.find_ref("providers.local.base_url").unwrap().as_str(),
            Some("http://127.0.0.1:8000/v1")
        );
        let fast: Vec<String> = value
            .find_ref("aliases.fast")
            .unwrap()
            .deserialize()
            .unwrap();
        assert_eq!(fast, ["local:a", "openai:b"]);
    }

    #[test]
    fn program_settings_and_other_variables_are_ignored() {
        let env = layer(&[
            ("ARATTA_HOME", "/srv/aratta"),
            ("ARATTA_CONFIG", "/etc/aratta.toml"),
            ("ARATTA_ADMIN_TOKEN", "secret"),
            ("ARATTA_LOG_FORMAT", "json"),
            ("ARATTA_SOMETHING", "x"),
            ("HOME", "/root"),
            ("SERVER__PORT", "1"),
        ])
        .unwrap();
        assert!(env.dict.is_empty(), "{:?}", env.dict);
    }

    #[test]
    fn malformed_names_and_conflicts_are_errors() {
        let err = layer(&[("ARATTA_SERVER__", "1")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable ARATTA_SERVER__: expected ARATTA_<SECTION>__<KEY>, e.g. ARATTA_SERVER__PORT"
        );
        let err = layer(&[
            ("ARATTA_PROVIDERS__LOCAL", "1"),
            ("ARATTA_PROVIDERS__LOCAL__PRIORITY", "2"),
        ])
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("conflicts with another ARATTA_ variable")
        );
    }

    #[test]
    fn env_var_names_round_trip() {
        assert_eq!(env_var_name(&["server", "port"]), "ARATTA_SERVER__PORT");
    }
}
