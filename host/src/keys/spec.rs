//! What a new key may do, as `aratta keys create` and `POST /api/v1/keys` state it, and the
//! checks that make a bad request an error naming the field.

use serde::{Deserialize, Serialize};

/// The kinds of inference route a key may be limited to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Route {
    /// Chat in every dialect (`/api/v1/chat`, `/v1/chat/completions`, `/v1/messages`,
    /// Gemini's `generateContent` and `streamGenerateContent`).
    Chat,
    /// Embeddings (`/api/v1/embed`, `/v1/embeddings`, Gemini's `embedContent`).
    Embeddings,
    /// Model listings (`/api/v1/models`, `/v1/models`, `/v1beta/models`).
    Models,
}

impl Route {
    /// Every kind, in the order listings show them.
    pub const ALL: [Route; 3] = [Route::Chat, Route::Embeddings, Route::Models];

    /// The name used in specs, records and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Chat => "chat",
            Route::Embeddings => "embeddings",
            Route::Models => "models",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Route> {
        Route::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// The inference route a request is for; `None` for every other route (health, the
    /// operator's `/api/v1/*` routes), which client keys do not govern.
    pub fn of(method: &http::Method, path: &str) -> Option<Route> {
        use http::Method;
        match (method, path) {
            (&Method::POST, "/api/v1/chat" | "/v1/chat/completions" | "/v1/messages") => {
                Some(Route::Chat)
            }
            (&Method::POST, "/api/v1/embed" | "/v1/embeddings") => Some(Route::Embeddings),
            (&Method::GET, "/api/v1/models" | "/v1/models" | "/v1beta/models") => {
                Some(Route::Models)
            }
            (_, p) if p.starts_with("/v1/models/") || p.starts_with("/v1beta/models/") => {
                if method == Method::GET {
                    Some(Route::Models)
                } else if p.ends_with(":embedContent") || p.ends_with(":batchEmbedContents") {
                    Some(Route::Embeddings)
                } else {
                    // generateContent, streamGenerateContent, and whatever else Gemini's
                    // paths name: a key limited to other routes is refused it.
                    Some(Route::Chat)
                }
            }
            _ => None,
        }
    }
}

/// A budget's period, in UTC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// From midnight.
    Day,
    /// From Monday, midnight.
    Week,
    /// From the first, midnight.
    #[default]
    Month,
}

impl Period {
    /// Every period.
    pub const ALL: [Period; 3] = [Period::Day, Period::Week, Period::Month];

    /// The name used in specs and records.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }
}

/// A new key's name, owner, lifetime and limits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    /// What the key is for ("ci", "alice's laptop").
    pub name: String,
    /// Who holds it.
    #[serde(default)]
    pub owner: Option<String>,
    /// Seconds from now until the key stops working; none: it works until revoked.
    #[serde(default)]
    pub expires_in_seconds: Option<u64>,
    /// The model names it may ask for, as clients write them: an alias, `provider:model`, a
    /// bare model name, or a prefix ending in `*` (`openai:*`). None: any model.
    #[serde(default)]
    pub models: Option<Vec<String>>,
    /// The kinds of route it may use; none: all.
    #[serde(default)]
    pub routes: Option<Vec<Route>>,
    /// Requests per minute at most (answered 429 with `Retry-After` beyond).
    #[serde(default)]
    pub rpm: Option<u64>,
    /// Tokens (input and output) per minute at most: a request is refused while the last
    /// minute's tokens are at the limit.
    #[serde(default)]
    pub tpm: Option<u64>,
    /// Requests at once at most, streams until they end.
    #[serde(default)]
    pub max_concurrent: Option<u64>,
    /// US dollars per `budget_period` at most, at the prices of `GET /api/v1/prices`
    /// (requests of unpriced models count nothing).
    #[serde(default)]
    pub budget_usd: Option<f64>,
    /// The budget's period (default: month).
    #[serde(default)]
    pub budget_period: Option<Period>,
}

/// A field of a [`KeySpec`] that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct SpecError {
    /// The field.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

const MAX_TEXT: usize = 200;

impl KeySpec {
    /// Whether every field can be used.
    pub fn check(&self) -> Result<(), SpecError> {
        let err = |field, reason: &str| {
            Err(SpecError {
                field,
                reason: reason.into(),
            })
        };
        text("name", &self.name, true)?;
        if let Some(owner) = &self.owner {
            text("owner", owner, false)?;
        }
        if self.expires_in_seconds == Some(0) {
            return err(
                "expires_in_seconds",
                "must be at least 1 (leave it out for a key that does not expire)",
            );
        }
        if let Some(models) = &self.models {
            if models.is_empty() {
                return err(
                    "models",
                    "an empty list would allow no model; leave it out to allow any",
                );
            }
            for model in models {
                text("models", model, true)?;
                if model.trim() != model || model.contains(char::is_whitespace) {
                    return err("models", &format!("`{model}` contains white space"));
                }
                if model.find('*').is_some_and(|at| at != model.len() - 1) {
                    return err(
                        "models",
                        &format!("`{model}`: `*` may only end a name, as in `openai:*`"),
                    );
                }
            }
        }
        if self.routes.as_ref().is_some_and(Vec::is_empty) {
            return err(
                "routes",
                "an empty list would allow no route; leave it out to allow all",
            );
        }
        for (field, value) in [
            ("rpm", self.rpm),
            ("tpm", self.tpm),
            ("max_concurrent", self.max_concurrent),
        ] {
            if value == Some(0) {
                return err(field, "must be at least 1 (leave it out for no limit)");
            }
        }
        if let Some(budget) = self.budget_usd
            && !(budget.is_finite() && budget > 0.0)
        {
            return err(
                "budget_usd",
                "must be a positive number of US dollars (leave it out for no budget)",
            );
        }
        if self.budget_period.is_some() && self.budget_usd.is_none() {
            return err("budget_period", "applies to a budget: set budget_usd too");
        }
        Ok(())
    }
}

