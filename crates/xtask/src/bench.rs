//! `cargo xtask bench [--compare] [scenario…]`: builds the release server and the
//! harness (`crates/bench`), runs it, and prints the SPA's .wasm size.
//!
//! A full run writes `docs/benchmarks.md` and `docs/benchmarks.json`. A partial run
//! (scenario or backend names: `p1 p2 p3 p4 memory w1 w2 w3 workflows peers sqlite
//! postgres`) or `--compare` writes to `target/obera-bench/` instead, so the recorded
//! baseline only changes on purpose; `--compare` fails when a goal is more than 10%
//! worse than that baseline.
//!
//! `peers` (only when named, never in CI) also installs n8n from npm into
//! `target/obera-bench/n8n-<version>/` on first use and compares Obera with it.

use crate::frontend;
use crate::shell::{cargo, project_root, run, target_dir, test_postgres_url};
use std::time::Instant;

pub fn bench(args: &[String]) -> anyhow::Result<()> {
    let compare = args.iter().any(|a| a == "--compare");
    let names: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let started = Instant::now();
    run(cargo().args([
        "build",
        "--release",
        "-p",
        "obera-server",
        "--bin",
        "obera",
        "-p",
        "obera-bench",
        "--bin",
        "obera-bench",
    ]))?;
    let build_secs = started.elapsed().as_secs_f64();
    let release = target_dir().join("release");
    let docs = project_root().join("docs");
    let (markdown, json) = if compare || !names.is_empty() {
        let out = target_dir().join("obera-bench");
        std::fs::create_dir_all(&out)?;
        (out.join("latest.md"), out.join("latest.json"))
    } else {
        std::fs::create_dir_all(&docs)?;
        (docs.join("benchmarks.md"), docs.join("benchmarks.json"))
    };
    let postgres = test_postgres_url();
    let mut command = String::from("cargo xtask bench");
    for a in args {
        command.push(' ');
        command.push_str(a);
    }
    let mut harness = std::process::Command::new(release.join("obera-bench"));
    harness.arg("run");
    if names.iter().any(|n| n.as_str() == "peers") {
        harness.arg("--n8n").arg(install_n8n()?);
    }
    harness
        .current_dir(project_root())
        .arg("--obera")
        .arg(release.join("obera"))
        .arg("--postgres")
        .arg(postgres)
        .arg("--markdown")
        .arg(&markdown)
        .arg("--json")
        .arg(&json)
        .arg("--command")
        .arg(&command)
        .arg("--build-secs")
        .arg(format!("{build_secs:.0}"))
        .args(names);
    if compare {
        harness.arg("--compare").arg(docs.join("benchmarks.json"));
    }
    run(&mut harness)?;
    frontend::build()?;
    let sizes = frontend::size_table()?;
    println!("{sizes}");
    // The SPA has no server-side figure; its download size is recorded beside the API's.
    let mut report = std::fs::read_to_string(&markdown)?;
    report.push_str(&format!(
        "\n## Web app size\n\nRelease build (`cargo xtask frontend`: opt-level z, LTO, wasm-opt -Oz, \
         Leptos `erase_components`); the gzip and brotli copies are what the server sends.\n\n{sizes}"
    ));
    std::fs::write(&markdown, report)?;
    Ok(())
}

/// The n8n release `peers` compares with; `crates/bench/src/peer.rs` names it too.
const N8N_VERSION: &str = "1.123.81";

/// Installs n8n into the cache folder unless it is there, and returns the folder.
///
/// Its published dependency tree does not install offline or on Node 20, so two are
/// pinned: `xlsx` (the default is a tarball on a CDN, not the registry) and
/// `isolated-vm` (6.x needs Node 22).
fn install_n8n() -> anyhow::Result<std::path::PathBuf> {
    let dir = target_dir()
        .join("obera-bench")
        .join(format!("n8n-{N8N_VERSION}"));
    if dir.join("node_modules/.bin/n8n").exists() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir)?;
    let manifest = format!(
        r#"{{"name":"obera-bench-n8n-peer","private":true,"dependencies":{{"n8n":"{N8N_VERSION}"}},"overrides":{{"xlsx":"0.18.5","isolated-vm":"5.0.4"}}}}"#
    );
    std::fs::write(dir.join("package.json"), manifest)?;
    eprintln!(
        "installing n8n {N8N_VERSION} into {} (about 5 minutes)…",
        dir.display()
    );
    run(std::process::Command::new("npm").current_dir(&dir).args([
        "install",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
    ]))?;
    Ok(dir)
}
