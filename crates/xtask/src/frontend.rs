//! The SPA's offline toolchain and build.
//!
//! Everything comes from crates.io, npm and the Rust toolchain; Trunk runs with
//! `--offline` and finds wasm-bindgen and wasm-opt on PATH at the exact versions
//! it expects, so it never downloads from GitHub. Debian's binaryen (wasm-opt 108)
//! is deliberately not used: its output does not start in the browser.

use crate::precompress;
use crate::shell::{cargo, project_root, run, target_dir};
use crate::split;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// The most the whole app (every asset, brotli 11) may weigh: a page added has to stay
/// lean, or be split off into a lazy route.
const BUDGET_BROTLI_BYTES: u64 = 450_000;
/// Trunk 0.21.14 is the newest release that builds with rustc 1.95.
const TRUNK_VERSION: &str = "0.21.14";
/// npm `binaryen` major version; its wasm-opt prints `version 132`.
const BINARYEN_VERSION: &str = "132";
/// npm `axe-core`, the accessibility engine the browser tests inject into every page.
const AXE_CORE_VERSION: &str = "4.14.1";

fn tools_dir() -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".cache/obera-tools")
}

fn cargo_bin() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    home.unwrap_or_default().join("bin")
}

/// The `wasm-bindgen` version pinned in Cargo.lock (the CLI must match it exactly).
fn locked_wasm_bindgen() -> anyhow::Result<String> {
    let lock =
        std::fs::read_to_string(project_root().join("Cargo.lock")).context("read Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    bail!("wasm-bindgen is not in Cargo.lock")
}

/// PATH with cargo's bin and the npm wasm-opt in front.
fn tool_path() -> std::ffi::OsString {
    let wasm_opt_bin = tools_dir().join(format!("binaryen-{BINARYEN_VERSION}/node_modules/.bin"));
    let mut paths = vec![wasm_opt_bin, cargo_bin()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap_or_default()
}

fn with_path(program: &str) -> Command {
    let mut c = Command::new(program);
    c.env("PATH", tool_path());
    c
}

/// True when `program --version` (found on the tool PATH) prints `expected`.
fn has(program: &str, expected: &str) -> bool {
    with_path(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(expected))
}

/// Installs whatever of the toolchain is missing; each step is skipped when present.
pub fn install_toolchain() -> anyhow::Result<String> {
    let targets = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("run rustup")?;
    if !String::from_utf8_lossy(&targets.stdout)
        .lines()
        .any(|l| l == "wasm32-unknown-unknown")
    {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    if !has("trunk", &format!("trunk {TRUNK_VERSION}")) {
        run(cargo().args(["install", "--locked", "trunk", "--version", TRUNK_VERSION]))?;
    }
    let wb = locked_wasm_bindgen()?;
    if !has("wasm-bindgen", &format!("wasm-bindgen {wb}")) {
        // `--locked` can fail when the registry lacks a crate pinned in the CLI's own
        // lockfile (seen for 0.2.130); then resolve afresh.
        if run(cargo().args(["install", "--locked", "wasm-bindgen-cli", "--version", &wb])).is_err()
        {
            run(cargo().args(["install", "--force", "wasm-bindgen-cli", "--version", &wb]))?;
        }
    }
    if !has("wasm-opt", &format!("version {BINARYEN_VERSION}")) {
        npm_install(
            &tools_dir().join(format!("binaryen-{BINARYEN_VERSION}")),
            &format!("binaryen@{BINARYEN_VERSION}.0.0"),
        )?;
    }
    Ok(wb)
}

/// Installs one npm package (`name@version`) into its own folder under the tools dir.
fn npm_install(dir: &Path, package: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    run(Command::new("npm")
        .arg("install")
        .arg("--prefix")
        .arg(dir)
        .args(["--no-audit", "--no-fund", "--no-save", package]))
}

/// The folder the browser tests read `axe.min.js` from (`tests/browser/mod.rs` looks
/// in the same place unless `OBERA_AXE_CORE_DIR` names another).
fn axe_core_dir() -> PathBuf {
    tools_dir().join("axe-core/node_modules/axe-core")
}

/// Installs axe-core from npm unless the pinned version is already there, and
/// returns its folder. The tests inject the local file: nothing is fetched at test time.
pub fn install_axe_core() -> anyhow::Result<PathBuf> {
    let dir = axe_core_dir();
    let installed = std::fs::read_to_string(dir.join("package.json")).unwrap_or_default();
    let pinned = format!("\"version\": \"{AXE_CORE_VERSION}\"");
    if !installed.contains(&pinned) || !dir.join("axe.min.js").exists() {
        npm_install(
            &tools_dir().join("axe-core"),
            &format!("axe-core@{AXE_CORE_VERSION}"),
        )?;
    }
    Ok(dir)
}

/// Newest modification time of the files under `paths`.
fn newest(paths: &[PathBuf]) -> Option<SystemTime> {
    fn walk(p: &Path, best: &mut Option<SystemTime>) {
        if let Ok(meta) = std::fs::metadata(p) {
            if meta.is_dir() {
                for entry in std::fs::read_dir(p).into_iter().flatten().flatten() {
                    walk(&entry.path(), best);
                }
            } else if let Ok(m) = meta.modified() {
                *best = Some(best.map_or(m, |b| b.max(m)));
            }
        }
    }
    let mut best = None;
    for p in paths {
        walk(p, &mut best);
    }
    best
}

/// Written last by a complete build (Trunk + compressed siblings).
const BUILD_STAMP: &str = "frontend/dist/.build-complete";

/// True when `frontend/dist` is incomplete or older than any source of the SPA.
fn needs_build() -> bool {
    let root = project_root();
    let built = std::fs::metadata(root.join(BUILD_STAMP))
        .and_then(|m| m.modified())
        .ok();
    let sources = [
        "frontend/src",
        "frontend/style",
        "frontend/index.html",
        "frontend/Cargo.toml",
        "crates/types/src",
        "Trunk.toml",
        "Cargo.lock",
        ".cargo/config.toml",
    ];
    let changed = newest(&sources.iter().map(|s| root.join(s)).collect::<Vec<_>>());
    match (built, changed) {
        (Some(b), Some(c)) => c > b,
        _ => true,
    }
}

/// Builds `frontend/dist` with Trunk when its sources changed, installing tools first.
pub fn build() -> anyhow::Result<()> {
    if !needs_build() {
        eprintln!("frontend/dist is up to date");
        return Ok(());
    }
    let wb = install_toolchain()?;
    run(cargo().args(["fetch", "--locked"]))?;
    let mut trunk = with_path("trunk");
    trunk
        .current_dir(project_root())
        .args(["build", "--release", "--offline", "--features", "split"])
        .env("TRUNK_TOOLS_WASM_BINDGEN", &wb)
        .env(
            "TRUNK_TOOLS_WASM_OPT",
            format!("version_{BINARYEN_VERSION}"),
        );
    run(&mut trunk)?;
    let dist = project_root().join("frontend/dist");
    split::split_into_dist(
        &dist,
        &target_dir().join("wasm32-unknown-unknown/wasm-release/obera-frontend.wasm"),
        &target_dir().join("obera-split"),
        with_path,
    )?;
    precompress::compress(&dist)?;
    println!("{}", size_table()?);
    let whole = precompress::sizes(&dist)?
        .iter()
        .map(|s| s.brotli)
        .sum::<u64>();
    if whole > BUDGET_BROTLI_BYTES {
        bail!(
            "the web app weighs {:.1} kB brotli, over its budget of {:.0} kB: make the new code \
             leaner or move its page into a lazy route (frontend/src/app.rs)",
            whole as f64 / 1000.0,
            BUDGET_BROTLI_BYTES as f64 / 1000.0
        );
    }
    std::fs::write(project_root().join(BUILD_STAMP), "")?;
    Ok(())
}

/// The size of each asset and of the whole app as browsers download it, as a
/// Markdown table (printed after a build, recorded by `cargo xtask bench`).
pub fn size_table() -> anyhow::Result<String> {
    let sizes = precompress::sizes(&project_root().join("frontend/dist"))?;
    let name = |s: &precompress::Sizes| {
        s.path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    // The first page needs the stylesheet, the glue, the main wasm and the split
    // loader; a lazy route's modules (`split_*`, shared `chunk_*`) come when it opens.
    let (lazy, first): (Vec<_>, Vec<_>) = sizes.iter().partition(|s| {
        let n = name(s);
        n.starts_with("split_") || n.starts_with("chunk_")
    });
    let row = |label: String, set: &[&precompress::Sizes]| {
        let kb = |f: fn(&precompress::Sizes) -> u64| {
            format!(
                "{:.1}",
                set.iter().map(|s| f(s)).sum::<u64>() as f64 / 1000.0
            )
        };
        format!(
            "| {label} | {} | {} | {} |\n",
            kb(|s| s.raw),
            kb(|s| s.gzip),
            kb(|s| s.brotli)
        )
    };
    let mut out =
        String::from("| file | raw kB | gzip -9 kB | brotli 11 kB |\n|---|---|---|---|\n");
    for s in &first {
        out.push_str(&row(format!("`{}`", name(s)), &[s]));
    }
    out.push_str(&row(
        format!("lazy route modules ({} files)", lazy.len()),
        &lazy,
    ));
    out.push_str(&row("first load".to_owned(), &first));
    out.push_str(&row(
        "whole app".to_owned(),
        &sizes.iter().collect::<Vec<_>>(),
    ));
    Ok(out)
}
