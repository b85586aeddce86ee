//! Serves the built SPA: files from the static folder, `index.html` for any other
//! path (client-side routes), long-lived caching for Trunk's hashed assets.
//! Unknown `/api/…` paths get a problem-JSON 404 instead of the app.
//!
//! `cargo xtask frontend` stores `.br` and `.gz` siblings of the large assets,
//! compressed once at the highest levels; they are sent when the browser accepts
//! them, which is smaller than on-the-fly compression and costs no CPU per request.

use crate::csp;
use crate::error::ApiError;
use actix_web::http::header::{
    AcceptEncoding, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    Encoding, VARY,
};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use std::path::{Component, Path, PathBuf};

/// Where the SPA lives, and the origins besides its own that it may call (for the
/// shell's `connect-src`).
#[derive(Clone)]
pub struct StaticDir {
    pub path: PathBuf,
    pub connect_origins: Vec<String>,
}

const MISSING_SPA: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Obera</title></head>
<body><h1>Obera</h1><p>The API is running. The web app has not been built: run <code>cargo xtask run</code>,
which builds it, or read the <a href="/docs">API reference</a>.</p></body></html>"#;

/// Default service: static file, SPA fallback, or API 404.
pub async fn serve(req: HttpRequest, dir: web::Data<StaticDir>) -> HttpResponse {
    let path = req.path();
    if path.starts_with("/api/") || path == "/api" {
        return ApiError::NotFound.error_response();
    }
    let accepted = req.get_header::<AcceptEncoding>();
    if let Some(file) = safe_join(&dir.path, path).filter(|p| p.is_file())
        && let Some((encoding, bytes)) = read_asset(&file, accepted.as_ref()).await
    {
        let hashed = is_hashed_asset(&file);
        let mut response = HttpResponse::Ok();
        if let Some(encoding) = encoding {
            // The middleware leaves responses that already carry an encoding alone.
            response
                .insert_header((CONTENT_ENCODING, encoding))
                .insert_header((VARY, "accept-encoding"));
        }
        return response
            .insert_header((CONTENT_TYPE, content_type(&file)))
            .insert_header((
                CACHE_CONTROL,
                if hashed {
                    "public, max-age=31536000, immutable"
                } else {
                    "no-cache"
                },
            ))
            .body(bytes);
    }
    let page = tokio::fs::read(dir.path.join("index.html"))
        .await
        .unwrap_or_else(|_| MISSING_SPA.as_bytes().to_vec());
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((
            CONTENT_SECURITY_POLICY,
            csp::spa_policy(&page, &dir.connect_origins),
        ))
        .insert_header((CACHE_CONTROL, "no-cache"))
        .body(page)
}

/// The bytes to send for `file` and their content encoding: the stored `.br` or
/// `.gz` sibling the client accepts (brotli first), else the file itself.
async fn read_asset(
    file: &Path,
    accepted: Option<&AcceptEncoding>,
) -> Option<(Option<&'static str>, Vec<u8>)> {
    for (encoding, name, suffix) in [
        (Encoding::brotli(), "br", "br"),
        (Encoding::gzip(), "gzip", "gz"),
    ] {
        if !accepts(accepted, &encoding) {
            continue;
        }
        let mut sibling = file.as_os_str().to_owned();
        sibling.push(".");
        sibling.push(suffix);
        if let Ok(bytes) = tokio::fs::read(PathBuf::from(sibling)).await {
            return Some((Some(name), bytes));
        }
    }
    tokio::fs::read(file).await.ok().map(|bytes| (None, bytes))
}

/// Whether the client's `Accept-Encoding` lists `encoding` with a non-zero weight
/// (actix's own negotiation, as its compression middleware uses).
fn accepts(accepted: Option<&AcceptEncoding>, encoding: &Encoding) -> bool {
    accepted.is_some_and(|a| a.negotiate(std::iter::once(encoding)).as_ref() == Some(encoding))
}

/// Joins a URL path under `root`, refusing `..` and absolute components.
fn safe_join(root: &Path, url_path: &str) -> Option<PathBuf> {
    let rel = url_path.trim_start_matches('/');
    if rel.is_empty() {
        return None;
    }
    let rel = Path::new(rel);
    rel.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| root.join(rel))
}

/// Trunk names assets `name-<16 hex>[_bg].ext`; those never change and can be cached forever.
fn is_hashed_asset(path: &Path) -> bool {
    path.file_stem()
        .and_then(|s| s.to_str())
        .map(|s| s.trim_end_matches("_bg"))
        .and_then(|s| s.rsplit_once('-'))
        .is_some_and(|(_, hash)| hash.len() >= 16 && hash.chars().all(|c| c.is_ascii_hexdigit()))
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript",
        "wasm" => "application/wasm",
        "css" => "text/css",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_traversal_is_refused() {
        let root = Path::new("/srv/dist");
        assert_eq!(safe_join(root, "/../etc/passwd"), None);
        assert_eq!(safe_join(root, "/a/../../x"), None);
        assert_eq!(
            safe_join(root, "/app-1234.js"),
            Some(root.join("app-1234.js"))
        );
    }

    fn header_accepts(value: &str, encoding: Encoding) -> bool {
        let req = actix_web::test::TestRequest::default()
            .insert_header(("accept-encoding", value))
            .to_http_request();
        accepts(req.get_header::<AcceptEncoding>().as_ref(), &encoding)
    }

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        assert!(header_accepts(
            "gzip, deflate, br, zstd",
            Encoding::brotli()
        ));
        assert!(header_accepts("BR;q=0.5", Encoding::brotli()));
        assert!(!header_accepts("gzip, br;q=0", Encoding::brotli()));
        assert!(!header_accepts("gzip", Encoding::brotli()));
        assert!(!header_accepts("", Encoding::gzip()));
        assert!(!header_accepts("brotli", Encoding::brotli()));
    }

    #[test]
    fn trunk_hashed_names_are_recognised() {
        assert!(is_hashed_asset(Path::new(
            "obera-frontend-6f2e1c0a9b8d7e6f_bg.wasm"
        )));
        assert!(is_hashed_asset(Path::new(
            "obera-frontend-6f2e1c0a9b8d7e6f.js"
        )));
        assert!(!is_hashed_asset(Path::new("index.html")));
    }
}
