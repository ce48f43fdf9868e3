//! Which providers a model reference stands for, in the order to try them. In this order:
//!
//! | reference                                  | targets                                          |
//! | ------------------------------------------ | ------------------------------------------------ |
//! | an alias (`fast`)                          | its entries in order, disabled providers left out |
//! | `provider:model`, a configured provider    | that provider alone                              |
//! | anything else, a bare name (`llama3.2`)    | every enabled provider whose cached model list has it, by `priority` (lower first, then by name) |
//!
//! A bare name may hold colons (`llama3.2:3b`) when what precedes the first one is no
//! configured provider. It is looked up in the lists [`ModelLists`] keeps, never by asking a
//! provider, so a name a provider has not listed yet is not found until its list arrives.

use super::GatewayError;
use super::model_lists::{ListState, ModelLists};
use crate::config::{Config, parse_model_ref};

/// Suggestions named in the error for a bare name nobody lists.
const SIMILAR_SHOWN: usize = 5;

/// The `(provider, model)` pairs `reference` stands for, in the order to try them; never
/// empty.
pub(super) fn resolve<'c>(
    config: &'c Config,
    lists: &ModelLists,
    reference: &str,
) -> Result<Vec<(&'c str, String)>, GatewayError> {
    if reference.is_empty() {
        return Err(GatewayError::BadRequest {
            message: "model: required (an alias, `provider:model` or a model a provider lists)"
                .into(),
            param: Some("model".into()),
        });
    }
    if let Some(entries) = config.aliases.get(reference) {
        return alias(config, reference, entries);
    }
    if let Some((provider, model)) = parse_model_ref(reference)
        && let Some((name, entry)) = config.providers.get_key_value(provider)
    {
        if !entry.enabled {
            return Err(unknown(
                config,
                &format!("provider '{provider}' is disabled in the config"),
            ));
        }
        return Ok(vec![(name.as_str(), model.to_owned())]);
    }
    bare(config, lists, reference)
}

fn alias<'c>(
    config: &'c Config,
    reference: &str,
    entries: &[String],
) -> Result<Vec<(&'c str, String)>, GatewayError> {
    let targets: Vec<_> = entries
        .iter()
        .filter_map(|e| parse_model_ref(e))
        .filter_map(|(p, m)| config.providers.get_key_value(p).map(|p| (p, m)))
        .filter(|((_, entry), _)| entry.enabled)
        .map(|((name, _), model)| (name.as_str(), model.to_owned()))
        .collect();
    if targets.is_empty() {
        return Err(GatewayError::UnknownModel {
            message: format!("alias '{reference}' has no enabled provider"),
        });
    }
    Ok(targets)
}

/// Every enabled provider listing `name`, by priority.
fn bare<'c>(
    config: &'c Config,
    lists: &ModelLists,
    name: &str,
) -> Result<Vec<(&'c str, String)>, GatewayError> {
    let enabled = config.providers_by_priority();
    let targets: Vec<_> = enabled
        .iter()
        .filter_map(|(provider, _)| lists.find(provider, name).map(|m| (*provider, m)))
        .collect();
    if !targets.is_empty() {
        return Ok(targets);
    }
    if config.behaviour.model_list_refresh().is_none() {
        let what = format!(
            "model '{name}' is not an alias and names no configured provider; bare model names are not routed while [behaviour] model_list_refresh_seconds = 0: name provider:model or an alias"
        );
        return Err(unknown(config, &what));
    }
    let names: Vec<&str> = enabled.iter().map(|(p, _)| *p).collect();
    let mut what = format!(
        "model '{name}' is not an alias, names no configured provider, and no enabled provider lists it ({})",
        known(lists, &names)
    );
    let similar = lists.similar(&names, name, SIMILAR_SHOWN);
    if !similar.is_empty() {
        what.push_str(&format!("; similar: {}", similar.join(", ")));
    }
    Err(unknown(config, &what))
}

/// What each provider's list holds, or why it is not known yet.
fn known(lists: &ModelLists, providers: &[&str]) -> String {
    if providers.is_empty() {
        return "no provider is enabled".into();
    }
    let states: Vec<String> = providers
        .iter()
        .map(|p| match lists.state(p) {
            ListState::Known(1) => format!("{p} lists 1 model"),
            ListState::Known(n) => format!("{p} lists {n} models"),
            ListState::Loading => format!("{p}'s model list is still loading"),
            ListState::Failed(reason) => format!("{p}'s model list is unavailable: {reason}"),
        })
        .collect();
    states.join("; ")
}

fn unknown(config: &Config, what: &str) -> GatewayError {
    GatewayError::UnknownModel {
        message: format!(
            "{what}; use an alias ({}), `provider:model` with a configured provider ({}), or a model a provider lists (GET /v1/models)",
            join_or_none(config.aliases.keys()),
            join_or_none(config.providers.keys()),
        ),
    }
}

