//! Credential secrets at rest and in use.
//!
//! A secret is sealed by the keyring under [`Purpose::Credentials`] with the customer
//! id and the credential's name as associated data, so a sealed row copied to another
//! customer, or renamed, no longer opens. The plaintext is the [`CredentialSecret`]'s
//! JSON, opened only when a step runs ([`CredentialResolver`]) and never logged: the
//! errors here name the credential, never its value.

use crate::keyring::{Keyring, KeyringError, Purpose};
use crate::steps::StepFailure;
use obera_engine::FailureKind;
use obera_store::{Db, StoreError, TenantScope};
use obera_types::{CredentialKind, CredentialRef, CredentialSecret, CustomerId};
use std::sync::Arc;

/// The associated data binding a sealed secret to its customer and name.
fn associated(customer: CustomerId, name: &CredentialRef) -> Vec<u8> {
    let mut aad = customer.0.as_bytes().to_vec();
    aad.extend_from_slice(name.as_str().as_bytes());
    aad
}

/// Seals `secret` for credential `name` of `customer`.
pub fn seal(
    keyring: &Keyring,
    customer: CustomerId,
    name: &CredentialRef,
    secret: &CredentialSecret,
) -> anyhow::Result<Vec<u8>> {
    let plain = serde_json::to_vec(secret)?;
    Ok(keyring.seal(Purpose::Credentials, &associated(customer, name), &plain)?)
}

/// Opens what [`seal`] made for the same customer and name.
fn open(
    keyring: &Keyring,
    customer: CustomerId,
    name: &CredentialRef,
    sealed: &[u8],
) -> Result<CredentialSecret, String> {
    let plain = keyring
        .open(Purpose::Credentials, &associated(customer, name), sealed)
        .map_err(|e| match e {
            KeyringError::UnknownKey => format!(
                "credential `{name}` was sealed under a master key this server does not hold; set it again"
            ),
            _ => format!("credential `{name}` does not open on this customer; set it again"),
        })?;
    serde_json::from_slice(&plain)
        .map_err(|_| format!("credential `{name}` is stored in a shape this server cannot read"))
}

/// Why a credential could not be used by a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    /// The database failed; trying again later may work.
    Unavailable(String),
    /// It does not exist, does not open, or is of the wrong kind: it would fail again.
    Refused(String),
}

impl From<Unusable> for StepFailure {
    /// A database failure is retried; any other reason is a refusal that would recur.
    fn from(e: Unusable) -> Self {
        match e {
            Unusable::Unavailable(message) => StepFailure {
                kind: FailureKind::Transient,
                message,
            },
            Unusable::Refused(message) => StepFailure::denied(message),
        }
    }
}

/// Opens a customer's credentials for the steps of its runs, recording each use.
#[derive(Clone)]
pub struct CredentialResolver {
    db: Db,
    keyring: Arc<Keyring>,
}

impl CredentialResolver {
    pub fn new(db: Db, keyring: Arc<Keyring>) -> Self {
        Self { db, keyring }
    }

    /// The secret of credential `name` in the run's scope, for a step about to send it.
    pub async fn resolve(
        &self,
        scope: &TenantScope,
        name: &CredentialRef,
    ) -> Result<CredentialSecret, Unusable> {
        let stored = match self.db.use_credential(scope, name).await {
            Ok(stored) => stored,
            Err(StoreError::NotFound) => {
                return Err(Unusable::Refused(format!(
                    "there is no credential named `{name}`"
                )));
            }
            Err(e) => {
                return Err(Unusable::Unavailable(format!(
                    "credential `{name}` could not be read: {e}"
                )));
            }
        };
        let secret = open(&self.keyring, scope.customer_id(), name, &stored.sealed)
            .map_err(Unusable::Refused)?;
        if secret.kind() != stored.credential.kind {
            return Err(Unusable::Refused(format!(
                "credential `{name}` does not match its recorded kind; set it again"
            )));
        }
        Ok(secret)
    }

    /// The bytes of signing secret `name`, for a `notify` step that signs a webhook;
    /// a credential of another kind is refused.
    pub async fn signing_secret(
        &self,
        scope: &TenantScope,
        name: &CredentialRef,
    ) -> Result<Vec<u8>, Unusable> {
        match self.resolve(scope, name).await? {
            CredentialSecret::SigningSecret(s) => Ok(s.secret.expose().as_bytes().to_vec()),
            other => Err(Unusable::Refused(wrong_kind(
                name,
                other.kind(),
                "sign webhooks (use a `signing_secret` credential)",
            ))),
        }
    }
}

/// The error for a credential used where its kind does not fit.
pub fn wrong_kind(name: &CredentialRef, kind: CredentialKind, need: &str) -> String {
    format!("credential `{name}` is a `{kind}` credential and cannot {need}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use obera_types::{BearerTokenSecret, SecretValue};

    fn secret() -> CredentialSecret {
        CredentialSecret::BearerToken(BearerTokenSecret {
            token: SecretValue::try_from("token-of-the-psa".to_owned()).unwrap(),
        })
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_customer_and_name() {
        let ring = Keyring::new([3u8; 32], []);
        let (a, b) = (CustomerId::new(), CustomerId::new());
        let name: CredentialRef = "psa-token".parse().unwrap();
        let sealed = seal(&ring, a, &name, &secret()).unwrap();
        assert_eq!(open(&ring, a, &name, &sealed), Ok(secret()));
        let moved = open(&ring, b, &name, &sealed).unwrap_err();
        assert!(moved.contains("`psa-token`"), "{moved}");
        let renamed: CredentialRef = "other".parse().unwrap();
        assert!(open(&ring, a, &renamed, &sealed).is_err());
        assert!(!String::from_utf8_lossy(&sealed).contains("token-of-the-psa"));
    }
}
