//! Real PostgreSQL 15 servers for the tests of the gateway's `[store]` on PostgreSQL: a mock
//! would not show what the real server accepts, locks and returns.
//!
//! A fresh CI machine has no server (at most `psql` and libpq5), so the tests bring their own:
//! the Debian 12 packages listed in `PACKAGES` are fetched with `apt-get download` and
//! unpacked with `dpkg-deb -x` (never installed) into `target/postgres/`, once; later runs
//! reuse the tree. Nothing of the machine's own PostgreSQL is used: every program runs by
//! absolute path from the unpacked tree, with its libraries first on `LD_LIBRARY_PATH`. Each
//! [`Postgres`] is a throwaway cluster in a temporary directory, on a free port of 127.0.0.1,
//! with `trust` auth and durability off. PostgreSQL refuses to run as root, so under root the
//! server runs as `nobody`. A test that cannot get a server fails, saying what to install; it
//! never skips.

use std::ffi::OsString;
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::bins;

/// The PostgreSQL major version the tests run against.
const MAJOR: &str = "15";

/// The superuser every test server has; database URLs connect as it, without a password.
const USER: &str = "postgres";

/// The Debian 12 (bookworm) packages unpacked under `target/postgres/`: PostgreSQL 15's server
/// and client, and the shared libraries they link that a minimal Debian 12 system lacks (libc,
/// zlib, zstd, lz4, gnutls, libsystemd, PAM and the rest are in every base image). libllvm14 is
/// left out: servers run with `jit = off`, so `llvmjit.so` is never loaded.
///
/// Only the major version is pinned, by the package names: apt picks the newest point release,
/// because old ones leave the mirror. Resolved when this was written: postgresql-15,
/// postgresql-client-15 and libpq5 15.18-0+deb12u1, libicu72 72.1-3+deb12u1, libxml2
/// 2.9.14+dfsg-1.3~deb12u5, libssl3 3.0.20-1~deb12u1, libldap-2.5-0 2.5.13+dfsg-5, libsasl2-2
/// 2.1.28+dfsg-10, libgssapi-krb5-2, libkrb5-3, libk5crypto3 and libkrb5support0
/// 1.20.1-2+deb12u4, libkeyutils1 1.6.3-2, libreadline8 8.2-1.3. The versions unpacked are
/// listed in `target/postgres/<dir>/packages.txt`.
const PACKAGES: &[&str] = &[
    "postgresql-15",
    "postgresql-client-15",
    "libpq5",
    "libicu72",
    "libxml2",
    "libssl3",
    "libldap-2.5-0",
    "libsasl2-2",
    "libgssapi-krb5-2",
    "libkrb5-3",
    "libk5crypto3",
    "libkrb5support0",
    "libkeyutils1",
    "libreadline8",
];

/// What to do when the server cannot be had, for the panic message.
const REMEDY: &str = "To get PostgreSQL 15, the tests run `apt-get download` for the Debian 12 \
    (bookworm) packages postgresql-15, postgresql-client-15 and the libraries they link, and \
    unpack them with `dpkg-deb -x` into target/postgres/. Install apt and dpkg (Debian 12), make \
    a Debian mirror reachable, and run `apt-get update` as root first when apt's package lists \
    are empty or stale (the tests do it themselves only when they run as root). As root, the \
    server runs as `nobody` through `setpriv` (util-linux).";

/// A PostgreSQL server for one test, on its own data dir and port; stopped (and its dir removed)
/// on drop.
pub struct Postgres {
    install: &'static Install,
    /// Holds `data/` (the cluster), `sock/` (its Unix socket) and `postgres.log`.
    dir: tempfile::TempDir,
    port: u16,
    /// The postmaster.
    child: Child,
}

