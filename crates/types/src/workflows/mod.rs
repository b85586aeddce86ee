//! Workflow definitions and run records, shared by the server, the SPA and SDKs.
//!
//! A definition ([`WorkflowDefinition`]) is a DAG of typed [`Step`]s; `obera-engine`
//! validates it and decides what runs next. Nothing here evaluates anything.
//!
//! # The data model of expressions and templates
//!
//! Every expression (conditions, transforms, loop items, `{{ }}` template segments)
//! sees the same read-only variables:
//!
//! - `trigger`: the trigger payload as JSON (a webhook's `{ body, headers, query }`,
//!   see [`trigger`]; a cron fire's `{ scheduled_for, input }`; a manual run's input;
//!   an event's data).
//! - `steps`: one entry per step that has finished so far, keyed by step key:
//!   `steps.<key>.output` is the step's output JSON (see each [`StepConfig`] variant),
//!   `steps.<key>.status` its [`StepRunStatus`] (`succeeded`, `failed` or `skipped`),
//!   and `steps.<key>.error` the failure message of a step that failed with
//!   `on_error: continue` (null otherwise). Inside a loop body, the outer steps and the
//!   current iteration's finished steps are both visible.
//! - `item` and `index`: inside a loop body, the current item and its 0-based index
//!   (null elsewhere).
//! - `run`: `{ id, workflow_id, customer_id }` of the execution.
//!
//! So `steps.fetch_user.output.body.email` reads the `email` field of the JSON body an
//! `http` step named `fetch_user` received, and `trigger.items[0]` the first item of
//! the trigger payload.

pub mod approval;
pub mod definition;
pub mod execution;
pub mod insights;
pub mod msp;
pub mod notify;
pub mod record;
pub mod run;
pub mod schedule;
pub mod step;
pub mod trigger;

pub use approval::{
    ApprovalDecision, ApprovalStatus, ApprovalVote, DecideWorkflowApproval,
    MAX_APPROVAL_COMMENT_CHARS, WorkflowApproval, WorkflowApprovalFilter,
};
pub use definition::{
    Branch, Edge, MAX_STEP_KEY_LEN, OnError, RetryPolicy, Step, StepKey, WorkflowDefinition,
};
pub use execution::{
    CancelledWorkflowRuns, ParentRun, RerunVersion, RerunWorkflowRun, RerunWorkflowRuns,
    StartWorkflowRun, StepAttempt, StepRun, TriggerKind, WorkflowExecution, WorkflowRunBatch,
    WorkflowRunFilter,
};
pub use insights::{
    FailingStep, InsightDay, InsightFigures, MAX_FAILING_STEPS, MAX_INSIGHT_DAYS,
    WorkflowInsightLine, WorkflowInsights, WorkflowInsightsQuery,
};
pub use msp::{
    CreateMspWorkflow, MAX_MSP_WORKFLOW_TARGETS, MspWorkflow, MspWorkflowRun, MspWorkflowRuns,
    MspWorkflowTarget, StartMspWorkflowRuns, UpdateMspWorkflow,
};
pub use notify::{NotifyEndpoint, NotifyEndpointStatus};
pub use record::{
    CreateWorkflow, MAX_MINUTES_SAVED_PER_RUN, PublishWorkflow, SaveWorkflowVersion,
    UpdateWorkflow, WORKFLOW_EXPORT_FORMAT, Workflow, WorkflowExport, WorkflowLabel, WorkflowType,
    WorkflowVersion,
};
pub use run::{ExecutionStatus, StepRunStatus};
pub use schedule::{
    CronExpression, CronFire, CronPreview, CronPreviewRequest, DEFAULT_PREVIEW_FIRES,
    MAX_CATCH_UP_FIRES, MAX_PREVIEW_FIRES, MissedFires, TimeZoneName,
};
pub use step::{
    ApprovalStep, CodeStep, ConditionStep, CredentialRef, DbOperation, DbStep, DelayStep,
    EmailNotification, Expression, GetUserOperation, HeaderTemplate, HttpMethod, HttpStep,
    ListUsersOperation, LoopStep, NotifyChannel, NotifyStep, RecordAuditEventOperation,
    RespondStep, StepConfig, SubWorkflowStep, SwitchCase, SwitchStep, Template, TransformStep,
    WebhookNotification,
};
pub use trigger::{
    CreateWorkflowTrigger, CreatedWorkflowTrigger, CronConfig, DEFAULT_SECRET_OVERLAP_SECS,
    EventConfig, GithubVerification, HeaderName, HmacSha256Verification, MAX_SECRET_OVERLAP_SECS,
    PlatformEvent, RotateTriggerSecret, RotatedTriggerSecret, SignatureEncoding, SignaturePrefix,
    StandardWebhooksVerification, StripeVerification, TriggerConfig, UpdateWorkflowTrigger,
    WebhookConfig, WebhookMode, WebhookReceipt, WebhookVerification, WorkflowTrigger,
};
