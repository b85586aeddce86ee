//! Customer (tenant) organisations.

use crate::{CustomerId, CustomerStatus, DisplayName, Email, Plan};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A client organisation of the MSP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Customer {
    pub id: CustomerId,
    pub company_name: String,
    pub contact_email: String,
    pub plan: Plan,
    pub status: CustomerStatus,
    /// Everyone in the organisation must sign in with a second factor; people who
    /// have none are limited to enrolling one until they do.
    pub mfa_required: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An operator creates a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateCustomer {
    pub company_name: DisplayName,
    pub contact_email: Email,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
}

/// Change some fields of a customer; absent fields stay as they are.
/// Only operators may change `plan`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateCustomer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<DisplayName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<Email>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    /// Make a second factor mandatory for everyone in the organisation (or not).
    /// Only a signed-in admin who has enrolled one, or an operator, may change it;
    /// API keys may not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_required: Option<bool>,
}

/// Filters for the operator's customer list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct CustomerFilter {
    /// Case-insensitive substring of the company name or contact email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Only customers in this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CustomerStatus>,
}
