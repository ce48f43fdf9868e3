//! Watching the adapters directory for new and changed `.wasm` files.
//!
//! Events come from the `notify` crate (inotify on Linux, FSEvents on macOS, ...) through its
//! mini debouncer: writing a component produces a burst of create/modify/close events, and a
//! file copied in slowly produces them for as long as the copy runs. The debouncer reports a
//! path once it has been quiet for the debounce interval, so the reload manager reads each
//! file once, complete. Hidden files (`.name.wasm`, an editor's or `write_atomic`'s temporary
//! files) and files with other extensions are ignored.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, DebouncedEventKind, Debouncer, new_debouncer};
use tokio::sync::mpsc;

/// A running watch; dropping it stops the watch.
pub struct DirWatch {
    _debouncer: Debouncer<RecommendedWatcher>,
}

/// Why the directory cannot be watched.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {}: {reason}", dir.display())]
pub struct WatchError {
    /// The directory.
    pub dir: PathBuf,
    /// What the OS or `notify` said.
    pub reason: String,
}

/// Watch `dir` (created when missing); every `.wasm` file that changed and then stayed quiet
/// for `debounce` is sent to the returned receiver, as is every one that was removed.
pub fn watch(
    dir: &Path,
    debounce: Duration,
) -> Result<(DirWatch, mpsc::UnboundedReceiver<PathBuf>), WatchError> {
    let fail = |reason: String| WatchError {
        dir: dir.to_owned(),
        reason,
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    let (tx, rx) = mpsc::unbounded_channel();
    let shown = dir.to_owned();
    let mut debouncer = new_debouncer(debounce, move |result: DebounceEventResult| match result {
        Ok(events) => {
            for event in events {
                // `AnyContinuous`: still changing after the debounce interval; wait for `Any`.
                if event.kind == DebouncedEventKind::Any && is_adapter_file(&event.path) {
                    let _ = tx.send(event.path);
                }
            }
        }
        Err(e) => {
            tracing::warn!(dir = %shown.display(), error = %e, "adapter directory watch error")
        }
    })
    .map_err(|e| fail(e.to_string()))?;
    debouncer
        .watcher()
        .watch(dir, RecursiveMode::NonRecursive)
        .map_err(|e| fail(e.to_string()))?;
    Ok((
        DirWatch {
            _debouncer: debouncer,
        },
        rx,
    ))
}

/// A visible `*.wasm` file name.
fn is_adapter_file(path: &Path) -> bool {
    let visible = path
        .file_name()
        .is_some_and(|n| !n.to_string_lossy().starts_with('.'));
    visible && path.extension().is_some_and(|e| e == "wasm")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_visible_wasm_files_count() {
        assert!(is_adapter_file(Path::new("/a/local.wasm")));
        assert!(!is_adapter_file(Path::new("/a/.local.wasm.123.tmp")));
        assert!(!is_adapter_file(Path::new("/a/.x.wasm")));
        assert!(!is_adapter_file(Path::new("/a/local.wasm.refused")));
    }

    #[tokio::test]
    async fn a_written_file_is_reported_once_after_it_settles() {
        let dir = tempfile::tempdir().unwrap();
        let (_watch, mut rx) = watch(dir.path(), Duration::from_millis(100)).unwrap();
        let path = dir.path().join("a.wasm");
        for chunk in 0..5 {
            std::fs::write(&path, vec![chunk; 1000]).unwrap();
        }
        std::fs::write(dir.path().join("b.txt"), b"x").unwrap();
        let got = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("an event")
            .unwrap();
        assert_eq!(got, path);
        assert!(
            tokio::time::timeout(Duration::from_millis(400), rx.recv())
                .await
                .is_err(),
            "one event for the burst"
        );
    }
}
