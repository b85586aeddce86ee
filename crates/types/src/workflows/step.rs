//! Typed step configurations. Every field is typed, so the OpenAPI document describes
//! each step kind exactly and generated SDKs can build workflows without guessing.
//!
//! Expressions and templates are kept as text here; `obera-engine` parses them when a
//! definition is saved and evaluates them when a run reaches the step.

use super::definition::{WorkflowDefinition, is_slug};
use crate::enums::text_enum;
use crate::validated::validated_string;
use crate::{AuditAction, ComplianceTag, UserId, WorkflowId};
use serde::{Deserialize, Serialize};

/// An enum whose variants each wrap one config struct, told apart by the tag field
/// `$tag` (serde's internal tagging). The OpenAPI schema is written here rather than
/// derived: utoipa's derive only emits a discriminator for untagged enums, and SDK
/// generators need `oneOf` + `discriminator` to produce one class per variant. Each
/// variant's struct is published under its own name with the tag property added, so a
/// variant struct must not also be referenced on its own elsewhere in the API.
macro_rules! tagged_union {
    (
        $(#[doc = $doc:literal])*
        $name:ident, tag = $tag:literal,
        { $($(#[doc = $vdoc:literal])* $variant:ident => $text:literal ($ty:ty)),+ $(,)? }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = $tag)]
        pub enum $name {
            $($(#[doc = $vdoc])* #[serde(rename = $text)] $variant($ty)),+
        }

        impl $name {
            /// Every tag value, in declaration order.
            pub const TAGS: &'static [&'static str] = &[$($text),+];

            /// The tag value of this variant, as written in JSON.
            pub fn tag(&self) -> &'static str {
                match self {
                    $($name::$variant(_) => $text),+
                }
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::ToSchema;
                let doc: &[&str] = &[$($doc),*];
                let mut discriminator = utoipa::openapi::schema::Discriminator::new($tag);
                let mut one_of = utoipa::openapi::schema::OneOfBuilder::new()
                    .description(Some(doc.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ")));
                $(
                    let reference = format!("#/components/schemas/{}", <$ty>::name());
                    discriminator.mapping.insert($text.to_owned(), reference.clone());
                    one_of = one_of.item(utoipa::openapi::Ref::new(reference));
                )+
                one_of.discriminator(Some(discriminator)).into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {
            fn schemas(
                schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
            ) {
                $(
                    schemas.push((
                        <$ty as utoipa::ToSchema>::name().into_owned(),
                        crate::workflows::step::with_tag(<$ty as utoipa::PartialSchema>::schema(), $tag, $text),
                    ));
                    <$ty as utoipa::ToSchema>::schemas(schemas);
                )+
            }
        }
    };
}

/// Shared with `trigger` and `credentials`, whose configurations are tagged the same way.
pub(crate) use tagged_union;

/// Adds the required tag property (`"type": "http"`) to a variant struct's schema.
#[cfg(feature = "openapi")]
pub(crate) fn with_tag(
    schema: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    tag: &str,
    value: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
    match schema {
        RefOr::T(Schema::Object(mut object)) => {
            let property = ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([value]))
                .build();
            object.properties.insert(tag.to_owned(), property.into());
            object.required.insert(0, tag.to_owned());
            RefOr::T(Schema::Object(object))
        }
        other => other,
    }
}

/// Text of the sandboxed expression language (rhai), e.g.
/// `steps.fetch_user.output.body.active && trigger.amount > 100`. Its value is JSON.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String))]
#[serde(transparent)]
pub struct Expression(pub String);

/// Text with `{{ expression }}` segments, e.g. `https://api.example.com/users/{{ trigger.id }}`.
/// A template that is exactly one `{{ expression }}` yields that expression's JSON value;
/// any other renders to a string (strings as they are, other values as JSON).
/// `\{{` writes a literal `{{`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String))]
#[serde(transparent)]
pub struct Template(pub String);

validated_string!(
    /// The name of a secret in the customer's credential store (`a-z` first, then up to 63
    /// of `a-z`, `0-9`, `_` and `-`). Steps name credentials; the value is resolved only at
    /// run time and never stored with the definition or the run.
    CredentialRef,
    "credential-name",
    check_credential_ref
);

fn check_credential_ref(value: String) -> Result<String, String> {
    if is_slug(&value, b"-") {
        Ok(value)
    } else {
        Err(format!(
            "`{value}` is not a credential name: use a lower-case letter, then up to 63 of a-z, 0-9, _ and -"
        ))
    }
}

text_enum!(
    /// The method of an outbound HTTP request.
    HttpMethod {
        Get => "GET",
        Post => "POST",
        Put => "PUT",
        Patch => "PATCH",
        Delete => "DELETE",
        Head => "HEAD",
        Options => "OPTIONS",
    }
);

/// A header whose value is a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HeaderTemplate {
    pub name: String,
    pub value: Template,
}

tagged_union!(
    /// What a step does, told apart by `type`.
    StepConfig, tag = "type", {
        /// Sends an HTTP request. Output: `{ status, headers, body }`.
        Http => "http" (HttpStep),
        /// Computes a value. Output: the expression's value.
        Transform => "transform" (TransformStep),
        /// Chooses the `true` or `false` edges. Output: the boolean.
        Condition => "condition" (ConditionStep),
        /// Chooses the edges of the first case whose condition is true, else `default`.
        /// Output: the matched label, or null.
        Switch => "switch" (SwitchStep),
        /// Runs its body once per item. Output: the array of each iteration's output.
        Loop => "loop" (LoopStep),
        /// Suspends the run (holding no worker) for a time or until a moment.
        Delay => "delay" (DelayStep),
        /// Sets the answer of a synchronous webhook.
        Respond => "respond" (RespondStep),
        /// Reads or writes the platform's own records, in the run's customer.
        Db => "db" (DbStep),
        /// Sends an email or a signed webhook.
        Notify => "notify" (NotifyStep),
        /// Suspends the run until enough approvers decide, or the time runs out.
        Approval => "approval" (ApprovalStep),
        /// Starts another workflow of the same customer.
        SubWorkflow => "sub_workflow" (SubWorkflowStep),
        /// Runs JavaScript in a sandbox without network or file access.
        Code => "code" (CodeStep),
    }
);

impl StepConfig {
    /// Whether running the step changes something outside the run. A dry run skips such
    /// steps. `code` is not side-effecting: its sandbox has no network or file access.
    pub fn side_effecting(&self) -> bool {
        match self {
            StepConfig::Http(_)
            | StepConfig::Notify(_)
            | StepConfig::Approval(_)
            | StepConfig::SubWorkflow(_) => true,
            StepConfig::Db(db) => db.operation.writes(),
            StepConfig::Transform(_)
            | StepConfig::Condition(_)
            | StepConfig::Switch(_)
            | StepConfig::Loop(_)
            | StepConfig::Delay(_)
            | StepConfig::Respond(_)
            | StepConfig::Code(_) => false,
        }
    }
}

/// An outbound HTTP request. The URL, headers and body are templates over the run's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HttpStep {
    pub method: HttpMethod,
    pub url: Template,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<HeaderTemplate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Template>,
    /// Sent as the `Authorization` header when the request is made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialRef>,
    /// 1 ms to 5 min; the server's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u32>,
    /// The response body is cut off (and the step fails) past this size, up to 10 MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_response_bytes: Option<u32>,
}

/// Computes a value from the run's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TransformStep {
    pub expression: Expression,
}

/// An if / else: the expression must yield `true` or `false`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConditionStep {
    pub condition: Expression,
}

/// Cases tried in order; the first whose condition is true wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SwitchStep {
    pub cases: Vec<SwitchCase>,
}

/// One case of a switch; edges name it by `label`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SwitchCase {
    pub label: String,
    pub condition: Expression,
}

/// A for-each. The body is a nested definition run once per item, with `item` and
/// `index` in scope; an iteration's output is the output of the body's last step (in
/// the order of `body.steps`), or null when that step was skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoopStep {
    /// Must yield an array.
    pub items: Expression,
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub body: WorkflowDefinition,
    /// Iterations running at once, 1 to 32.
    #[serde(default = "default_concurrency")]
    pub concurrency: u16,
    /// More items than this fail the step, 1 to 10,000.
    #[serde(default = "default_max_iterations")]
    pub max_iterations: u32,
}

