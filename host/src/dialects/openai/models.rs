//! SCRI `ModelList` → OpenAI's `GET /v1/models` list. Ids are Aratta's `provider:model` form,
//! so a client can send any listed id straight back as `model`; configured aliases are
//! listed as models too, owned by `aratta-alias`.

use serde_json::{Value, json};

use crate::scri::ModelList;

/// `owned_by` of an alias entry.
const ALIAS_OWNER: &str = "aratta-alias";

/// The OpenAI `list` of models: every provider model, then every alias whose name is not
/// already a model id. `created` is 0 and `owned_by` the provider when they are unknown.
pub fn models(list: &ModelList) -> Value {
    let mut data: Vec<Value> = list
        .models
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "object": "model",
                "created": m.created.unwrap_or(0),
                "owned_by": m.owned_by.as_deref().unwrap_or(&m.provider),
            })
        })
        .collect();
    for alias in list.aliases.keys() {
        if !list.models.iter().any(|m| &m.id == alias) {
            data.push(
                json!({"id": alias, "object": "model", "created": 0, "owned_by": ALIAS_OWNER}),
            );
        }
    }
    json!({"object": "list", "data": data})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scri::{ModelCapabilities, ModelEntry};

    fn entry(
        provider: &str,
        model: &str,
        owned_by: Option<&str>,
        created: Option<u64>,
    ) -> ModelEntry {
        ModelEntry {
            id: format!("{provider}:{model}"),
            provider: provider.into(),
            model: model.into(),
            owned_by: owned_by.map(str::to_owned),
            created,
            capabilities: ModelCapabilities::default(),
        }
    }

    #[test]
    fn models_and_aliases_are_listed_in_openai_shape() {
        let list = ModelList {
            models: vec![
                entry("openai", "gpt-4o-mini", Some("system"), Some(1_721_172_741)),
                entry("local", "echo", None, None),
            ],
            aliases: [
                ("fast".to_owned(), vec!["local:echo".to_owned()]),
                (
                    "local:echo".to_owned(),
                    vec!["openai:gpt-4o-mini".to_owned()],
                ),
            ]
            .into(),
            unavailable: Vec::new(),
        };
        assert_eq!(
            models(&list),
            json!({"object": "list", "data": [
                {"id": "openai:gpt-4o-mini", "object": "model", "created": 1_721_172_741, "owned_by": "system"},
                {"id": "local:echo", "object": "model", "created": 0, "owned_by": "local"},
                {"id": "fast", "object": "model", "created": 0, "owned_by": "aratta-alias"},
            ]})
        );
    }
}
