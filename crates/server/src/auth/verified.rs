//! Access tokens this process has already verified.
//!
//! Checking an Ed25519 signature costs more CPU than everything else a cheap
//! request does (measured by `cargo xtask bench`, P4), and a client sends the same
//! access token with every request until it expires. A token is remembered only
//! after a full verification, by its exact text, and is served from here only until
//! its `exp` (with the same leeway the validator allows). Verification keys change
//! only at start-up, so nothing here can outlive a key.

use crate::auth::jwt::Claims;
use std::collections::HashMap;
use std::sync::Mutex;

/// At most this many tokens are remembered; when full the map starts over, which
/// bounds memory (about 1 KiB a token) without bookkeeping on every hit.
const CAPACITY: usize = 10_000;

/// The remembered tokens and their claims.
#[derive(Default)]
pub struct VerifiedTokens {
    tokens: Mutex<HashMap<String, Claims>>,
}

impl VerifiedTokens {
    /// The claims of `token` if it was verified before and has not expired.
    pub fn get(&self, token: &str, now: i64, leeway: i64) -> Option<Claims> {
        let tokens = self.tokens.lock().ok()?;
        tokens.get(token).filter(|c| c.exp + leeway > now).cloned()
    }

    /// Remembers a token that just passed full verification.
    pub fn insert(&self, token: &str, claims: &Claims) {
        if let Ok(mut tokens) = self.tokens.lock() {
            if tokens.len() >= CAPACITY {
                tokens.clear();
            }
            tokens.insert(token.to_owned(), claims.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            iss: "obera".to_owned(),
            aud: "obera-api".to_owned(),
            sub: uuid::Uuid::nil(),
            iat: 0,
            nbf: 0,
            exp,
            jti: uuid::Uuid::nil(),
            cid: None,
            op: false,
            ro: false,
            enrol: false,
        }
    }

    #[test]
    fn a_remembered_token_is_served_until_it_expires() {
        let cache = VerifiedTokens::default();
        cache.insert("t", &claims(100));
        assert!(cache.get("t", 90, 0).is_some());
        assert!(cache.get("t", 100, 0).is_none());
        assert!(cache.get("t", 120, 30).is_some());
        assert!(cache.get("other", 90, 0).is_none());
    }
}
