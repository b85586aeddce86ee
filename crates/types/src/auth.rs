//! Sign-up, sign-in and session DTOs.

use crate::{CustomerId, Department, DisplayName, Email, Password, Role, UserId};
use serde::{Deserialize, Serialize};

/// Create a customer organisation with its first admin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// The organisation's name.
    pub company_name: DisplayName,
    /// The first admin's name.
    pub full_name: DisplayName,
    /// The first admin's email; also the customer's contact email.
    pub email: Email,
    /// At least 10 characters.
    pub password: Password,
}

/// Sign in with email and password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: Email,
    pub password: String,
    /// The second factor, for accounts that have one: the 6-digit code the
    /// authenticator app shows, or one unused recovery code. Without it such an
    /// account answers 401 `mfa_required` once the password is right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_code: Option<String>,
}

/// Exchange a refresh token for a new session (the old token stops working).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// Required, unless the request opts into cookie delivery
    /// (`X-Obera-Refresh-Delivery: cookie`) and the refresh cookie carries the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// End a session by revoking its refresh token family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    /// Required, unless the request opts into cookie delivery
    /// (`X-Obera-Refresh-Delivery: cookie`) and the refresh cookie carries the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// Set a password with the token from an invitation and sign in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AcceptInviteRequest {
    pub invite_token: String,
    pub password: Password,
}

/// Enter the seeded demo customer as one of its department users, without a password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DemoLoginRequest {
    pub department: Department,
}

/// Tokens plus who they belong to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    /// Short-lived EdDSA JWT for the `Authorization: Bearer` header.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until `access_token` expires.
    pub expires_in: i64,
    /// Single-use token for `POST /api/v1/auth/refresh`. Absent when the request asked
    /// for cookie delivery (`X-Obera-Refresh-Delivery: cookie`): the token is then only
    /// in the `HttpOnly` cookie `obera_refresh`, out of reach of script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub me: Me,
}

/// The signed-in principal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub user_id: UserId,
    pub email: String,
    pub full_name: String,
    /// MSP operators manage every customer.
    pub platform_operator: bool,
    /// Demo sessions may read but not change anything.
    pub read_only: bool,
    /// The customer this person belongs to; absent for operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membership: Option<Membership>,
    /// The account's second factor.
    pub mfa: crate::MfaStatus,
}

/// A person's place in a customer organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Membership {
    pub customer_id: CustomerId,
    pub company_name: String,
    pub department: Department,
    pub role: Role,
}

/// One public key of the JSON Web Key Set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub key_use: String,
}

/// The keys that verify access tokens (`/.well-known/jwks.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// Liveness or readiness.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `ok` when healthy.
    pub status: String,
}
