//! Secrets at rest: one master key, a subkey per purpose, AES-256-GCM envelopes.
//!
//! Every feature that keeps a secret in the database (idempotent replies that carry a
//! one-time API-key secret, TOTP seeds, integration credentials) seals it here rather than
//! inventing its own key setting (DESIGN §4). Subkeys are derived with HKDF-SHA256 from the
//! master key and a purpose label, so a ciphertext sealed for one purpose never opens as
//! another, and a leak of one subkey reveals nothing about the others.
//!
//! Envelope layout (`seal` output): `version (1) ‖ key id (8) ‖ nonce (12) ‖ ciphertext+tag`.
//! The key id names the master key that sealed it, so after a rotation (new
//! `OBERA_MASTER_KEY`, the old one in `OBERA_MASTER_PREVIOUS_KEYS`) old rows still open and
//! can be re-wrapped under the current key ([`Keyring::needs_rewrap`]) without downtime.

use crate::config::{Mode, Settings};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

const VERSION: u8 = 1;
const KEY_ID_LEN: usize = 8;
const NONCE_LEN: usize = 12;
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;

/// What a sealed value is for; each purpose gets its own derived subkey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Stored responses replayed for a repeated `Idempotency-Key`.
    IdempotencyReplies,
    /// TOTP shared secrets of enrolled accounts.
    TotpSecrets,
    /// Credentials the platform holds for third-party integrations.
    Credentials,
    /// Signing secrets of webhook triggers, which verify incoming deliveries.
    WebhookSecrets,
}

impl Purpose {
    /// The HKDF `info` label. Never change one: it would orphan every value sealed under it.
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::IdempotencyReplies => b"obera/v1/idempotency-replies",
            Purpose::TotpSecrets => b"obera/v1/totp-secrets",
            Purpose::Credentials => b"obera/v1/credentials",
            Purpose::WebhookSecrets => b"obera/v1/webhook-secrets",
        }
    }
}

/// Why a sealed value did not open.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyringError {
    #[error("the value is too large to seal")]
    TooLarge,
    #[error("the sealed value is truncated or of an unknown version")]
    Malformed,
    #[error("the sealed value names a master key this server does not hold")]
    UnknownKey,
    /// Wrong purpose, wrong associated data, or tampered bytes: AES-GCM cannot tell which.
    #[error("the sealed value failed authentication")]
    Unauthentic,
}

/// One master key: its id and the 32 secret bytes.
struct MasterKey {
    id: [u8; KEY_ID_LEN],
    secret: [u8; 32],
}

impl MasterKey {
    fn new(secret: [u8; 32]) -> Self {
        // The id is public (it sits in every envelope), so it must not reveal the key:
        // a hash of a domain-separated input.
        let digest = Sha256::new()
            .chain_update(b"obera/master-key-id")
            .chain_update(secret)
            .finalize();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        Self { id, secret }
    }

    fn cipher(&self, purpose: Purpose) -> Aes256Gcm {
        let mut subkey = [0u8; 32];
        // HKDF-Expand to 32 bytes cannot fail (the limit is 255 × 32).
        let _ = Hkdf::<Sha256>::new(None, &self.secret).expand(purpose.label(), &mut subkey);
        Aes256Gcm::new(&subkey.into())
    }
}

/// The server's master keys: the current one seals, every one held opens.
pub struct Keyring {
    current: MasterKey,
    previous: HashMap<[u8; KEY_ID_LEN], MasterKey>,
}

impl Keyring {
    /// A keyring from raw keys (the first seals; the others only open).
    pub fn new(current: [u8; 32], previous: impl IntoIterator<Item = [u8; 32]>) -> Self {
        let previous = previous
            .into_iter()
            .map(MasterKey::new)
            .map(|k| (k.id, k))
            .collect();
        Self {
            current: MasterKey::new(current),
            previous,
        }
    }