impl Postgres {
    /// Installs (once, cached under target/postgres) and starts a fresh server; panics with what
    /// to install when it cannot.
    pub fn start() -> Postgres {
        let install = install();
        let dir = tempfile::Builder::new()
            .prefix("aratta-pg-")
            .tempdir()
            .expect("a temporary directory for PostgreSQL");
        let (data, sock) = (dir.path().join("data"), dir.path().join("sock"));
        std::fs::create_dir(&sock).expect("the socket directory");
        if let Some((uid, gid)) = install.user {
            for path in [dir.path(), &sock] {
                std::os::unix::fs::chown(path, Some(uid), Some(gid))
                    .unwrap_or_else(|e| panic!("cannot chown {}: {e}", path.display()));
            }
        }
        let initdb = install
            .server(dir.path(), "initdb")
            .arg("--pgdata")
            .arg(&data)
            .args([
                "--username",
                USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ])
            .output_text();
        if let Err(e) = initdb {
            panic!("cannot create a PostgreSQL cluster: {e}");
        }
        let settings = format!(
            "\n# Added by the tests: a throwaway server.\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{}'\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n\
             jit = off\n\
             shared_buffers = 16MB\n\
             max_connections = 50\n",
            sock.display().to_string().replace('\'', "''")
        );
        let conf = data.join("postgresql.conf");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&conf)
            .and_then(|mut f| std::io::Write::write_all(&mut f, settings.as_bytes()))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", conf.display()));
        // The free port may be taken between finding it and the server binding it: try another.
        for attempt in 1..=5 {
            let port = free_port();
            let mut child = spawn(install, dir.path(), port);
            let Err(e) = ready(install, &mut child, port) else {
                return Postgres {
                    install,
                    dir,
                    port,
                    child,
                };
            };
            stop(install, dir.path(), &mut child, "immediate");
            let log = std::fs::read_to_string(dir.path().join("postgres.log")).unwrap_or_default();
            if attempt < 5 && log.contains("could not bind") {
                continue;
            }
            panic!("PostgreSQL did not start: {e}\nserver log:\n{log}");
        }
        unreachable!("the last attempt returns or panics")
    }

    /// A URL for a fresh database on this server: `postgres://USER@127.0.0.1:PORT/DBNAME`
    /// (creating the database). `name` is a plain identifier (letters, digits, `_`).
    pub fn database(&self, name: &str) -> String {
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "database name {name:?}: use letters, digits and _"
        );
        let created = self
            .install
            .client("createdb")
            .args(["--host=127.0.0.1", &format!("--port={}", self.port)])
            .args(["--username", USER, name])
            .output_text();
        if let Err(e) = created {
            panic!(
                "cannot create database {name}: {e}\nserver log:\n{}",
                self.log()
            );
        }
        format!("postgres://{USER}@127.0.0.1:{}/{name}", self.port)
    }

    /// Runs `sql` on `database` with the unpacked `psql`; returns its unaligned, tuples-only
    /// output (one line per row, columns separated by `|`), trimmed. Panics when it fails.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let output = self
            .install
            .client("psql")
            .args(["--no-psqlrc", "--quiet", "--no-align", "--tuples-only"])
            .args(["--set=ON_ERROR_STOP=1", "--host=127.0.0.1"])
            .arg(format!("--port={}", self.port))
            .args(["--username", USER, "--dbname", database, "--command", sql])
            .output_text();
        match output {
            Ok(out) => out.trim().to_owned(),
            Err(e) => panic!("psql failed on {database}: {e}"),
        }
    }

    /// Stops the server, keeping its data: the database is down (connections refused) until
    /// [`Postgres::resume`].
    pub fn halt(&mut self) {
        // A fast stop writes what was committed: with `synchronous_commit = off` an immediate
        // one could lose the last commits, which a real server would have kept.
        stop(self.install, self.dir.path(), &mut self.child, "fast");
    }

    /// Starts a halted server again, on the same port and data.
    pub fn resume(&mut self) {
        self.child = spawn(self.install, self.dir.path(), self.port);
        if let Err(e) = ready(self.install, &mut self.child, self.port) {
            panic!(
                "PostgreSQL did not start again: {e}\nserver log:\n{}",
                self.log()
            );
        }
    }

    /// The server's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        stop(self.install, self.dir.path(), &mut self.child, "immediate");
    }
}