fn default_concurrency() -> u16 {
    1
}

fn default_max_iterations() -> u32 {
    1_000
}

/// Waits for `duration_secs`, or until the moment `until` yields (RFC 3339 text or Unix
/// seconds); exactly one of the two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DelayStep {
    /// Up to one year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Expression>,
}

/// The answer to a synchronous webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RespondStep {
    /// 100 to 599.
    pub status: u16,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<HeaderTemplate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Template>,
}

/// Reads or writes the platform's records through the store API, never through SQL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DbStep {
    pub operation: DbOperation,
}

tagged_union!(
    /// A store operation a `db` step may run, told apart by `kind`.
    DbOperation, tag = "kind", {
        /// Lists the customer's users. Output: an array of user profiles.
        ListUsers => "list_users" (ListUsersOperation),
        /// Reads one user. Output: the user profile.
        GetUser => "get_user" (GetUserOperation),
        /// Appends an event to the customer's audit log. Output: the entry.
        RecordAuditEvent => "record_audit_event" (RecordAuditEventOperation),
    }
);

impl DbOperation {
    /// Whether the operation changes stored data.
    pub fn writes(&self) -> bool {
        match self {
            DbOperation::ListUsers(_) | DbOperation::GetUser(_) => false,
            DbOperation::RecordAuditEvent(_) => true,
        }
    }
}

