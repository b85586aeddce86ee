//! The second factor: TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one step
//! of clock skew either way) with one-time recovery codes.
//!
//! Who must have one: every MSP operator (an operator can enter every client
//! organisation), and everyone in a customer whose admins made it mandatory. An
//! account that must but has not enrolled gets an enrolment-only session (see
//! [`MfaStatus::enrolment_only`]): it can enrol, and nothing else, until it does.
//!
//! The shared secret is sealed by the keyring (purpose `TotpSecrets`, bound to the
//! user id, so a sealed secret copied onto another account does not open); each
//! code is accepted once (the store keeps the last accepted step); recovery codes
//! are random and stored as SHA-256 hashes.

use crate::auth::secrets;
use crate::error::{ApiError, ApiResult};
use crate::keyring::Purpose;
use crate::state::AppState;
use obera_store::{AuditEvent, FactorOwner, LoginRecord, SecondFactor};
use obera_types::{AuditAction, Customer, MfaEnrolment, MfaStatus, UserId, compliance};
use rand::Rng;
use std::fmt::Write as _;
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// The issuer authenticator apps show beside the account.
const ISSUER: &str = "Obera";
/// Bytes of shared secret: the 160 bits RFC 4226 recommends.
const SECRET_LEN: usize = 20;
/// Recovery codes issued at a time.
const RECOVERY_CODE_COUNT: usize = 10;
/// Characters per recovery code (shown as two groups of five): 50 bits each.
const RECOVERY_CODE_LEN: usize = 10;
/// Crockford's base32 alphabet: no I, L, O or U to misread.
const RECOVERY_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Whether `login` must have a second factor, has one, and what its session may do.
pub async fn status(
    state: &AppState,
    login: &LoginRecord,
    customer: Option<&Customer>,
) -> ApiResult<MfaStatus> {
    let required = login.platform_operator || customer.is_some_and(|c| c.mfa_required);
    let enrolled = confirmed(state, login.user_id()).await?.is_some();
    let recovery_codes_left = if enrolled {
        state.db.recovery_codes_left(login.user_id()).await?
    } else {
        0
    };
    Ok(MfaStatus {
        enrolled,
        required,
        enrolment_only: required && !enrolled,
        recovery_codes_left,
    })
}

/// The account's confirmed authenticator, if it has one (an enrolment not yet
/// confirmed does not count).
pub async fn confirmed(state: &AppState, user: UserId) -> ApiResult<Option<SecondFactor>> {
    Ok(state.db.second_factor(user).await?.filter(|f| f.confirmed))
}

/// Starts (or restarts) enrolment with a fresh secret. 409 when one is enrolled.
pub async fn start_enrolment(state: &AppState, login: &LoginRecord) -> ApiResult<MfaEnrolment> {
    let mut secret = vec![0u8; SECRET_LEN];
    rand::thread_rng().fill(secret.as_mut_slice());
    let sealed = state
        .keyring
        .seal(Purpose::TotpSecrets, login.id.as_bytes(), &secret)
        .map_err(|e| ApiError::Internal(e.into()))?;
    state
        .db
        .start_second_factor(login.user_id(), &sealed)
        .await?;
    let totp = totp(secret, &login.email)?;
    let otpauth_uri = totp
        .to_url()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("otpauth uri: {e}")))?;
    Ok(MfaEnrolment {
        secret: totp.secret().to_base32(),
        qr_svg: qr_svg(&otpauth_uri)?,
        otpauth_uri,
    })
}

/// Confirms the pending enrolment with the first code from the app, and returns
/// the recovery codes to show once. 422 naming `code` for a wrong code (see
/// [`wrong_code`]); 409 when no enrolment is pending.
pub async fn confirm_enrolment(
    state: &AppState,
    login: &LoginRecord,
    code: &str,
    event: AuditEvent,
) -> ApiResult<Vec<String>> {
    let pending = state
        .db
        .second_factor(login.user_id())
        .await?
        .filter(|f| !f.confirmed)
        .ok_or_else(|| {
            ApiError::Conflict("no enrolment is in progress; start one first".to_owned())
        })?;
    let step = matching_step(state, login, &pending, code)?.ok_or_else(wrong_code)?;
    let (codes, hashes) = new_recovery_codes();
    state
        .db
        .confirm_second_factor(owner(login), step, &hashes, event)
        .await?;
    Ok(codes)
}

/// Whether `code` proves the second factor of `login`, whose confirmed factor is
/// `factor`: a TOTP code not used before, or an unused recovery code (then spent,
/// recorded as `auth.recovery_code_used` with `context`'s request details).
pub async fn accepts(
    state: &AppState,
    login: &LoginRecord,
    factor: &SecondFactor,
    code: &str,
    context: impl FnOnce(AuditEvent) -> AuditEvent,
) -> ApiResult<bool> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        return match matching_step(state, login, factor, &code)? {
            Some(step) => Ok(state.db.use_totp_step(login.user_id(), step).await?),
            None => Ok(false),
        };
    }
    let Some(normalised) = normalise_recovery_code(&code) else {
        return Ok(false);
    };
    let event = context(AuditEvent::new(
        AuditAction::AUTH_RECOVERY_CODE_USED,
        compliance::CREDENTIALS,
    ));
    Ok(state
        .db
        .use_recovery_code(owner(login), &secrets::hash(&normalised), event)
        .await?)
}

