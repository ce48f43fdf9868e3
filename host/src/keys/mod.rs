//! Client keys: the keys Aratta issues to its own clients, so that whoever reaches the
//! inference routes of a shared gateway spends the owner's provider credit only with a key
//! the owner made, and can lose it. A key (`ark_` and 43 base64url characters, 256 random
//! bits) is shown once when it is made; the store keeps its SHA-256 and what it may do.
//!
//! - [`issue`]: make a key from a [`KeySpec`] (`aratta keys create`, `POST /api/v1/keys`);
//!   [`update`]: change one by a [`KeyChange`] (`aratta keys update`, `PATCH /api/v1/keys/{id}`).
//! - [`KeyRing`]: the keys in memory, reloaded when the store's counter moves, so a key made
//!   or revoked by another process takes effect within a second without a lookup per request.
//! - [`ClientAuth`]: the rule at the server's door, and the [`Caller`] a request runs as.

mod caller;
mod change;
mod limits;
mod ring;
mod spec;

use std::sync::Arc;

use base64::Engine;
use sha2::{Digest, Sha256};

pub use caller::{CALLER, Caller, ClientAuth, Denied, check_model};
pub use change::KeyChange;
pub use limits::{Admitted, Limited, Limits, period_start};
pub use ring::KeyRing;
pub use spec::{KeySpec, Period, Route, SpecError};

pub use crate::store::keys::KeyRecord;
use crate::store::{Store, StoreError};

/// What every key Aratta issues starts with: how a key is told from a provider's or from the
/// placeholder an SDK demands (`api_key="unused"`).
pub const PREFIX: &str = "ark_";

/// SHA-256 of a key: what the store keeps and the ring is keyed by. A plain hash suffices:
/// keys are 256 random bits, so there is nothing to guess from it.
pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A key just made: the secret, to show once, and what the store kept.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct IssuedKey {
    /// The key itself. Not kept anywhere.
    pub secret: String,
    /// The stored record.
    #[serde(flatten)]
    pub record: KeyRecord,
}

/// Why a key could not be made or changed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The request is invalid; the message names the field.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The operating system's random source failed.
    #[error("no random bytes for a new key: {0}")]
    Random(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The key was revoked, and a revoked key stays as it was.
    #[error("client key {id} is revoked; make a new one (`aratta keys create`)")]
    Revoked {
        /// The key.
        id: String,
    },
}

/// Make and keep a key as `spec` describes, at `now` (Unix seconds).
pub async fn issue(store: &Store, spec: &KeySpec, now: u64) -> Result<IssuedKey, KeyError> {
    spec.check()?;
    let mut bytes = [0u8; 40];
    getrandom::fill(&mut bytes).map_err(|e| KeyError::Random(e.to_string()))?;
    let secret = format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[..32])
    );
    let record = record_of(
        spec,
        KeyRecord {
            id: format!("key_{}", hex::encode(&bytes[32..])),
            hash: hash(&secret),
            hint: hint(&secret),
            created_at: now,
            expires_at: spec.expires_in_seconds.map(|s| now.saturating_add(s)),
            ..KeyRecord::default()
        },
    );
    store.insert_key(&record).await?;
    Ok(IssuedKey { secret, record })
}

/// `key` (its identity and lifetime) with what `spec` says it may do.
fn record_of(spec: &KeySpec, key: KeyRecord) -> KeyRecord {
    KeyRecord {
        name: spec.name.trim().to_owned(),
        owner: spec.owner.clone().filter(|o| !o.trim().is_empty()),
        models: spec.models.clone(),
        routes: spec
            .routes
            .as_ref()
            .map(|r| r.iter().map(|r| r.as_str().to_owned()).collect()),
        rpm: spec.rpm,
        tpm: spec.tpm,
        max_concurrent: spec.max_concurrent,
        budget_usd: spec.budget_usd,
        budget_period: spec
            .budget_usd
            .map(|_| spec.budget_period.unwrap_or_default().as_str().to_owned()),
        ..key
    }
}

/// Change the key named `id` as `change` says, at `now` (Unix seconds). `None` when there is
/// no such key; a revoked key is not changed.
pub async fn update(
    store: &Store,
    id: &str,
    change: &KeyChange,
    now: u64,
) -> Result<Option<KeyRecord>, KeyError> {
    let Some(old) = store.key(id).await? else {
        return Ok(None);
    };
    if old.revoked_at.is_some() {
        return Err(KeyError::Revoked { id: id.to_owned() });
    }
    let new = change.apply(&old, now)?;
    if !store.update_key(&new).await? {
        // Revoked between the read and the write.
        return Err(KeyError::Revoked { id: id.to_owned() });
    }
    Ok(Some(new))
}

/// The first and last four characters of the random part: enough to tell keys apart in a
/// listing, far too little to guess the rest.
fn hint(secret: &str) -> String {
    let random = &secret[PREFIX.len()..];
    format!(
        "{PREFIX}{}…{}",
        &random[..4],
        &random[random.len().saturating_sub(4)..]
    )
}

/// The store, the ring and the limits' counters together, for the server: a change made here
/// is in the ring before the answer goes out (changes made elsewhere arrive with the next
/// refresh).
#[derive(Clone, Debug)]
pub struct Keys {
    /// Where keys are kept.
    pub store: Store,
    /// The keys in memory.
    pub ring: Arc<KeyRing>,
    /// Each key's counters for its limits.
    pub limits: Arc<Limits>,
}

impl Keys {
    /// Make a key, and know it at once.
    pub async fn issue(&self, spec: &KeySpec) -> Result<IssuedKey, KeyError> {
        let issued = issue(&self.store, spec, crate::clock::unix_seconds()).await?;
        self.ring.refresh().await?;
        Ok(issued)
    }

    /// Change a key, and apply the change at once. `None` when there is no such key.
    pub async fn update(
        &self,
        id: &str,
        change: &KeyChange,
    ) -> Result<Option<KeyRecord>, KeyError> {
        let updated = update(&self.store, id, change, crate::clock::unix_seconds()).await?;
        self.ring.refresh().await?;
        Ok(updated)
    }

    /// Revoke a key, and refuse it at once. `None` when there is no such key.
    pub async fn revoke(&self, id: &str) -> Result<Option<KeyRecord>, KeyError> {
        let revoked = self
            .store
            .revoke_key(id, crate::clock::unix_seconds())
            .await?;
        self.ring.refresh().await?;
        self.limits.forget(id);
        Ok(revoked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_issued_key_is_kept_only_as_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let store = Store::open(&path).await.unwrap();
        let spec = KeySpec {
            name: "ci bot".into(),
            expires_in_seconds: Some(3600),
            ..KeySpec::default()
        };
        let issued = issue(&store, &spec, 1_000).await.unwrap();
        assert!(issued.secret.starts_with(PREFIX));
        assert_eq!(issued.secret.len(), PREFIX.len() + 43);
        assert_eq!(issued.record.expires_at, Some(4_600));
        assert!(issued.record.id.starts_with("key_") && issued.record.id.len() == 20);
        let kept = store.key(&issued.record.id).await.unwrap().unwrap();
        assert_eq!(kept.hash, hash(&issued.secret));
        assert!(issued.secret.starts_with(&kept.hint[..8]));
        drop(store);
        // Neither the key nor its random part is anywhere in the database's files.
        let random = &issued.secret[PREFIX.len()..];
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(random), "the key was written to disk");
        }
        let other = issue(&Store::open(&path).await.unwrap(), &spec, 1_000)
            .await
            .unwrap();
        assert_ne!(other.secret, issued.secret);
        assert_ne!(other.record.id, issued.record.id);
    }
}
