//! Loading: defaults < TOML file < `ARATTA_*` environment, merged with figment, then checked.
//!
//! Order of checks, so the most important message wins: TOML syntax, then credentials written
//! into the config (refused outright), then types and unknown keys, then values.

use std::ffi::OsString;
use std::path::Path;

use figment::error::Kind;
use figment::{Figment, Profile, Source};

use super::error::{ConfigError, Problem, ProblemKind};
use super::layers::{EnvLayer, FileLayer, env_var_name};
use super::model::{Config, ConfigFile};
use super::{secrets, validate};
use crate::home::Home;

/// Loads the config the way `aratta serve` does.
///
/// The file is `explicit_path` if given, else `ARATTA_CONFIG`, else `<home>/config.toml`. A file
/// the user named must exist; the default one may be missing, and then defaults apply.
pub fn load(explicit_path: Option<&Path>, home: &Home) -> Result<Config, ConfigError> {
    let named = explicit_path.or(home.config_override());
    let path = named.map_or_else(|| home.config_path(), Path::to_path_buf);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && named.is_none() => None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConfigError::NotFound { path });
        }
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    let file = text.as_deref().map(|text| (path.as_path(), text));
    load_from(file, std::env::vars_os())
}

/// Loads a config from a file's text (and the path to name in messages) and an environment,
/// without touching the filesystem or the process environment. Tests build configs with it.
pub fn load_from<K, V>(
    file: Option<(&Path, &str)>,
    env: impl IntoIterator<Item = (K, V)>,
) -> Result<Config, ConfigError>
where
    K: Into<OsString>,
    V: Into<OsString>,
{
    let file = file
        .map(|(path, text)| FileLayer::parse(path, text))
        .transpose()?;
    let env = EnvLayer::from_vars(env)?;
    let mut figment = Figment::new();
    if let Some(file) = &file {
        figment = figment.merge(file);
    }
    figment = figment.merge(&env);

    let invalid = |problems: Vec<Problem>| ConfigError::Invalid { problems };
    let problems = refuse_secrets(&figment, file.as_ref(), &env);
    if !problems.is_empty() {
        return Err(invalid(problems));
    }

    let raw: ConfigFile = figment
        .extract()
        .map_err(|error| invalid(problems_from_figment(error, &figment)))?;
    let config = raw.resolve(file.map(|file| file.path));

    let mut problems = validate::validate(&config);
    for problem in &mut problems {
        problem.origin = origin(&figment, &problem.key);
    }
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(invalid(problems))
    }
}

fn refuse_secrets(figment: &Figment, file: Option<&FileLayer>, env: &EnvLayer) -> Vec<Problem> {
    let api_key_env = |provider: &str| {
        figment
            .find_value(&format!("providers.{provider}.api_key_env"))
            .ok()
            .and_then(|value| value.into_string())
            .unwrap_or_else(|| secrets::default_api_key_env(provider))
    };
    let mut problems = Vec::new();
    if let Some(file) = file {
        let path = file.path.display().to_string();
        let from_file = |_: &[String]| Some(path.clone());
        problems.extend(secrets::refuse_secrets(
            &file.dict,
            &from_file,
            &api_key_env,
        ));
    }
    let from_env = |keys: &[String]| Some(env_var_name(keys));
    problems.extend(secrets::refuse_secrets(&env.dict, &from_env, &api_key_env));
    problems
}

/// Where the value at `key` came from: the file's path or the variable's name.
fn origin(figment: &Figment, key: &str) -> Option<String> {
    let metadata = figment.find_metadata(key)?;
    match metadata.source.as_ref()? {
        Source::File(path) => Some(path.display().to_string()),
        _ => {
            let keys: Vec<&str> = key.split('.').collect();
            Some(metadata.interpolate(&Profile::Default, &keys))
        }
    }
}

fn problems_from_figment(error: figment::Error, figment: &Figment) -> Vec<Problem> {
    error
        .into_iter()
        .map(|error| {
            let mut keys = error.path.clone();
            let kind = match &error.kind {
                Kind::UnknownField(field, expected) => {
                    if keys.last() != Some(field) {
                        keys.push(field.clone());
                    }
                    ProblemKind::UnknownKey {
                        suggestion: closest(field, expected).map(str::to_string),
                        expected: expected.iter().map(|key| key.to_string()).collect(),
                    }
                }
                Kind::InvalidType(actual, expected) | Kind::InvalidValue(actual, expected) => {
                    ProblemKind::WrongType(format!("expected {}, found {actual}", plain(expected)))
                }
                other => ProblemKind::WrongType(other.to_string()),
            };
            let key = keys.join(".");
            let origin = origin(figment, &key);
            Problem::new(key, origin, kind)
        })
        .collect()
}

/// serde's type names in words a config author knows.
fn plain(expected: &str) -> &str {
    match expected {
        "u16" => "a whole number from 1 to 65535",
        "u32" | "u64" => "a whole number (0 or more)",
        "i32" => "a whole number",
        "f64" => "a number",
        "a boolean" | "bool" => "true or false",
        "a sequence" => "a list, like [\"a\", \"b\"]",
        "a string" => "a string in quotes",
        other => other,
    }
}

/// The valid key closest to a typo, if it is close enough to be the intended one.
fn closest<'a>(typo: &str, valid: &[&'a str]) -> Option<&'a str> {
    valid
        .iter()
        .map(|candidate| (edit_distance(typo, candidate), *candidate))
        .filter(|(distance, candidate)| *distance <= 2.max(candidate.len() / 3))
        .min()
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_the_intended_key() {
        let valid = ["server", "behaviour", "providers", "aliases", "healing"];
        assert_eq!(closest("behavior", &valid), Some("behaviour"));
        assert_eq!(closest("sever", &valid), Some("server"));
        assert_eq!(closest("zzzzzz", &valid), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
