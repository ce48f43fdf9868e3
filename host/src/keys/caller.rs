//! The rule at the door of the inference routes, and who a request runs as.
//!
//! A client sends its key the way its SDK sends any key: `Authorization: Bearer` (OpenAI's
//! SDKs, SCRI), `x-api-key` (Anthropic's), `x-goog-api-key` or `?key=` (Google's). The first
//! of those that holds an Aratta key (`ark_…`) is checked. When keys are required, a request
//! without one is refused; when they are optional (a server on loopback, unless configured),
//! a request without one runs anonymously, and whatever placeholder its SDK sent is ignored,
//! but an Aratta key that is unknown, revoked or expired is still refused: its holder meant
//! to use it.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, StatusCode, Uri, header};

use super::spec::model_allowed;
use super::{KeyRecord, KeyRing, Limits, PREFIX, Route};

tokio::task_local! {
    /// Who the request being served runs as. Set by the server's ingress layer around each
    /// inference request; unset elsewhere (agents, heal cycles), where no key applies.
    pub static CALLER: Caller;
}

/// Who a request runs as.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    /// The key it presented; `None`: anonymous (keys optional and none sent).
    pub key: Option<Arc<KeyRecord>>,
    /// Its W3C `traceparent` header, when it sent one and requests are traced.
    pub traceparent: Option<String>,
    /// Its W3C `tracestate` header, with `traceparent`.
    pub tracestate: Option<String>,
}

/// Why a request is refused at the door. The messages say what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// Keys are required and none was sent.
    #[error(
        "this server requires an Aratta client key: send it as your SDK's API key (`Authorization: Bearer ark_…`, `x-api-key` or `x-goog-api-key`); an operator makes one with `aratta keys create --name NAME`"
    )]
    Missing,
    /// Keys are required and what was sent is not an Aratta key.
    #[error(
        "the API key sent is not an Aratta client key (they start with `ark_`): this server requires one; an operator makes one with `aratta keys create --name NAME`"
    )]
    NotAratta,
    /// No such key.
    #[error("the Aratta client key {hint} is not known to this server")]
    Unknown {
        /// The key's first characters.
        hint: String,
    },
    /// The key was revoked.
    #[error("the Aratta client key {id} was revoked")]
    Revoked {
        /// The key's id.
        id: String,
    },
    /// The key expired.
    #[error("the Aratta client key {id} expired (at Unix time {at})")]
    Expired {
        /// The key's id.
        id: String,
        /// When.
        at: u64,
    },
    /// The key may not use this kind of route.
    #[error("the Aratta client key {id} may not use {route} routes (it may use: {allowed})")]
    Route {
        /// The key's id.
        id: String,
        /// The route's kind.
        route: &'static str,
        /// The kinds it may use.
        allowed: String,
    },
    /// The store has not been readable for too long to trust the keys last read from it (a
    /// revocation may have been missed).
    #[error(
        "client keys cannot be checked: the store at {store} has not been readable for {seconds} s; retry, and tell the operator"
    )]
    Stale {
        /// The database.
        store: String,
        /// How long.
        seconds: u64,
    },
}

impl Denied {
    /// 401 for a key that is missing or not good, 403 for a route the key may not use, 503
    /// when keys cannot be checked.
    pub fn status(&self) -> StatusCode {
        match self {
            Denied::Route { .. } => StatusCode::FORBIDDEN,
            Denied::Stale { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The SCRI error class.
    pub fn kind(&self) -> &'static str {
        match self {
            Denied::Route { .. } => "permission_error",
            Denied::Stale { .. } => "overloaded_error",
            _ => "authentication_error",
        }
    }

    /// The machine-readable code (`invalid_api_key` is OpenAI's own for a bad key).
    pub fn code(&self) -> &'static str {
        match self {
            Denied::Missing | Denied::NotAratta | Denied::Unknown { .. } => "invalid_api_key",
            Denied::Revoked { .. } => "client_key_revoked",
            Denied::Expired { .. } => "client_key_expired",
            Denied::Route { .. } => "route_not_allowed",
            Denied::Stale { .. } => "store_unavailable",
        }
    }
}

/// How long keys read from the store are trusted when it cannot be read again.
const STALE_AFTER: Duration = Duration::from_secs(30);

/// The door's rule for one server.
#[derive(Debug)]
pub struct ClientAuth {
    ring: Arc<KeyRing>,
    required: bool,
    limits: Arc<Limits>,
}

impl ClientAuth {
    /// Check keys from `ring`, and their limits with `limits`; `required`: refuse requests
    /// without a key.
    pub fn new(ring: Arc<KeyRing>, required: bool, limits: Arc<Limits>) -> Self {
        ClientAuth {
            ring,
            required,
            limits,
        }
    }

