//! Durable state in one place, behind one handle: an embedded SQLite database by default
//! (`<home>/aratta.db`, or the file `[store] url` names), or a PostgreSQL database
//! (`[store] url = "postgres://…"`) that several servers share. Opened with its schema migrated
//! to this version. Holds the client keys ([`keys`]), a usage record per request ([`usage`]),
//! each server's counts per key for the limits ([`counters`]), the tool registry ([`tools`]), the
//! approval queue ([`approvals`]), the heal cycles ([`heal_cycles`]), the versions each adapter
//! has run ([`history`]), and the version each adapter serves, shared by the servers on the
//! store ([`adapters`]). SQLite runs in WAL mode, so the server and a CLI command can use the
//! file at once; every write is a transaction, committed with a full sync.
//!
//! Both databases run the same SQL wherever their dialects agree (`$1` parameters, `ON
//! CONFLICT`, sums cast to `BIGINT`); [`on_pool!`] compiles a body once per backend.

pub mod adapters;
pub mod approvals;
pub mod counters;
pub mod heal_cycles;
pub mod history;
pub mod keys;
pub mod tools;
pub mod usage;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqlSafeStr, SqlitePool};

/// Why the store could not be opened or used. Each names the database and what was being done.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `[store] url` names neither a SQLite file nor a PostgreSQL database.
    #[error(
        "[store] url `{url}` is not supported: use `sqlite://PATH`, a file path (the default is <home>/aratta.db), or `postgres://USER@HOST/DATABASE`"
    )]
    UnsupportedUrl {
        /// The URL as configured (its password hidden).
        url: String,
    },
    /// The database could not be opened, created or reached.
    #[error("cannot open the store at {location}: {source}")]
    Open {
        /// The database file or URL (its password hidden).
        location: String,
        /// What the database said.
        #[source]
        source: sqlx::Error,
    },
    /// The schema could not be brought to this version (a newer Aratta wrote it, or the
    /// database is not Aratta's).
    #[error("cannot migrate the store at {location} to this version's schema: {source}")]
    Migrate {
        /// The database file or URL (its password hidden).
        location: String,
        /// What went wrong.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A read or write failed (the disk is full, the file is locked for too long, the server
    /// is down, …).
    #[error("the store could not {doing}: {source}")]
    Query {
        /// What was being done, as a verb phrase ("create a client key").
        doing: &'static str,
        /// What the database said.
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

/// A schema step: version, description, SQL. A released step is never edited: a change is a
/// new one. Both backends have the same steps, each in its own dialect.
type Step = (i64, &'static str, &'static str);

const SQLITE_MIGRATIONS: &[Step] = &[
    (
        1,
        "client keys",
        include_str!("migrations/sqlite/0001_client_keys.sql"),
    ),
    (2, "usage", include_str!("migrations/sqlite/0002_usage.sql")),
    (
        3,
        "key counters",
        include_str!("migrations/sqlite/0003_key_counters.sql"),
    ),
    (
        4,
        "adapter versions",
        include_str!("migrations/sqlite/0004_adapter_versions.sql"),
    ),
    (5, "tools", include_str!("migrations/sqlite/0005_tools.sql")),
    (
        6,
        "approvals",
        include_str!("migrations/sqlite/0006_approvals.sql"),
    ),
    (
        7,
        "heal cycles",
        include_str!("migrations/sqlite/0007_heal_cycles.sql"),
    ),
    (
        8,
        "adapter history",
        include_str!("migrations/sqlite/0008_adapter_history.sql"),
    ),
    (
        9,
        "heal claims",
        include_str!("migrations/sqlite/0009_heal_claims.sql"),
    ),
    (
        10,
        "key requests in flight",
        include_str!("migrations/sqlite/0010_key_inflight.sql"),
    ),
];

const POSTGRES_MIGRATIONS: &[Step] = &[
    (
        1,
        "client keys",
        include_str!("migrations/postgres/0001_client_keys.sql"),
    ),
    (
        2,
        "usage",
        include_str!("migrations/postgres/0002_usage.sql"),
    ),
    (
        3,
        "key counters",
        include_str!("migrations/postgres/0003_key_counters.sql"),
    ),
    (
        4,
        "adapter versions",
        include_str!("migrations/postgres/0004_adapter_versions.sql"),
    ),
    (
        5,
        "tools",
        include_str!("migrations/postgres/0005_tools.sql"),
    ),
    (
        6,
        "approvals",
        include_str!("migrations/postgres/0006_approvals.sql"),
    ),
    (
        7,
        "heal cycles",
        include_str!("migrations/postgres/0007_heal_cycles.sql"),
    ),
    (
        8,
        "adapter history",
        include_str!("migrations/postgres/0008_adapter_history.sql"),
    ),
    (
        9,
        "heal claims",
        include_str!("migrations/postgres/0009_heal_claims.sql"),
    ),
    (
        10,
        "key requests in flight",
        include_str!("migrations/postgres/0010_key_inflight.sql"),
    ),
];

/// Bumps a topic's change counter (`$1`), in the transaction of the change: a server reading
/// the store sees the counter move and reloads that kind of state.
pub(crate) const BUMP: &str = "UPDATE changes SET version = version + 1 WHERE topic = $1";

/// Where the store is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// An embedded SQLite database in this file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its connection URL.
    Postgres(String),
}

impl Location {
    /// The database `[store] url` names (`sqlite://PATH`, `sqlite:PATH`, a bare path, or
    /// `postgres://…` / `postgresql://…`), or the SQLite file `default` when it names none.
    pub fn parse(url: Option<&str>, default: &Path) -> Result<Location, StoreError> {
        let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(Location::Sqlite(default.to_path_buf()));
        };
        let unsupported = || StoreError::UnsupportedUrl { url: redact(url) };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            PgConnectOptions::from_str(url).map_err(|_| unsupported())?;
            return Ok(Location::Postgres(url.to_owned()));
        }
        let path = if let Some(rest) = url.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            rest
        } else if url.contains("://") {
            return Err(unsupported());
        } else {
            url
        };
        if path.is_empty() || path.starts_with(":memory:") || path.contains('?') {
            return Err(unsupported());
        }
        Ok(Location::Sqlite(PathBuf::from(path)))
    }
}

