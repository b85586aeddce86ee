//! Redaction of resolved secrets from what a step records.
//!
//! A step that sends a credential may see it again: a receiver that echoes the
//! request, an error page quoting the header. Before the runner stores a step's
//! output or error, every occurrence of each secret the step used (and, for `basic`
//! credentials, the base64 form that went on the wire) becomes `[redacted:<name>]`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use obera_types::{CredentialRef, CredentialSecret};
use serde_json::Value;

/// The secrets one step used, each with the text that replaces it.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    /// `(secret, replacement)`, longest secret first, so a secret that contains
    /// another is replaced whole.
    needles: Vec<(String, String)>,
}

impl Redactor {
    /// Adds the forms of credential `name`'s secret that may appear in a record.
    pub fn add(&mut self, name: &CredentialRef, secret: &CredentialSecret) {
        let replacement = format!("[redacted:{name}]");
        let forms = match secret {
            CredentialSecret::BearerToken(b) => vec![b.token.expose().to_owned()],
            CredentialSecret::Basic(b) => vec![
                b.password.expose().to_owned(),
                basic_token(b.username.as_str(), b.password.expose()),
            ],
            CredentialSecret::Header(h) => vec![h.value.expose().to_owned()],
            CredentialSecret::SigningSecret(s) => vec![s.secret.expose().to_owned()],
        };
        self.needles
            .extend(forms.into_iter().map(|f| (f, replacement.clone())));
        self.needles
            .sort_by_key(|(f, _)| std::cmp::Reverse(f.len()));
    }

    /// `text` with every secret replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (secret, replacement) in &self.needles {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), replacement);
            }
        }
        out
    }

    /// Replaces every secret inside `value`'s strings and object keys.
    pub fn value(&self, value: &mut Value) {
        if self.needles.is_empty() {
            return;
        }
        match value {
            Value::String(s) => *s = self.text(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.value(v)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut v) in entries {
                    self.value(&mut v);
                    map.insert(self.text(&key), v);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

/// `base64(username:password)`, as `Authorization: Basic` carries it.
pub fn basic_token(username: &str, password: &str) -> String {
    STANDARD.encode(format!("{username}:{password}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use obera_types::{BasicSecret, SecretValue};
    use serde_json::json;

    #[test]
    fn every_form_of_a_secret_is_replaced_in_strings_and_keys() {
        let name: CredentialRef = "psa".parse().unwrap();
        let secret = CredentialSecret::Basic(BasicSecret {
            username: "svc".parse().unwrap(),
            password: SecretValue::try_from("s3cret-pass".to_owned()).unwrap(),
        });
        let mut r = Redactor::default();
        r.add(&name, &secret);
        let wire = basic_token("svc", "s3cret-pass");
        let mut v = json!({ "echo": format!("Basic {wire}"), "list": ["x s3cret-pass y"], "s3cret-pass": 1, "n": 3 });
        r.value(&mut v);
        assert_eq!(
            v,
            json!({ "echo": "Basic [redacted:psa]", "list": ["x [redacted:psa] y"], "[redacted:psa]": 1, "n": 3 })
        );
        assert_eq!(
            r.text("HTTP 401: bad s3cret-pass"),
            "HTTP 401: bad [redacted:psa]"
        );
    }
}
