//! `Content-Security-Policy` for the pages the server serves (the SPA shell and
//! `/docs`), so that a future XSS cannot run injected script, exfiltrate to another
//! origin, frame the app or rewrite forms and `<base>`.
//!
//! Trunk writes one inline `<script type="module">` loader into `index.html`. It is
//! allowed by its `sha256-` hash, computed by the server from the very bytes of the
//! `index.html` it sends, rather than by `cargo xtask frontend` writing hashes beside
//! `dist/`: the header then cannot drift from the page (a `trunk build` without the
//! xtask, or a rebuild under a running server, still gets a matching policy), and no
//! second artefact has to be deployed. Hashing a ~2 kB page costs microseconds.
//! No `'unsafe-inline'` anywhere.
//!
//! `style-src 'self'`: the SPA's only runtime styling is the branding tokens, set
//! through CSSOM (`style.setProperty` on `documentElement`), which CSP does not
//! govern; it writes no `style` attributes or `<style>` elements.
//! `img-src 'self' data: https:`: customer logos are arbitrary `https` URLs (an image
//! cannot run script); `data:` is the favicon and Swagger UI's icons.

use base64::Engine;
use sha2::{Digest, Sha256};

/// The policy for the SPA shell whose HTML is `page`; `connect_origins` are the
/// extra origins the app may call (the configured CORS origins).
pub fn spa_policy(page: &[u8], connect_origins: &[String]) -> String {
    let mut script_src = String::from("'self' 'wasm-unsafe-eval'");
    for script in inline_scripts(&String::from_utf8_lossy(page)) {
        let digest = Sha256::digest(script.as_bytes());
        script_src.push_str(" 'sha256-");
        script_src.push_str(&base64::engine::general_purpose::STANDARD.encode(digest));
        script_src.push('\'');
    }
    let mut connect_src = String::from("'self'");
    for origin in connect_origins {
        connect_src.push(' ');
        connect_src.push_str(origin);
    }
    policy(&script_src, &connect_src, "'self' data: https:")
}

/// The policy for `/docs`: Swagger UI and its start-up script are files under
/// `/docs`, so no inline script at all.
pub fn docs_policy() -> String {
    policy("'self'", "'self'", "'self' data:")
}

fn policy(script_src: &str, connect_src: &str, img_src: &str) -> String {
    format!(
        "default-src 'self'; script-src {script_src}; style-src 'self'; img-src {img_src}; \
         connect-src {connect_src}; font-src 'self'; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// The contents of every `<script>` element without a `src` attribute, exactly as
/// the browser hashes them (the text between the tags).
fn inline_scripts(html: &str) -> Vec<&str> {
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(start) = lower[at..].find("<script").map(|i| i + at) {
        let Some(tag_end) = lower[start..].find('>').map(|i| i + start + 1) else {
            break;
        };
        let Some(close) = lower[tag_end..].find("</script").map(|i| i + tag_end) else {
            break;
        };
        if !lower[start..tag_end].contains(" src=") {
            found.push(&html[tag_end..close]);
        }
        at = close;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_inline_scripts_are_hashed_verbatim() {
        let html = "<head><SCRIPT src=\"/a.js\"></SCRIPT>\n<script type=\"module\">\nimport x from '/x.js';\n</script></head>";
        assert_eq!(inline_scripts(html), vec!["\nimport x from '/x.js';\n"]);
        // `printf 'alert(1)' | openssl dgst -sha256 -binary | base64`
        let policy = spa_policy(b"<script>alert(1)</script>", &[]);
        assert!(
            policy.contains("'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"),
            "{policy}"
        );
        assert!(!policy.contains("unsafe-inline"));
    }
}