    /// Builds the keyring from settings: `master_key` is required in production; in
    /// development a missing key is read from (or generated into) `master_key_file`.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let current = match (&settings.master_key, settings.mode) {
            (Some(key), _) => decode_key(key, "OBERA_MASTER_KEY")?,
            (None, Mode::Production) => bail!(
                "OBERA_MASTER_KEY is required in production mode (base64 of 32 random bytes, e.g. `openssl rand -base64 32`)"
            ),
            (None, Mode::Development) => development_key(&settings.master_key_file)?,
        };
        let previous = settings
            .master_previous_keys
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|k| decode_key(k, "OBERA_MASTER_PREVIOUS_KEYS"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self::new(current, previous))
    }

    /// Encrypts `plaintext` for `purpose`, bound to `aad` (for example the row's key, so a
    /// ciphertext copied to another row does not open there).
    pub fn seal(
        &self,
        purpose: Purpose,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, KeyringError> {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let nonce = Nonce::from(nonce_bytes);
        let header = header(&self.current.id, &nonce_bytes);
        // Encryption only fails for inputs beyond AES-GCM's 64 GiB limit.
        let body = self
            .current
            .cipher(purpose)
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &associated(&header, aad),
                },
            )
            .map_err(|_| KeyringError::TooLarge)?;
        let mut out = header;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Decrypts a value sealed by [`Keyring::seal`] with the same purpose and `aad`.
    pub fn open(
        &self,
        purpose: Purpose,
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<Vec<u8>, KeyringError> {
        let id = key_id_of(sealed).ok_or(KeyringError::Malformed)?;
        let key = if id == self.current.id {
            &self.current
        } else {
            self.previous.get(&id).ok_or(KeyringError::UnknownKey)?
        };
        let (header, body) = sealed.split_at(HEADER_LEN);
        let nonce: [u8; NONCE_LEN] = header[1 + KEY_ID_LEN..]
            .try_into()
            .map_err(|_| KeyringError::Malformed)?;
        key.cipher(purpose)
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: body,
                    aad: &associated(header, aad),
                },
            )
            .map_err(|_| KeyringError::Unauthentic)
    }

    /// The id of the master key that seals new values.
    pub fn current_key_id(&self) -> [u8; KEY_ID_LEN] {
        self.current.id
    }

    /// Whether `sealed` was sealed under an older master key and should be re-wrapped
    /// (open, then seal again) during a rotation.
    pub fn needs_rewrap(&self, sealed: &[u8]) -> bool {
        key_id_of(sealed).is_some_and(|id| id != self.current.id)
    }
}

/// The id of the master key recorded in a sealed value, if it is well formed.
pub fn key_id_of(sealed: &[u8]) -> Option<[u8; KEY_ID_LEN]> {
    if sealed.len() < HEADER_LEN || sealed[0] != VERSION {
        return None;
    }
    sealed[1..1 + KEY_ID_LEN].try_into().ok()
}

fn header(id: &[u8; KEY_ID_LEN], nonce: &[u8; NONCE_LEN]) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_LEN + 64);
    h.push(VERSION);
    h.extend_from_slice(id);
    h.extend_from_slice(nonce);
    h
}

/// The header is authenticated too, so a swapped key id or version is detected.
fn associated(header: &[u8], aad: &[u8]) -> Vec<u8> {
    let mut a = Vec::with_capacity(header.len() + aad.len());
    a.extend_from_slice(header);
    a.extend_from_slice(aad);
    a
}

fn decode_key(text: &str, name: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = STANDARD
        .decode(text.trim())
        .with_context(|| format!("{name} is not valid base64"))?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("{name} must be exactly 32 bytes"))
}

