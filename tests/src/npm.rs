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

/// The name the JavaScript example adapter (`examples/adapters/js`) gives itself.
pub const JS_EXAMPLE: &str = "openai-compatible-js";

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the project copy");
    for entry in std::fs::read_dir(from).expect("read the example").flatten() {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_name() == "node_modules" {
            continue;
        }
        if src.is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).expect("copy an example file");
        }
    }
}

/// The JavaScript example built from source, describing itself as `name`, and its compile
/// cached in [`bins::cache_dir`]; once per name and process. The pinned jco and
/// componentize-js go into `target/js-toolchain` ([`install`]); the sources are copied into
/// `target/js-project-<name>` next to a link to that `node_modules` (a name other than
/// [`JS_EXAMPLE`] is written into the copy's `describe`) and built with `aratta adapter build`.
pub fn js_example(name: &str) -> PathBuf {
    static BUILT: Mutex<Vec<(String, PathBuf)>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, wasm)) = built.iter().find(|(n, _)| n == name) {
        return wasm.clone();
    }
    let example = bins::workspace_root().join("examples/adapters/js");
    let toolchain = install("js-toolchain", &example);
    let project = bins::target_dir().join(format!("js-project-{name}"));
    let _ = std::fs::remove_dir_all(&project);
    copy_tree(&example, &project);
    if name != JS_EXAMPLE {
        let source = project.join("src/adapter.js");
        let text = std::fs::read_to_string(&source).expect("read the example's source");
        let renamed = text.replace(
            &format!("name: \"{JS_EXAMPLE}\""),
            &format!("name: \"{name}\""),
        );
        assert_ne!(
            renamed, text,
            "the example's describe no longer names {JS_EXAMPLE}"
        );
        std::fs::write(&source, renamed).expect("rename the copy");
    }
    std::os::unix::fs::symlink(toolchain.join("node_modules"), project.join("node_modules"))
        .expect("link node_modules");
    let home = tempfile::tempdir().expect("a home for the build");
    let output = Command::new(bins::aratta_bin())
        .args(["adapter", "build"])
        .arg(&project)
        .env("ARATTA_HOME", home.path())
        .output()
        .expect("run aratta adapter build");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "aratta adapter build failed ({}):\n{}\n{stderr}",
        output.status,
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(stderr.contains("componentizing"), "progress: {stderr}");
    let installed = home.path().join(format!("adapters/{name}.wasm"));
    let wasm = bins::target_dir().join(format!("js-{name}.wasm"));
    std::fs::copy(&installed, &wasm)
        .unwrap_or_else(|e| panic!("{} was not installed: {e}", installed.display()));
    warm_compile_cache(&wasm, name);
    built.push((name.to_string(), wasm.clone()));
    wasm
}

/// Starts `aratta serve` once with the adapter and the tests' compile cache, and stops it when
/// it listens: the first compile of the JS engine (about a minute on a busy machine) happens
/// here, once, instead of in every test's gateway under its 60 s startup limit.
fn warm_compile_cache(wasm: &Path, name: &str) {
    use std::io::{BufRead, BufReader};
    let home = tempfile::tempdir().expect("a home for the warm-up");
    std::fs::create_dir_all(home.path().join("adapters")).expect("create adapters/");
    std::fs::copy(wasm, home.path().join(format!("adapters/{name}.wasm"))).expect("copy");
    let config = crate::config::Config::new()
        .provider(crate::config::Provider::new("warm", "http://127.0.0.1:9/v1").adapter(name));
    std::fs::write(home.path().join("config.toml"), config.to_toml()).expect("write config");
    let mut child = Command::new(bins::aratta_bin())
        .args(["serve", "--port", "0"])
        .env("ARATTA_HOME", home.path())
        .env("ARATTA_CACHE_DIR", bins::cache_dir())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start aratta serve");
    let stdout = child.stdout.take().expect("piped");
    let listening = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains("aratta listening on"));
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        listening,
        "aratta serve with {} never listened",
        wasm.display()
    );
}
