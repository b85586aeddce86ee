//! Parse, don't validate: request fields that must have a shape are newtypes
//! whose `Deserialize` refuses bad input, so a handler never sees an invalid
//! email or colour and nothing invalid can be stored.

macro_rules! validated_string {
    ($(#[$meta:meta])* $name:ident, $format:literal, $check:path) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = $format))]
        pub struct $name(String);

        impl $name {
            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                $check(value).map($name)
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::try_from(s.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// Shared with `workflows`, whose step keys and credential names are validated the same way.
pub(crate) use validated_string;

validated_string!(
    /// An email address, trimmed and lower-cased so it compares as people expect.
    Email,
    "email",
    check_email
);
validated_string!(
    /// A CSS colour written as `#rgb` or `#rrggbb`, stored lower-case.
    HexColor,
    "color",
    check_hex_color
);
validated_string!(
    /// Display text of 1 to 200 characters after trimming.
    DisplayName,
    "text",
    check_display_name
);
validated_string!(
    /// A password of 10 to 256 characters.
    Password,
    "password",
    check_password
);
validated_string!(
    /// An `https://` (or `http://` for local development) URL of at most 2048 characters.
    WebUrl,
    "uri",
    check_web_url
);

fn check_email(value: String) -> Result<String, String> {
    let v = value.trim().to_lowercase();
    let valid = v.len() <= 254
        && v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
                && !domain.contains('@')
        })
        && !v.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(v)
    } else {
        Err(format!("`{value}` is not a valid email address"))
    }
}

fn check_hex_color(value: String) -> Result<String, String> {
    let v = value.trim().to_lowercase();
    let hex = v.strip_prefix('#').unwrap_or("");
    if (hex.len() == 3 || hex.len() == 6) && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(v)
    } else {
        Err(format!("`{value}` is not a colour; use #rgb or #rrggbb"))
    }
}

fn check_display_name(value: String) -> Result<String, String> {
    let v = value.trim().to_owned();
    let len = v.chars().count();
    if len == 0 {
        Err("must not be blank".to_owned())
    } else if len > 200 {
        Err("must be at most 200 characters".to_owned())
    } else if v.chars().any(char::is_control) {
        Err("must not contain control characters".to_owned())
    } else {
        Ok(v)
    }
}

fn check_password(value: String) -> Result<String, String> {
    let len = value.chars().count();
    if len < 10 {
        Err("password must be at least 10 characters".to_owned())
    } else if len > 256 {
        Err("password must be at most 256 characters".to_owned())
    } else {
        Ok(value)
    }
}

fn check_web_url(value: String) -> Result<String, String> {
    let v = value.trim().to_owned();
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"));
    match rest {
        Some(host)
            if !host.is_empty() && v.len() <= 2048 && !v.chars().any(char::is_whitespace) =>
        {
            Ok(v)
        }
        _ => Err(format!("`{value}` is not an http(s) URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_bad_ones_refused() {
        assert_eq!(
            Email::try_from(" Ann@Example.COM ".to_owned()).map(String::from),
            Ok("ann@example.com".to_owned())
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "ann@.com",
            "a@b@c.com",
        ] {
            assert!(Email::try_from(bad.to_owned()).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn colours_must_be_hex() {
        assert!(HexColor::try_from("#1A2b3C".to_owned()).is_ok());
        assert!(HexColor::try_from("#abc".to_owned()).is_ok());
        for bad in [
            "red",
            "#12345",
            "#ggg",
            "123456",
            "#1234567",
            "javascript:alert(1)",
        ] {
            assert!(
                HexColor::try_from(bad.to_owned()).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::try_from("  Acme  ".to_owned()).map(String::from),
            Ok("Acme".to_owned())
        );
        assert!(DisplayName::try_from("   ".to_owned()).is_err());
        assert!(DisplayName::try_from("x".repeat(201)).is_err());
    }

    #[test]
    fn urls_must_be_http() {
        assert!(WebUrl::try_from("https://cdn.example.com/logo.png".to_owned()).is_ok());
        assert!(WebUrl::try_from("javascript:alert(1)".to_owned()).is_err());
        assert!(WebUrl::try_from("https://".to_owned()).is_err());
    }
}
