//! Where source trees come from: built-in trees unpacked with only the helper crates their
//! adapter uses, recorded crates, export and sync.

use super::*;

#[test]
fn a_builtin_adapter_unpacks_once_as_a_standalone_workspace() {
    let home = tempfile::tempdir().unwrap();
    let home = Home::at(home.path());
    let tree = locate(&home, "local").unwrap();
    assert_eq!(tree.origin, SourceOrigin::Builtin);
    assert_eq!(tree.crate_dir, Path::new("adapters/local"));
    let manifest = std::fs::read_to_string(tree.root.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains(
            r#"members = ["adapters/local", "guest-sdk", "guest-sdk/openai-compatible"]"#
        )
    );
    assert!(manifest.contains("[profile.release.package.aratta-adapter-local]"));
    assert!(manifest.contains("[profile.release.package.aratta-openai-compatible]"));
    assert!(!manifest.contains("aratta-adapter-openai"), "{manifest}");
    for file in [
        "Cargo.lock",
        "rust-toolchain.toml",
        "wit/world.wit",
        "guest-sdk/Cargo.toml",
        "guest-sdk/openai-compatible/Cargo.toml",
    ] {
        assert!(tree.root.join(file).is_file(), "{file}");
    }
    assert!(!tree.root.join("adapters/openai").exists());
    let files = tree.rust_files();
    assert!(files.contains(&PathBuf::from("adapters/local/src/lib.rs")));
    assert!(files.contains(&PathBuf::from("guest-sdk/src/lib.rs")));
    assert!(files.contains(&PathBuf::from("guest-sdk/openai-compatible/src/lib.rs")));
    assert!(files.windows(2).all(|w| w[0] < w[1]));
    // The second call reuses the tree.
    std::fs::write(tree.root.join("marker"), "x").unwrap();
    assert!(
        locate(&home, "local")
            .unwrap()
            .root
            .join("marker")
            .is_file()
    );
}

#[test]
fn a_tree_holds_only_the_helper_crates_its_adapter_depends_on() {
    let home = tempfile::tempdir().unwrap();
    let tree = locate(&Home::at(home.path()), "anthropic").unwrap();
    let manifest = std::fs::read_to_string(tree.root.join("Cargo.toml")).unwrap();
    assert!(manifest.contains(r#"members = ["adapters/anthropic", "guest-sdk"]"#));
    assert!(!manifest.contains("openai-compatible"), "{manifest}");
    assert!(tree.root.join("guest-sdk/src/lib.rs").is_file());
    assert!(!tree.root.join("guest-sdk/openai-compatible").exists());
    assert!(
        tree.rust_files()
            .iter()
            .all(|f| !f.starts_with("guest-sdk/openai-compatible"))
    );
}

#[test]
fn members_are_read_from_the_generated_manifest() {
    let manifest = "[workspace]\nresolver = \"3\"\nmembers = [\"adapters/x\", \"guest-sdk\"]\n";
    assert_eq!(workspace_members(manifest), ["adapters/x", "guest-sdk"]);
    assert!(workspace_members("").is_empty());
    let members = workspace_members(manifest);
    assert_eq!(
        tree_path(
            "x",
            &members,
            Path::new("crates/openai-compatible/src/lib.rs")
        ),
        None
    );
    let members = vec!["guest-sdk/openai-compatible".to_string()];
    assert_eq!(
        tree_path(
            "x",
            &members,
            Path::new("crates/openai-compatible/src/lib.rs")
        ),
        Some(PathBuf::from("guest-sdk/openai-compatible/src/lib.rs"))
    );
    assert!(depends_on(
        "aratta-openai-compatible = { path = \"..\" }",
        "aratta-openai-compatible"
    ));
    assert!(!depends_on(
        "aratta-openai-compatible-extra = \"1\"",
        "aratta-openai-compatible"
    ));
}

#[test]
fn an_unknown_adapter_says_where_source_comes_from() {
    let home = tempfile::tempdir().unwrap();
    let err = locate(&Home::at(home.path()), "nope").unwrap_err();
    assert_eq!(
        err.to_string(),
        "no source is known for adapter 'nope': it is not built in and was not installed \
         with `aratta adapter build`"
    );
}

#[test]
fn a_recorded_crate_resolves_to_its_workspace_and_wins_over_the_builtin() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path().join("home"));
    let ws = dir.path().join("ws");
    std::fs::create_dir_all(ws.join("crates/mine/src")).unwrap();
    std::fs::write(
        ws.join("Cargo.toml"),
        "[workspace]\nmembers = [\"crates/mine\"]\n",
    )
    .unwrap();
    std::fs::write(ws.join("crates/mine/Cargo.toml"), "[package]\n").unwrap();
    std::fs::write(ws.join("crates/mine/src/lib.rs"), "").unwrap();
    record(&home, "local", &ws.join("crates/mine")).unwrap();
    let tree = locate(&home, "local").unwrap();
    assert_eq!(
        (tree.root.as_path(), tree.crate_dir.as_path()),
        (ws.as_path(), Path::new("crates/mine"))
    );
    assert_eq!(tree.origin, SourceOrigin::Recorded(ws.join("crates/mine")));
    assert_eq!(tree.rust_files(), [PathBuf::from("crates/mine/src/lib.rs")]);
    std::fs::remove_dir_all(&ws).unwrap();
    let err = locate(&home, "local").unwrap_err();
    assert!(matches!(err, SourceError::Moved { .. }), "{err}");
}

#[test]
fn export_refuses_a_non_empty_directory_and_copies_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path().join("home"));
    let busy = dir.path().join("busy");
    std::fs::create_dir_all(&busy).unwrap();
    std::fs::write(busy.join("x"), "").unwrap();
    assert!(matches!(
        export(&home, "local", &busy),
        Err(SourceError::NotEmpty(_))
    ));
    let out = dir.path().join("out");
    let tree = export(&home, "local", &out).unwrap();
    assert_eq!(tree.root, out);
    assert!(out.join("adapters/local/src/lib.rs").is_file());
    assert_eq!(
        tree.rust_files(),
        locate(&home, "local").unwrap().rust_files()
    );
}

#[test]
fn sync_writes_only_changed_files_and_removes_stale_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (from, to) = (dir.path().join("from"), dir.path().join("to"));
    std::fs::create_dir_all(from.join("src")).unwrap();
    std::fs::create_dir_all(from.join("target")).unwrap();
    std::fs::write(from.join("src/a.rs"), "a").unwrap();
    std::fs::write(from.join("target/big"), "x").unwrap();
    sync_tree(&from, &to).unwrap();
    let mtime = || {
        std::fs::metadata(to.join("src/a.rs"))
            .unwrap()
            .modified()
            .unwrap()
    };
    let first = mtime();
    std::fs::write(to.join("src/stale.rs"), "").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    sync_tree(&from, &to).unwrap();
    assert_eq!(mtime(), first);
    assert!(!to.join("src/stale.rs").exists());
    assert!(!to.join("target").exists());
}
