//! Closed vocabularies. Unknown values are rejected at deserialisation, so a
//! typo in a request is a 400, never a silently stored string.

use std::fmt;

macro_rules! text_enum {
    ($(#[doc = $doc:literal])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        string_enum_schema!($name, [$($doc),*], [$($text),+]);

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire and database spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::enums::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::enums::UnknownValue { kind: stringify!($name), value: other.to_owned() }),
                }
            }
        }
    };
}

/// Shared with `workflows::run`, whose status enums follow the same wire rules.
pub(crate) use text_enum;

/// A string that is not one of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} value `{}`", self.kind, self.value)
    }
}

impl std::error::Error for UnknownValue {}

text_enum!(
    /// Subscription tier of a customer.
    Plan { Starter => "starter", Professional => "professional", Enterprise => "enterprise" }
);

text_enum!(
    /// The order of the audit log listing. Keyset cursors work in either order.
    AuditOrder { OldestFirst => "oldest_first", NewestFirst => "newest_first" }
);

impl Default for AuditOrder {
    /// Oldest first, the order the list had before it could be chosen.
    fn default() -> Self {
        AuditOrder::OldestFirst
    }
}

text_enum!(
    /// Lifecycle of a customer. Suspended customers cannot sign in or use API keys.
    CustomerStatus { Active => "active", Suspended => "suspended" }
);

text_enum!(
    /// The department a person works in; it decides which dashboard and data they see.
    Department {
        Admin => "admin",
        Compliance => "compliance",
        It => "it",
        Operations => "operations",
        Hr => "hr",
        Finance => "finance",
        Sales => "sales",
        Executive => "executive",
        Soc => "soc",
    }
);

impl Department {
    /// The department's name as people read it ("IT", "HR", "SOC").
    pub fn label(self) -> &'static str {
        match self {
            Department::Admin => "Administration",
            Department::Compliance => "Compliance",
            Department::It => "IT",
            Department::Operations => "Operations",
            Department::Hr => "HR",
            Department::Finance => "Finance",
            Department::Sales => "Sales",
            Department::Executive => "Executive",
            Department::Soc => "SOC",
        }
    }
}

text_enum!(
    /// What a person may do inside their customer.
    /// `admin` manages the customer (users, keys, branding); `member` works in their
    /// department; `viewer` only reads.
    Role { Admin => "admin", Member => "member", Viewer => "viewer" }
);

text_enum!(
    /// Whether a profile can sign in.
    UserStatus { Invited => "invited", Active => "active", Deactivated => "deactivated" }
);

text_enum!(
    /// A permission carried by an API key.
    ApiScope {
        CustomerRead => "customer:read",
        CustomerWrite => "customer:write",
        UsersRead => "users:read",
        UsersWrite => "users:write",
        AuditRead => "audit:read",
        AuditWrite => "audit:write",
        WorkflowsRead => "workflows:read",
        WorkflowsWrite => "workflows:write",
        CredentialsRead => "credentials:read",
        CredentialsWrite => "credentials:write",
    }
);

text_enum!(
    /// The dashboard a customer's users land on.
    DashboardKind {
        Admin => "admin",
        Compliance => "compliance",
        It => "it",
        Operations => "operations",
        Hr => "hr",
        Finance => "finance",
        Sales => "sales",
        Executive => "executive",
        Soc => "soc",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_enum_value_round_trips_through_its_text() {
        for d in Department::ALL {
            assert_eq!(d.as_str().parse::<Department>(), Ok(*d));
            assert_eq!(
                serde_json::to_value(d).ok(),
                Some(serde_json::json!(d.as_str()))
            );
        }
        for s in ApiScope::ALL {
            let json = serde_json::to_string(s).unwrap_or_default();
            assert_eq!(serde_json::from_str::<ApiScope>(&json).ok(), Some(*s));
        }
    }

    #[test]
    fn an_unknown_department_is_rejected() {
        assert!("marketing".parse::<Department>().is_err());
        assert!(serde_json::from_str::<Department>("\"marketing\"").is_err());
    }
}
