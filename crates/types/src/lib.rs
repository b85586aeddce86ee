//! Types shared by the Obera server and the Leptos SPA.
//!
//! Invariant: nothing here does IO, so the crate builds for `wasm32-unknown-unknown`.
//! OpenAPI schema derives sit behind the `openapi` feature, which only the server enables.

/// Implements `utoipa::ToSchema` for a string enum from its wire spellings.
/// Written by hand because utoipa's derive cannot read `#[serde(rename = $lit)]`
/// when the literal comes from a macro, and would publish the Rust variant names.
macro_rules! string_enum_schema {
    ($name:ident, [$($doc:literal),*], [$($text:literal),+]) => {
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let doc: &[&str] = &[$($doc),*];
                let description = doc.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some(description))
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod credentials;
pub mod customers;
pub mod customization;
pub mod enums;
pub mod error;
pub mod ids;
pub mod mfa;
pub mod page;
pub mod users;
pub mod validated;
pub mod vocabulary;
pub mod workflows;

// Named one by one, not `pub use module::*`: a module that adds a type whose name
// another module already uses (`Status`, `Run`, …) then fails here, at the crate
// root, instead of silently shadowing or making the name unusable for callers.
pub use api_keys::{ApiKey, CreateApiKey, CreatedApiKey};
pub use audit::{AuditLogEntry, AuditLogFilter};
pub use auth::{
    AcceptInviteRequest, DemoLoginRequest, Health, Jwk, JwkSet, LoginRequest, LogoutRequest, Me,
    Membership, RefreshRequest, Session, SignupRequest,
};
pub use credentials::{
    BasicSecret, BasicUsername, BearerTokenSecret, CreateCredential, Credential,
    CredentialHeaderName, CredentialKind, CredentialSecret, HeaderSecret, OutboundAllowList,
    OutboundHost, ReplaceCredentialSecret, SecretValue, SigningSecret,
};
pub use customers::{CreateCustomer, Customer, CustomerFilter, UpdateCustomer};
pub use customization::{
    Customization, CustomizationInput, DashboardLayout, FeatureKind, IntegrationKind, WidgetKind,
    WidgetPlacement,
};
pub use enums::{
    ApiScope, AuditOrder, CustomerStatus, DashboardKind, Department, Plan, Role, UnknownValue,
    UserStatus,
};
pub use error::{ErrorCode, FieldError, Problem};
pub use ids::{
    ApiKeyId, ApprovalId, AuditLogId, CredentialId, CustomerId, ExecutionId, MspWorkflowId,
    NotifyEndpointId, TriggerId, UserId, WorkflowId,
};
pub use mfa::{MfaCode, MfaEnrolment, MfaStatus, RecoveryCodes};
pub use page::{
    ApiKeyPage, AuditLogPage, CredentialPage, CustomerPage, MspWorkflowPage, NotifyEndpointPage,
    PageParams, UserPage, WorkflowApprovalPage, WorkflowExecutionPage, WorkflowPage,
    WorkflowTriggerPage, WorkflowVersionPage,
};
pub use users::{Invitation, InviteUser, UpdateUser, UserProfile};
pub use validated::{DisplayName, Email, HexColor, Password, WebUrl};
pub use vocabulary::{AuditAction, ComplianceTag, compliance};
pub use workflows::schedule::{
    CronExpression, CronFire, CronPreview, CronPreviewRequest, DEFAULT_PREVIEW_FIRES,
    MAX_CATCH_UP_FIRES, MAX_PREVIEW_FIRES, MissedFires, TimeZoneName,
};
pub use workflows::trigger::{
    CreateWorkflowTrigger, CreatedWorkflowTrigger, CronConfig, DEFAULT_SECRET_OVERLAP_SECS,
    EventConfig, GithubVerification, HeaderName, HmacSha256Verification, MAX_SECRET_OVERLAP_SECS,
    PlatformEvent, RotateTriggerSecret, RotatedTriggerSecret, SignatureEncoding, SignaturePrefix,
    StandardWebhooksVerification, StripeVerification, TriggerConfig, UpdateWorkflowTrigger,
    WebhookConfig, WebhookMode, WebhookReceipt, WebhookVerification, WorkflowTrigger,
};
pub use workflows::{
    ApprovalDecision, ApprovalStatus, ApprovalStep, ApprovalVote, Branch, CancelledWorkflowRuns,
    CodeStep, ConditionStep, CreateWorkflow, CredentialRef, DbOperation, DbStep,
    DecideWorkflowApproval, DelayStep, Edge, EmailNotification, ExecutionStatus, Expression,
    GetUserOperation, HeaderTemplate, HttpMethod, HttpStep, ListUsersOperation, LoopStep,
    MAX_APPROVAL_COMMENT_CHARS, NotifyChannel, NotifyStep, OnError, ParentRun, PublishWorkflow,
    RecordAuditEventOperation, RerunVersion, RerunWorkflowRun, RerunWorkflowRuns, RespondStep,
    RetryPolicy, SaveWorkflowVersion, StartWorkflowRun, Step, StepAttempt, StepConfig, StepKey,
    StepRun, StepRunStatus, SubWorkflowStep, SwitchCase, SwitchStep, Template, TransformStep,
    TriggerKind, UpdateWorkflow, WORKFLOW_EXPORT_FORMAT, WebhookNotification, Workflow,
    WorkflowApproval, WorkflowApprovalFilter, WorkflowDefinition, WorkflowExecution,
    WorkflowExport, WorkflowLabel, WorkflowRunBatch, WorkflowRunFilter, WorkflowType,
    WorkflowVersion,
};
pub use workflows::{
    CreateMspWorkflow, MAX_MSP_WORKFLOW_TARGETS, MspWorkflow, MspWorkflowRun, MspWorkflowRuns,
    MspWorkflowTarget, StartMspWorkflowRuns, UpdateMspWorkflow,
};
pub use workflows::{
    FailingStep, InsightDay, InsightFigures, MAX_FAILING_STEPS, MAX_INSIGHT_DAYS,
    MAX_MINUTES_SAVED_PER_RUN, WorkflowInsightLine, WorkflowInsights, WorkflowInsightsQuery,
};
pub use workflows::{NotifyEndpoint, NotifyEndpointStatus};
