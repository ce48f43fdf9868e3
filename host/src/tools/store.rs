//! Where the tool registry keeps what users registered across restarts: one JSON file,
//! `<home>/tools.json`, `{"version": 1, "tools": [...]}` in registration order. It is
//! rewritten whole and atomically ([`crate::fs::write_atomic`]) on every change, so a crash
//! leaves the previous list or the new one. Pinned tools (the agent executor's) are not
//! saved: their provider registers them again at every start.
//!
//! A file that cannot be parsed is never silently dropped: it is renamed to
//! `tools.json.corrupt-<unix seconds>` and reported, and the registry starts without it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::def::ToolDef;

/// The format version written; a file of another version is refused (and kept aside).
const VERSION: u32 = 1;

/// The registry's file.
#[derive(Debug, Clone)]
pub struct ToolStore {
    path: PathBuf,
}

/// Why the saved tools could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not a saved tool list.
    #[error("{}: not a saved tool list: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    version: u32,
    tools: Vec<ToolDef>,
}

#[derive(Serialize)]
struct SavedRef<'a> {
    version: u32,
    tools: &'a [&'a ToolDef],
}

impl ToolStore {
    /// The store in file `path` (its directory is created on the first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved tools, in registration order; none when the file does not exist.
    pub fn load(&self) -> Result<Vec<ToolDef>, StoreError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(StoreError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let corrupt = |reason: String| StoreError::Corrupt {
            path: self.path.clone(),
            reason,
        };
        let saved: Saved = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        if saved.version != VERSION {
            return Err(corrupt(format!(
                "format version {} (this aratta reads version {VERSION})",
                saved.version
            )));
        }
        Ok(saved.tools)
    }

    /// Replace the saved list with `tools`, atomically and durably.
    pub fn save(&self, tools: &[&ToolDef]) -> Result<(), StoreError> {
        let io = |source| StoreError::Io {
            path: self.path.clone(),
            source,
        };
        let json = serde_json::to_vec_pretty(&SavedRef {
            version: VERSION,
            tools,
        })
        .expect("tool definitions serialise");
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        crate::fs::write_atomic(&self.path, &json).map_err(io)
    }

    /// Move the file out of the way as `<file>.<why>-<unix seconds>`, returning where it went.
    pub fn set_aside(&self, why: &str) -> std::io::Result<PathBuf> {
        let mut aside = self.path.as_os_str().to_owned();
        aside.push(format!(".{why}-{}", crate::clock::unix_seconds()));
        let aside = PathBuf::from(aside);
        std::fs::rename(&self.path, &aside)?;
        Ok(aside)
    }

    /// Copy the file to `<file>.<why>-<unix seconds>` (it stays in place), returning where.
    pub fn copy_aside(&self, why: &str) -> std::io::Result<PathBuf> {
        let mut aside = self.path.as_os_str().to_owned();
        aside.push(format!(".{why}-{}", crate::clock::unix_seconds()));
        let aside = PathBuf::from(aside);
        std::fs::copy(&self.path, &aside)?;
        Ok(aside)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str) -> ToolDef {
        ToolDef::new(name, None, json!({"type": "object", "properties": {}}))
    }

