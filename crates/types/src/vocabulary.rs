//! The audit log's shared vocabulary: action names and compliance tags.
//!
//! Both are open, validated newtypes rather than enums: integrations, OSCAL
//! imports and clients log names no enum could list, and a closed enum would break
//! older generated SDKs each time a value was added. The constants are the names the
//! platform itself writes; [`AuditAction::from_static`] and
//! [`ComplianceTag::from_static`] check a name at compile time when used in a
//! `const`, so a misspelt constant does not build.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// What happened, as `area.action` in lower snake case (e.g. `auth.login`):
/// two to four dot-separated parts of `a-z`, `0-9` and `_`, at most 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AuditAction(Cow<'static, str>);

/// Evidence for one control of one framework, as `framework:control`
/// (e.g. `soc2:CC6.1`, `hipaa:164.308(a)(4)`): a lower snake case framework id, a
/// colon, then letters, digits and `._-()`; at most 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ComplianceTag(Cow<'static, str>);

const MAX_LEN: usize = 64;

const fn is_word_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'
}

/// `area.action`: 2–4 non-empty parts of `[a-z0-9_]`.
const fn valid_action(s: &[u8]) -> bool {
    if s.is_empty() || s.len() > MAX_LEN {
        return false;
    }
    let (mut i, mut parts, mut part_len) = (0, 1, 0);
    while i < s.len() {
        if s[i] == b'.' {
            if part_len == 0 {
                return false;
            }
            parts += 1;
            part_len = 0;
        } else if is_word_byte(s[i]) {
            part_len += 1;
        } else {
            return false;
        }
        i += 1;
    }
    part_len > 0 && parts >= 2 && parts <= 4
}

/// `framework:control`.
const fn valid_tag(s: &[u8]) -> bool {
    if s.is_empty() || s.len() > MAX_LEN {
        return false;
    }
    let mut i = 0;
    while i < s.len() && is_word_byte(s[i]) {
        i += 1;
    }
    if i == 0 || i >= s.len() - 1 || s[i] != b':' {
        return false;
    }
    i += 1;
    while i < s.len() {
        let b = s[i];
        if !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'(' | b')')) {
            return false;
        }
        i += 1;
    }
    true
}