impl std::fmt::Display for Location {
    /// The file, or the URL with its password hidden: fit for logs and errors.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

/// `url` with the password of its user part, if any, replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{name}:***@{host}{tail}")
        }
        _ => url.to_owned(),
    }
}

/// The connection pool of whichever database the store is.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the store's `SqlitePool` or `PgPool`: the body is
/// compiled once for each, so the same query code serves both databases at native speed.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store.pool() {
            $crate::store::Pool::Sqlite($pool) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Bumps `$topic`'s change counter ([`BUMP`]) in `$tx`, the transaction of the change. A macro
/// for the same reason as [`on_pool!`]: the transaction's type differs between the databases.
macro_rules! bump {
    ($tx:ident, $topic:expr, $doing:expr) => {
        sqlx::query($crate::store::BUMP)
            .bind($topic)
            .execute(&mut *$tx)
            .await
            .map(drop)
            .map_err($crate::store::StoreError::query($doing))
    };
}
pub(crate) use bump;

/// A value both databases decode, read from a row of either by column name.
pub(crate) trait Value:
    for<'r> sqlx::Decode<'r, sqlx::Sqlite>
    + sqlx::Type<sqlx::Sqlite>
    + for<'r> sqlx::Decode<'r, sqlx::Postgres>
    + sqlx::Type<sqlx::Postgres>
{
}

impl<T> Value for T where
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
        + for<'r> sqlx::Decode<'r, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
{
}

/// A row of either database.
pub(crate) trait StoreRow {
    /// The column `name`, as a `T`.
    fn column<T: Value>(&self, name: &str) -> Result<T, sqlx::Error>;
}

impl StoreRow for sqlx::sqlite::SqliteRow {
    fn column<T: Value>(&self, name: &str) -> Result<T, sqlx::Error> {
        sqlx::Row::try_get(self, name)
    }
}

impl StoreRow for sqlx::postgres::PgRow {
    fn column<T: Value>(&self, name: &str) -> Result<T, sqlx::Error> {
        sqlx::Row::try_get(self, name)
    }
}

