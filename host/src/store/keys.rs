//! Client-key rows: what the store keeps of each key Aratta issued (never the key itself,
//! only its SHA-256), and the writes that change them. Every write bumps the `client_keys`
//! counter in the same transaction, which is how a running server learns to reload.

use serde::Serialize;

use super::{Store, StoreError, StoreRow, Value, bump, on_pool, sql_int};

/// The change counter [`Store::version`] reads for client keys.
pub const TOPIC: &str = "client_keys";

/// One issued key, as stored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct KeyRecord {
    /// `key_<16 hex>`: how the key is named in commands and routes.
    pub id: String,
    /// SHA-256 of the key.
    #[serde(skip)]
    pub hash: [u8; 32],
    /// The key's first and last characters, to tell keys apart (`ark_abcd…wxyz`).
    pub hint: String,
    /// What the key is for.
    pub name: String,
    /// Who holds it.
    pub owner: Option<String>,
    /// The model names it may ask for; `None`: any.
    pub models: Option<Vec<String>>,
    /// The kinds of route it may use (`chat`, `embeddings`, `models`); `None`: all.
    pub routes: Option<Vec<String>>,
    /// When it was made, Unix seconds.
    pub created_at: u64,
    /// When it stops working, Unix seconds.
    pub expires_at: Option<u64>,
    /// When it was revoked, Unix seconds.
    pub revoked_at: Option<u64>,
    /// Requests per minute at most.
    pub rpm: Option<u64>,
    /// Tokens (input and output) per minute at most.
    pub tpm: Option<u64>,
    /// Requests at once at most.
    pub max_concurrent: Option<u64>,
    /// US dollars per budget period at most.
    pub budget_usd: Option<f64>,
    /// `day`, `week` (from Monday) or `month`, in UTC; `None`: month.
    pub budget_period: Option<String>,
}

impl KeyRecord {
    /// Whether any limit applies (a key without one costs no counter).
    pub fn has_limits(&self) -> bool {
        self.rpm.is_some()
            || self.tpm.is_some()
            || self.max_concurrent.is_some()
            || self.budget_usd.is_some()
    }
}

impl Store {
    /// Keep a new key.
    pub async fn insert_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        let doing = "create a client key";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::query(doing))?;
            sqlx::query(
                "INSERT INTO client_keys (id, hash, hint, name, owner, models, routes, created_at, expires_at, revoked_at, rpm, tpm, max_concurrent, budget_usd, budget_period)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(&key.id)
            .bind(&key.hash[..])
            .bind(&key.hint)
            .bind(&key.name)
            .bind(&key.owner)
            .bind(key.models.as_ref().map(json_list))
            .bind(key.routes.as_ref().map(json_list))
            .bind(sql_int(key.created_at))
            .bind(key.expires_at.map(sql_int))
            .bind(key.revoked_at.map(sql_int))
            .bind(key.rpm.map(sql_int))
            .bind(key.tpm.map(sql_int))
            .bind(key.max_concurrent.map(sql_int))
            .bind(key.budget_usd)
            .bind(&key.budget_period)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(doing))?;
            bump!(tx, TOPIC, doing)?;
            tx.commit().await.map_err(StoreError::query(doing))
        })
    }

    /// Every key, revoked and expired ones included, oldest first.
    pub async fn keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        let doing = "list the client keys";
        let sql = "SELECT * FROM client_keys ORDER BY created_at, id";
        on_pool!(self, pool => {
            let rows = sqlx::query(sql)
                .fetch_all(pool)
                .await
                .map_err(StoreError::query(doing))?;
            rows.iter().map(record).collect()
        })
    }

    /// The key named `id`, if there is one.
    pub async fn key(&self, id: &str) -> Result<Option<KeyRecord>, StoreError> {
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT * FROM client_keys WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(StoreError::query("read a client key"))?;
            row.as_ref().map(record).transpose()
        })
    }

    /// Write `key`'s name, owner, lifetime and limits over its stored ones, unless it is
    /// revoked (or gone): whether it was written.
    pub async fn update_key(&self, key: &KeyRecord) -> Result<bool, StoreError> {
        let doing = "change a client key";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::query(doing))?;
            let changed = sqlx::query(
                "UPDATE client_keys SET name = $2, owner = $3, models = $4, routes = $5, expires_at = $6,
                     rpm = $7, tpm = $8, max_concurrent = $9, budget_usd = $10, budget_period = $11
                 WHERE id = $1 AND revoked_at IS NULL",
            )
            .bind(&key.id)
            .bind(&key.name)
            .bind(&key.owner)
            .bind(key.models.as_ref().map(json_list))
            .bind(key.routes.as_ref().map(json_list))
            .bind(key.expires_at.map(sql_int))
            .bind(key.rpm.map(sql_int))
            .bind(key.tpm.map(sql_int))
            .bind(key.max_concurrent.map(sql_int))
            .bind(key.budget_usd)
            .bind(&key.budget_period)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(doing))?
            .rows_affected();
            if changed > 0 {
                bump!(tx, TOPIC, doing)?;
            }
            tx.commit().await.map_err(StoreError::query(doing))?;
            Ok(changed > 0)
        })
    }

    /// Revoke the key named `id` at `at` (Unix seconds); a key already revoked keeps its first
    /// revocation time. `None` when there is no such key.
    pub async fn revoke_key(&self, id: &str, at: u64) -> Result<Option<KeyRecord>, StoreError> {
        let doing = "revoke a client key";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::query(doing))?;
            let changed = sqlx::query(
                "UPDATE client_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(sql_int(at))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(doing))?
            .rows_affected();
            if changed > 0 {
                bump!(tx, TOPIC, doing)?;
            }
            let row = sqlx::query("SELECT * FROM client_keys WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::query(doing))?;
            tx.commit().await.map_err(StoreError::query(doing))?;
            row.as_ref().map(record).transpose()
        })
    }
}