fn join_or_none<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() {
        "none configured".into()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml: &str) -> Config {
        let file = Some((std::path::Path::new("config.toml"), toml));
        crate::config::load_from(file, std::iter::empty::<(&str, &str)>()).expect("a valid config")
    }

    fn lists(entries: &[(&str, &[&str])]) -> ModelLists {
        let lists = ModelLists::default();
        for (provider, models) in entries {
            lists.record(provider, Ok(models.iter().map(|m| m.to_string()).collect()));
        }
        lists
    }

    fn order(targets: Vec<(&str, String)>) -> Vec<String> {
        targets
            .into_iter()
            .map(|(p, m)| format!("{p}:{m}"))
            .collect()
    }

    fn message(e: GatewayError) -> String {
        match e {
            GatewayError::UnknownModel { message } => message,
            other => panic!("expected an unknown model, got {other:?}"),
        }
    }

    const THREE: &str = "[providers.openai]\n[providers.local]\n[providers.anthropic]\n";

    #[test]
    fn a_bare_name_walks_its_providers_local_first_then_by_name() {
        let config = config(THREE);
        let lists = lists(&[
            ("openai", &["llama3.2", "gpt-4o"]),
            ("anthropic", &["llama3.2"]),
            ("local", &["llama3.2:latest"]),
        ]);
        let targets = resolve(&config, &lists, "llama3.2").unwrap();
        assert_eq!(
            order(targets),
            [
                "local:llama3.2:latest",
                "anthropic:llama3.2",
                "openai:llama3.2"
            ]
        );
        assert_eq!(
            order(resolve(&config, &lists, "gpt-4o").unwrap()),
            ["openai:gpt-4o"]
        );
    }

    #[test]
    fn priority_beats_the_name_and_disabled_providers_are_left_out() {
        let config = config(
            "[providers.alpha]\nadapter = \"openai\"\npriority = 5\n\
             [providers.beta]\nadapter = \"openai\"\npriority = -1\n\
             [providers.local]\npriority = 10\n\
             [providers.gamma]\nadapter = \"openai\"\npriority = -5\nenabled = false\n",
        );
        let all = ["m"].as_slice();
        let lists = lists(&[
            ("alpha", all),
            ("beta", all),
            ("local", all),
            ("gamma", all),
        ]);
        assert_eq!(
            order(resolve(&config, &lists, "m").unwrap()),
            ["beta:m", "alpha:m", "local:m"]
        );
    }

    #[test]
    fn an_alias_then_a_provider_then_a_bare_name() {
        let config = config(
            "[providers.local]\n[providers.openai]\n\
             [aliases]\n\"gpt-4o\" = [\"local:x\", \"openai:y\"]\n",
        );
        let lists = lists(&[
            ("local", &["gpt-4o", "openai:gpt-4o", "llama3.2:3b"]),
            ("openai", &["gpt-4o"]),
        ]);
        // An alias wins over the lists.
        assert_eq!(
            order(resolve(&config, &lists, "gpt-4o").unwrap()),
            ["local:x", "openai:y"]
        );
        // `provider:model` is that provider alone, listed or not.
        assert_eq!(
            order(resolve(&config, &lists, "openai:gpt-4o").unwrap()),
            ["openai:gpt-4o"]
        );
        assert_eq!(
            order(resolve(&config, &lists, "openai:unlisted").unwrap()),
            ["openai:unlisted"]
        );
        // Before the first colon no provider: the whole reference is a bare name.
        assert_eq!(
            order(resolve(&config, &lists, "llama3.2:3b").unwrap()),
            ["local:llama3.2:3b"]
        );
    }

    #[test]
    fn a_name_nobody_lists_says_what_is_known() {
        let config = config(THREE);
        let lists = ModelLists::default();
        lists.record("local", Ok(vec!["llama3.2:latest".into()]));
        lists.record("openai", Err("connection refused".into()));
        let text = message(resolve(&config, &lists, "llama").unwrap_err());
        assert!(text.contains("model 'llama'"), "{text}");
        assert!(text.contains("local lists 1 model"), "{text}");
        assert!(
            text.contains("anthropic's model list is still loading"),
            "{text}"
        );
        assert!(
            text.contains("openai's model list is unavailable: connection refused"),
            "{text}"
        );
        assert!(text.contains("similar: local:llama3.2:latest"), "{text}");
        let text = message(resolve(&config, &lists, "nosuchprovider:m").unwrap_err());
        assert!(text.contains("'nosuchprovider:m'"), "{text}");
    }

    #[test]
    fn empty_disabled_and_empty_aliases_are_refused() {
        let config = config(
            "[providers.local]\n[providers.openai]\nenabled = false\n\
             [aliases]\nold = [\"openai:gpt-4o\"]\n",
        );
        let lists = lists(&[("openai", &["gpt-4o"])]);
        assert!(matches!(
            resolve(&config, &lists, ""),
            Err(GatewayError::BadRequest { .. })
        ));
        let text = message(resolve(&config, &lists, "openai:gpt-4o").unwrap_err());
        assert!(text.contains("'openai' is disabled"), "{text}");
        let text = message(resolve(&config, &lists, "old").unwrap_err());
        assert!(text.contains("no enabled provider"), "{text}");
        // A disabled provider's list is not consulted.
        assert!(resolve(&config, &lists, "gpt-4o").is_err());
    }

    #[test]
    fn with_the_refresh_off_a_bare_name_says_how_to_name_a_model() {
        let config = config(&format!(
            "{THREE}[behaviour]\nmodel_list_refresh_seconds = 0\n"
        ));
        let e = resolve(&config, &lists(&[]), "llama3.2").unwrap_err();
        let message = message(e);
        assert!(
            message.contains("model_list_refresh_seconds = 0: name provider:model or an alias"),
            "{message}"
        );
    }
}
