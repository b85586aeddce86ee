//! The endpoints `notify` webhooks deliver to, as the customer sees their health.
//!
//! Each URL a customer's workflows notify is tracked on its first delivery: a success
//! clears its failures; an endpoint that has failed every attempt for five days is
//! disabled (deliveries to it fail at once, naming it) until someone re-enables it.

use crate::enums::text_enum;
use crate::ids::{CustomerId, NotifyEndpointId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

text_enum!(
    /// How an endpoint is doing: `healthy` (its last attempt succeeded), `failing` (its
    /// attempts fail, since `failing_since`), `disabled` (no more deliveries).
    NotifyEndpointStatus { Healthy => "healthy", Failing => "failing", Disabled => "disabled" }
);

/// One URL a customer's `notify` webhooks deliver to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotifyEndpoint {
    pub id: NotifyEndpointId,
    pub customer_id: CustomerId,
    pub url: String,
    pub status: NotifyEndpointStatus,
    /// Failed attempts since the last success.
    pub consecutive_failures: u32,
    /// The first failed attempt since the last success.
    pub failing_since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}
