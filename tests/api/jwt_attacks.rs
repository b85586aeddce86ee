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
    sign_with(&app.signing_seed, claims)
}

/// Signs `claims` with the Ed25519 key of `seed`, naming its `kid`.
fn sign_with(seed: &[u8; 32], claims: &Value) -> String {
    let key = SigningKey::from_bytes(seed);
    let der = key.to_pkcs8_der().unwrap();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid_of(seed));
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(der.as_bytes())).unwrap()
}

fn kid(app: &TestApp) -> String {
    kid_of(&app.signing_seed)
}

fn kid_of(seed: &[u8; 32]) -> String {
    use sha2::Digest;
    let public = SigningKey::from_bytes(seed).verifying_key().to_bytes();
    URL_SAFE_NO_PAD.encode(&sha2::Sha256::digest(public)[..12])
}

/// The key the rotation test's server signed with before: its seed is fixed so the
/// settings closure (which cannot capture) can name its public key.
const RETIRED_SEED: [u8; 32] = [7; 32];

fn retired_public_key() -> String {
    base64::engine::general_purpose::STANDARD.encode(
        SigningKey::from_bytes(&RETIRED_SEED)
            .verifying_key()
            .to_bytes(),
    )
}

async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    app.get("/api/v1/me", token).await.status
}

/// The control: a token signed with the real key and honest claims is accepted,
/// so each refusal below is caused by the one thing it changes.
async fn a_correctly_signed_token_is_accepted(app: TestApp) {
    let admin = app.signup("Acme").await;
    assert_eq!(
        me_status(&app, &sign(&app, &claims(&admin, json!({})))).await,
        StatusCode::OK
    );
}
both_backends!(a_correctly_signed_token_is_accepted);

/// `alg: none` tokens are refused.
async fn an_unsigned_alg_none_token_is_refused(app: TestApp) {
    let admin = app.signup("Acme").await;
    let header = URL_SAFE_NO_PAD
        .encode(json!({ "alg": "none", "typ": "JWT", "kid": kid(&app) }).to_string());
    let body = URL_SAFE_NO_PAD.encode(claims(&admin, json!({})).to_string());
    assert_eq!(
        me_status(&app, &format!("{header}.{body}.")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me_status(&app, &format!("{header}.{body}")).await,
        StatusCode::UNAUTHORIZED
    );
}
both_backends!(an_unsigned_alg_none_token_is_refused);

/// HS256 signed with the public key (algorithm confusion) is refused.
async fn an_hmac_token_keyed_with_the_public_key_is_refused(app: TestApp) {
    let admin = app.signup("Acme").await;
    let public = SigningKey::from_bytes(&app.signing_seed)
        .verifying_key()
        .to_bytes();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid(&app));
    for secret in [public.to_vec(), URL_SAFE_NO_PAD.encode(public).into_bytes()] {
        let token = jsonwebtoken::encode(
            &header,
            &claims(&admin, json!({})),
            &EncodingKey::from_secret(&secret),
        )
        .unwrap();
        assert_eq!(me_status(&app, &token).await, StatusCode::UNAUTHORIZED);
    }
}
both_backends!(an_hmac_token_keyed_with_the_public_key_is_refused);

/// Expired tokens, tokens not yet valid, and wrong audience or issuer are refused.
async fn expired_premature_and_misaddressed_tokens_are_refused(app: TestApp) {
    let admin = app.signup("Acme").await;
    let now = chrono::Utc::now().timestamp();
    for patch in [
        json!({ "exp": now - 120, "iat": now - 1000, "nbf": now - 1000 }),
        json!({ "nbf": now + 600 }),
        json!({ "aud": "someone-else" }),
        json!({ "iss": "evil" }),
    ] {
        let token = sign(&app, &claims(&admin, patch.clone()));
        assert_eq!(
            me_status(&app, &token).await,
            StatusCode::UNAUTHORIZED,
            "accepted {patch}"
        );
    }
}
both_backends!(expired_premature_and_misaddressed_tokens_are_refused);

/// Changing a signed token's payload breaks it; so does a key the server does not know.
async fn tampered_and_foreign_key_tokens_are_refused(app: TestApp) {
    let admin = app.signup("Acme").await;
    let other = app.signup("Other").await;
    let token = sign(&app, &claims(&admin, json!({})));
    let parts: Vec<&str> = token.split('.').collect();
    let forged_body = URL_SAFE_NO_PAD
        .encode(claims(&admin, json!({ "cid": other.customer_id, "op": true })).to_string());
    assert_eq!(
        me_status(&app, &format!("{}.{forged_body}.{}", parts[0], parts[2])).await,
        StatusCode::UNAUTHORIZED
    );

    let stranger = SigningKey::generate(&mut rand::rngs::OsRng);
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid(&app));
    let der = stranger.to_pkcs8_der().unwrap();
    let token = jsonwebtoken::encode(
        &header,
        &claims(&admin, json!({ "op": true })),
        &EncodingKey::from_ed_der(der.as_bytes()),
    )
    .unwrap();
    assert_eq!(me_status(&app, &token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me_status(&app, "garbage").await, StatusCode::UNAUTHORIZED);
}
both_backends!(tampered_and_foreign_key_tokens_are_refused);

/// The JWKS publishes the key that verifies issued tokens.
async fn the_jwks_publishes_the_signing_key(app: TestApp) {
    let jwks: obera_types::JwkSet = app.get("/.well-known/jwks.json", "").await.json();
    assert_eq!(jwks.keys.len(), 1);
    assert_eq!(jwks.keys[0].kid, kid(&app));
    let public = SigningKey::from_bytes(&app.signing_seed)
        .verifying_key()
        .to_bytes();
    assert_eq!(jwks.keys[0].x, URL_SAFE_NO_PAD.encode(public));
    assert_eq!(jwks.keys[0].alg, "EdDSA");
}
both_backends!(the_jwks_publishes_the_signing_key);

/// During a key rotation, tokens signed by the previous key
/// (`OBERA_JWT_PREVIOUS_PUBLIC_KEYS`) stay valid and the JWKS publishes both keys;
/// a key the server never had is still refused.
async fn tokens_of_a_previous_signing_key_stay_valid_during_a_rotation(app: TestApp) {
    let admin = app.signup("Acme").await;
    assert_eq!(
        me_status(&app, &sign_with(&RETIRED_SEED, &claims(&admin, json!({})))).await,
        StatusCode::OK
    );
    assert_eq!(
        me_status(&app, &sign(&app, &claims(&admin, json!({})))).await,
        StatusCode::OK
    );
    let stranger = [9u8; 32];
    assert_eq!(
        me_status(&app, &sign_with(&stranger, &claims(&admin, json!({})))).await,
        StatusCode::UNAUTHORIZED
    );
    let jwks: Value = app
        .client
        .get(format!("{}/.well-known/jwks.json", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert!(
        kids.contains(&kid_of(&RETIRED_SEED).as_str()) && kids.contains(&kid(&app).as_str()),
        "{kids:?}"
    );
}
both_backends!(
    tokens_of_a_previous_signing_key_stay_valid_during_a_rotation,
    |s| s.jwt_previous_public_keys = retired_public_key()
);
