//! Stores `.br` and `.gz` siblings of the SPA's assets, compressed once at the
//! highest levels. The server sends them to browsers that accept them
//! (`crates/server/src/spa.rs`): smaller than on-the-fly compression, and no
//! compression work per request.

use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Assets worth compressing; `index.html` is tiny and served as the route fallback.
const EXTENSIONS: [&str; 3] = ["wasm", "js", "css"];

/// Sizes of one asset: as built, gzip -9, brotli 11.
pub struct Sizes {
    pub path: PathBuf,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

fn assets(dist: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dist)
        .with_context(|| format!("read {}", dist.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e))
        })
        .collect();
    files.sort();
    Ok(files)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

fn brotli(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
    Ok(out)
}

/// Writes `<asset>.gz` and `<asset>.br` next to every large asset in `dist`.
pub fn compress(dist: &Path) -> anyhow::Result<()> {
    for path in assets(dist)? {
        let bytes = std::fs::read(&path)?;
        std::fs::write(sibling(&path, "gz"), gzip(&bytes)?)?;
        std::fs::write(sibling(&path, "br"), brotli(&bytes)?)?;
    }
    Ok(())
}

/// The sizes of every compressed asset in `dist`, read from the stored siblings.
pub fn sizes(dist: &Path) -> anyhow::Result<Vec<Sizes>> {
    let len = |p: PathBuf| {
        std::fs::metadata(&p)
            .map(|m| m.len())
            .with_context(|| format!("{} is missing; run `cargo xtask frontend`", p.display()))
    };
    assets(dist)?
        .into_iter()
        .map(|path| {
            Ok(Sizes {
                raw: len(path.clone())?,
                gzip: len(sibling(&path, "gz"))?,
                brotli: len(sibling(&path, "br"))?,
                path,
            })
        })
        .collect()
}