/// Waits until the server `child` accepts connections on `port` (polling the unpacked
/// `pg_isready`), or says why it will not.
fn ready(install: &Install, child: &mut Child, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("the server exited ({status})"));
        }
        let accepting = install
            .client("pg_isready")
            .args(["--quiet", "--host=127.0.0.1", "--timeout=1"])
            .arg(format!("--port={port}"))
            .args(["--username", USER, "--dbname", "postgres"])
            .status();
        if accepting.is_ok_and(|s| s.success()) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("not accepting connections after 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts the postmaster of the cluster in `dir` on `port`, its output added to
/// `dir/postgres.log`.
fn spawn(install: &Install, dir: &Path, port: u16) -> Child {
    let path = dir.join("postgres.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    install
        .server(dir, "postgres")
        .arg("-D")
        .arg(dir.join("data"))
        .arg("-p")
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("the log file, twice"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start PostgreSQL: {e}"))
}

/// Stops the server `child` of the cluster in `dir` (`mode`: `immediate` skips the shutdown
/// checkpoint, for a cluster thrown away; `fast` keeps what was committed) and waits for it to
/// exit.
fn stop(install: &Install, dir: &Path, child: &mut Child, mode: &str) {
    let stopped = install
        .server(dir, "pg_ctl")
        .arg("stop")
        .arg(format!("--mode={mode}"))
        .args(["--wait", "--timeout=30", "--pgdata"])
        .arg(dir.join("data"))
        .output_text();
    if stopped.is_err() {
        let _ = child.kill();
    }
    let _ = child.wait();
}

/// A port of 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// The unpacked PostgreSQL, as this process runs it.
struct Install {
    /// `usr/lib/postgresql/15/bin` of the unpacked tree.
    bin: PathBuf,
    /// The unpacked tree's library directories, for `LD_LIBRARY_PATH`.
    libraries: OsString,
    /// The user and group the server runs as when this process is root (`nobody`).
    user: Option<(u32, u32)>,
}

/// The unpacked PostgreSQL, set up once per process; panics with what to install when it
/// cannot be had.
fn install() -> &'static Install {
    static INSTALL: OnceLock<Result<Install, String>> = OnceLock::new();
    match INSTALL.get_or_init(set_up) {
        Ok(install) => install,
        Err(e) => panic!("cannot get a PostgreSQL {MAJOR} server: {e}\n\n{REMEDY}"),
    }
}

fn set_up() -> Result<Install, String> {
    let user = server_user()?;
    let tree = unpacked()?;
    let install = Install::new(&tree, user)?;
    match install.check() {
        Ok(()) => Ok(install),
        Err(e) if user.is_some() => {
            // `nobody` cannot reach target/ (say, a checkout under /root): run a copy in the
            // temporary directory instead.
            let copy = copied(&tree).map_err(|c| format!("{e}\n{c}"))?;
            let install = Install::new(&copy, user)?;
            install.check().map_err(|c| format!("{e}\n{c}"))?;
            Ok(install)
        }
        Err(e) => Err(e),
    }
}

/// `Some((uid, gid))` of `nobody` when this process runs as root, `None` otherwise.
fn server_user() -> Result<Option<(u32, u32)>, String> {
    let id = |args: &[&str]| -> Result<u32, String> {
        let out = Command::new("id").args(args).output_text()?;
        out.trim()
            .parse()
            .map_err(|e| format!("`id {}` printed {out:?}: {e}", args.join(" ")))
    };
    if id(&["-u"])? != 0 {
        return Ok(None);
    }
    Ok(Some((id(&["-u", "nobody"])?, id(&["-g", "nobody"])?)))
}

/// The unpacked tree, `target/postgres/15-<hash of PACKAGES>/`: downloaded and unpacked by
/// the first process that needs it. Processes racing to do so each unpack into a directory of
/// their own and rename it into place; the first rename wins and the others use its tree.
fn unpacked() -> Result<PathBuf, String> {
    let cache = bins::target_dir().join("postgres");
    let tree = cache.join(format!("{MAJOR}-{:08x}", fnv1a(&PACKAGES.join(" "))));
    if tree.join(bin_dir()).join("postgres").is_file() {
        return Ok(tree);
    }
    std::fs::create_dir_all(&cache)
        .map_err(|e| format!("cannot create {}: {e}", cache.display()))?;
    let work = tempfile::Builder::new()
        .prefix(".unpack-")
        .tempdir_in(&cache)
        .map_err(|e| format!("cannot create a directory in {}: {e}", cache.display()))?;
    let debs = download(work.path())?;
    let root = work.path().join("root");
    for deb in &debs {
        Command::new("dpkg-deb")
            .arg("--extract")
            .arg(deb)
            .arg(&root)
            .output_text()?;
    }
    // Documentation and message translations are never read.
    for unused in ["usr/share/doc", "usr/share/man", "usr/share/locale"] {
        let _ = std::fs::remove_dir_all(root.join(unused));
    }
    let names: Vec<String> = debs
        .iter()
        .filter_map(|d| Some(d.file_name()?.to_string_lossy().into_owned()))
        .collect();
    let listed = std::fs::write(root.join("packages.txt"), names.join("\n") + "\n");
    let opened = std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755));
    listed
        .and(opened)
        .map_err(|e| format!("cannot finish {}: {e}", root.display()))?;
    if !root.join(bin_dir()).join("postgres").is_file() {
        return Err(format!(
            "{} holds no {}/postgres: {names:?}",
            root.display(),
            bin_dir().display()
        ));
    }
    match std::fs::rename(&root, &tree) {
        Ok(()) => Ok(tree),
        Err(_) if tree.join(bin_dir()).join("postgres").is_file() => Ok(tree),
        Err(e) => Err(format!(
            "cannot move {} to {}: {e}",
            root.display(),
            tree.display()
        )),
    }
}

