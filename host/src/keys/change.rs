//! Changing a key in place (`aratta keys update`, `PATCH /api/v1/keys/{id}`), so its limits,
//! models or lifetime change without handing its clients a new secret. A change is a JSON
//! merge patch (RFC 7396) over the fields of a [`KeySpec`]: a field given is set, a field given
//! as `null` is removed, a field left out stays; the result is checked as a new key's spec is.

use serde::{Deserialize, Deserializer, Serialize};

use super::spec::{KeySpec, Period, Route, SpecError};
use crate::store::keys::KeyRecord;

/// What to change in a key; each field as in [`KeySpec`], `null` to remove it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyChange {
    /// A new name (it cannot be removed).
    #[serde(
        default,
        deserialize_with = "given",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// A new owner; `null`: none.
    #[serde(
        default,
        deserialize_with = "given",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub owner: Option<Option<String>>,
    /// Seconds from now until the key stops working; `null`: it works until revoked.
    #[serde(
        default,
        deserialize_with = "given",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<u64>)]
    pub expires_in_seconds: Option<Option<u64>>,
    /// The model names it may ask for; `null`: any.
    #[serde(
        default,
        deserialize_with = "given",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Vec<String>>)]
    pub models: Option<Option<Vec<String>>>,
    /// The kinds of route it may use; `null`: all.
    #[serde(
        default,
        deserialize_with = "given",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Vec<Route>>)]
    pub routes: Option<Option<Vec<Route>>>,
    /// Requests per minute at most; `null`: no limit.
    #[serde(
        default,
        deserialize_with = "given",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<u64>)]
    pub rpm: Option<Option<u64>>,
    /// Tokens per minute at most; `null`: no limit.
    #[serde(
        default,
        deserialize_with = "given",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<u64>)]
    pub tpm: Option<Option<u64>>,
    /// Requests at once at most; `null`: no limit.
    #[serde(
        default,
        deserialize_with = "given",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<u64>)]
    pub max_concurrent: Option<Option<u64>>,
    /// US dollars per budget period at most; `null`: no budget (and no period).
    #[serde(
        default,
        deserialize_with = "given",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<f64>)]
    pub budget_usd: Option<Option<f64>>,
    /// The budget's period; `null`: month.
    #[serde(
        default,
        deserialize_with = "given",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Period>)]
    pub budget_period: Option<Option<Period>>,
}

/// A field that is present, `null` included (`Some(None)`); serde's default makes an absent
/// one `None`.
fn given<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Set `slot` to what `change` says, if it says anything.
fn merge<T>(slot: &mut Option<T>, change: &Option<Option<T>>)
where
    T: Clone,
{
    if let Some(value) = change {
        slot.clone_from(value);
    }
}

impl KeyChange {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == KeyChange::default()
    }

    /// `record` as changed at `now` (Unix seconds): its id, secret, creation and revocation
    /// stay; the rest is checked as a new key's spec.
    pub fn apply(&self, record: &KeyRecord, now: u64) -> Result<KeyRecord, SpecError> {
        if self.is_empty() {
            return Err(SpecError {
                field: "body",
                reason: "changes nothing: give at least one field (null removes one)".into(),
            });
        }
        let mut spec = spec_of(record);
        match &self.name {
            Some(Some(name)) => spec.name.clone_from(name),
            Some(None) => {
                return Err(SpecError {
                    field: "name",
                    reason: "cannot be removed; give a new one".into(),
                });
            }
            None => {}
        }
        merge(&mut spec.owner, &self.owner);
        merge(&mut spec.models, &self.models);
        merge(&mut spec.routes, &self.routes);
        merge(&mut spec.rpm, &self.rpm);
        merge(&mut spec.tpm, &self.tpm);
        merge(&mut spec.max_concurrent, &self.max_concurrent);
        merge(&mut spec.budget_usd, &self.budget_usd);
        merge(&mut spec.budget_period, &self.budget_period);
        if self.budget_usd == Some(None) && self.budget_period.is_none() {
            // No budget, so no period: removing one removes both.
            spec.budget_period = None;
        }
        spec.expires_in_seconds = self.expires_in_seconds.flatten();
        spec.check()?;
        let expires_at = match self.expires_in_seconds {
            Some(Some(seconds)) => Some(now.saturating_add(seconds)),
            Some(None) => None,
            None => record.expires_at,
        };
        Ok(super::record_of(
            &spec,
            KeyRecord {
                expires_at,
                ..record.clone()
            },
        ))
    }
}

