//! Triggers: what starts a workflow's published version without a person pressing
//! run. A trigger's `config` is told apart by `kind`: `webhook`, `cron` or `event`.
//!
//! # Webhooks
//!
//! A webhook trigger has a URL, `/hooks/{token}`, and a signing secret, both made by
//! the server and shown once (when created; the secret again when rotated). A
//! delivery is accepted only when its signature, computed with HMAC-SHA256 over the
//! raw body bytes as its `verification` preset prescribes, matches the current secret
//! (or the previous one, for the overlap a rotation grants).
//!
//! The run's trigger data (`trigger` in expressions) is
//! `{ "body": …, "headers": { … }, "query": { … } }`: `body` is the body parsed as
//! JSON when it is JSON, else its text; `headers` has every request header by its
//! lower-case name (repeated ones joined by `, `) except the credentials
//! (`authorization`, `cookie`, `proxy-authorization`) and the signature header
//! itself; `query` has the URL's query parameters (the last of a repeated one).
//! So `trigger.body.action` reads a GitHub event's action and
//! `trigger.headers["x-github-event"]` its event name.
//!
//! # Cron
//!
//! A cron trigger fires its `schedule` (a 5-field expression, see
//! [`super::schedule`]) read in its `time_zone` (default `UTC`). The server plans the
//! next fire when the trigger is saved (and again when its schedule or zone changes)
//! and shows it as `next_fire_at`; a scheduler in every server instance starts each
//! fire once, whichever instance sees it first. Fires that came while no instance
//! was running are handled by `missed` (default `skip`). A disabled trigger, an
//! inactive workflow or one with no published version starts nothing, but its
//! schedule still moves on, so enabling or publishing never releases a backlog.
//!
//! Each fire starts one run whose trigger data is
//! `{ "scheduled_for": "<RFC 3339 instant>", "input": … }`: `scheduled_for` is the
//! planned instant of the fire in UTC (not when the run began: a caught-up fire
//! keeps its own time), and `input` the trigger's `input` JSON (null when it has
//! none). So `trigger.scheduled_for` dates a nightly report and `trigger.input.region`
//! reads a setting shared by every fire.
//!
//! # Platform events
//!
//! An event trigger starts a run each time another module of the platform emits its
//! `event` in the trigger's customer (see [`PlatformEvent`] for what emits each), if
//! its `filter`, when it has one, holds for the event (see [`EventConfig`]). The
//! runs are started in the transaction of the change the event reports, so an event
//! and its runs commit with that change or not at all, and never for another
//! customer. A disabled trigger, an inactive workflow or one with no published
//! version starts nothing, and the change goes ahead all the same: a listener can
//! never make the request that emits fail. A run's own actions emit no events (its
//! steps do not enter a customer as an operator, nor invite anyone), so a workflow
//! cannot start itself through an event.
//!
//! Each event starts one run per listening trigger, whose trigger data is
//! `{ "event": "<name>", "event_id": "<uuid>", "occurred_at": "<RFC 3339>", "data": { … } }`:
//! `event_id` is the same for every run one event started, `occurred_at` when the
//! change was made, and `data` depends on the event:
//!
//! - `user.invited`: the new person, `{ "user_id", "email", "full_name",
//!   "department", "role", "status", "invited_by" }` (`status` is `invited` until
//!   they accept); `invited_by` is `{ "kind": "user" | "operator" | "api_key",
//!   "id" }`, the member, MSP operator or API key who invited them.
//! - `audit.privileged_access`: the audit log entry of the access, with the fields
//!   the audit log shows (`id`, `customer_id`, `user_id`, `action_type`,
//!   `system_name`, `action_details`, `compliance_tags`, `timestamp`, `ip_address`,
//!   `user_agent`). For an MSP operator entering the customer's data, `action_type`
//!   is `operator.accessed_customer`, `user_id` the operator, and `action_details`
//!   holds the request's `method` and `path`. Every request an operator makes in
//!   the customer is one access, so a listener runs once per request.
//! - `customer.created`: a new customer has no workflows of its own to listen for it
//!   with a trigger; it is the trigger data of the first run of each MSP-level
//!   workflow ([`super::msp`]) that includes new customers and runs on their
//!   creation, `data` the customer as the API shows it.
//!
//! So `trigger.data.role` reads an invited person's role and
//! `trigger.data.action_details.path` what an operator opened.

use super::schedule::{CronExpression, MissedFires, TimeZoneName, utc};
use super::step::{Expression, tagged_union};
use crate::enums::text_enum;
use crate::ids::{CustomerId, ExecutionId, TriggerId, WorkflowId};
use crate::validated::{DisplayName, validated_string};
use crate::workflows::ExecutionStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How long a rotated-out secret keeps verifying unless the rotation says otherwise.
pub const DEFAULT_SECRET_OVERLAP_SECS: u32 = 24 * 60 * 60;
/// The longest overlap a rotation may grant (a week).
pub const MAX_SECRET_OVERLAP_SECS: u32 = 7 * 24 * 60 * 60;

