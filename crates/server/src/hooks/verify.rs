//! Webhook signature checks as plain functions of the headers, the raw body bytes, the
//! keys and the time, so every preset is tested (and fuzzed) without a server.
//!
//! Every preset is HMAC-SHA256; signatures are compared in constant time
//! (`Mac::verify_slice`). A delivery is refused when a header it needs is missing or
//! malformed, when a signed timestamp is more than [`TOLERANCE_SECS`] from now, or when
//! no signature matches any key (the current secret's, and the previous one's during a
//! rotation's overlap). The secret's text format and the key it stands for are decided
//! here too ([`new_secret`], [`hmac_key`]), so they cannot drift from the checks.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use obera_types::{SignatureEncoding, WebhookVerification};
use sha2::Sha256;

/// How far a signed timestamp may be from now (Stripe's and Standard Webhooks' default).
pub const TOLERANCE_SECS: i64 = 5 * 60;

const GITHUB_SIGNATURE: &str = "x-hub-signature-256";
const GITHUB_DELIVERY: &str = "x-github-delivery";
const STRIPE_SIGNATURE: &str = "stripe-signature";
const STANDARD_ID: &str = "webhook-id";
const STANDARD_TIMESTAMP: &str = "webhook-timestamp";
const STANDARD_SIGNATURE: &str = "webhook-signature";
const IDEMPOTENCY_KEY: &str = "idempotency-key";
const SECRET_PREFIX: &str = "whsec_";

/// Request headers by lower-case name, as raw bytes (a header need not be UTF-8).
pub trait Headers {
    fn get(&self, name: &str) -> Option<&[u8]>;
}

impl Headers for actix_web::http::header::HeaderMap {
    fn get(&self, name: &str) -> Option<&[u8]> {
        actix_web::http::header::HeaderMap::get(self, name).map(|v| v.as_bytes())
    }
}

/// Why a delivery was refused; the message is the 401's `detail`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the `{0}` header is missing")]
    Missing(String),
    #[error("the `{0}` header is malformed: {1}")]
    Malformed(String, &'static str),
    #[error("the `{0}` timestamp is more than 5 minutes from now")]
    Stale(String),
    #[error("the signature does not match")]
    Mismatch,
}

/// The header that carries the preset's signature (left out of the run's trigger data).
pub fn signature_header(preset: &WebhookVerification) -> &str {
    match preset {
        WebhookVerification::HmacSha256(p) => p.header.as_str(),
        WebhookVerification::Github(_) => GITHUB_SIGNATURE,
        WebhookVerification::Stripe(_) => STRIPE_SIGNATURE,
        WebhookVerification::StandardWebhooks(_) => STANDARD_SIGNATURE,
    }
}

/// A new signing secret in the preset's format: `whsec_<base64 of 32 bytes>` for
/// Standard Webhooks (the bytes are the key), `whsec_<64 hex>` for Stripe and 64 hex
/// digits for the others (the text is the key, as those senders use it).
pub fn new_secret(preset: &WebhookVerification) -> String {
    let bytes: [u8; 32] = rand::random();
    match preset {
        WebhookVerification::StandardWebhooks(_) => {
            format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
        }
        WebhookVerification::Stripe(_) => format!("{SECRET_PREFIX}{}", hex::encode(bytes)),
        WebhookVerification::HmacSha256(_) | WebhookVerification::Github(_) => hex::encode(bytes),
    }
}

/// The HMAC key a secret stands for; `None` for a secret not in the preset's format.
pub fn hmac_key(preset: &WebhookVerification, secret: &str) -> Option<Vec<u8>> {
    match preset {
        WebhookVerification::StandardWebhooks(_) => standard_webhooks_key(secret),
        _ => Some(secret.as_bytes().to_vec()),
    }
}

/// The HMAC key of a Standard Webhooks secret (`whsec_<base64>`); `None` for text in
/// another format.
pub fn standard_webhooks_key(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()
}

