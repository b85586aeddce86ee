//! Access tokens: short-lived EdDSA (Ed25519) JWTs with a `kid` header.
//!
//! Only `EdDSA` is accepted, so `alg: none` and HS/RS confusion fail before any
//! signature check; `exp`, `nbf`, `iss` and `aud` are always validated. Previous
//! public keys stay valid (and published in the JWKS) during a rotation.

use crate::auth::verified::VerifiedTokens;
use crate::config::{Mode, Settings};
use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use obera_types::{Jwk, JwkSet};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use uuid::Uuid;

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: Uuid,
    /// The customer the user belongs to; absent for operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<Uuid>,
    /// Platform operator.
    #[serde(default)]
    pub op: bool,
    /// Read-only (demo) session.
    #[serde(default)]
    pub ro: bool,
    /// Enrolment-only session: the account must have a second factor and has none
    /// yet, so the token opens only the enrolment routes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enrol: bool,
}

/// What a session may do besides being someone's: set when the token is issued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// A demo session: reads only.
    pub read_only: bool,
    /// Only enrolling a second factor (see [`Claims::enrol`]).
    pub enrolment_only: bool,
}

/// Signing key, verification keys by `kid`, and the published key set.
pub struct JwtKeys {
    kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    jwks: JwkSet,
    validation: Validation,
    pub ttl_secs: i64,
    issuer: String,
    audience: String,
    /// Tokens already verified (see `verified.rs`): the signature check is the
    /// costliest step of a cheap authenticated request.
    verified: VerifiedTokens,
}

fn kid_of(public: &[u8]) -> String {
    let digest = Sha256::digest(public);
    URL_SAFE_NO_PAD.encode(&digest[..12])
}

fn jwk(public: &[u8]) -> Jwk {
    Jwk {
        kty: "OKP".to_owned(),
        crv: "Ed25519".to_owned(),
        x: URL_SAFE_NO_PAD.encode(public),
        kid: kid_of(public),
        alg: "EdDSA".to_owned(),
        key_use: "sig".to_owned(),
    }
}

/// Reads the signing seed from settings, or in development from (or into) the key file.
fn load_seed(settings: &Settings) -> anyhow::Result<[u8; 32]> {
    let text = match (&settings.jwt_signing_key, settings.mode) {
        (Some(key), _) => key.clone(),
        (None, Mode::Production) => {
            bail!(
                "OBERA_JWT_SIGNING_KEY is required in production mode (base64 of 32 random bytes, e.g. `openssl rand -base64 32`)"
            )
        }
        (None, Mode::Development) => {
            let path = std::path::Path::new(&settings.jwt_key_file);
            if path.exists() {
                std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?
            } else {
                let seed = SigningKey::generate(&mut rand::rngs::OsRng).to_bytes();
                let encoded = STANDARD.encode(seed);
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("create {}", dir.display()))?;
                }
                write_private(path, &encoded)?;
                tracing::info!(file = %path.display(), "generated a development token-signing key");
                encoded
            }
        }
    };
    let bytes = STANDARD
        .decode(text.trim())
        .context("the JWT signing key is not valid base64")?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("the JWT signing key must be exactly 32 bytes"))
}

/// Writes a new file readable by the owner only (refuses to overwrite).
#[cfg(unix)]
pub(crate) fn write_private(path: &std::path::Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &std::path::Path, contents: &str) -> anyhow::Result<()> {
    Ok(std::fs::write(path, contents)?)
}

impl JwtKeys {
    /// Builds the keys from settings.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let signing = SigningKey::from_bytes(&load_seed(settings)?);
        let der = signing
            .to_pkcs8_der()
            .map_err(|e| anyhow::anyhow!("encode signing key: {e}"))?;
        let public = signing.verifying_key().to_bytes();
        let mut publics = vec![public.to_vec()];
        for previous in settings
            .jwt_previous_public_keys
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let bytes = STANDARD
                .decode(previous)
                .context("a previous public key is not valid base64")?;
            if bytes.len() != 32 {
                bail!("a previous public key must be 32 bytes");
            }
            publics.push(bytes);
        }
        let mut decoding = HashMap::new();
        let mut keys = Vec::new();
        for p in &publics {
            let jwk = jwk(p);
            decoding.insert(jwk.kid.clone(), DecodingKey::from_ed_components(&jwk.x)?);
            keys.push(jwk);
        }
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&settings.jwt_issuer]);
        validation.set_audience(&[&settings.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        Ok(Self {
            kid: kid_of(&public),
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            decoding,
            jwks: JwkSet { keys },
            validation,
            ttl_secs: settings.access_token_ttl_secs,
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
            verified: VerifiedTokens::default(),
        })
    }

    /// The published key set.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// Signs a token for `sub`.
    pub fn issue(
        &self,
        sub: Uuid,
        cid: Option<Uuid>,
        op: bool,
        limits: Limits,
    ) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub,
            iat: now,
            nbf: now,
            exp: now + self.ttl_secs,
            jti: Uuid::new_v4(),
            cid,
            op,
            ro: limits.read_only,
            enrol: limits.enrolment_only,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding).context("sign access token")
    }

    /// Verifies a token; any failure is `None` (the caller answers 401).
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let now = chrono::Utc::now().timestamp();
        let leeway = i64::try_from(self.validation.leeway).unwrap_or(0);
        if let Some(claims) = self.verified.get(token, now, leeway) {
            return Some(claims);
        }
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::EdDSA {
            return None;
        }
        let key = self.decoding.get(header.kid.as_deref()?)?;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .ok()?
            .claims;
        self.verified.insert(token, &claims);
        Some(claims)
    }
}
