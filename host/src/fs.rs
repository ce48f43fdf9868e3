//! Durable file writes, in one place: every file Aratta keeps for the user (the config,
//! installed adapters, the agent audit log) is written through here, and
//! what an older version kept in files is read and set aside through here once the store has
//! it ([`json_files`], [`set_aside`], [`retire_imported`]).
//!
//! [`write_atomic`] writes a whole file so that a crash or power cut leaves either the old
//! content or the new, never a mix: the bytes go to a temporary file in the same directory,
//! which is flushed to disk (`fsync`), renamed over the target, and the directory is flushed
//! too, so the rename itself survives. The temporary file's name is unique (the `tempfile`
//! crate creates it with `O_EXCL` and a random suffix), so two writers, in one process or two,
//! never share one; it starts with a dot, which the adapters-directory watcher ignores.
//! [`append_durably`] is the same promise for one line of an append-only log.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// Replace `path` with `bytes` atomically and durably; see the module doc. The directory
/// must exist. On failure the target is untouched and no temporary file is left behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = parent(path);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    // On failure `persist` hands the file back; dropping it removes it.
    temp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Append `line` to `file` (opened for appending) with one `write`, so concurrent writers
/// never interleave, and flush it to disk before returning.
pub fn append_durably(file: &mut std::fs::File, line: &[u8]) -> std::io::Result<()> {
    file.write_all(line)?;
    file.sync_data()
}

/// Flush `dir`'s entries (a created, renamed or removed file) to disk. Opening a directory
/// to flush it is a Unix notion; elsewhere this does nothing.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Rename `path` (a file or a directory) to `<path>.<why>-<unix seconds>` and return where it
/// went: what an older version wrote is kept this way once imported, or when unreadable.
pub fn set_aside(path: &Path, why: &str) -> std::io::Result<PathBuf> {
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".{why}-{}", crate::clock::unix_seconds()));
    let aside = PathBuf::from(aside);
    std::fs::rename(path, &aside)?;
    Ok(aside)
}

/// Set aside `dir`, whose `imported` items of `what` (e.g. "heal cycles") the store now holds,
/// as `<dir>.imported-<unix seconds>`, and say so in the log; when it cannot be renamed, say
/// that the next start imports it again (every import is idempotent).
pub fn retire_imported(dir: &Path, what: &str, imported: usize) {
    match set_aside(dir, "imported") {
        Ok(aside) => {
            tracing::info!(imported, kept_at = %aside.display(), "{what} of an older version imported into the store")
        }
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "{what} imported, but the directory could not be renamed; the next start imports it again (without duplicates)")
        }
    }
}

/// Every `*.json` file in `dir`, each parsed as a `T` or with why it could not be; `None` when
/// `dir` cannot be read (usually: it does not exist).
pub fn json_files<T: DeserializeOwned>(dir: &Path) -> Option<Vec<(PathBuf, Result<T, String>)>> {
    let entries = std::fs::read_dir(dir).ok()?;
    let parsed = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let parsed = std::fs::read(&p)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()));
            (p, parsed)
        })
        .collect();
    Some(parsed)
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn concurrent_writers_each_land_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.json");
        let payloads: Vec<Vec<u8>> = (0..8u8).map(|i| vec![b'a' + i; 64 * 1024]).collect();
        std::thread::scope(|s| {
            for p in &payloads {
                let path = &path;
                s.spawn(move || {
                    for _ in 0..20 {
                        write_atomic(path, p).unwrap();
                    }
                });
            }
        });
        let got = std::fs::read(&path).unwrap();
        assert!(
            payloads.contains(&got),
            "the file holds exactly one writer's bytes"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_write_leaves_the_target_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("file");
        assert!(write_atomic(&path, b"x").is_err());
        assert!(!path.exists());
    }

    #[test]
    fn appends_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        append_durably(&mut file, b"{\"a\":1}\n").unwrap();
        append_durably(&mut file, b"{\"a\":2}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n{\"a\":2}\n"
        );
    }
}
