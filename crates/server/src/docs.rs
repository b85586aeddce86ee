//! `/docs`: an interactive API reference (Swagger UI) served from assets compiled
//! into the binary, so it works with no internet and loads nothing from a CDN.
//! Every file is sent under [`csp::docs_policy`]; the page has no inline script.
//! Authorisations typed into the page live only as long as the tab: with
//! `persistAuthorization` Swagger UI would keep bearer tokens in `localStorage`,
//! where any script on this origin (including the SPA's) could read them.

use crate::csp;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use actix_web::{HttpResponse, web};

const BUNDLE_JS: &str = include_str!("../assets/swagger-ui/swagger-ui-bundle.js");
const CSS: &str = include_str!("../assets/swagger-ui/swagger-ui.css");
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Obera API reference</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>"#;
const INIT_JS: &str = r##"window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: false,
  tryItOutEnabled: true
});"##;

/// Routes for the reference page and its assets.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/docs",
        web::get().to(|| async { asset(PAGE, "text/html; charset=utf-8", false) }),
    )
    .route(
        "/docs/",
        web::get().to(|| async { asset(PAGE, "text/html; charset=utf-8", false) }),
    )
    .route(
        "/docs/init.js",
        web::get().to(|| async { asset(INIT_JS, "text/javascript", false) }),
    )
    .route(
        "/docs/swagger-ui-bundle.js",
        web::get().to(|| async { asset(BUNDLE_JS, "text/javascript", true) }),
    )
    .route(
        "/docs/swagger-ui.css",
        web::get().to(|| async { asset(CSS, "text/css", true) }),
    );
}

fn asset(body: &'static str, content_type: &'static str, cacheable: bool) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, content_type))
        .insert_header((CONTENT_SECURITY_POLICY, csp::docs_policy()))
        .insert_header((
            CACHE_CONTROL,
            if cacheable {
                "public, max-age=86400"
            } else {
                "no-cache"
            },
        ))
        .body(body)
}