macro_rules! vocabulary_type {
    ($name:ident, $valid:ident, $what:literal, $example:literal, $pattern:literal) => {
        impl $name {
            /// A name known when the code is written; in a `const` an invalid one
            /// fails the build.
            pub const fn from_static(name: &'static str) -> Self {
                assert!($valid(name.as_bytes()), concat!("not a valid ", $what));
                Self(Cow::Borrowed(name))
            }

            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                if $valid(value.as_bytes()) {
                    Ok(Self(Cow::Owned(value)))
                } else {
                    Err(format!(
                        concat!("`{}` is not a valid ", $what, " (e.g. `", $example, "`)"),
                        value
                    ))
                }
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0.into_owned()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some(concat!(
                        "A ",
                        $what,
                        ", e.g. `",
                        $example,
                        "`. Open: values not listed here may appear."
                    )))
                    .pattern(Some($pattern))
                    .max_length(Some(MAX_LEN))
                    .examples([$example])
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

vocabulary_type!(
    AuditAction,
    valid_action,
    "audit action name",
    "auth.login",
    r"^[a-z0-9_]+(\.[a-z0-9_]+){1,3}$"
);
vocabulary_type!(
    ComplianceTag,
    valid_tag,
    "compliance tag",
    "soc2:CC6.1",
    r"^[a-z0-9_]+:[A-Za-z0-9._()-]+$"
);

macro_rules! actions {
    ($($(#[$doc:meta])* $name:ident = $text:literal;)+) => {
        impl AuditAction {
            $($(#[$doc])* pub const $name: AuditAction = AuditAction::from_static($text);)+
        }
    };
}

actions! {
    /// An organisation and its first admin signed up.
    AUTH_SIGNUP = "auth.signup";
    AUTH_LOGIN = "auth.login";
    AUTH_LOGIN_FAILED = "auth.login_failed";
    AUTH_DEMO_LOGIN = "auth.demo_login";
    /// A used refresh token was presented again; its sign-in's sessions ended.
    AUTH_REFRESH_TOKEN_REUSED = "auth.refresh_token_reused";
    AUTH_MFA_ENROLLED = "auth.mfa_enrolled";
    AUTH_MFA_FAILED = "auth.mfa_failed";
    AUTH_RECOVERY_CODE_USED = "auth.recovery_code_used";
    AUTH_MFA_RECOVERY_CODES_REPLACED = "auth.mfa_recovery_codes_replaced";
    AUTH_MFA_REMOVED = "auth.mfa_removed";
    /// An administrator removed an account's second factor (`obera reset-mfa`).
    AUTH_MFA_RESET = "auth.mfa_reset";
    CUSTOMER_CREATED = "customer.created";
    CUSTOMER_UPDATED = "customer.updated";
    CUSTOMER_STATUS_CHANGED = "customer.status_changed";
    CUSTOMIZATION_REPLACED = "customization.replaced";
    API_KEY_CREATED = "api_key.created";
    API_KEY_REVOKED = "api_key.revoked";
    /// A workflow credential was stored (its name and kind; never the secret).
    CREDENTIAL_CREATED = "credential.created";
    /// A workflow credential's secret was replaced (rotation).
    CREDENTIAL_SECRET_REPLACED = "credential.secret_replaced";
    /// A workflow credential was deleted.
    CREDENTIAL_DELETED = "credential.deleted";
    /// The hosts a customer's workflows may reach on private addresses changed.
    OUTBOUND_ALLOW_LIST_REPLACED = "outbound.allow_list_replaced";
    USER_INVITED = "user.invited";
    USER_INVITE_ACCEPTED = "user.invite_accepted";
    USER_INVITE_RENEWED = "user.invite_renewed";
    USER_INVITE_WITHDRAWN = "user.invite_withdrawn";
    USER_UPDATED = "user.updated";
    USER_DEACTIVATED = "user.deactivated";
    USER_REACTIVATED = "user.reactivated";
    /// An MSP operator entered a customer's data.
    OPERATOR_ACCESSED_CUSTOMER = "operator.accessed_customer";
    OPERATOR_DEACTIVATED = "operator.deactivated";
    OPERATOR_REACTIVATED = "operator.reactivated";
    DEMO_SEEDED = "demo.seeded";
    WORKFLOW_CREATED = "workflow.created";
    WORKFLOW_UPDATED = "workflow.updated";
    /// An edited definition was saved as the workflow's next version.
    WORKFLOW_VERSION_SAVED = "workflow.version_saved";
    /// A version became the one the workflow's triggers run.
    WORKFLOW_PUBLISHED = "workflow.published";
    /// Someone stopped a run before it finished.
    WORKFLOW_RUN_CANCELLED = "workflow.run_cancelled";
    /// An approver approved or rejected a run waiting on an approval step.
    WORKFLOW_APPROVAL_DECIDED = "workflow.approval_decided";
    /// Someone re-enabled an endpoint disabled after repeated failed deliveries.
    NOTIFY_ENDPOINT_ENABLED = "workflow.notify_endpoint_enabled";
    WORKFLOW_TRIGGER_CREATED = "workflow.trigger_created";
    WORKFLOW_TRIGGER_DELETED = "workflow.trigger_deleted";
    /// A trigger's signing secret was replaced (the old one may verify for an overlap).
    WORKFLOW_TRIGGER_SECRET_ROTATED = "workflow.trigger_secret_rotated";
    /// An MSP operator created an MSP-level workflow (a platform event).
    MSP_WORKFLOW_CREATED = "msp_workflow.created";
    /// An MSP operator changed an MSP-level workflow: its fields, definition or
    /// targets (a platform event).
    MSP_WORKFLOW_UPDATED = "msp_workflow.updated";
    /// An MSP operator deployed an MSP-level workflow to its targets (a platform
    /// event; each customer it reached also records the version saved and published).
    MSP_WORKFLOW_DEPLOYED = "msp_workflow.deployed";
}

/// The sets of tags the platform attaches to its own events, so compliance scoring
/// can count each event as evidence for the controls it satisfies.
pub mod compliance {
    use super::ComplianceTag;

    const fn tag(name: &'static str) -> ComplianceTag {
        ComplianceTag::from_static(name)
    }

    /// Authentication and access events (SOC 2 CC6.1, ISO 27001 A.5.15, NIST PR.AA).
    pub const ACCESS: &[ComplianceTag] = &[
        tag("soc2:CC6.1"),
        tag("iso27001:A.5.15"),
        tag("nist_csf:PR.AA"),
    ];
    /// Credential lifecycle: keys and accounts created or revoked (SOC 2 CC6.2).
    pub const CREDENTIALS: &[ComplianceTag] = &[
        tag("soc2:CC6.2"),
        tag("iso27001:A.5.16"),
        tag("hipaa:164.308(a)(4)"),
    ];
    /// Privileged access by MSP staff (SOC 2 CC6.3, CIS 5/6).
    pub const PRIVILEGED: &[ComplianceTag] =
        &[tag("soc2:CC6.3"), tag("cis:6.8"), tag("hipaa:164.312(b)")];
    /// Configuration changes (SOC 2 CC8.1).
    pub const CHANGE: &[ComplianceTag] = &[tag("soc2:CC8.1"), tag("iso27001:A.8.32")];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_checked() {
        for good in [
            "auth.login",
            "api_key.created",
            "integration.ninjaone.sync_failed",
        ] {
            assert!(AuditAction::try_from(good.to_owned()).is_ok(), "{good}");
        }
        for bad in [
            "",
            "login",
            "auth.",
            ".login",
            "Auth.Login",
            "auth..login",
            "auth.login!",
            "a.b.c.d.e",
        ] {
            assert!(AuditAction::try_from(bad.to_owned()).is_err(), "{bad}");
        }
        assert!(AuditAction::try_from("a.".repeat(40)).is_err());
    }

    #[test]
    fn compliance_tags_are_checked() {
        for good in [
            "soc2:CC6.1",
            "hipaa:164.308(a)(4)",
            "nist_csf:PR.AA",
            "cis:6.8",
        ] {
            assert!(ComplianceTag::try_from(good.to_owned()).is_ok(), "{good}");
        }
        for bad in [
            "",
            "soc2",
            "soc2:",
            ":CC6.1",
            "SOC2:CC6.1",
            "soc2:CC 6.1",
            "soc2:CC6.1;drop",
        ] {
            assert!(ComplianceTag::try_from(bad.to_owned()).is_err(), "{bad}");
        }
    }

    #[test]
    fn they_travel_as_plain_strings() {
        let json = serde_json::to_string(&AuditAction::AUTH_LOGIN).unwrap_or_default();
        assert_eq!(json, "\"auth.login\"");
        let back: Result<AuditAction, _> = serde_json::from_str("\"Not Valid\"");
        assert!(back.is_err());
        let tags: Vec<ComplianceTag> = serde_json::from_str("[\"soc2:CC6.2\"]").unwrap_or_default();
        assert_eq!(tags, compliance::CREDENTIALS[..1]);
    }
}