    #[test]
    fn saves_and_loads_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = ToolStore::new(dir.path().join("sub").join("tools.json"));
        assert!(store.load().unwrap().is_empty(), "no file, no tools");
        let (b, a) = (tool("b"), tool("a"));
        store.save(&[&b, &a]).unwrap();
        assert_eq!(store.load().unwrap(), vec![b, a]);
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it_and_can_be_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tools.json");
        std::fs::write(&path, "{\"version\": 1, \"tools\": [").unwrap();
        let store = ToolStore::new(&path);
        let err = store.load().unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("tools.json: not a saved tool list"),
            "{err}"
        );
        let aside = store.set_aside("corrupt").unwrap();
        assert!(!path.exists());
        assert_eq!(
            std::fs::read_to_string(aside).unwrap(),
            "{\"version\": 1, \"tools\": ["
        );
        std::fs::write(&path, "{\"version\": 9, \"tools\": []}").unwrap();
        let err = store.load().unwrap_err();
        assert!(err.to_string().contains("format version 9"), "{err}");
    }

    mod restore {
        use super::*;
        use crate::tools::{OnConflict, ToolError, ToolRegistry};

        #[test]
        fn every_change_is_saved_and_a_new_registry_gets_it_back() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("tools.json");
            let r = ToolRegistry::new();
            r.register_pinned(tool("python"), "the agent executor (built in)")
                .unwrap();
            assert!(r.restore(ToolStore::new(&path)).problems.is_empty());
            r.register(tool("b")).unwrap();
            r.register_all(vec![tool("a"), tool("c")], OnConflict::Refuse)
                .unwrap();
            r.remove("c").unwrap();
            let saved = ToolStore::new(&path).load().unwrap();
            assert_eq!(
                saved,
                vec![tool("b"), tool("a")],
                "pinned tools are not saved"
            );

            let again = ToolRegistry::new();
            let report = again.restore(ToolStore::new(&path));
            assert_eq!(report.loaded, ["b", "a"]);
            assert_eq!(again.list(), vec![tool("b"), tool("a")]);
        }

        #[test]
        fn a_change_that_cannot_be_saved_is_not_made() {
            let dir = tempfile::tempdir().unwrap();
            let sub = dir.path().join("sub");
            let r = ToolRegistry::new();
            assert!(
                r.restore(ToolStore::new(sub.join("tools.json")))
                    .problems
                    .is_empty()
            );
            // Its directory becomes a file: no save can succeed.
            std::fs::write(&sub, "x").unwrap();
            let err = r.register(tool("a")).unwrap_err();
            assert!(matches!(err, ToolError::NotSaved { .. }), "{err}");
            assert!(r.is_empty(), "nothing changed");
        }

        #[test]
        fn an_unreadable_file_is_reported_and_never_overwritten() {
            let dir = tempfile::tempdir().unwrap();
            let blocker = dir.path().join("not-a-dir");
            std::fs::write(&blocker, "x").unwrap();
            let r = ToolRegistry::new();
            let report = r.restore(ToolStore::new(blocker.join("tools.json")));
            assert!(
                report.problems[0].contains("will not be saved"),
                "{:?}",
                report.problems
            );
            r.register(tool("a")).unwrap();
            assert_eq!(std::fs::read_to_string(&blocker).unwrap(), "x");
        }

        #[test]
        fn a_corrupt_file_is_moved_aside_and_reported() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("tools.json");
            std::fs::write(&path, "not json").unwrap();
            let r = ToolRegistry::new();
            let report = r.restore(ToolStore::new(&path));
            assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
            assert!(
                report.problems[0].contains("not a saved tool list")
                    && report.problems[0].contains("moved to"),
                "{:?}",
                report.problems
            );
            let kept: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            assert_eq!(kept.len(), 1);
            assert!(kept[0].starts_with("tools.json.corrupt-"), "{kept:?}");
            assert_eq!(
                std::fs::read_to_string(dir.path().join(&kept[0])).unwrap(),
                "not json"
            );
            r.register(tool("a")).unwrap();
            assert_eq!(ToolStore::new(&path).load().unwrap(), vec![tool("a")]);
        }

        #[test]
        fn a_saved_tool_now_refused_is_reported_and_the_file_copied_aside() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("tools.json");
            // Saved by an older version whose python tool was defined otherwise.
            let mut older = tool("python");
            older.description = Some("an older python".into());
            ToolStore::new(&path)
                .save(&[&older, &tool("mine")])
                .unwrap();
            let r = ToolRegistry::new();
            r.register_pinned(tool("python"), "the agent executor (built in)")
                .unwrap();
            let report = r.restore(ToolStore::new(&path));
            assert_eq!(report.loaded, ["mine"]);
            assert!(
                report.problems[0].contains("tool `python`"),
                "{:?}",
                report.problems
            );
            assert!(
                report.problems[1].contains("kept at"),
                "{:?}",
                report.problems
            );
            let copies = std::fs::read_dir(dir.path())
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .starts_with("tools.json.unrestored-")
                })
                .count();
            assert_eq!(copies, 1);
        }
    }
}
