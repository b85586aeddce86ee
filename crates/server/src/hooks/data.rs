//! The trigger data of a webhook run (`trigger` in expressions), as documented on
//! `obera_types::workflows::trigger`: `{ "body": …, "headers": { … }, "query": { … } }`.

use crate::error::ApiError;
use actix_web::http::header::HeaderMap;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Headers never copied into a run: they carry credentials.
const WITHHELD: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// Builds the trigger data from a delivery, leaving out the credentials and the
/// signature header. A body that is neither JSON nor UTF-8 text is a 400.
pub fn trigger_data(
    headers: &HeaderMap,
    signature_header: &str,
    body: &[u8],
    query: &str,
) -> Result<Value, ApiError> {
    let body = if body.is_empty() {
        Value::Null
    } else if let Ok(json) = serde_json::from_slice::<Value>(body) {
        json
    } else {
        let text = std::str::from_utf8(body).map_err(|_| {
            ApiError::BadRequest("the body is neither JSON nor UTF-8 text".to_owned())
        })?;
        Value::String(text.to_owned())
    };
    let mut kept: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, value) in headers {
        let name = name.as_str();
        if WITHHELD.contains(&name) || name == signature_header {
            continue;
        }
        // Header values that are not text cannot be shown as JSON strings; they are left out.
        if let Ok(value) = value.to_str() {
            kept.entry(name).or_default().push(value);
        }
    }
    let headers: Map<String, Value> = kept
        .into_iter()
        .map(|(name, values)| (name.to_owned(), Value::String(values.join(", "))))
        .collect();
    let query = actix_web::web::Query::<BTreeMap<String, String>>::from_query(query)
        .map_err(|e| ApiError::BadRequest(format!("invalid query parameters: {e}")))?
        .into_inner();
    Ok(json!({ "body": body, "headers": headers, "query": query }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn map(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        headers
    }

    #[test]
    fn json_text_and_empty_bodies_have_their_shape_and_secrets_stay_out() {
        let headers = map(&[
            ("x-github-event", "push"),
            ("x-hub-signature-256", "sha256=00"),
            ("authorization", "Bearer secret"),
            ("accept", "a"),
            ("accept", "b"),
        ]);
        let data = trigger_data(&headers, "x-hub-signature-256", br#"{"a":1}"#, "x=1&y=2").unwrap();
        assert_eq!(
            data,
            json!({ "body": { "a": 1 }, "headers": { "x-github-event": "push", "accept": "a, b" },
                    "query": { "x": "1", "y": "2" } })
        );
        let text = trigger_data(&HeaderMap::new(), "x", b"a=1&b=2", "").unwrap();
        assert_eq!(text["body"], json!("a=1&b=2"));
        let empty = trigger_data(&HeaderMap::new(), "x", b"", "").unwrap();
        assert_eq!(empty["body"], Value::Null);
        assert!(trigger_data(&HeaderMap::new(), "x", &[0xff, 0xfe], "").is_err());
    }
}
