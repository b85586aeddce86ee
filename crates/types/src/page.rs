//! Keyset pagination envelopes.

use serde::{Deserialize, Serialize};

/// Query parameters every list endpoint accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PageParams {
    /// Items per page, 1 to 200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page; omit for the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

macro_rules! page_type {
    ($(#[$meta:meta])* $name:ident, $item:ty) => {
        page_type!($(#[$meta])* $name, $item, "The items of this page, oldest first.");
    };
    ($(#[$meta:meta])* $name:ident, $item:ty, $items_doc:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name {
            #[doc = $items_doc]
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; absent on the last page.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub next_cursor: Option<String>,
        }
    };
}

page_type!(
    /// A page of customers.
    CustomerPage,
    crate::Customer
);
page_type!(
    /// A page of users.
    UserPage,
    crate::UserProfile
);
page_type!(
    /// A page of API keys.
    ApiKeyPage,
    crate::ApiKey
);
page_type!(
    /// A page of audit log entries.
    AuditLogPage,
    crate::AuditLogEntry,
    "The items of this page, in the `order` asked for (oldest first by default)."
);
page_type!(
    /// A page of credentials (metadata only).
    CredentialPage,
    crate::Credential
);
page_type!(
    /// A page of workflows.
    WorkflowPage,
    crate::Workflow
);
page_type!(
    /// A page of a workflow's versions.
    WorkflowVersionPage,
    crate::WorkflowVersion,
    "The versions of this page, newest first."
);
page_type!(
    /// A page of a workflow's triggers.
    WorkflowTriggerPage,
    crate::WorkflowTrigger
);
page_type!(
    /// A page of a workflow's executions.
    WorkflowExecutionPage,
    crate::WorkflowExecution,
    "The executions of this page, newest first, without their steps."
);
page_type!(
    /// A page of approvals.
    WorkflowApprovalPage,
    crate::WorkflowApproval,
    "The approvals of this page, newest first."
);
page_type!(
    /// A page of the endpoints `notify` webhooks deliver to.
    NotifyEndpointPage,
    crate::NotifyEndpoint
);
page_type!(
    /// A page of MSP-level workflows.
    MspWorkflowPage,
    crate::MspWorkflow
);