/// Downloads [`PACKAGES`] into `dir`; returns the `.deb` files. When apt's package lists are
/// missing or stale (a fresh machine, or a point release gone from the mirror), updates them
/// first if this process is root.
fn download(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let get = || {
        Command::new("apt-get")
            .args(["download", "--quiet"])
            .args(PACKAGES)
            .current_dir(dir)
            .output_text()
    };
    if let Err(first) = get() {
        if server_user()?.is_none() {
            return Err(format!(
                "{first}\n(not root, so not running `apt-get update`)"
            ));
        }
        // Another test process may be updating: wait for it, then update again (quick).
        let waiting = std::time::Instant::now();
        while let Err(e) = Command::new("apt-get")
            .args(["update", "--quiet"])
            .output_text()
        {
            if !e.contains("Could not get lock") || waiting.elapsed().as_secs() > 300 {
                return Err(format!("{first}\n{e}"));
            }
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        get().map_err(|e| format!("{first}\nafter `apt-get update`: {e}"))?;
    }
    let mut debs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    debs.sort();
    if debs.len() != PACKAGES.len() {
        return Err(format!(
            "`apt-get download {}` left {debs:?}",
            PACKAGES.join(" ")
        ));
    }
    Ok(debs)
}

/// A copy of `tree` in the temporary directory, `<tmp>/aratta-postgres/<name>/`, for when
/// `nobody` cannot reach `target/`; made once, like the tree itself.
fn copied(tree: &Path) -> Result<PathBuf, String> {
    let parent = std::env::temp_dir().join("aratta-postgres");
    let copy = parent.join(tree.file_name().expect("the tree has a name"));
    // Root runs what is in there: only root may have made it.
    std::fs::create_dir_all(&parent)
        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let owner = std::fs::symlink_metadata(&parent).map(|m| (m.is_dir(), m.uid()));
    if !matches!(owner, Ok((true, 0))) {
        return Err(format!(
            "{} is not a directory of root's: {owner:?}",
            parent.display()
        ));
    }
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("cannot open {}: {e}", parent.display()))?;
    if copy.join(bin_dir()).join("postgres").is_file() {
        return Ok(copy);
    }
    let work = tempfile::Builder::new()
        .prefix(".copy-")
        .tempdir_in(&parent)
        .map_err(|e| format!("cannot create a directory in {}: {e}", parent.display()))?;
    let root = work.path().join("root");
    Command::new("cp")
        .arg("-a")
        .arg(tree)
        .arg(&root)
        .output_text()?;
    match std::fs::rename(&root, &copy) {
        Ok(()) => Ok(copy),
        Err(_) if copy.join(bin_dir()).join("postgres").is_file() => Ok(copy),
        Err(e) => Err(format!(
            "cannot move {} to {}: {e}",
            root.display(),
            copy.display()
        )),
    }
}

