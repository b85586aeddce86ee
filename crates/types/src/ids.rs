//! UUIDv7 identifier newtypes, so a customer id can never be passed where a user id is meant.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered (v7) id: keyset pagination by id follows creation order.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// Identifies a customer (tenant) organisation.
    CustomerId
);
id_type!(
    /// Identifies a person who can sign in.
    UserId
);
id_type!(
    /// Identifies an API key.
    ApiKeyId
);
id_type!(
    /// Identifies a stored credential (steps name it by its name instead).
    CredentialId
);
id_type!(
    /// Identifies an audit log entry.
    AuditLogId
);
id_type!(
    /// Identifies a workflow across all its versions.
    WorkflowId
);
id_type!(
    /// Identifies an MSP-level workflow, deployed into each customer it targets.
    MspWorkflowId
);
id_type!(
    /// Identifies one run (execution) of a workflow.
    ExecutionId
);
id_type!(
    /// Identifies an approval a workflow run waits on.
    ApprovalId
);
id_type!(
    /// Identifies an endpoint `notify` webhooks deliver to.
    NotifyEndpointId
);
id_type!(
    /// Identifies a trigger of a workflow (a webhook today).
    TriggerId
);