/// Development only: the key lives in a private file next to the database.
fn development_key(file: &str) -> anyhow::Result<[u8; 32]> {
    let path = std::path::Path::new(file);
    // The same pattern as the development JWT key (`auth::jwt`).
    if path.exists() {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
        return decode_key(&text, "the master key file");
    }
    let key: [u8; 32] = rand::random();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    crate::auth::jwt::write_private(path, &STANDARD.encode(key))?;
    tracing::info!(file = %path.display(), "generated a development master key");
    Ok(key)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ring() -> Keyring {
        Keyring::new([7u8; 32], [])
    }

    #[test]
    fn a_sealed_value_opens_to_the_same_bytes() {
        let k = ring();
        let sealed = k
            .seal(Purpose::IdempotencyReplies, b"row-1", b"secret reply")
            .unwrap();
        assert_ne!(&sealed[HEADER_LEN..], b"secret reply".as_slice());
        assert_eq!(
            k.open(Purpose::IdempotencyReplies, b"row-1", &sealed),
            Ok(b"secret reply".to_vec())
        );
    }

    #[test]
    fn a_value_sealed_for_one_purpose_does_not_open_for_another() {
        let k = ring();
        let sealed = k.seal(Purpose::IdempotencyReplies, b"", b"x").unwrap();
        assert_eq!(
            k.open(Purpose::TotpSecrets, b"", &sealed),
            Err(KeyringError::Unauthentic)
        );
    }

    #[test]
    fn a_value_bound_to_one_row_does_not_open_for_another() {
        let k = ring();
        let sealed = k.seal(Purpose::Credentials, b"row-1", b"x").unwrap();
        assert_eq!(
            k.open(Purpose::Credentials, b"row-2", &sealed),
            Err(KeyringError::Unauthentic)
        );
    }

    #[test]
    fn a_tampered_byte_anywhere_is_refused() {
        let k = ring();
        let sealed = k.seal(Purpose::TotpSecrets, b"", b"seed bytes").unwrap();
        for i in 0..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 0x01;
            assert!(k.open(Purpose::TotpSecrets, b"", &t).is_err(), "byte {i}");
        }
        assert_eq!(
            k.open(Purpose::TotpSecrets, b"", &sealed[..HEADER_LEN - 1]),
            Err(KeyringError::Malformed)
        );
    }

    #[test]
    fn every_sealed_value_records_the_key_that_sealed_it() {
        let old = ring();
        let sealed = old.seal(Purpose::Credentials, b"", b"x").unwrap();
        assert_eq!(key_id_of(&sealed), Some(old.current_key_id()));

        // After a rotation the old value still opens and is flagged for re-wrapping.
        let rotated = Keyring::new([9u8; 32], [[7u8; 32]]);
        assert_ne!(rotated.current_key_id(), old.current_key_id());
        assert!(rotated.needs_rewrap(&sealed));
        assert_eq!(
            rotated.open(Purpose::Credentials, b"", &sealed),
            Ok(b"x".to_vec())
        );
        let rewrapped = rotated.seal(Purpose::Credentials, b"", b"x").unwrap();
        assert!(!rotated.needs_rewrap(&rewrapped));

        // A server without the old key says so rather than "tampered".
        let fresh = Keyring::new([9u8; 32], []);
        assert_eq!(
            fresh.open(Purpose::Credentials, b"", &sealed),
            Err(KeyringError::UnknownKey)
        );
    }

    #[test]
    fn production_refuses_to_start_without_a_master_key() {
        let settings = Settings {
            mode: Mode::Production,
            master_key: None,
            ..Settings::default()
        };
        assert!(Keyring::from_settings(&settings).is_err());
    }

    #[test]
    fn development_generates_the_key_once_and_reuses_it() {
        let dir = std::env::temp_dir().join(format!("obera-keyring-{}", uuid::Uuid::new_v4()));
        let file = dir.join("master.key").display().to_string();
        let settings = Settings {
            master_key: None,
            master_key_file: file,
            ..Settings::default()
        };
        let first = Keyring::from_settings(&settings).map(|k| k.current_key_id());
        let second = Keyring::from_settings(&settings).map(|k| k.current_key_id());
        let _ = std::fs::remove_dir_all(&dir);
        assert!(first.is_ok());
        assert_eq!(first.ok(), second.ok());
    }
}
