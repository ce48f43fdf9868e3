//! A configured provider bound to the runtime: which adapter speaks for it, where it lives,
//! what it may reach, and its credential (read once from the environment, never logged).
//!
//! Where it lives and what it may reach come from the operator's config or the host's table
//! of known providers ([`super::known`]), never from the adapter's `describe`. The credential
//! goes to the base URL's origin and the operator's `credential_hosts` only.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue};

use crate::config::{Config, ProviderConfig};
use crate::runtime::bindings::provider::{AuthScheme, CallContext};
use crate::runtime::outbound::{Credential, Grant, Origin};
use crate::runtime::{CallEnv, Runtime};

use super::GatewayError;

/// One `[providers.<name>]` entry, ready to call.
pub struct Provider {
    /// The provider's name in the config.
    pub name: String,
    /// Its config entry.
    pub config: ProviderConfig,
    key: Option<String>,
    timeout: Duration,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .field("adapter", &self.config.adapter)
            .field("key", &self.key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl Provider {
    /// Bind `name`'s config, reading its credential through `env`.
    pub fn new(name: &str, config: &Config, env: &dyn Fn(&str) -> Option<String>) -> Self {
        let entry = &config.providers[name];
        Provider {
            name: name.to_owned(),
            config: entry.clone(),
            key: env(&entry.api_key_env).filter(|k| !k.is_empty()),
            timeout: config.provider_timeout(name),
        }
    }

    /// The base URL: the operator's, else the host's table of known providers (by adapter);
    /// `None` for an adapter the host does not know and no `base_url` in the config.
    pub fn base_url(&self) -> Option<String> {
        self.config
            .base_url
            .clone()
            .or_else(|| super::known::default_base_url(&self.config.adapter).map(str::to_owned))
    }

    /// Why this provider cannot be called whatever its adapter says: no base URL.
    pub fn no_base_url(&self) -> GatewayError {
        GatewayError::NoBaseUrl {
            provider: self.name.clone(),
            adapter: self.config.adapter.clone(),
        }
    }

    /// Whether a credential is present in the environment.
    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// Everything a call needs, or why this provider cannot be called now.
    pub fn call_env(
        &self,
        runtime: &Runtime,
        request_id: &str,
    ) -> Result<(CallEnv, CallContext), GatewayError> {
        let adapter =
            runtime
                .adapter(&self.config.adapter)
                .ok_or_else(|| GatewayError::NoAdapter {
                    provider: self.name.clone(),
                    adapter: self.config.adapter.clone(),
                })?;
        let base_url = self.base_url().ok_or_else(|| self.no_base_url())?;
        let base_origin = Origin::parse(&base_url).ok_or_else(|| self.no_base_url())?;
        let credential = match (&adapter.info.auth, &self.key) {
            (AuthScheme::None, None) => None,
            (AuthScheme::None | AuthScheme::Bearer, Some(key)) => Some((
                http::header::AUTHORIZATION,
                secret(&format!("Bearer {key}"), self)?,
            )),
            (AuthScheme::Header(name), Some(key)) => Some((
                HeaderName::try_from(name.as_str()).map_err(|_| GatewayError::BadAdapter {
                    adapter: adapter.info.name.clone(),
                    reason: format!("its auth header {name:?} is not a valid header name"),
                })?,
                secret(key, self)?,
            )),
            (_, None) => {
                return Err(GatewayError::MissingCredential {
                    provider: self.name.clone(),
                    env: self.config.api_key_env.clone(),
                });
            }
        };
        let mut origins = vec![base_origin.clone()];
        origins.extend(
            self.config
                .allowed_hosts
                .iter()
                .filter_map(|h| Origin::parse(h)),
        );
        let mut credential_origins = vec![base_origin];
        credential_origins.extend(
            self.config
                .credential_hosts
                .iter()
                .filter_map(|h| Origin::parse(h)),
        );
        let grant = Arc::new(Grant {
            provider: self.name.clone(),
            origins,
            credential: credential.map(|(header, value)| Credential {
                header,
                value,
                origins: credential_origins,
            }),
            timeout: self.timeout,
        });
        let ctx = CallContext {
            base_url,
            request_id: request_id.to_owned(),
        };
        Ok((runtime.call_env(adapter, grant), ctx))
    }
}

fn secret(value: &str, provider: &Provider) -> Result<HeaderValue, GatewayError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| GatewayError::MissingCredential {
        provider: provider.name.clone(),
        env: format!(
            "{} (it holds characters not allowed in an HTTP header)",
            provider.config.api_key_env
        ),
    })?;
    v.set_sensitive(true);
    Ok(v)
}
