//! Config errors. Each problem names the key, what is wrong, how to fix it, and where the value
//! came from (the file or the environment variable), and never echoes a credential.

use std::fmt;
use std::path::PathBuf;

/// Why the config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A config file named explicitly (`--config` or `ARATTA_CONFIG`) does not exist.
    #[error(
        "config file {} does not exist; create it with `aratta init`, or name an existing file",
        path.display()
    )]
    NotFound {
        /// The path that was named.
        path: PathBuf,
    },
    /// The config file exists but could not be read.
    #[error("cannot read config file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why reading failed.
        #[source]
        source: std::io::Error,
    },
    /// The config file is not valid TOML.
    #[error("config file {} is not valid TOML: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// An `ARATTA_<SECTION>__<KEY>` variable cannot be used.
    #[error("environment variable {name}: {reason}")]
    Env {
        /// The variable.
        name: String,
        /// What is wrong with it and how to fix it.
        reason: String,
    },
    /// The config parsed but has problems; all of them are listed.
    #[error("{}", Problems(problems))]
    Invalid {
        /// Every problem found, in key order.
        problems: Vec<Problem>,
    },
}

/// One thing wrong with one config key.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// The dotted key, e.g. `providers.openai.base_url`.
    pub key: String,
    /// Where the value came from (`/path/config.toml` or `ARATTA_SERVER__PORT`), if it was set.
    pub origin: Option<String>,
    /// What is wrong.
    pub kind: ProblemKind,
}

impl Problem {
    /// A problem with `key`, set by `origin`.
    pub fn new(key: impl Into<String>, origin: Option<String>, kind: ProblemKind) -> Problem {
        Problem {
            key: key.into(),
            origin,
            kind,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.kind)?;
        match &self.origin {
            Some(origin) => write!(f, " (set in {origin})"),
            None => Ok(()),
        }
    }
}

/// The kinds of problem a config key can have.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProblemKind {
    /// A key the config does not have (usually a typo).
    #[error("unknown key{}; valid keys here: {}", did_you_mean(.suggestion), .expected.join(", "))]
    UnknownKey {
        /// The closest valid key, if one is close.
        suggestion: Option<String>,
        /// Every valid key at this place.
        expected: Vec<String>,
    },
    /// A provider's API key written into the config.
    #[error("API keys are read only from the environment; set {env_var} instead")]
    ApiKeyInConfig {
        /// The variable the provider reads its key from.
        env_var: String,
    },
    /// Some other credential written into the config.
    #[error(
        "secrets are read only from the environment; remove this key (provider keys go in each \
         provider's api_key_env variable, the admin token in ARATTA_ADMIN_TOKEN)"
    )]
    SecretInConfig,
    /// The value has the wrong type or is out of range for its type.
    #[error("{0}")]
    WrongType(String),
    /// The value has the right type but is not acceptable; the message says what is.
    #[error("{0}")]
    Invalid(String),
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(key) => format!(" (did you mean `{key}`?)"),
        None => String::new(),
    }
}

struct Problems<'a>(&'a [Problem]);

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [only] => write!(f, "{only}"),
            problems => {
                write!(f, "{} problems in the config:", problems.len())?;
                for problem in problems {
                    write!(f, "\n  - {problem}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_problem_reads_as_a_sentence() {
        let error = ConfigError::Invalid {
            problems: vec![Problem::new(
                "server.prot",
                Some("/etc/aratta.toml".into()),
                ProblemKind::UnknownKey {
                    suggestion: Some("port".into()),
                    expected: vec!["host".into(), "port".into()],
                },
            )],
        };
        assert_eq!(
            error.to_string(),
            "server.prot: unknown key (did you mean `port`?); valid keys here: host, port \
             (set in /etc/aratta.toml)"
        );
    }

    #[test]
    fn several_problems_are_listed() {
        let problem = |key: &str| Problem::new(key, None, ProblemKind::Invalid("bad".into()));
        let error = ConfigError::Invalid {
            problems: vec![problem("a"), problem("b")],
        };
        assert_eq!(
            error.to_string(),
            "2 problems in the config:\n  - a: bad\n  - b: bad"
        );
    }
}
