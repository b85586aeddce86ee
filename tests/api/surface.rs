//! The server's public surface: health, readiness, the spec, the API reference, the SPA.

use crate::both_backends;
use crate::helpers::TestApp;
use reqwest::StatusCode;
use std::collections::HashSet;

/// Health, readiness, spec and reference page answer; the reference loads nothing remote.
async fn health_spec_and_docs_are_served(app: TestApp) {
    assert_eq!(app.get("/health", "").await.status, StatusCode::OK);
    assert_eq!(app.get("/ready", "").await.status, StatusCode::OK);
    let spec: serde_json::Value = app.get("/openapi.json", "").await.json();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let docs = app.get("/docs", "").await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(
        !docs.text.contains("http://") && !docs.text.contains("https://"),
        "the docs page loads remote assets"
    );
    for asset in [
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-ui.css",
        "/docs/init.js",
    ] {
        assert_eq!(app.get(asset, "").await.status, StatusCode::OK, "{asset}");
    }
    let missing = app.get("/api/v1/nothing-here", "").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    missing.problem();
    let page = app.get("/admin/customers", "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}
both_backends!(health_spec_and_docs_are_served);

/// The SPA: files with caching fit for their names, client routes fall back to
/// `index.html`, text is compressed, and nothing outside the folder is reachable.
#[tokio::test]
async fn the_web_app_is_served_with_fallback_caching_and_compression() {
    let dist = std::env::temp_dir().join(format!("obera-dist-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>app shell</title>",
    )
    .unwrap();
    let script = "console.log('obera');".repeat(200);
    std::fs::write(dist.join("obera-frontend-0123456789abcdef.js"), &script).unwrap();
    // A stored brotli sibling (any bytes will do: the server must send it untouched).
    std::fs::write(
        dist.join("obera-frontend-0123456789abcdef.js.br"),
        b"stored brotli",
    )
    .unwrap();
    std::fs::write(
        dist.join("main-0123456789abcdef.css"),
        "body { color: red; }\n".repeat(200),
    )
    .unwrap();
    let static_dir = dist.display().to_string();
    let app =
        crate::helpers::try_spawn(crate::helpers::Kind::Sqlite, |s| s.static_dir = static_dir)
            .await
            .unwrap();
    let get = |path: &str, encoding: &str| {
        app.client
            .get(format!("{}{path}", app.address))
            .header("accept-encoding", encoding)
            .send()
    };

    for route in ["/", "/dashboard/it", "/admin/customers/123"] {
        let r = get(route, "identity").await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{route}");
        assert_eq!(r.headers()["cache-control"], "no-cache", "{route}");
        assert!(r.text().await.unwrap().contains("app shell"), "{route}");
    }
    let asset = get("/obera-frontend-0123456789abcdef.js", "identity")
        .await
        .unwrap();
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(asset.headers()["content-type"], "text/javascript");
    assert_eq!(asset.text().await.unwrap(), script);
    for encoding in ["br", "gzip"] {
        let r = get("/obera-frontend-0123456789abcdef.js", encoding)
            .await
            .unwrap();
        assert_eq!(r.headers()["content-encoding"], encoding);
        assert!(
            r.bytes().await.unwrap().len() < script.len() / 4,
            "{encoding} did not shrink the asset"
        );
    }
    // Traversal out of the folder gets the app shell, never the file.
    let r = get("/..%2F..%2Fetc%2Fpasswd", "identity").await.unwrap();
    assert!(!r.text().await.unwrap().contains("root:"));
    let _ = std::fs::remove_dir_all(&dist);
}

/// The committed `openapi/openapi.json` is exactly what the code generates.
#[test]
fn the_committed_openapi_document_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == obera_server::openapi::openapi_json(),
        "openapi/openapi.json is stale: run `cargo xtask openapi`"
    );
}

/// Every operation has a unique operationId, a summary, and only named schemas in bodies.
#[test]
fn the_openapi_document_generates_clean_clients() {
    let spec: serde_json::Value =
        serde_json::from_str(&obera_server::openapi::openapi_json()).unwrap();
    let mut ids = HashSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{id} has no summary"
            );
            for (status, response) in op["responses"].as_object().unwrap() {
                // Shared error responses are references to `components.responses`.
                let response = match response["$ref"].as_str() {
                    Some(r) => {
                        let name = r
                            .strip_prefix("#/components/responses/")
                            .unwrap_or_else(|| panic!("{id} {status}: {r}"));
                        &spec["components"]["responses"][name]
                    }
                    None => response,
                };
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response
                            .pointer("/content/application~1problem+json/schema")
                            .is_some(),
                        "{id} {status} is not a problem document: {response}"
                    );
                }
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{id} {status} has no description"
                );
                if let Some(schema) = response.pointer("/content/application~1json/schema") {
                    assert!(
                        schema.get("$ref").is_some(),
                        "{id} returns an inline schema: {schema}"
                    );
                }
            }
            if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
                assert!(schema.get("$ref").is_some(), "{id} takes an inline schema");
            }
        }
    }
    assert!(ids.len() >= 25, "only {} operations", ids.len());
    // Enums are published with their wire spellings, not Rust variant names.
    let plan: Vec<&str> = obera_types::Plan::ALL.iter().map(|p| p.as_str()).collect();
    assert_eq!(
        spec["components"]["schemas"]["Plan"]["enum"],
        serde_json::json!(plan)
    );
    let scopes: Vec<&str> = obera_types::ApiScope::ALL
        .iter()
        .map(|p| p.as_str())
        .collect();
    assert_eq!(
        spec["components"]["schemas"]["ApiScope"]["enum"],
        serde_json::json!(scopes)
    );
    let text = spec.to_string();
    for name in spec["components"]["schemas"].as_object().unwrap().keys() {
        assert!(
            !name.contains('<') && !name.contains(':'),
            "schema name {name} is not clean"
        );
    }
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(
            spec["components"]["schemas"].get(name).is_some(),
            "dangling $ref {name}"
        );
    }
}

/// The SPA shell (at `/` and at a client route) and `/docs` carry a
/// Content-Security-Policy without `unsafe-inline`; the shell's inline loader is
/// allowed by its hash and nothing else inline is; `/docs` does not persist tokens.
#[tokio::test]
async fn pages_carry_a_content_security_policy_without_unsafe_inline() {
    use base64::Engine;
    use sha2::Digest;
    let dist = std::env::temp_dir().join(format!("obera-dist-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dist).unwrap();
    let loader = "\nimport init from '/obera-frontend-0123456789abcdef.js';\ninit();\n";
    std::fs::write(
        dist.join("index.html"),
        format!("<!doctype html><title>app shell</title><script type=\"module\">{loader}</script>"),
    )
    .unwrap();
    let static_dir = dist.display().to_string();
    let app =
        crate::helpers::try_spawn(crate::helpers::Kind::Sqlite, |s| s.static_dir = static_dir)
            .await
            .unwrap();
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(loader));
    for path in ["/", "/admin", "/docs", "/docs/init.js"] {
        let r = app.get(path, "").await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        let csp = r
            .headers
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path} has no CSP"))
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"),
            "{path}: {csp}"
        );
        for directive in [
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path} lacks {directive}: {csp}");
        }
        let shell = !path.starts_with("/docs");
        assert_eq!(
            csp.contains(&format!("'sha256-{hash}'")),
            shell,
            "{path}: {csp}"
        );
        if shell {
            assert!(
                csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
                "{csp}"
            );
        }
    }
    let init = app.get("/docs/init.js", "").await.text;
    assert!(init.contains("persistAuthorization: false"), "{init}");
    let _ = std::fs::remove_dir_all(&dist);
}
