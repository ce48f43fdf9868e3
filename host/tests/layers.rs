//! The layer check: the host's modules form layers, listed bottom-up in the crate's doc
//! comment (`src/lib.rs`), and a module may use only modules on its own layer or below. This
//! test reads that list and every source file, and fails on an import that points up, so an
//! import loop cannot come back unnoticed. The doc comment is the one place the layers are
//! written down; changing them means changing it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Each top-level module's layer (1 is the bottom), read from the crate doc's numbered list.
fn layers(lib: &str) -> BTreeMap<String, usize> {
    let mut layers = BTreeMap::new();
    for line in lib.lines().filter_map(|l| l.strip_prefix("//! ")) {
        let Some((number, rest)) = line.split_once(". ") else {
            continue;
        };
        let Ok(layer) = number.trim().parse::<usize>() else {
            continue;
        };
        let names = rest.split_once(':').map_or(rest, |(names, _)| names);
        for name in names.split("[`").skip(1) {
            let name = name.split('`').next().unwrap_or_default();
            layers.insert(name.to_owned(), layer);
        }
    }
    layers
}

/// The code of a file without its comments (line comments, and doc comments, which name
/// other modules in prose).
fn code(source: &str) -> String {
    source
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") { "" } else { line }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::<module>` a piece of code names.
fn uses(code: &str) -> Vec<String> {
    code.match_indices("crate::")
        .filter(|(at, _)| !code[..*at].ends_with('$'))
        .map(|(at, _)| {
            code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("a readable source directory") {
            rust_files(&entry.expect("a directory entry").path(), out);
        }
    } else if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_owned());
    }
}

#[test]
fn imports_only_point_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let layers = layers(&lib);
    assert!(
        layers.len() >= 10,
        "the crate doc's numbered list of layers was not found: {layers:?}"
    );
    // Every module is on a layer.
    for module in lib.lines().filter_map(|l| l.strip_prefix("pub mod ")) {
        let module = module.trim_end_matches(';');
        assert!(
            layers.contains_key(module),
            "module `{module}` is on no layer: add it to the numbered list in src/lib.rs"
        );
    }
    let mut upward = Vec::new();
    for (module, &layer) in &layers {
        let mut files = Vec::new();
        rust_files(&src.join(module), &mut files);
        rust_files(&src.join(format!("{module}.rs")), &mut files);
        assert!(!files.is_empty(), "module `{module}` has no source");
        for file in files {
            let source = std::fs::read_to_string(&file).expect("a readable source file");
            for used in uses(&code(&source)) {
                let Some(&used_layer) = layers.get(&used) else {
                    continue;
                };
                if used_layer > layer {
                    upward.push(format!(
                        "{} (`{module}`, layer {layer}) uses `{used}` (layer {used_layer})",
                        file.strip_prefix(&src).unwrap_or(&file).display()
                    ));
                }
            }
        }
    }
    upward.sort();
    upward.dedup();
    assert!(
        upward.is_empty(),
        "imports that point up a layer (see the layers in src/lib.rs):\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_check_sees_an_upward_import() {
    let layers = layers("//! 1. [`low`]: below.\n//! 2. [`high`], [`peer`]: above.\n");
    assert_eq!(layers["low"], 1);
    assert_eq!(layers["peer"], 2);
    let found = uses(&code(
        "// crate::high in a comment\nuse crate::high::Thing;\n",
    ));
    assert_eq!(found, ["high"]);
    assert!(found.iter().any(|m| layers[m] > layers["low"]));
}
