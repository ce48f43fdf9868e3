//! The file older versions of Aratta kept the registry in, `<home>/tools.json`
//! (`{"version": 1, "tools": [...]}` in registration order). The registry now lives in the
//! store (`crate::store::tools`); at start, a `tools.json` left by an older version is imported
//! into the store once and renamed `tools.json.imported-<unix seconds>`.
//!
//! A file that cannot be parsed is never silently dropped: it is renamed to
//! `tools.json.corrupt-<unix seconds>` and reported, and the registry starts without it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::def::ToolDef;

/// The format version older versions wrote; a file of another one is refused (and kept aside).
const VERSION: u32 = 1;

/// A `tools.json` an older version wrote.
#[derive(Debug, Clone)]
pub struct ToolsFile {
    path: PathBuf,
}

/// Why the file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be read.
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    version: u32,
    tools: Vec<ToolDef>,
}

impl ToolsFile {
    /// The file at `path` (it may not exist).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved tools, in registration order; none when the file does not exist.
    pub fn load(&self) -> Result<Vec<ToolDef>, FileError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(FileError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let corrupt = |reason: String| FileError::Corrupt {
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

    /// Move the file out of the way as `<file>.<why>-<unix seconds>`, returning where it went.
    pub fn set_aside(&self, why: &str) -> std::io::Result<PathBuf> {
        crate::fs::set_aside(&self.path, why)
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
    fn loads_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = ToolsFile::new(dir.path().join("tools.json"));
        assert!(file.load().unwrap().is_empty(), "no file, no tools");
        let (b, a) = (tool("b"), tool("a"));
        let saved = json!({"version": 1, "tools": [b, a]});
        std::fs::write(file.path(), saved.to_string()).unwrap();
        assert_eq!(file.load().unwrap(), vec![b, a]);
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it_and_can_be_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tools.json");
        std::fs::write(&path, "{\"version\": 1, \"tools\": [").unwrap();
        let file = ToolsFile::new(&path);
        let err = file.load().unwrap_err();
        assert!(matches!(err, FileError::Corrupt { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("tools.json: not a saved tool list"),
            "{err}"
        );
        let aside = file.set_aside("corrupt").unwrap();
        assert!(!path.exists());
        assert_eq!(
            std::fs::read_to_string(aside).unwrap(),
            "{\"version\": 1, \"tools\": ["
        );
        std::fs::write(&path, "{\"version\": 9, \"tools\": []}").unwrap();
        let err = file.load().unwrap_err();
        assert!(err.to_string().contains("format version 9"), "{err}");
    }
}
