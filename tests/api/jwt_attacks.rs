//! Forged and broken access tokens are refused with 401.

use crate::both_backends;
use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn claims(member: &Member, patch: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut c = json!({
        "iss": "obera", "aud": "obera-api", "sub": member.user_id, "iat": now, "nbf": now,
        "exp": now + 600, "jti": uuid::Uuid::new_v4(), "cid": member.customer_id, "op": false, "ro": false
    });
    if let (Some(base), Some(extra)) = (c.as_object_mut(), patch.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    c
}

/// Signs `claims` with the server's real key and `kid`, as a valid token would be.
fn sign(app: &TestApp, claims: &Value) -> String {
    let key = SigningKey::from_bytes(&app.signing_seed);
    let der = key.to_pkcs8_der().unwrap();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid(app));
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(der.as_bytes())).unwrap()
}

fn kid(app: &TestApp) -> String {
    use sha2::Digest;
    let public = SigningKey::from_bytes(&app.signing_seed)
        .verifying_key()
        .to_bytes();
    URL_SAFE_NO_PAD.encode(&sha2::Sha256::digest(public)[..12])
}

async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    app.get("/api/v1/me", token).await.status
}

both_backends! {
    /// The control: a token signed with the real key and honest claims is accepted,
    /// so each refusal below is caused by the one thing it changes.
    async fn a_correctly_signed_token_is_accepted(app) {
        let admin = app.signup("Acme").await;
        assert_eq!(me_status(&app, &sign(&app, &claims(&admin, json!({})))).await, StatusCode::OK);
    }
}

both_backends! {
    /// `alg: none` tokens are refused.
    async fn an_unsigned_alg_none_token_is_refused(app) {
        let admin = app.signup("Acme").await;
        let header = URL_SAFE_NO_PAD.encode(json!({ "alg": "none", "typ": "JWT", "kid": kid(&app) }).to_string());
        let body = URL_SAFE_NO_PAD.encode(claims(&admin, json!({})).to_string());
        assert_eq!(me_status(&app, &format!("{header}.{body}.")).await, StatusCode::UNAUTHORIZED);
        assert_eq!(me_status(&app, &format!("{header}.{body}")).await, StatusCode::UNAUTHORIZED);
    }
}

both_backends! {
    /// HS256 signed with the public key (algorithm confusion) is refused.
    async fn an_hmac_token_keyed_with_the_public_key_is_refused(app) {
        let admin = app.signup("Acme").await;
        let public = SigningKey::from_bytes(&app.signing_seed).verifying_key().to_bytes();
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid(&app));
        for secret in [public.to_vec(), URL_SAFE_NO_PAD.encode(public).into_bytes()] {
            let token = jsonwebtoken::encode(&header, &claims(&admin, json!({})), &EncodingKey::from_secret(&secret)).unwrap();
            assert_eq!(me_status(&app, &token).await, StatusCode::UNAUTHORIZED);
        }
    }
}

both_backends! {
    /// Expired tokens, tokens not yet valid, and wrong audience or issuer are refused.
    async fn expired_premature_and_misaddressed_tokens_are_refused(app) {
        let admin = app.signup("Acme").await;
        let now = chrono::Utc::now().timestamp();
        for patch in [
            json!({ "exp": now - 120, "iat": now - 1000, "nbf": now - 1000 }),
            json!({ "nbf": now + 600 }),
            json!({ "aud": "someone-else" }),
            json!({ "iss": "evil" }),
        ] {
            let token = sign(&app, &claims(&admin, patch.clone()));
            assert_eq!(me_status(&app, &token).await, StatusCode::UNAUTHORIZED, "accepted {patch}");
        }
    }
}

both_backends! {
    /// Changing a signed token's payload breaks it; so does a key the server does not know.
    async fn tampered_and_foreign_key_tokens_are_refused(app) {
        let admin = app.signup("Acme").await;
        let other = app.signup("Other").await;
        let token = sign(&app, &claims(&admin, json!({})));
        let parts: Vec<&str> = token.split('.').collect();
        let forged_body = URL_SAFE_NO_PAD.encode(claims(&admin, json!({ "cid": other.customer_id, "op": true })).to_string());
        assert_eq!(me_status(&app, &format!("{}.{forged_body}.{}", parts[0], parts[2])).await, StatusCode::UNAUTHORIZED);

        let stranger = SigningKey::generate(&mut rand::rngs::OsRng);
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid(&app));
        let der = stranger.to_pkcs8_der().unwrap();
        let token = jsonwebtoken::encode(&header, &claims(&admin, json!({ "op": true })), &EncodingKey::from_ed_der(der.as_bytes())).unwrap();
        assert_eq!(me_status(&app, &token).await, StatusCode::UNAUTHORIZED);
        assert_eq!(me_status(&app, "garbage").await, StatusCode::UNAUTHORIZED);
    }
}

both_backends! {
    /// The JWKS publishes the key that verifies issued tokens.
    async fn the_jwks_publishes_the_signing_key(app) {
        let jwks: obera_types::JwkSet = app.get("/.well-known/jwks.json", "").await.json();
        assert_eq!(jwks.keys.len(), 1);
        assert_eq!(jwks.keys[0].kid, kid(&app));
        let public = SigningKey::from_bytes(&app.signing_seed).verifying_key().to_bytes();
        assert_eq!(jwks.keys[0].x, URL_SAFE_NO_PAD.encode(public));
        assert_eq!(jwks.keys[0].alg, "EdDSA");
    }
}