/// Lists the customer's users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ListUsersOperation {}

/// Reads one user by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GetUserOperation {
    /// Must render to a user id.
    pub user_id: Template,
}

/// Appends an audit event; `detail` must render to a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordAuditEventOperation {
    pub action: AuditAction,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<ComplianceTag>,
    pub detail: Template,
}

/// Sends a notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotifyStep {
    pub channel: NotifyChannel,
}

tagged_union!(
    /// Where a notification goes, told apart by `kind`.
    NotifyChannel, tag = "kind", {
        /// An email through the configured SMTP server.
        Email => "email" (EmailNotification),
        /// A POST signed per the Standard Webhooks spec.
        Webhook => "webhook" (WebhookNotification),
    }
);

/// An email; each recipient template must render to an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EmailNotification {
    pub to: Vec<Template>,
    pub subject: Template,
    pub body: Template,
}

/// An outbound webhook signed with the named secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookNotification {
    pub url: Template,
    pub secret: CredentialRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Template>,
}

/// Suspends the run until `required` of `approvers` approve (one rejection rejects), or
/// `timeout_secs` pass. The person the run acts for cannot approve it (see
/// [`crate::WorkflowApproval`]). Output: `{ "approval_id", "status": "approved",
/// "votes": [ … ] }`; a rejection or a timeout fails the step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApprovalStep {
    pub approvers: Vec<UserId>,
    /// 1 to the number of approvers.
    pub required: u8,
    /// 1 minute to 30 days.
    pub timeout_secs: u64,
    pub message: Template,
}

/// Starts another workflow's published version in the same customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SubWorkflowStep {
    pub workflow_id: WorkflowId,
    /// The child's trigger data; null when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Expression>,
    /// Waits for the child run and takes its outcome: output
    /// `{ "execution_id", "status": "succeeded", "output": <its last step's output> }`,
    /// and its failure (or cancellation) fails the step. Without waiting the output is
    /// `{ "execution_id" }` as soon as the child is queued. Either way the child acts
    /// for the person who published its workflow, and nests at most 8 deep.
    #[serde(default = "default_wait")]
    pub wait: bool,
}

fn default_wait() -> bool {
    true
}

/// JavaScript run in an embedded sandbox. The script sees the same data as expressions
/// and its returned value is the output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CodeStep {
    /// Up to 64 KiB.
    pub source: String,
    /// 1 ms to 1 min; the server's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_are_tagged_by_type_and_unknown_types_are_refused() {
        let http: Result<StepConfig, _> = serde_json::from_str(
            r#"{"type":"http","method":"POST","url":"https://x.test/{{ trigger.id }}"}"#,
        );
        assert!(matches!(http, Ok(StepConfig::Http(ref h)) if h.method == HttpMethod::Post));
        let err = serde_json::from_str::<StepConfig>(r#"{"type":"ftp"}"#)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("unknown variant `ftp`"), "{err}");
    }

    #[test]
    fn credential_names_are_slugs_that_may_contain_dashes() {
        for good in ["crm", "crm-token_2"] {
            assert!(
                CredentialRef::try_from(good.to_owned()).is_ok(),
                "{good} refused"
            );
        }
        for bad in ["", "-crm", "CRM", "crm token", &"c".repeat(65)] {
            assert!(
                CredentialRef::try_from(bad.to_owned()).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn a_typo_in_a_config_field_is_refused() {
        let err = serde_json::from_str::<StepConfig>(r#"{"type":"transform","expresion":"1"}"#);
        assert!(err.is_err());
    }

    #[test]
    fn db_writes_and_http_are_side_effecting_transforms_are_not() {
        let write = StepConfig::Db(DbStep {
            operation: DbOperation::RecordAuditEvent(RecordAuditEventOperation {
                action: AuditAction::from_static("workflow.note"),
                tags: vec![],
                detail: Template("{{ #{} }}".to_owned()),
            }),
        });
        let read = StepConfig::Db(DbStep {
            operation: DbOperation::ListUsers(ListUsersOperation {}),
        });
        let transform = StepConfig::Transform(TransformStep {
            expression: Expression("1".to_owned()),
        });
        assert!(write.side_effecting());
        assert!(!read.side_effecting());
        assert!(!transform.side_effecting());
        assert_eq!(write.tag(), "db");
    }
}
