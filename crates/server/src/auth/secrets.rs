//! Random bearer secrets and their stored hashes.
//!
//! Secrets carry 256 random bits, so a fast SHA-256 is the right hash for them
//! (unlike passwords). API keys and webhook URL tokens embed their customer id, so
//! the lookup can run inside that tenant's row-level-security transaction.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use obera_types::CustomerId;
use rand::RngCore;
use sha2::{Digest, Sha256};

const API_KEY_PREFIX: &str = "obk_";
const HOOK_TOKEN_PREFIX: &str = "owh_";

fn random_part() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Hex SHA-256 of a secret, as stored.
pub fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new refresh token.
pub fn new_refresh_token() -> String {
    format!("ort_{}", random_part())
}

/// A new invitation token.
pub fn new_invite_token() -> String {
    format!("inv_{}", random_part())
}

/// `<prefix><customer uuid, 32 hex>_<random>`: a secret that names its tenant.
fn tenant_secret(prefix: &str, customer: CustomerId) -> String {
    format!("{prefix}{}_{}", customer.0.simple(), random_part())
}

/// The customer a tenant secret with `prefix` claims to belong to, if it has the shape.
fn tenant_of(prefix: &str, secret: &str) -> Option<CustomerId> {
    let rest = secret.strip_prefix(prefix)?;
    let (customer, random) = rest.split_once('_')?;
    if customer.len() != 32 || random.len() < 40 {
        return None;
    }
    uuid::Uuid::try_parse(customer).ok().map(CustomerId)
}

/// A new API key secret for `customer`: `obk_<customer uuid, 32 hex>_<random>`.
pub fn new_api_key(customer: CustomerId) -> String {
    tenant_secret(API_KEY_PREFIX, customer)
}

/// The customer an API key claims to belong to, if the text has the key shape.
pub fn api_key_customer(secret: &str) -> Option<CustomerId> {
    tenant_of(API_KEY_PREFIX, secret)
}

/// A new webhook URL token for `customer`: `owh_<customer uuid, 32 hex>_<random>`,
/// URL-safe as it is.
pub fn new_hook_token(customer: CustomerId) -> String {
    tenant_secret(HOOK_TOKEN_PREFIX, customer)
}

/// The customer a webhook URL token claims to belong to, if it has the token shape.
pub fn hook_token_customer(token: &str) -> Option<CustomerId> {
    tenant_of(HOOK_TOKEN_PREFIX, token)
}

/// The first characters shown in key lists.
pub fn display_prefix(secret: &str) -> String {
    let tail: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("obk_…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_key_names_its_customer() {
        let customer = CustomerId::new();
        let key = new_api_key(customer);
        assert_eq!(api_key_customer(&key), Some(customer));
        assert_eq!(api_key_customer("obk_nothex_abc"), None);
        assert_eq!(api_key_customer("Bearer something"), None);
    }

    #[test]
    fn a_hook_token_names_its_customer_and_is_no_api_key() {
        let customer = CustomerId::new();
        let token = new_hook_token(customer);
        assert_eq!(hook_token_customer(&token), Some(customer));
        assert_eq!(api_key_customer(&token), None);
        assert_eq!(hook_token_customer(&new_api_key(customer)), None);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        );
    }

    #[test]
    fn hashes_are_stable_and_distinct() {
        assert_eq!(hash("a"), hash("a"));
        assert_ne!(hash("a"), hash("b"));
        assert_eq!(hash("a").len(), 64);
    }
}