/// The headers that sign an outbound Standard Webhooks message `id` sent at
/// `timestamp` (Unix seconds) with `body`: exactly what [`verify`] checks for the
/// preset, so Obera's own deliveries verify against its own webhook triggers.
pub fn standard_webhooks_headers(
    key: &[u8],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> [(&'static str, String); 3] {
    let timestamp = timestamp.to_string();
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for part in [id.as_bytes(), b".", timestamp.as_bytes(), b".", body] {
        mac.update(part);
    }
    let signature = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    [
        (STANDARD_ID, id.to_owned()),
        (STANDARD_TIMESTAMP, timestamp),
        (STANDARD_SIGNATURE, signature),
    ]
}

/// Checks a delivery's signature with `keys` at `now` (Unix seconds).
pub fn verify(
    preset: &WebhookVerification,
    keys: &[Vec<u8>],
    headers: &impl Headers,
    body: &[u8],
    now: i64,
) -> Result<(), Rejection> {
    match preset {
        WebhookVerification::HmacSha256(p) => {
            let name = p.header.as_str();
            let mut value = text(headers, name)?.trim();
            if let Some(prefix) = &p.prefix {
                value = value
                    .strip_prefix(prefix.as_str())
                    .ok_or(Rejection::Malformed(name.to_owned(), "it lacks the prefix"))?;
            }
            let signature = match p.encoding {
                SignatureEncoding::Hex => hex::decode(value).ok(),
                SignatureEncoding::Base64 => STANDARD.decode(value).ok(),
            }
            .ok_or(Rejection::Malformed(
                name.to_owned(),
                "the signature does not decode",
            ))?;
            matches(keys, &[body], &[signature])
        }
        WebhookVerification::Github(_) => {
            let value = text(headers, GITHUB_SIGNATURE)?.trim();
            let signature = value
                .strip_prefix("sha256=")
                .and_then(|hex_digits| hex::decode(hex_digits).ok())
                .ok_or(Rejection::Malformed(
                    GITHUB_SIGNATURE.to_owned(),
                    "expected sha256=<hex>",
                ))?;
            matches(keys, &[body], &[signature])
        }
        WebhookVerification::Stripe(_) => {
            let (timestamp, signatures) = stripe_header(text(headers, STRIPE_SIGNATURE)?)?;
            fresh(STRIPE_SIGNATURE, timestamp, now)?;
            matches(keys, &[timestamp.as_bytes(), b".", body], &signatures)
        }
        WebhookVerification::StandardWebhooks(_) => {
            let id = text(headers, STANDARD_ID)?;
            let timestamp = text(headers, STANDARD_TIMESTAMP)?.trim();
            fresh(STANDARD_TIMESTAMP, timestamp, now)?;
            let signatures: Vec<Vec<u8>> = text(headers, STANDARD_SIGNATURE)?
                .split(' ')
                .filter_map(|s| s.strip_prefix("v1,"))
                .filter_map(|s| STANDARD.decode(s).ok())
                .collect();
            if signatures.is_empty() {
                return Err(Rejection::Malformed(
                    STANDARD_SIGNATURE.to_owned(),
                    "expected v1,<base64>",
                ));
            }
            let signed = [id.as_bytes(), b".", timestamp.as_bytes(), b".", body];
            matches(keys, &signed, &signatures)
        }
    }
}

/// The sender's id of a delivery, which makes a repeated delivery start nothing: the
/// preset's delivery header (Stripe: the event `id` in the body), else
/// `Idempotency-Key`. `None` when the delivery carries none.
pub fn delivery_id(
    preset: &WebhookVerification,
    headers: &impl Headers,
    body: &[u8],
) -> Option<String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| std::str::from_utf8(v).ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let own = match preset {
        WebhookVerification::Github(_) => header(GITHUB_DELIVERY),
        WebhookVerification::StandardWebhooks(_) => header(STANDARD_ID),
        WebhookVerification::Stripe(_) => serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|event| event.get("id")?.as_str().map(str::to_owned)),
        WebhookVerification::HmacSha256(_) => None,
    };
    own.or_else(|| header(IDEMPOTENCY_KEY))
}

fn text<'h>(headers: &'h impl Headers, name: &str) -> Result<&'h str, Rejection> {
    let value = headers
        .get(name)
        .ok_or_else(|| Rejection::Missing(name.to_owned()))?;
    std::str::from_utf8(value).map_err(|_| Rejection::Malformed(name.to_owned(), "it is not text"))
}

/// `t=<unix time>,v1=<hex>[,v1=<hex>…]` (other schemes, such as Stripe's test-mode
/// `v0`, are ignored): the timestamp as sent and the decoded signatures.
fn stripe_header(value: &str) -> Result<(&str, Vec<Vec<u8>>), Rejection> {
    let malformed = |why| Rejection::Malformed(STRIPE_SIGNATURE.to_owned(), why);
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in value.split(',') {
        match item.trim().split_once('=') {
            Some(("t", t)) if timestamp.is_none() => timestamp = Some(t),
            Some(("t", _)) => return Err(malformed("it has two timestamps")),
            Some(("v1", signature)) => signatures.extend(hex::decode(signature).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(malformed("expected t=<unix time>"))?;
    if signatures.is_empty() {
        return Err(malformed("expected v1=<hex>"));
    }
    Ok((timestamp, signatures))
}

/// Whether the signed `timestamp` (Unix seconds as text) is within the tolerance.
fn fresh(header: &str, timestamp: &str, now: i64) -> Result<(), Rejection> {
    let at: i64 = timestamp
        .parse()
        .map_err(|_| Rejection::Malformed(header.to_owned(), "the timestamp is not a number"))?;
    if now.abs_diff(at) > TOLERANCE_SECS.unsigned_abs() {
        return Err(Rejection::Stale(header.to_owned()));
    }
    Ok(())
}

/// Whether any signature is the HMAC-SHA256 of the concatenated `parts` under any key.
fn matches(keys: &[Vec<u8>], parts: &[&[u8]], signatures: &[Vec<u8>]) -> Result<(), Rejection> {
    for key in keys {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
            continue;
        };
        for part in parts {
            mac.update(part);
        }
        if signatures
            .iter()
            .any(|signature| mac.clone().verify_slice(signature).is_ok())
        {
            return Ok(());
        }
    }
    Err(Rejection::Mismatch)
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