    /// The keys' counters.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether a request without a key is refused.
    pub fn required(&self) -> bool {
        self.required
    }

    /// Who a request to `route` runs as, at `now` (Unix seconds), or why it is refused.
    pub fn admit(
        &self,
        route: Route,
        headers: &HeaderMap,
        uri: &Uri,
        now: u64,
    ) -> Result<Caller, Denied> {
        let (aratta, other) = presented(headers, uri);
        let Some(secret) = aratta else {
            return match (self.required, other) {
                (false, _) => Ok(Caller::default()),
                (true, false) => Err(Denied::Missing),
                (true, true) => Err(Denied::NotAratta),
            };
        };
        let stale = self.ring.staleness();
        if stale > STALE_AFTER {
            return Err(Denied::Stale {
                store: self.ring.store().location().to_string(),
                seconds: stale.as_secs(),
            });
        }
        let Some(key) = self.ring.find(&super::hash(secret)) else {
            return Err(Denied::Unknown {
                hint: secret.chars().take(PREFIX.len() + 4).collect::<String>() + "…",
            });
        };
        if key.revoked_at.is_some() {
            return Err(Denied::Revoked { id: key.id.clone() });
        }
        if let Some(at) = key.expires_at.filter(|at| *at <= now) {
            return Err(Denied::Expired {
                id: key.id.clone(),
                at,
            });
        }
        if let Some(routes) = &key.routes
            && !routes.iter().any(|r| r == route.as_str())
        {
            return Err(Denied::Route {
                id: key.id.clone(),
                route: route.as_str(),
                allowed: routes.join(", "),
            });
        }
        Ok(Caller {
            key: Some(key),
            ..Caller::default()
        })
    }
}

/// The first Aratta key among the places SDKs put a key, and whether anything else was sent
/// in them.
/// Anthropic's SDK sends its key here.
static X_API_KEY: header::HeaderName = header::HeaderName::from_static("x-api-key");
/// Google's SDK sends its key here.
static X_GOOG_API_KEY: header::HeaderName = header::HeaderName::from_static("x-goog-api-key");

fn presented<'a>(headers: &'a HeaderMap, uri: &'a Uri) -> (Option<&'a str>, bool) {
    let header = |name: &header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let bearer = header(&header::AUTHORIZATION).map(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .unwrap_or(v)
    });
    let query = uri
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("key=")));
    let candidates = [bearer, header(&X_API_KEY), header(&X_GOOG_API_KEY), query];
    let mut other = false;
    for value in candidates.into_iter().flatten().map(str::trim) {
        if value.starts_with(PREFIX) {
            return (Some(value), other);
        }
        other |= !value.is_empty();
    }
    (None, other)
}