fn text(field: &'static str, value: &str, required: bool) -> Result<(), SpecError> {
    let reason = if required && value.trim().is_empty() {
        "must not be empty".to_owned()
    } else if value.chars().count() > MAX_TEXT {
        format!("longer than {MAX_TEXT} characters")
    } else if value.chars().any(char::is_control) {
        "contains a control character".to_owned()
    } else {
        return Ok(());
    };
    Err(SpecError { field, reason })
}

/// Whether a key allowed `allowed` may ask for `model`: an exact name, or a prefix ending in
/// `*`.
pub(crate) fn model_allowed(allowed: &[String], model: &str) -> bool {
    allowed.iter().any(|a| match a.strip_suffix('*') {
        Some(prefix) => model.starts_with(prefix),
        None => a == model,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn routes_of_each_dialect() {
        let post = |p| Route::of(&Method::POST, p);
        let get = |p| Route::of(&Method::GET, p);
        assert_eq!(post("/api/v1/chat"), Some(Route::Chat));
        assert_eq!(post("/v1/chat/completions"), Some(Route::Chat));
        assert_eq!(post("/v1/messages"), Some(Route::Chat));
        assert_eq!(
            post("/v1beta/models/gemini-2.0-flash:generateContent"),
            Some(Route::Chat)
        );
        assert_eq!(
            post("/v1/models/m:streamGenerateContent"),
            Some(Route::Chat)
        );
        assert_eq!(
            post("/v1beta/models/m:embedContent"),
            Some(Route::Embeddings)
        );
        assert_eq!(
            post("/v1beta/models/m:batchEmbedContents"),
            Some(Route::Embeddings)
        );
        assert_eq!(post("/v1/embeddings"), Some(Route::Embeddings));
        assert_eq!(post("/api/v1/embed"), Some(Route::Embeddings));
        assert_eq!(get("/v1/models"), Some(Route::Models));
        assert_eq!(get("/v1/models/gpt-4o"), Some(Route::Models));
        assert_eq!(get("/v1beta/models/gemini-2.0-flash"), Some(Route::Models));
        assert_eq!(get("/api/v1/models"), Some(Route::Models));
        for other in [
            "/api/v1/health",
            "/metrics",
            "/api/v1/tools",
            "/api/v1/keys",
        ] {
            assert_eq!(get(other), None, "{other}");
        }
        assert_eq!(post("/api/v1/agents/run"), None);
    }

    #[test]
    fn bad_specs_name_the_field() {
        let ok = KeySpec {
            name: "ci".into(),
            ..KeySpec::default()
        };
        assert_eq!(ok.check(), Ok(()));
        let cases = [
            (
                KeySpec {
                    name: " ".into(),
                    ..ok.clone()
                },
                "name",
            ),
            (
                KeySpec {
                    name: "a\nb".into(),
                    ..ok.clone()
                },
                "name",
            ),
            (
                KeySpec {
                    name: "x".repeat(201),
                    ..ok.clone()
                },
                "name",
            ),
            (
                KeySpec {
                    owner: Some("\u{7}".into()),
                    ..ok.clone()
                },
                "owner",
            ),
            (
                KeySpec {
                    expires_in_seconds: Some(0),
                    ..ok.clone()
                },
                "expires_in_seconds",
            ),
            (
                KeySpec {
                    models: Some(vec![]),
                    ..ok.clone()
                },
                "models",
            ),
            (
                KeySpec {
                    models: Some(vec!["a b".into()]),
                    ..ok.clone()
                },
                "models",
            ),
            (
                KeySpec {
                    models: Some(vec!["*x".into()]),
                    ..ok.clone()
                },
                "models",
            ),
            (
                KeySpec {
                    routes: Some(vec![]),
                    ..ok.clone()
                },
                "routes",
            ),
            (
                KeySpec {
                    rpm: Some(0),
                    ..ok.clone()
                },
                "rpm",
            ),
            (
                KeySpec {
                    max_concurrent: Some(0),
                    ..ok.clone()
                },
                "max_concurrent",
            ),
            (
                KeySpec {
                    budget_usd: Some(f64::NAN),
                    ..ok.clone()
                },
                "budget_usd",
            ),
            (
                KeySpec {
                    budget_usd: Some(-1.0),
                    ..ok.clone()
                },
                "budget_usd",
            ),
            (
                KeySpec {
                    budget_period: Some(Period::Day),
                    ..ok.clone()
                },
                "budget_period",
            ),
        ];
        for (spec, field) in cases {
            assert_eq!(spec.check().unwrap_err().field, field, "{spec:?}");
        }
        let unknown = serde_json::from_str::<KeySpec>(r#"{"name":"a","budget":5}"#).unwrap_err();
        assert!(unknown.to_string().contains("budget"), "{unknown}");
        let route =
            serde_json::from_str::<KeySpec>(r#"{"name":"a","routes":["admin"]}"#).unwrap_err();
        assert!(route.to_string().contains("admin"), "{route}");
    }

    #[test]
    fn model_patterns() {
        let allowed = ["fast".to_owned(), "openai:*".to_owned()];
        assert!(model_allowed(&allowed, "fast"));
        assert!(model_allowed(&allowed, "openai:gpt-4o"));
        assert!(!model_allowed(&allowed, "faster"));
        assert!(!model_allowed(&allowed, "anthropic:claude"));
        assert!(!model_allowed(&allowed, "openai"));
    }
}
