//! `cargo xtask <task>`: the project's commands, so the README and CI cannot drift.
//!
//! - `run`      build the SPA if its sources changed, then serve on SQLite with demo data
//! - `test`     the whole gate: fmt, clippy, tests on SQLite and PostgreSQL, spec drift, SDK smoke test, browser tests
//! - `openapi`  regenerate `openapi/openapi.json` (`--check` fails when it is stale)
//! - `frontend` install the offline wasm toolchain and build the SPA
//! - `sdk`      generate a Python SDK from the spec and drive a live server with it
//! - `bench`    benchmark the release server against same-run baselines (`--compare`, scenario names)

mod bench;
mod frontend;
mod precompress;
mod sdk;
mod shell;
mod split;

use anyhow::{Context, bail};
use shell::{cargo, project_root, run};
use std::process::Command;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let rest = &args[args.len().min(1)..];
    match task {
        "run" => run_product(),
        "test" | "ci" => test(rest),
        "openapi" => openapi(rest.iter().any(|a| a == "--check")),
        "frontend" => frontend::build(),
        "sdk" => sdk::smoke_test(),
        "bench" => bench::bench(rest),
        _ => {
            eprintln!(
                "usage: cargo xtask <run | test | openapi [--check] | frontend | sdk | bench [--compare] [name…]>"
            );
            if task == "help" {
                Ok(())
            } else {
                bail!("unknown task `{task}`")
            }
        }
    }
}

/// Builds the SPA (when possible) and the server, then serves on the embedded default.
fn run_product() -> anyhow::Result<()> {
    if let Err(e) = frontend::build() {
        eprintln!("warning: the web app could not be built ({e:#}); serving the API only");
    }
    run(cargo().args(["build", "--release", "-p", "obera-server", "--bin", "obera"]))?;
    let bin = shell::target_dir().join("release/obera");
    let status = Command::new(bin)
        .arg("serve")
        .current_dir(project_root())
        .status()
        .context("start obera")?;
    if !status.success() {
        bail!("obera exited with {status}");
    }
    Ok(())
}

/// Writes or checks `openapi/openapi.json`.
fn openapi(check: bool) -> anyhow::Result<()> {
    let out = cargo()
        .args([
            "run",
            "--quiet",
            "-p",
            "obera-server",
            "--bin",
            "obera",
            "--",
            "openapi",
        ])
        .env("OBERA_SEED_DEMO", "never")
        .output()?;
    if !out.status.success() {
        bail!(
            "generating the spec failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let path = project_root().join("openapi/openapi.json");
    let current = std::fs::read(&path).unwrap_or_default();
    if check {
        if current != out.stdout {
            bail!("openapi/openapi.json is stale: run `cargo xtask openapi`");
        }
        println!("openapi/openapi.json is up to date");
    } else {
        std::fs::write(&path, &out.stdout)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The quality gate the README and CI run.
fn test(args: &[String]) -> anyhow::Result<()> {
    let skip_browser = args.iter().any(|a| a == "--no-browser");
    run(cargo().args(["fmt", "--all", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--exclude",
        "obera-frontend",
        "--",
        "-D",
        "warnings",
    ]))?;
    if !skip_browser {
        frontend::build()?;
        // Both shapes of the lazy routes: unsplit (`trunk serve`) and split (release).
        for features in [&[][..], &["--features", "split"][..]] {
            run(cargo()
                .args(["clippy", "-p", "obera-frontend"])
                .args(features)
                .args(["--target", "wasm32-unknown-unknown", "--", "-D", "warnings"]))?;
        }
    }
    openapi(true)?;
    let pg = shell::test_postgres_url();
    let mut nextest = cargo();
    nextest.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
    // The SPA's pure logic (colour contrast, safe return paths) is unit-tested natively.
    if skip_browser {
        nextest.args(["-E", "not test(/^browser::/)"]);
    } else {
        // The browser leg must run here: a missing Chromium, SPA build or axe-core is a failure.
        nextest
            .env("TEST_REQUIRE_BROWSER", "1")
            .env("OBERA_AXE_CORE_DIR", frontend::install_axe_core()?);
    }
    run(nextest
        .env("TEST_POSTGRES_URL", pg)
        .env_remove("OBERA_TEST_SQLITE_ONLY"))?;
    sdk::smoke_test()?;
    println!("\nall checks passed");
    Ok(())
}
