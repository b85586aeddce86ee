//! Second factor (TOTP, RFC 6238) DTOs: enrolment, recovery codes and status.

use serde::{Deserialize, Serialize};

/// Where an account stands with its second factor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaStatus {
    /// A confirmed authenticator is enrolled; sign-in asks for its code.
    pub enrolled: bool,
    /// The account must have one: always for MSP operators, and for everyone in a
    /// customer that made it mandatory.
    pub required: bool,
    /// Required but not enrolled: this session may only enrol (`/me/mfa/...`),
    /// then refresh into a full session.
    pub enrolment_only: bool,
    /// Unused recovery codes left.
    pub recovery_codes_left: u32,
}

/// A started enrolment: scan `qr_svg` (or type `secret`) into an authenticator app,
/// then confirm with the code it shows. Starting again replaces an unconfirmed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaEnrolment {
    /// The shared secret, base32, for typing in by hand.
    pub secret: String,
    /// The `otpauth://totp/...` URI the QR code carries (SHA-1, 6 digits, 30 s).
    pub otpauth_uri: String,
    /// The QR code of `otpauth_uri` as a standalone SVG document.
    pub qr_svg: String,
}

/// A code from the authenticator app (or, where stated, a recovery code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MfaCode {
    pub code: String,
}

/// One-time recovery codes, shown only in this answer; each works once in place of
/// an authenticator code. Obera keeps only their hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}
