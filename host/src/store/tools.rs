//! The tool registry's definitions (`crate::tools::ToolRegistry` keeps them in memory and
//! writes each change here before it takes effect). Each tool is a row with its definition as
//! JSON and its place in the registration order; every change bumps the `tools` counter, so
//! servers sharing the store reload the registry when another one changes it. A change writes
//! only the tools it names: two servers registering different tools at once both keep theirs,
//! and a row this version cannot read is reported at start and left as it is.

use super::{Store, StoreError, StoreRow, bump, on_pool, sql_int};

/// The change counter's topic.
pub const TOPIC: &str = "tools";

/// One registered tool, as kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredTool {
    /// The tool's name.
    pub name: String,
    /// Its definition, as JSON.
    pub definition: String,
}

/// What became of a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToolsWrite {
    /// Written.
    Done,
    /// Nothing written: this tool is registered with another definition (by another server
    /// since this one last read the registry).
    Taken(String),
}

impl Store {
    /// Every kept tool, in registration order.
    pub async fn tools(&self) -> Result<Vec<StoredTool>, StoreError> {
        let doing = "read the tool registry";
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT name, definition FROM tools ORDER BY position, name")
                .fetch_all(pool)
                .await
                .map_err(StoreError::query(doing))?;
            rows.iter()
                .map(|row| -> Result<StoredTool, sqlx::Error> {
                    Ok(StoredTool {
                        name: row.column("name")?,
                        definition: row.column("definition")?,
                    })
                })
                .collect::<Result<_, _>>()
                .map_err(StoreError::query(doing))
        })
    }

    /// In one transaction: keep `upserts` (a new name goes last in the order; with `replace`,
    /// a kept name gets the new definition in its old place, without it, a kept name with
    /// another definition refuses the whole change) and delete `removals`.
    pub async fn change_tools(
        &self,
        upserts: &[StoredTool],
        replace: bool,
        removals: &[String],
    ) -> Result<ToolsWrite, StoreError> {
        let doing = "change the tool registry";
        let now = sql_int(crate::clock::unix_seconds());
        let insert = if replace {
            "INSERT INTO tools (name, position, definition, updated_at)
             VALUES ($1, COALESCE((SELECT MAX(position) FROM tools), 0) + 1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at"
        } else {
            "INSERT INTO tools (name, position, definition, updated_at)
             VALUES ($1, COALESCE((SELECT MAX(position) FROM tools), 0) + 1, $2, $3)
             ON CONFLICT (name) DO NOTHING"
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::query(doing))?;
            for tool in upserts {
                let written = sqlx::query(insert)
                    .bind(&tool.name)
                    .bind(&tool.definition)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query(doing))?
                    .rows_affected();
                if written == 0 {
                    let kept: Option<String> =
                        sqlx::query_scalar("SELECT definition FROM tools WHERE name = $1")
                            .bind(&tool.name)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(StoreError::query(doing))?;
                    if kept.as_deref() != Some(tool.definition.as_str()) {
                        tx.rollback().await.map_err(StoreError::query(doing))?;
                        return Ok(ToolsWrite::Taken(tool.name.clone()));
                    }
                }
            }
            for name in removals {
                sqlx::query("DELETE FROM tools WHERE name = $1")
                    .bind(name)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query(doing))?;
            }
            bump!(tx, TOPIC, doing)?;
            tx.commit().await.map_err(StoreError::query(doing))?;
            Ok(ToolsWrite::Done)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(name: &str, definition: &str) -> StoredTool {
        StoredTool {
            name: name.into(),
            definition: definition.into(),
        }
    }

    #[tokio::test]
    async fn changes_keep_the_order_refuse_a_taken_name_and_bump_the_counter() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).await.unwrap();
        let names = |store: Store| async move {
            let tools = store.tools().await.unwrap();
            tools.into_iter().map(|t| t.name).collect::<Vec<_>>()
        };
        let v0 = store.version(TOPIC).await.unwrap();
        let write = store
            .change_tools(&[tool("b", "1"), tool("a", "1")], false, &[])
            .await
            .unwrap();
        assert_eq!(write, ToolsWrite::Done);
        assert_eq!(names(store.clone()).await, ["b", "a"]);
        assert_eq!(store.version(TOPIC).await.unwrap(), v0 + 1);

        // The same definition again is no conflict; another one is, and nothing is written.
        let write = store
            .change_tools(&[tool("c", "1"), tool("b", "1")], false, &[])
            .await
            .unwrap();
        assert_eq!(write, ToolsWrite::Done);
        let write = store
            .change_tools(&[tool("d", "1"), tool("b", "2")], false, &[])
            .await
            .unwrap();
        assert_eq!(write, ToolsWrite::Taken("b".into()));
        assert_eq!(names(store.clone()).await, ["b", "a", "c"]);

        // Replacing keeps the place; removing goes.
        store
            .change_tools(&[tool("b", "2")], true, &["a".into()])
            .await
            .unwrap();
        let tools = store.tools().await.unwrap();
        assert_eq!(tools, [tool("b", "2"), tool("c", "1")]);
    }
}
