//! The signed-in person's second factor (TOTP).

use super::ApiResult;
use super::client::{post, post_empty};
use obera_types::{MfaCode, MfaEnrolment, RecoveryCodes};

/// Starts enrolling an authenticator app: its secret and QR code.
pub async fn start_enrolment() -> ApiResult<MfaEnrolment> {
    post_empty("/me/mfa/enrolment").await
}

/// Confirms the enrolment with a code from the app; the answer holds the recovery codes.
pub async fn confirm_enrolment(code: String) -> ApiResult<RecoveryCodes> {
    post("/me/mfa/enrolment/confirm", &MfaCode { code }).await
}

/// Replaces the recovery codes, proving the second factor with `code`.
pub async fn replace_recovery_codes(code: String) -> ApiResult<RecoveryCodes> {
    post("/me/mfa/recovery-codes", &MfaCode { code }).await
}

/// Removes the second factor, proving it with `code`.
pub async fn disable(code: String) -> ApiResult<()> {
    post("/me/mfa/disable", &MfaCode { code }).await
}