tagged_union!(
    /// What starts the workflow, told apart by `kind`.
    TriggerConfig, tag = "kind", {
        /// A signed HTTP delivery to the trigger's URL.
        Webhook => "webhook" (WebhookConfig),
        /// A schedule: a 5-field cron expression in a time zone.
        Cron => "cron" (CronConfig),
        /// A platform event emitted by another module.
        Event => "event" (EventConfig),
    }
);

text_enum!(
    /// An event the platform emits for event triggers to start runs on. More join as
    /// the modules that emit them land (`integration.sync_failed` with integrations).
    /// `user.invited`: a person was added to the customer. `audit.privileged_access`:
    /// privileged access to the customer's data was recorded (an MSP operator entering
    /// it). `customer.created`: a customer was created; it starts the MSP workflows
    /// that run on a new customer's creation (no trigger of its own can hear it).
    PlatformEvent {
        CustomerCreated => "customer.created",
        UserInvited => "user.invited",
        AuditPrivilegedAccess => "audit.privileged_access",
    }
);

/// An event trigger's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EventConfig {
    /// The event that starts a run.
    #[serde(deserialize_with = "platform_event")]
    pub event: PlatformEvent,
    /// An expression over `trigger` (the run's trigger data to be), e.g.
    /// `trigger.data.role == "admin"`: the event starts a run only when it yields
    /// `true`. Checked when saved. It runs while the emitting change is saved, so it
    /// is bounded far tighter than a step's expressions (10,000 operations, 10 ms); one
    /// that fails or runs into a bound starts nothing (and is logged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Expression>,
}

/// An event by name, refusing an unknown one with a message that names the field: the
/// path of an error inside a tagged configuration ends at `config`.
fn platform_event<'de, D: serde::Deserializer<'de>>(de: D) -> Result<PlatformEvent, D::Error> {
    let name = String::deserialize(de)?;
    name.parse().map_err(|_| {
        let known: Vec<&str> = PlatformEvent::ALL.iter().map(|e| e.as_str()).collect();
        serde::de::Error::custom(format!(
            "`{name}` is not a platform event: `event` must be one of {}",
            known.join(", ")
        ))
    })
}

/// A cron trigger's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CronConfig {
    /// When to fire, e.g. `0 6 * * MON-FRI`; checked when saved.
    pub schedule: CronExpression,
    /// The IANA zone the schedule is read in. Default `UTC`.
    #[serde(default = "utc")]
    pub time_zone: TimeZoneName,
    /// What to do about fires missed while no server ran. Default `skip`.
    #[serde(default)]
    pub missed: MissedFires,
    /// JSON every run receives as `trigger.input`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<serde_json::Value>,
}

/// A webhook trigger's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// How deliveries are signed; fixed for the trigger's life.
    pub verification: WebhookVerification,
    /// Default `async`.
    #[serde(default)]
    pub mode: WebhookMode,
}

text_enum!(
    /// How a webhook answers. `async`: 202 with the execution id once the delivery is
    /// stored. `sync`: waits up to 30 seconds for the run and answers with its first
    /// succeeded `respond` step (in definition order), or 200 with the run's id and
    /// status when it has none; 502 when the run failed, 504 when it is still going.
    WebhookMode { Async => "async", Sync => "sync" }
);

// `text_enum!` writes the enum, and cannot put `#[default]` on a variant.
#[allow(clippy::derivable_impls)]
impl Default for WebhookMode {
    fn default() -> Self {
        WebhookMode::Async
    }
}

tagged_union!(
    /// How a sender signs its deliveries, told apart by `preset`. Every preset is
    /// HMAC-SHA256 over the raw body bytes (Stripe and Standard Webhooks prefix
    /// them); presets with a timestamp refuse one more than 5 minutes from now.
    WebhookVerification, tag = "preset", {
        /// A signature in a header of your choice, hex or base64, optionally after a
        /// fixed prefix such as `sha256=`. The delivery id, when sent, is
        /// `Idempotency-Key`. The secret is the HMAC key as text.
        HmacSha256 => "hmac_sha256" (HmacSha256Verification),
        /// GitHub: `X-Hub-Signature-256: sha256=<hex>`, delivery id `X-GitHub-Delivery`.
        Github => "github" (GithubVerification),
        /// Stripe: `Stripe-Signature: t=<unix time>,v1=<hex>[,v1=…]` over `<t>.<body>`;
        /// the delivery id is the event's `id` in the body.
        Stripe => "stripe" (StripeVerification),
        /// Standard Webhooks: `webhook-id`, `webhook-timestamp` and
        /// `webhook-signature: v1,<base64> [v1,<base64> …]` over `<id>.<timestamp>.<body>`,
        /// keyed with the bytes of the `whsec_<base64>` secret.
        StandardWebhooks => "standard_webhooks" (StandardWebhooksVerification),
    }
);