/// Where the server and client programs are in the unpacked tree.
fn bin_dir() -> PathBuf {
    Path::new("usr/lib/postgresql").join(MAJOR).join("bin")
}

impl Install {
    fn new(tree: &Path, user: Option<(u32, u32)>) -> Result<Install, String> {
        // Debian's multiarch directories, `usr/lib/x86_64-linux-gnu` and the like; some
        // libraries still ship under `lib/`.
        let mut dirs = Vec::new();
        for parent in ["usr/lib", "lib"] {
            let Ok(entries) = std::fs::read_dir(tree.join(parent)) else {
                continue;
            };
            dirs.extend(
                entries
                    .flatten()
                    .filter(|e| e.file_name().to_string_lossy().contains("-linux-"))
                    .map(|e| e.path()),
            );
        }
        dirs.sort();
        let libraries = std::env::join_paths(&dirs)
            .map_err(|e| format!("library directories {dirs:?}: {e}"))?;
        Ok(Install {
            bin: tree.join(bin_dir()),
            libraries,
            user,
        })
    }

    /// Whether the server runs from here, as the user it will run as.
    fn check(&self) -> Result<(), String> {
        let version = self
            .server(Path::new("/"), "postgres")
            .arg("-V")
            .output_text()?;
        if version.starts_with(&format!("postgres (PostgreSQL) {MAJOR}.")) {
            Ok(())
        } else {
            Err(format!(
                "{} is not PostgreSQL {MAJOR}: {version}",
                self.bin.display()
            ))
        }
    }

    /// `program` of the unpacked tree run as the server's user, in `dir` (which that user must
    /// be able to enter: PostgreSQL's programs look up the current directory).
    fn server(&self, dir: &Path, program: &str) -> Command {
        let mut command = match self.user {
            Some((uid, gid)) => {
                let mut setpriv = Command::new("setpriv");
                setpriv
                    .arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={gid}"))
                    .args(["--clear-groups", "--"])
                    .arg(self.bin.join(program));
                setpriv
            }
            None => Command::new(self.bin.join(program)),
        };
        command.current_dir(dir);
        self.environment(&mut command);
        command
    }

    /// `program` of the unpacked tree run as this process's user.
    fn client(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        self.environment(&mut command);
        command
    }

    /// The unpacked libraries, the C locale, and none of the caller's `PG*` variables.
    fn environment(&self, command: &mut Command) {
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("PG") {
                command.env_remove(name);
            }
        }
        command
            .env("LD_LIBRARY_PATH", &self.libraries)
            .env("LC_ALL", "C");
    }
}

trait OutputText {
    /// Runs the command to completion; its stdout when it succeeds, else what it printed.
    fn output_text(&mut self) -> Result<String, String>;
}

impl OutputText for Command {
    fn output_text(&mut self) -> Result<String, String> {
        let shown = std::iter::once(self.get_program())
            .chain(self.get_args())
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ");
        let output = self
            .output()
            .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!(
                "`{shown}` failed ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }
}

/// FNV-1a: a stable name for the unpacked tree of one package list.
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}
