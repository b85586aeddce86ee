//! Route-level code splitting of the release build.
//!
//! Pages marked as lazy routes (`frontend/src/app.rs`, feature `split`) become split
//! points: `wasm_split_cli_support` cuts the wasm cargo linked (with `--emit-relocs`,
//! `.cargo/config.toml`) into a main module and one module per lazy route plus shared
//! chunks, and writes `__wasm_split.js`, which fetches a route's modules the first
//! time it opens. Trunk 0.21 has no hook between cargo and wasm-bindgen, so Trunk
//! builds the page, the stylesheet and the asset names as usual, and this step then
//! replaces Trunk's glue and wasm with the split ones, under the same names, and
//! corrects their SRI hashes in `index.html`. `trunk serve` stays unsplit.

use crate::shell::run;
use anyhow::{Context, anyhow, bail};
use base64::Engine;
use sha2::{Digest, Sha384};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The module the main wasm imports the split loaders from (next to the glue).
const LINK_MODULE: &str = "__wasm_split.js";

/// `obera-frontend-<hash>`: the stem of Trunk's glue (`.js`) and wasm (`_bg.wasm`).
fn trunk_stem(dist: &Path) -> anyhow::Result<String> {
    std::fs::read_dir(dist)?
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .find_map(|n| {
            n.strip_suffix("_bg.wasm")
                .filter(|s| s.starts_with("obera-frontend-"))
                .map(str::to_owned)
        })
        .with_context(|| format!("no obera-frontend-*_bg.wasm in {}", dist.display()))
}

/// Splits `linked` (cargo's wasm, before wasm-bindgen) and puts the result into
/// `dist` in place of Trunk's unsplit glue and wasm. `tool` runs wasm-bindgen and
/// wasm-opt at the versions the build pins.
pub fn split_into_dist(
    dist: &Path,
    linked: &Path,
    work: &Path,
    tool: impl Fn(&str) -> Command,
) -> anyhow::Result<()> {
    let stem = trunk_stem(dist)?;
    if work.exists() {
        std::fs::remove_dir_all(work)?;
    }
    let bindgen = work.join("bindgen");
    std::fs::create_dir_all(&bindgen)?;
    let input = std::fs::read(linked).with_context(|| format!("read {}", linked.display()))?;
    let main_module = format!("./{stem}.js");
    let link_name = format!("./{LINK_MODULE}");
    let main_out = work.join("main.wasm");
    let split = wasm_split_cli_support::transform({
        let mut opts = wasm_split_cli_support::Options::new(&input);
        opts.output_dir = work;
        opts.main_out_path = &main_out;
        opts.main_module = &main_module;
        opts.link_name = &link_name;
        opts
    })
    .map_err(|e| anyhow!("wasm-split: {e:#}"))?;
    if split.split_modules.is_empty() {
        bail!("the wasm has no split points: was it built with `--features split`?");
    }
    run(tool("wasm-bindgen")
        .args([
            "--target=web",
            "--keep-lld-exports",
            "--no-demangle",
            "--no-typescript",
        ])
        .arg(format!("--out-name={stem}"))
        .arg(format!("--out-dir={}", bindgen.display()))
        .arg(&main_out))?;
    let glue = bindgen.join(format!("{stem}.js"));
    let main_wasm = bindgen.join(format!("{stem}_bg.wasm"));
    for wasm in std::iter::once(&main_wasm).chain(&split.split_modules) {
        run(tool("wasm-opt")
            .args([
                "-Oz",
                "--enable-reference-types",
                "--enable-bulk-memory",
                "--enable-nontrapping-float-to-int",
            ])
            .arg(wasm)
            .arg("-o")
            .arg(wasm))?;
    }
    let mut copied: Vec<PathBuf> = vec![glue, main_wasm, work.join(LINK_MODULE)];
    copied.extend(split.split_modules);
    for file in &copied {
        let name = file.file_name().context("a split output has no name")?;
        std::fs::copy(file, dist.join(name))
            .with_context(|| format!("copy {} into dist", file.display()))?;
    }
    let index = dist.join("index.html");
    let mut html = std::fs::read_to_string(&index)?;
    for name in [format!("{stem}.js"), format!("{stem}_bg.wasm")] {
        html = with_integrity(&html, &name, &std::fs::read(dist.join(&name))?)?;
    }
    std::fs::write(index, html)?;
    Ok(())
}

/// `html` with the `integrity` of the tag whose `href` is `/<name>` set to `bytes`' hash.
fn with_integrity(html: &str, name: &str, bytes: &[u8]) -> anyhow::Result<String> {
    let href = format!("href=\"/{name}\"");
    let at = html
        .find(&href)
        .with_context(|| format!("index.html does not link {name}"))?;
    let tag_end = at + html[at..].find('>').context("unterminated tag")?;
    let attr = "integrity=\"";
    let start = at
        + html[at..tag_end]
            .find(attr)
            .with_context(|| format!("{name} has no integrity attribute"))?
        + attr.len();
    let end = start + html[start..].find('"').context("unterminated integrity")?;
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes));
    Ok(format!("{}sha384-{hash}{}", &html[..start], &html[end..]))
}

#[cfg(test)]
mod tests {
    use super::with_integrity;

    #[test]
    fn the_integrity_of_the_named_asset_alone_is_replaced() {
        let html = r#"<link rel="modulepreload" href="/a.js" integrity="sha384-old"><link href="/b.wasm" integrity="sha384-keep">"#;
        let out = with_integrity(html, "a.js", b"abc").unwrap_or_default();
        assert!(out.contains(r#"href="/a.js" integrity="sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn""#), "{out}");
        assert!(out.contains("sha384-keep"));
        assert!(with_integrity(html, "c.js", b"").is_err());
    }
}