fn json_list(items: &Vec<String>) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

fn record(row: &impl StoreRow) -> Result<KeyRecord, StoreError> {
    let id: String = get(row, "id", "?")?;
    let corrupt = |detail: String| StoreError::Corrupt {
        what: format!("client key {id}"),
        detail,
    };
    let hash: Vec<u8> = get(row, "hash", &id)?;
    let hash: [u8; 32] = hash
        .try_into()
        .map_err(|h: Vec<u8>| corrupt(format!("its hash is {} bytes, not 32", h.len())))?;
    let list = |column: &str| -> Result<Option<Vec<String>>, StoreError> {
        get::<Option<String>>(row, column, &id)?
            .map(|text| {
                serde_json::from_str(&text)
                    .map_err(|e| corrupt(format!("`{column}` is not a list of names: {e}")))
            })
            .transpose()
    };
    let number = |column: &str| -> Result<Option<u64>, StoreError> {
        Ok(get::<Option<i64>>(row, column, &id)?.map(|s| u64::try_from(s).unwrap_or(0)))
    };
    Ok(KeyRecord {
        hash,
        hint: get(row, "hint", &id)?,
        name: get(row, "name", &id)?,
        owner: get(row, "owner", &id)?,
        models: list("models")?,
        routes: list("routes")?,
        created_at: number("created_at")?.unwrap_or(0),
        expires_at: number("expires_at")?,
        revoked_at: number("revoked_at")?,
        rpm: number("rpm")?,
        tpm: number("tpm")?,
        max_concurrent: number("max_concurrent")?,
        budget_usd: get(row, "budget_usd", &id)?,
        budget_period: get(row, "budget_period", &id)?,
        id,
    })
}

fn get<T: Value>(row: &impl StoreRow, column: &str, id: &str) -> Result<T, StoreError> {
    row.column(column).map_err(|e| StoreError::Corrupt {
        what: format!("client key {id}"),
        detail: format!("column `{column}`: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, hash: u8) -> KeyRecord {
        KeyRecord {
            id: id.into(),
            hash: [hash; 32],
            hint: "ark_abcd…wxyz".into(),
            name: "ci".into(),
            owner: Some("team-a".into()),
            models: Some(vec!["fast".into(), "openai:gpt-4o".into()]),
            routes: None,
            created_at: 1_700_000_000,
            expires_at: Some(1_800_000_000),
            revoked_at: None,
            rpm: Some(60),
            tpm: None,
            max_concurrent: Some(4),
            budget_usd: Some(12.5),
            budget_period: Some("week".into()),
        }
    }

    #[tokio::test]
    async fn keys_round_trip_and_each_change_bumps_the_counter() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).await.unwrap();
        let a = key("key_a", 1);
        store.insert_key(&a).await.unwrap();
        assert_eq!(store.version(TOPIC).await.unwrap(), 1);
        assert_eq!(store.key("key_a").await.unwrap(), Some(a.clone()));
        assert_eq!(store.key("key_zz").await.unwrap(), None);

        let dup = store.insert_key(&key("key_b", 1)).await.unwrap_err();
        assert!(dup.to_string().contains("create a client key"), "{dup}");
        assert_eq!(
            store.version(TOPIC).await.unwrap(),
            1,
            "a failed write bumps nothing"
        );

        let revoked = store
            .revoke_key("key_a", 1_750_000_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(revoked.revoked_at, Some(1_750_000_000));
        assert_eq!(store.version(TOPIC).await.unwrap(), 2);
        let again = store
            .revoke_key("key_a", 1_760_000_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            again.revoked_at,
            Some(1_750_000_000),
            "the first revocation stands"
        );
        assert_eq!(store.version(TOPIC).await.unwrap(), 2);
        assert_eq!(store.revoke_key("key_zz", 1).await.unwrap(), None);
        assert_eq!(store.keys().await.unwrap(), vec![revoked]);
    }
}
