//! npm toolchains under `target/`, each installed with `npm ci` from a pinned `package.json` and
//! `package-lock.json`, once per test process and again only when the lock file changes (the
//! way [`crate::venv`] does for Python). A test that needs one fails (never skips) when node or
//! npm is missing, saying what to install.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use crate::bins;
use crate::mock::sha256_hex;

/// Panics, saying what to install, unless `program --version` runs.
pub fn require(program: &str) {
    match Command::new(program).arg("--version").output() {
        Ok(out) if out.status.success() => {}
        other => panic!(
            "`{program}` is required to build JavaScript adapters and was not found or failed \
             ({other:?}): install Node.js 20 or later with npm (https://nodejs.org)"
        ),
    }
}

/// `target/<name>` holding `node_modules` installed from the `package.json` and
/// `package-lock.json` in `project`; returns that directory. Calls in one process wait for
/// each other.
pub fn install(name: &str, project: &Path) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _one_at_a_time = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    require("node");
    require("npm");
    let dir = bins::target_dir().join(name);
    std::fs::create_dir_all(&dir).expect("create the npm toolchain directory");
    let read = |file: &str| {
        std::fs::read_to_string(project.join(file))
            .unwrap_or_else(|e| panic!("read {}: {e}", project.join(file).display()))
    };
    let (manifest, lock) = (read("package.json"), read("package-lock.json"));
    let wanted = sha256_hex(&format!("{manifest}\n{lock}"));
    let stamp = dir.join(".lock.sha256");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        std::fs::write(dir.join("package.json"), &manifest).expect("copy package.json");
        std::fs::write(dir.join("package-lock.json"), &lock).expect("copy package-lock.json");
        let output = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run npm ci: {e}"));
        assert!(
            output.status.success(),
            "npm ci in {} failed ({}):\n{}\n{}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::write(&stamp, &wanted).expect("write the npm stamp");
    }
    dir
}
