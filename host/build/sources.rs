//! Packs the built-in adapters' source into one `.tar.gz` for the heal worker.
//!
//! Layout (read by `host/src/heal/source.rs`, which materializes one adapter's tree from it):
//!
//! | entry                       | becomes, for adapter `<dir>`        |
//! | --------------------------- | ----------------------------------- |
//! | `shared/<path>`             | `<path>` (guest SDK core, WIT, lock, toolchain) |
//! | `adapters/<dir>/<path>`     | `adapters/<dir>/<path>`             |
//! | `crates/<name>/<path>`      | `guest-sdk/<name>/<path>`, if a member (see below) |
//! | `manifests/<dir>/Cargo.toml`| `Cargo.toml` (a standalone workspace) |
//!
//! `crates/` holds the guest SDK's helper crates ([`HELPERS`]); an adapter's workspace lists one
//! (`guest-sdk/<name>`) as a member only when the adapter depends on it, and only members are
//! unpacked, so an Anthropic tree carries no OpenAI code.
//!
//! Entries are sorted, with mtime 0, mode 0644 and no owner, and the gzip header carries no
//! time, so the same source packs to the same bytes and a rebuild does not churn the binary.

use std::path::{Path, PathBuf};

/// The guest SDK's helper crates, `(directory, package name)`, each in `guest-sdk/<name>/`:
/// packed once under `crates/<name>/`, and a member of an adapter's workspace only when the
/// adapter depends on the package.
const HELPERS: &[(&str, &str)] = &[("guest-sdk/openai-compatible", "aratta-openai-compatible")];

/// Writes the archive of every adapter in `crates` (`(dir name, package name)`) to `archive`.
pub fn pack(root: &Path, crates: &[(String, String)], archive: &Path) {
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    for file in ["Cargo.lock", "rust-toolchain.toml"] {
        entries.push((format!("shared/{file}"), read(&root.join(file))));
    }
    let is_helper = |relative: &str| {
        HELPERS
            .iter()
            .any(|(dir, _)| relative.starts_with(&format!("{dir}/")))
    };
    for dir in ["guest-sdk", "wit"] {
        for path in files_under(&root.join(dir)) {
            let relative = relative(root, &path);
            let name = match relative.strip_prefix("guest-sdk/") {
                Some(inner) if is_helper(&relative) => format!("crates/{inner}"),
                _ => format!("shared/{relative}"),
            };
            entries.push((name, read(&path)));
        }
    }
    let workspace = std::fs::read_to_string(root.join("Cargo.toml")).expect("read Cargo.toml");
    for (dir, package) in crates {
        let crate_dir = root.join("adapters").join(dir);
        for path in files_under(&crate_dir) {
            entries.push((
                format!("adapters/{}", relative(&root.join("adapters"), &path)),
                read(&path),
            ));
        }
        let own = std::fs::read_to_string(crate_dir.join("Cargo.toml"))
            .unwrap_or_else(|e| panic!("adapters/{dir}/Cargo.toml: {e}"));
        let helpers: Vec<(&str, &str)> = HELPERS
            .iter()
            .copied()
            .filter(|(_, helper)| depends_on(&own, helper))
            .collect();
        let manifest = standalone_manifest(&workspace, dir, package, &helpers);
        entries.push((format!("manifests/{dir}/Cargo.toml"), manifest.into_bytes()));
    }
    entries.sort();
    let file = std::fs::File::create(archive).expect("create the source archive");
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(file, flate2::Compression::best());
    let mut tar = tar::Builder::new(gz);
    for (name, bytes) in &entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, name, bytes.as_slice())
            .expect("append to the source archive");
    }
    tar.into_inner()
        .and_then(|gz| gz.finish())
        .expect("finish the source archive");
}

/// Whether the manifest `text` names `package` as a dependency (a `package = …` line).
fn depends_on(text: &str, package: &str) -> bool {
    text.lines().any(|line| {
        line.trim_start()
            .strip_prefix(package)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    })
}

/// The root `Cargo.toml` of one adapter's tree: a workspace of the adapter, the guest SDK and
/// the `helpers` it depends on, with the real root's shared package fields, dependencies and
/// release profiles.
fn standalone_manifest(
    workspace: &str,
    dir: &str,
    package: &str,
    helpers: &[(&str, &str)],
) -> String {
    let mut members = format!("\"adapters/{dir}\", \"guest-sdk\"");
    for (helper_dir, _) in helpers {
        members.push_str(&format!(", \"{helper_dir}\""));
    }
    let mut out = format!(
        "# Generated from Aratta's workspace: the `{package}` adapter and the guest SDK it builds on.\n\
         [workspace]\nresolver = \"3\"\nmembers = [{members}]\n"
    );
    let mut wanted = vec![
        "[workspace.package]".to_string(),
        "[workspace.dependencies]".to_string(),
        "[profile.release]".to_string(),
        format!("[profile.release.package.{package}]"),
        "[profile.release.package.aratta-guest]".to_string(),
    ];
    for (_, helper) in helpers {
        wanted.push(format!("[profile.release.package.{helper}]"));
    }
    for header in &wanted {
        let section = section(workspace, header)
            .unwrap_or_else(|| panic!("the root Cargo.toml has no {header} section"));
        out.push('\n');
        out.push_str(&section);
    }
    out
}

/// The lines of the section headed `header` (the header included), up to the next header or
/// comment block that precedes one.
fn section(text: &str, header: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| l.trim() == header)?;
    let mut end = start + 1;
    while end < lines.len() && !lines[end].trim_start().starts_with('[') {
        end += 1;
    }
    // Comments directly above the next header belong to it.
    while end > start + 1 && lines[end - 1].trim_start().starts_with('#') {
        end -= 1;
    }
    let body = lines[start..end].join("\n");
    Some(format!("{}\n", body.trim_end()))
}

/// Every file under `dir` except `target/` and hidden entries, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("read a directory entry").path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if name.starts_with('.') || name == "target" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn relative(base: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(base).expect("a file under its directory");
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
