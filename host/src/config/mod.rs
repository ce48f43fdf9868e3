//! Aratta's configuration: the model ([`Config`]), how it is layered and loaded ([`load`]), and
//! the rule that credentials never live in it.
//!
//! Layers, lowest first: built-in defaults, the TOML file (`config.example.toml` documents every
//! key), then `ARATTA_<SECTION>__<KEY>` environment variables. CLI flags are applied by the
//! caller on top. Unknown keys, API keys in the file and invalid values are all errors that name
//! the key, where it was set, and the fix.

mod error;
mod layers;
mod load;
mod model;
mod secrets;
mod validate;

#[cfg(test)]
mod tests;

pub use error::{ConfigError, Problem, ProblemKind};
pub use layers::{ENV_PREFIX, NOT_CONFIG};
pub use load::{load, load_from};
pub use model::{
    BehaviourConfig, BreakerConfig, Config, HealingConfig, PriceConfig, ProviderConfig,
    ReloadConfig, RetryConfig, ServerConfig, StoreConfig, TracesConfig,
};

/// Splits `provider:model` at the first colon (`local:llama3.2:3b` is provider `local`, model
/// `llama3.2:3b`), because model names may contain colons but provider names may not.
///
/// Returns `None` when there is no colon or either side is empty.
pub fn parse_model_ref(reference: &str) -> Option<(&str, &str)> {
    reference
        .split_once(':')
        .filter(|(provider, model)| !provider.is_empty() && !model.is_empty())
}

impl Config {
    /// Checks the values again after a caller changed them (e.g. `--port`); the problems have
    /// no origin, since they did not come from a file or variable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let problems = validate::validate(self);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid { problems })
        }
    }
}