/// A wrong code on the signed-in routes: a 422 naming the `code` field, not the
/// sign-in's 401, because the caller *is* signed in; a 401 would tell clients
/// (the SPA among them) that the session ended.
pub fn wrong_code() -> ApiError {
    ApiError::field("code", "the code is wrong, expired or already used")
}

/// Replaces the recovery codes, returning the new ones to show once.
pub async fn replace_recovery_codes(
    state: &AppState,
    login: &LoginRecord,
    event: AuditEvent,
) -> ApiResult<Vec<String>> {
    let (codes, hashes) = new_recovery_codes();
    state
        .db
        .replace_recovery_codes(owner(login), &hashes, event)
        .await?;
    Ok(codes)
}

/// The store's name for whose factor this is.
pub fn owner(login: &LoginRecord) -> FactorOwner {
    FactorOwner {
        user_id: login.user_id(),
        customer_id: login.customer(),
    }
}

/// The step `code` matches within the skew, if any (whether it was used before is
/// the store's question).
fn matching_step(
    state: &AppState,
    login: &LoginRecord,
    factor: &SecondFactor,
    code: &str,
) -> ApiResult<Option<i64>> {
    let secret = state
        .keyring
        .open(
            Purpose::TotpSecrets,
            login.id.as_bytes(),
            &factor.sealed_secret,
        )
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("open TOTP secret: {e}")))?;
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    Ok(totp(secret, &login.email)?
        .check(code, now)
        .and_then(|step| i64::try_from(step).ok()))
}

fn totp(secret: Vec<u8>, account: &str) -> ApiResult<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(Secret::from(secret))
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("TOTP parameters: {e}")))
}

/// Fresh recovery codes as shown (`XXXXX-XXXXX`) and as stored (hashes of the
/// normalised form).
fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
    let mut rng = rand::thread_rng();
    (0..RECOVERY_CODE_COUNT)
        .map(|_| {
            let raw: String = (0..RECOVERY_CODE_LEN)
                .map(|_| char::from(RECOVERY_ALPHABET[rng.gen_range(0..RECOVERY_ALPHABET.len())]))
                .collect();
            let (a, b) = raw.split_at(RECOVERY_CODE_LEN / 2);
            (format!("{a}-{b}"), secrets::hash(&raw))
        })
        .unzip()
}

/// A recovery code as typed (any case, with or without the dash) in its stored
/// form, or `None` when it cannot be one.
fn normalise_recovery_code(code: &str) -> Option<String> {
    let normalised: String = code
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (normalised.len() == RECOVERY_CODE_LEN
        && normalised.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)))
    .then_some(normalised)
}

/// The QR code of `text` as an SVG document: one path of unit squares, with the
/// four-module quiet zone the standard asks for.
fn qr_svg(text: &str) -> ApiResult<String> {
    use qrcodegen::{QrCode, QrCodeEcc};
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("QR code: {e}")))?;
    let border = 4;
    let size = qr.size() + border * 2;
    let mut path = String::new();
    for y in 0..qr.size() {
        for x in 0..qr.size() {
            if qr.get_module(x, y) {
                let _ = write!(path, "M{},{}h1v1h-1z", x + border, y + border);
            }
        }
    }
    Ok(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="{px}" height="{px}" shape-rendering="crispEdges" role="img" aria-label="QR code for your authenticator app"><rect width="100%" height="100%" fill="#ffffff"/><path d="{path}" fill="#000000"/></svg>"##,
        px = size * 5
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_distinct_and_normalise_to_their_hash() {
        let (codes, hashes) = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODE_COUNT);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), codes.len());
        for (code, hash) in codes.iter().zip(&hashes) {
            let typed = code.to_lowercase().replace('-', "");
            let normalised = normalise_recovery_code(&typed).unwrap_or_default();
            assert_eq!(&secrets::hash(&normalised), hash);
        }
    }

    #[test]
    fn malformed_recovery_codes_are_not_codes() {
        for bad in ["", "12345", "ABCDE-FGHI!", "ABCDEFGHIJK", "ILOUILOUIL"] {
            assert_eq!(normalise_recovery_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_qr_code_is_an_svg_document_of_the_uri() {
        let svg = qr_svg("otpauth://totp/Obera:a%40b.example?secret=ABC&issuer=Obera")
            .unwrap_or_default();
        assert!(svg.starts_with("<svg "), "{svg}");
        assert!(svg.contains("<path d=\"M"), "{svg}");
    }
}