/// The spec `record` was made from, as far as it can be told (its lifetime aside).
fn spec_of(record: &KeyRecord) -> KeySpec {
    KeySpec {
        name: record.name.clone(),
        owner: record.owner.clone(),
        expires_in_seconds: None,
        models: record.models.clone(),
        routes: record
            .routes
            .as_ref()
            .map(|names| names.iter().filter_map(|n| Route::parse(n)).collect()),
        rpm: record.rpm,
        tpm: record.tpm,
        max_concurrent: record.max_concurrent,
        budget_usd: record.budget_usd,
        budget_period: record
            .budget_period
            .as_deref()
            .and_then(|p| Period::ALL.into_iter().find(|x| x.as_str() == p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> KeyRecord {
        KeyRecord {
            id: "key_0123456789abcdef".into(),
            hint: "ark_abcd…wxyz".into(),
            name: "ci".into(),
            owner: Some("platform".into()),
            models: Some(vec!["fast".into()]),
            routes: Some(vec!["chat".into()]),
            created_at: 1_000,
            expires_at: Some(5_000),
            rpm: Some(10),
            budget_usd: Some(5.0),
            budget_period: Some("day".into()),
            ..KeyRecord::default()
        }
    }

    fn change(json: &str) -> KeyChange {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn given_fields_are_set_null_ones_removed_and_the_rest_kept() {
        let old = key();
        let new = change(r#"{"rpm": 600, "tpm": 1000, "models": null, "owner": null}"#)
            .apply(&old, 2_000)
            .unwrap();
        assert_eq!(new.rpm, Some(600));
        assert_eq!(new.tpm, Some(1000));
        assert_eq!(new.models, None);
        assert_eq!(new.owner, None);
        // Kept: identity, creation, expiry, routes, budget.
        assert_eq!(
            (&new.id, &new.hint, new.created_at),
            (&old.id, &old.hint, 1_000)
        );
        assert_eq!(new.expires_at, Some(5_000));
        assert_eq!(new.routes, old.routes);
        assert_eq!(
            (new.budget_usd, new.budget_period.as_deref()),
            (Some(5.0), Some("day"))
        );
    }

    #[test]
    fn lifetime_counts_from_the_change_and_null_means_until_revoked() {
        let later = change(r#"{"expires_in_seconds": 60}"#).apply(&key(), 2_000);
        assert_eq!(later.unwrap().expires_at, Some(2_060));
        let never = change(r#"{"expires_in_seconds": null}"#).apply(&key(), 2_000);
        assert_eq!(never.unwrap().expires_at, None);
    }

    #[test]
    fn removing_the_budget_removes_its_period() {
        let new = change(r#"{"budget_usd": null}"#)
            .apply(&key(), 2_000)
            .unwrap();
        assert_eq!((new.budget_usd, new.budget_period), (None, None));
    }

    #[test]
    fn a_change_is_checked_as_a_new_key_is_and_names_the_field() {
        for (body, field) in [
            (r#"{"rpm": 0}"#, "rpm"),
            (r#"{"models": []}"#, "models"),
            (r#"{"name": null}"#, "name"),
            (r#"{"name": " "}"#, "name"),
            (r#"{"expires_in_seconds": 0}"#, "expires_in_seconds"),
            (r#"{"budget_usd": -1}"#, "budget_usd"),
            (r#"{}"#, "body"),
        ] {
            let e = change(body).apply(&key(), 2_000).unwrap_err();
            assert_eq!(e.field, field, "{body}: {e}");
        }
        let no_budget = KeyRecord {
            budget_usd: None,
            budget_period: None,
            ..key()
        };
        let e = change(r#"{"budget_period": "week"}"#)
            .apply(&no_budget, 2_000)
            .unwrap_err();
        assert_eq!(e.field, "budget_period");
        assert!(serde_json::from_str::<KeyChange>(r#"{"secret": "x"}"#).is_err());
    }
}
