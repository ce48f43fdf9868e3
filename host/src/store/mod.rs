//! Durable state in one place: an embedded SQLite database (`<home>/aratta.db` unless
//! `[store] url` names another file), opened with its schema migrated to this version. Holds
//! the client keys ([`keys`]) and a usage record per request ([`usage`]). SQLite in WAL mode,
//! so the server and a CLI command can use the file at once; every write is a transaction,
//! committed with a full sync.

pub mod keys;
pub mod usage;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqlSafeStr, SqlitePool};

/// Why the store could not be opened or used. Each names the database and what was being done.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `[store] url` is not a SQLite location.
    #[error(
        "[store] url `{url}` is not supported: use `sqlite://PATH` or a file path (the default is <home>/aratta.db)"
    )]
    UnsupportedUrl {
        /// The URL as configured.
        url: String,
    },
    /// The database could not be opened or created.
    #[error("cannot open the store at {location}: {source}")]
    Open {
        /// The database file.
        location: String,
        /// What SQLite said.
        #[source]
        source: sqlx::Error,
    },
    /// The schema could not be brought to this version (a newer Aratta wrote it, or the file
    /// is not Aratta's).
    #[error("cannot migrate the store at {location} to this version's schema: {source}")]
    Migrate {
        /// The database file.
        location: String,
        /// What went wrong.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A read or write failed (the disk is full, the file is locked for too long, …).
    #[error("the store could not {doing}: {source}")]
    Query {
        /// What was being done, as a verb phrase ("create a client key").
        doing: &'static str,
        /// What SQLite said.
        #[source]
        source: sqlx::Error,
    },
    /// A row holds a value this version cannot read (edited by hand, or corrupt).
    #[error("the store holds an unreadable {what}: {detail}")]
    Corrupt {
        /// Which record.
        what: String,
        /// What is wrong with it.
        detail: String,
    },
}

impl StoreError {
    fn query(doing: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |source| StoreError::Query { doing, source }
    }
}

/// The schema, in order. A released migration is never edited: a change is a new one.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "client keys",
        include_str!("migrations/0001_client_keys.sql"),
    ),
    (2, "usage", include_str!("migrations/0002_usage.sql")),
];

/// A handle on the database; cheap to clone (a connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    location: PathBuf,
}

impl Store {
    /// The database `[store] url` names (`sqlite://PATH`, `sqlite:PATH` or a bare path),
    /// or `default` when it names none.
    pub fn location(url: Option<&str>, default: &Path) -> Result<PathBuf, StoreError> {
        let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(default.to_path_buf());
        };
        let path = if let Some(rest) = url.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            rest
        } else if url.contains("://") {
            return Err(StoreError::UnsupportedUrl { url: url.into() });
        } else {
            url
        };
        if path.is_empty() || path.starts_with(":memory:") || path.contains('?') {
            return Err(StoreError::UnsupportedUrl { url: url.into() });
        }
        Ok(PathBuf::from(path))
    }

    /// Open (creating it, readable by its owner only) and migrate the database at `path`.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        let location = path.display().to_string();
        let open_err = |source| StoreError::Open {
            location: location.clone(),
            source,
        };
        create_private(path).map_err(|e| open_err(sqlx::Error::Io(e)))?;
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(open_err)?
            .filename(path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(open_err)?;
        let migrations = MIGRATIONS
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect();
        Migrator::with_migrations(migrations)
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                location: location.clone(),
                source,
            })?;
        Ok(Store {
            pool,
            location: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.location
    }

    /// The version counter of `topic`, bumped by every change to it (see [`keys`]).
    pub async fn version(&self, topic: &'static str) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT version FROM changes WHERE topic = ?")
            .bind(topic)
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::query("read its change counter"))
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// A count or a time as SQLite stores integers (i64), saturating: values beyond `i64::MAX`
/// (years past 292 billion, or counts no request reaches) are kept as the largest.
pub(crate) fn sql_int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Create the file (and its directory) readable and writable by its owner only: it holds key
/// hashes and usage. An existing file keeps its mode.
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        let default = Path::new("/h/aratta.db");
        assert_eq!(Store::location(None, default).unwrap(), default);
        assert_eq!(Store::location(Some(" "), default).unwrap(), default);
        for url in ["sqlite:///var/a.db", "sqlite:/var/a.db", "/var/a.db"] {
            assert_eq!(
                Store::location(Some(url), default).unwrap(),
                Path::new("/var/a.db"),
                "{url}"
            );
        }
        for url in [
            "postgres://u@h/db",
            "sqlite::memory:",
            "sqlite://a.db?mode=ro",
            "sqlite://",
        ] {
            let e = Store::location(Some(url), default).unwrap_err();
            assert!(e.to_string().contains("not supported"), "{url}: {e}");
        }
    }

    #[tokio::test]
    async fn opens_private_migrates_once_and_reopens() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/aratta.db");
        let store = Store::open(&path).await.unwrap();
        assert_eq!(store.version("client_keys").await.unwrap(), 0);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        drop(store);
        let again = Store::open(&path).await.unwrap();
        assert_eq!(again.version("client_keys").await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_database_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aratta.db");
        std::fs::write(
            &path,
            b"this is not sqlite, just some text long enough to have a header",
        )
        .unwrap();
        let e = Store::open(&path).await.unwrap_err();
        assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    }
}
