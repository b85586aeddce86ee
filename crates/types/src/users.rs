//! People inside a customer organisation.

use crate::{CustomerId, Department, DisplayName, Email, Role, UserId, UserStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A person's profile in a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserProfile {
    pub id: UserId,
    pub customer_id: CustomerId,
    pub full_name: String,
    pub email: String,
    pub department: Department,
    pub role: Role,
    pub status: UserStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Invite a person into the customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InviteUser {
    pub email: Email,
    pub full_name: DisplayName,
    pub department: Department,
    /// Defaults to `member`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// The invited profile and the one-time token the invitee redeems at
/// `POST /api/v1/auth/accept-invite`. The token is shown only here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invitation {
    pub user: UserProfile,
    /// The one-time token to redeem. Absent when an API key invited the person:
    /// invitation links are credentials, which only a signed-in admin issues
    /// (`renew_invitation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_token: Option<String>,
}

/// Change some fields of a profile; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<DisplayName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<Department>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}