/// A handle on the database; cheap to clone (a connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    location: Location,
}

impl Store {
    /// Open (creating it when it is a file) and migrate the database at `location`.
    pub async fn connect(location: &Location) -> Result<Store, StoreError> {
        match location {
            Location::Sqlite(path) => Store::open(path).await,
            Location::Postgres(url) => Store::open_postgres(url).await,
        }
    }

    /// Open (creating it, readable by its owner only) and migrate the SQLite database at `path`.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        let location = Location::Sqlite(path.to_path_buf());
        let open_err = |source| StoreError::Open {
            location: location.to_string(),
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
        Store::migrated(Pool::Sqlite(pool), location).await
    }

    /// Connect to and migrate the PostgreSQL database at `url`. Servers starting at once on
    /// one database migrate it once (the migrator holds an advisory lock).
    pub async fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let location = Location::Postgres(url.to_owned());
        let open_err = |source| StoreError::Open {
            location: location.to_string(),
            source,
        };
        let options = PgConnectOptions::from_str(url).map_err(open_err)?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(open_err)?;
        Store::migrated(Pool::Postgres(pool), location).await
    }

    /// The store on `pool`, its schema brought to this version.
    async fn migrated(pool: Pool, location: Location) -> Result<Store, StoreError> {
        let migrated = match &pool {
            Pool::Sqlite(p) => migrator(SQLITE_MIGRATIONS).run(p).await,
            Pool::Postgres(p) => migrator(POSTGRES_MIGRATIONS).run(p).await,
        };
        migrated.map_err(|source| StoreError::Migrate {
            location: location.to_string(),
            source,
        })?;
        Ok(Store { pool, location })
    }

    /// Where the database is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The version counter of `topic`, bumped by every change to it (see [`keys`]).
    pub async fn version(&self, topic: &'static str) -> Result<i64, StoreError> {
        on_pool!(self, pool => sqlx::query_scalar("SELECT version FROM changes WHERE topic = $1")
            .bind(topic)
            .fetch_one(pool)
            .await
            .map_err(StoreError::query("read its change counter")))
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }
}

/// ` VALUES ($1, $2, …), (…)` for `rows` rows of `columns` values: numbered parameters for
/// PostgreSQL, `?` for SQLite (which finds a named parameter by a search through all of them:
/// quadratic in a statement of thousands).
pub(crate) fn values_sql(rows: usize, columns: usize, numbered: bool) -> String {
    use std::fmt::Write;
    let mut sql = String::with_capacity(8 + rows * columns * 7);
    sql.push_str(" VALUES ");
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns {
            if c > 0 {
                sql.push_str(", ");
            }
            if numbered {
                let _ = write!(sql, "${}", r * columns + c + 1);
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
    }
    sql
}

fn migrator(steps: &[Step]) -> Migrator {
    let migrations = steps
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
}

/// A count or a time as both databases store integers (i64), saturating: values beyond `i64::MAX`
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
        let file = |p: &str| Location::Sqlite(PathBuf::from(p));
        assert_eq!(
            Location::parse(None, default).unwrap(),
            file("/h/aratta.db")
        );
        assert_eq!(
            Location::parse(Some(" "), default).unwrap(),
            file("/h/aratta.db")
        );
        for url in ["sqlite:///var/a.db", "sqlite:/var/a.db", "/var/a.db"] {
            assert_eq!(
                Location::parse(Some(url), default).unwrap(),
                file("/var/a.db"),
                "{url}"
            );
        }
        for url in [
            "postgres://u@h/db",
            "postgresql://u:secret@h:5433/db?sslmode=require",
        ] {
            let at = Location::parse(Some(url), default).unwrap();
            assert_eq!(at, Location::Postgres(url.into()));
            assert!(!at.to_string().contains("secret"), "{at}");
        }
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        for url in [
            "mysql://u@h/db",
            "sqlite::memory:",
            "sqlite://a.db?mode=ro",
            "sqlite://",
        ] {
            let e = Location::parse(Some(url), default).unwrap_err();
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