text_enum!(
    /// How a signature's bytes are written.
    SignatureEncoding { Hex => "hex", Base64 => "base64" }
);

validated_string!(
    /// An HTTP header name: 1 to 64 of `A-Z`, `a-z`, `0-9`, `-` and `_`, kept lower-case.
    HeaderName,
    "http-header-name",
    check_header_name
);

fn check_header_name(value: String) -> Result<String, String> {
    let valid = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(format!(
            "`{value}` is not a header name: use 1 to 64 of A-Z, a-z, 0-9, - and _"
        ))
    }
}

validated_string!(
    /// Text a signature header starts with before the signature (`sha256=`): 1 to 32
    /// visible ASCII characters.
    SignaturePrefix,
    "text",
    check_signature_prefix
);

fn check_signature_prefix(value: String) -> Result<String, String> {
    if !value.is_empty() && value.len() <= 32 && value.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(value)
    } else {
        Err(format!(
            "`{value}` is not a signature prefix: use 1 to 32 visible ASCII characters"
        ))
    }
}

/// The generic preset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HmacSha256Verification {
    /// The header that carries the signature, e.g. `x-signature`.
    pub header: HeaderName,
    /// Default `hex`.
    #[serde(default)]
    pub encoding: SignatureEncoding,
    /// Text before the signature, e.g. `sha256=`; the header must start with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<SignaturePrefix>,
}

// `text_enum!` writes the enum, and cannot put `#[default]` on a variant.
#[allow(clippy::derivable_impls)]
impl Default for SignatureEncoding {
    fn default() -> Self {
        SignatureEncoding::Hex
    }
}

/// The GitHub preset; it has no settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GithubVerification {}

/// The Stripe preset; it has no settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StripeVerification {}

/// The Standard Webhooks preset; it has no settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StandardWebhooksVerification {}

/// A trigger of a workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkflowTrigger {
    pub id: TriggerId,
    pub customer_id: CustomerId,
    pub workflow_id: WorkflowId,
    pub name: String,
    /// A disabled trigger starts nothing (its URL answers 404).
    pub enabled: bool,
    pub config: TriggerConfig,
    /// Until when the secret a rotation replaced still verifies, if one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_valid_until: Option<DateTime<Utc>>,
    /// When a delivery, a scheduled fire or an event last started a run.
    pub last_triggered_at: Option<DateTime<Utc>>,
    /// A cron trigger's next planned fire. It moves on while the trigger is disabled
    /// too; none when the schedule has no further fire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_fire_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Create a trigger of a workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateWorkflowTrigger {
    pub name: DisplayName,
    /// Default true.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    pub config: TriggerConfig,
}

fn enabled_by_default() -> bool {
    true
}

/// A new trigger with what is shown only now: a webhook's URL and signing secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedWorkflowTrigger {
    pub trigger: WorkflowTrigger,
    /// A webhook's path to deliver to, `/hooks/<token>`, on this server's address.
    /// Only its hash is stored: keep it now. (Other kinds have none.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A webhook's signing secret; it is not shown again (rotate it to get a new
    /// one). (Other kinds have none.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// Change a trigger (only the fields given).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkflowTrigger {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<DisplayName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// A webhook's answer mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<WebhookMode>,
    /// A cron trigger's schedule; changing it (or the zone) plans the next fire anew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<CronExpression>,
    /// A cron trigger's time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<TimeZoneName>,
    /// A cron trigger's missed-fire policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed: Option<MissedFires>,
    /// A cron trigger's input, replacing the one it had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<serde_json::Value>,
    /// An event trigger's event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<PlatformEvent>,
    /// An event trigger's filter, replacing the one it had (`true` lets every event
    /// through).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Expression>,
}

/// Replace a trigger's signing secret.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RotateTriggerSecret {
    /// How long the replaced secret keeps verifying, 0 to 604800 seconds (a week);
    /// default 86400 (a day). 0 retires it at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap_secs: Option<u32>,
}

/// The trigger with its new secret, shown only now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RotatedTriggerSecret {
    pub trigger: WorkflowTrigger,
    pub secret: String,
}

/// A webhook delivery's receipt: the run it started (or, for a delivery id seen in
/// the last 24 hours, the run the first delivery started).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookReceipt {
    pub execution_id: ExecutionId,
    pub status: ExecutionStatus,
}