/// Whether the request being served may ask for `model` (always, outside a served request
/// or for a key without a model list); the refusal names the model and what the key allows.
pub fn check_model(model: &str) -> Result<(), String> {
    CALLER
        .try_with(|caller| match caller.key.as_deref() {
            Some(KeyRecord {
                id,
                models: Some(allowed),
                ..
            }) if !model_allowed(allowed, model) => Err(format!(
                "the Aratta client key {id} may not use the model `{model}` (it may use: {})",
                allowed.join(", ")
            )),
            _ => Ok(()),
        })
        .unwrap_or(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeySpec, issue};
    use crate::store::Store;

    async fn ring() -> (tempfile::TempDir, Arc<KeyRing>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).await.unwrap();
        let ring = Arc::new(KeyRing::load(store).await.unwrap());
        (dir, ring)
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, value.parse().unwrap());
        }
        h
    }

    #[tokio::test]
    async fn each_sdk_header_carries_a_key_and_bad_keys_are_refused() {
        let (_dir, ring) = ring().await;
        let store = ring.store().clone();
        let spec = |name: &str| KeySpec {
            name: name.into(),
            ..KeySpec::default()
        };
        let good = issue(&store, &spec("good"), 100).await.unwrap();
        let revoked = issue(&store, &spec("revoked"), 100).await.unwrap();
        store.revoke_key(&revoked.record.id, 150).await.unwrap();
        let expiring = issue(
            &store,
            &KeySpec {
                expires_in_seconds: Some(50),
                ..spec("expiring")
            },
            100,
        )
        .await
        .unwrap();
        let chat_only = issue(
            &store,
            &KeySpec {
                routes: Some(vec![Route::Chat]),
                ..spec("chat only")
            },
            100,
        )
        .await
        .unwrap();
        ring.refresh().await.unwrap();
        let uri: Uri = "/v1/chat/completions".parse().unwrap();
        for auth in [
            ClientAuth::new(ring.clone(), true, Arc::default()),
            ClientAuth::new(ring.clone(), false, Arc::default()),
        ] {
            let admit = |h: &HeaderMap, uri: &Uri, now| auth.admit(Route::Chat, h, uri, now);
            let bearer = format!("Bearer {}", good.secret);
            for h in [
                headers(&[("authorization", &bearer)]),
                headers(&[("x-api-key", &good.secret)]),
                headers(&[("x-goog-api-key", &good.secret)]),
                // A placeholder before the real key is passed over.
                headers(&[
                    ("authorization", "Bearer unused"),
                    ("x-api-key", &good.secret),
                ]),
            ] {
                let caller = admit(&h, &uri, 120).unwrap();
                assert_eq!(caller.key.unwrap().id, good.record.id);
            }
            let with_query: Uri = format!(
                "/v1beta/models/m:generateContent?alt=sse&key={}",
                good.secret
            )
            .parse()
            .unwrap();
            assert!(
                admit(&HeaderMap::new(), &with_query, 120)
                    .unwrap()
                    .key
                    .is_some()
            );

            let unknown = format!("{}x", &good.secret[..good.secret.len() - 1]);
            let e = admit(&headers(&[("x-api-key", &unknown)]), &uri, 120).unwrap_err();
            assert!(matches!(e, Denied::Unknown { .. }), "{e}");
            assert!(
                !e.to_string().contains(&unknown[8..]),
                "the message repeats the key: {e}"
            );
            let e = admit(&headers(&[("x-api-key", &revoked.secret)]), &uri, 120).unwrap_err();
            assert_eq!(
                e,
                Denied::Revoked {
                    id: revoked.record.id.clone()
                }
            );
            assert!(admit(&headers(&[("x-api-key", &expiring.secret)]), &uri, 149).is_ok());
            let e = admit(&headers(&[("x-api-key", &expiring.secret)]), &uri, 150).unwrap_err();
            assert_eq!(e.code(), "client_key_expired");
            assert_eq!(e.status(), StatusCode::UNAUTHORIZED);
            let e = auth
                .admit(
                    Route::Embeddings,
                    &headers(&[("x-api-key", &chat_only.secret)]),
                    &uri,
                    120,
                )
                .unwrap_err();
            assert_eq!(e.status(), StatusCode::FORBIDDEN);
            assert!(e.to_string().contains("embeddings"), "{e}");
        }
        let required = ClientAuth::new(ring.clone(), true, Arc::default());
        let optional = ClientAuth::new(ring.clone(), false, Arc::default());
        let none = HeaderMap::new();
        let placeholder = headers(&[("authorization", "Bearer sk-unused")]);
        assert_eq!(
            required.admit(Route::Chat, &none, &uri, 1).unwrap_err(),
            Denied::Missing
        );
        assert_eq!(
            required
                .admit(Route::Chat, &placeholder, &uri, 1)
                .unwrap_err(),
            Denied::NotAratta
        );
        assert!(
            optional
                .admit(Route::Chat, &none, &uri, 1)
                .unwrap()
                .key
                .is_none()
        );
        assert!(
            optional
                .admit(Route::Chat, &placeholder, &uri, 1)
                .unwrap()
                .key
                .is_none()
        );
    }

    #[tokio::test]
    async fn model_lists_apply_inside_a_request_only() {
        let key = KeyRecord {
            id: "key_1".into(),
            models: Some(vec!["fast".into(), "openai:*".into()]),
            ..KeyRecord::default()
        };
        assert_eq!(check_model("anything"), Ok(()), "outside a request");
        let caller = Caller {
            key: Some(Arc::new(key)),
            ..Caller::default()
        };
        CALLER
            .scope(caller, async {
                assert_eq!(check_model("fast"), Ok(()));
                assert_eq!(check_model("openai:gpt-4o"), Ok(()));
                let e = check_model("anthropic:claude").unwrap_err();
                assert!(
                    e.contains("anthropic:claude") && e.contains("fast, openai:*"),
                    "{e}"
                );
            })
            .await;
        CALLER
            .scope(Caller::default(), async {
                assert_eq!(check_model("anything"), Ok(()), "anonymous");
            })
            .await;
    }
}
