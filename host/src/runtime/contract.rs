//! The WIT package this host checks adapters against, as files: `aratta adapter wit` writes it
//! for authors in any language, and `aratta adapter build` hands it to non-Rust toolchains, so
//! a component is always made against the contract of the host that will load it.

use std::path::{Path, PathBuf};

/// The package's id, as components name its interfaces.
pub const PACKAGE: &str = "aratta:scri@0.2.0";

/// The world an adapter targets.
pub const WORLD: &str = "adapter";

/// `(path inside the package directory, text)` of every file of the package and the WASI
/// packages it depends on. The agent sandbox's world (`wit/sandbox/`) is not part of it.
pub static FILES: &[(&str, &str)] = &[
    ("world.wit", include_str!("../../../wit/world.wit")),
    ("provider.wit", include_str!("../../../wit/provider.wit")),
    ("chat.wit", include_str!("../../../wit/chat.wit")),
    (
        "embeddings.wit",
        include_str!("../../../wit/embeddings.wit"),
    ),
    ("errors.wit", include_str!("../../../wit/errors.wit")),
    ("models.wit", include_str!("../../../wit/models.wit")),
    (
        "deps/cli/cli.wit",
        include_str!("../../../wit/deps/cli/cli.wit"),
    ),
    (
        "deps/clocks/clocks.wit",
        include_str!("../../../wit/deps/clocks/clocks.wit"),
    ),
    (
        "deps/filesystem/filesystem.wit",
        include_str!("../../../wit/deps/filesystem/filesystem.wit"),
    ),
    (
        "deps/http/http.wit",
        include_str!("../../../wit/deps/http/http.wit"),
    ),
    (
        "deps/io/io.wit",
        include_str!("../../../wit/deps/io/io.wit"),
    ),
    (
        "deps/random/random.wit",
        include_str!("../../../wit/deps/random/random.wit"),
    ),
    (
        "deps/sockets/sockets.wit",
        include_str!("../../../wit/deps/sockets/sockets.wit"),
    ),
];

/// Writes the package into `dir` (created if missing; files of the same name are replaced) and
/// returns the files written.
pub fn write(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::with_capacity(FILES.len());
    for (name, text) in FILES {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        crate::fs::write_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `.wit` file under `wit/` (but the sandbox's) is in [`FILES`], so adding one to the
    /// contract without exporting it fails here.
    #[test]
    fn the_export_holds_every_file_of_the_package() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
        let mut on_disk = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    if path.file_name().is_some_and(|n| n != "sandbox") {
                        stack.push(path);
                    }
                } else if path.extension().is_some_and(|e| e == "wit") {
                    let name = path.strip_prefix(&root).unwrap();
                    on_disk.push(name.to_string_lossy().into_owned());
                }
            }
        }
        on_disk.sort();
        let mut exported: Vec<String> = FILES.iter().map(|(n, _)| n.to_string()).collect();
        exported.sort();
        assert_eq!(exported, on_disk);
    }

    #[test]
    fn the_package_id_is_the_one_the_files_declare() {
        let world = FILES.iter().find(|(n, _)| *n == "world.wit").unwrap().1;
        assert!(world.contains(&format!("package {PACKAGE};")), "{world}");
        assert!(world.contains(&format!("world {WORLD} {{")), "{world}");
        assert_eq!(
            super::super::loader::PROVIDER_EXPORT,
            PACKAGE.replace('@', "/provider@")
        );
    }

    #[test]
    fn write_creates_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        let written = write(&dir.path().join("wit")).unwrap();
        assert_eq!(written.len(), FILES.len());
        assert!(dir.path().join("wit/deps/http/http.wit").is_file());
    }
}
