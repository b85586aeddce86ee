//! Every preset against arbitrary headers and bodies (10,000 cases per property):
//! nothing panics, nothing unsigned passes, a correct signature passes, and changing
//! one byte of the body, the key or the signed timestamp fails. The signatures here
//! are computed with `hmac` directly, from each sender's documentation, not with the
//! code under test.

#![allow(clippy::unwrap_used)]

use super::*;
use obera_types::{
    GithubVerification, HmacSha256Verification, StandardWebhooksVerification, StripeVerification,
};
use proptest::prelude::*;

const NOW: i64 = 1_767_225_600;
const CASES: u32 = 10_000;

struct Map(Vec<(&'static str, Vec<u8>)>);

impl Headers for Map {
    fn get(&self, name: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_slice())
    }
}

fn sign(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

fn generic() -> WebhookVerification {
    WebhookVerification::HmacSha256(HmacSha256Verification {
        header: "x-signature".parse().unwrap(),
        encoding: SignatureEncoding::Base64,
        prefix: Some("sha256=".parse().unwrap()),
    })
}
fn github() -> WebhookVerification {
    WebhookVerification::Github(GithubVerification {})
}
fn stripe() -> WebhookVerification {
    WebhookVerification::Stripe(StripeVerification {})
}
fn standard() -> WebhookVerification {
    WebhookVerification::StandardWebhooks(StandardWebhooksVerification {})
}

/// A header value: arbitrary bytes, or text shaped like the real thing (so the
/// parsers get past their first check and the signature comparison is reached).
fn value(shaped: impl Strategy<Value = String>) -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        1 => Just(None),
        2 => proptest::collection::vec(any::<u8>(), 0..120).prop_map(Some),
        3 => shaped.prop_map(|s| Some(s.into_bytes())),
    ]
}

fn headers(pairs: Vec<(&'static str, Option<Vec<u8>>)>) -> Map {
    Map(pairs
        .into_iter()
        .filter_map(|(n, v)| v.map(|v| (n, v)))
        .collect())
}

/// Flips one bit of byte `at` (modulo the length) of `bytes`, if it has any.
fn flipped(mut bytes: Vec<u8>, at: usize, bit: u8) -> Vec<u8> {
    if !bytes.is_empty() {
        let i = at % bytes.len();
        bytes[i] ^= 1 << (bit % 8);
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn unsigned_generic_deliveries_are_refused(
        signature in value("sha256=[A-Za-z0-9+/=]{0,60}"),
        body in proptest::collection::vec(any::<u8>(), 0..200),
        key in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let delivery = headers(vec![("x-signature", signature)]);
        prop_assert!(verify(&generic(), &[key], &delivery, &body, NOW).is_err());
    }

    #[test]
    fn signed_generic_deliveries_pass_and_any_change_fails(
        body in proptest::collection::vec(any::<u8>(), 0..200),
        key in proptest::collection::vec(any::<u8>(), 1..64),
        at in any::<usize>(), bit in any::<u8>(),
    ) {
        let header = |sig: &[u8]| headers(vec![("x-signature", Some(format!("sha256={}", STANDARD.encode(sig)).into_bytes()))]);
        let good = header(&sign(&key, &[&body]));
        prop_assert_eq!(verify(&generic(), std::slice::from_ref(&key), &good, &body, NOW), Ok(()));
        if !body.is_empty() {
            let changed = flipped(body.clone(), at, bit);
            prop_assert_eq!(verify(&generic(), std::slice::from_ref(&key), &good, &changed, NOW), Err(Rejection::Mismatch));
        }
        let other = flipped(key.clone(), at, bit);
        prop_assert_eq!(verify(&generic(), &[other], &good, &body, NOW), Err(Rejection::Mismatch));
    }

    #[test]
    fn unsigned_github_deliveries_are_refused(
        signature in value("sha256=[0-9a-fA-F]{0,70}"),
        body in proptest::collection::vec(any::<u8>(), 0..200),
        key in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let delivery = headers(vec![("x-hub-signature-256", signature)]);
        prop_assert!(verify(&github(), &[key], &delivery, &body, NOW).is_err());
    }

    #[test]
    fn signed_github_deliveries_pass_and_any_change_fails(
        body in proptest::collection::vec(any::<u8>(), 0..200),
        key in "[0-9a-f]{64}",
        at in any::<usize>(), bit in any::<u8>(),
    ) {
        let key = key.into_bytes();
        let sig = hex::encode(sign(&key, &[&body]));
        let good = headers(vec![("x-hub-signature-256", Some(format!("sha256={sig}").into_bytes()))]);
        prop_assert_eq!(verify(&github(), std::slice::from_ref(&key), &good, &body, NOW), Ok(()));
        if !body.is_empty() {
            let changed = flipped(body.clone(), at, bit);
            prop_assert_eq!(verify(&github(), std::slice::from_ref(&key), &good, &changed, NOW), Err(Rejection::Mismatch));
        }
        prop_assert_eq!(verify(&github(), &[flipped(key, at, bit)], &good, &body, NOW), Err(Rejection::Mismatch));
    }

    #[test]
    fn unsigned_stripe_deliveries_are_refused(
        signature in value(
            (NOW - 400..NOW + 400, "[0-9a-f]{0,70}")
                .prop_map(|(t, v1)| format!("t={t},v1={v1},v0=00"))
        ),
        body in proptest::collection::vec(any::<u8>(), 0..200),
        key in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let delivery = headers(vec![("stripe-signature", signature)]);
        prop_assert!(verify(&stripe(), &[key], &delivery, &body, NOW).is_err());
    }

    #[test]
    fn signed_stripe_deliveries_pass_and_any_change_fails(
        body in proptest::collection::vec(any::<u8>(), 0..200),
        key in "whsec_[0-9a-f]{64}",
        skew in -TOLERANCE_SECS..=TOLERANCE_SECS,
        stale in TOLERANCE_SECS + 1..100_000,
        at in any::<usize>(), bit in any::<u8>(),
    ) {
        let key = key.into_bytes();
        let t = (NOW + skew).to_string();
        let header = |t: &str, sig: &[u8]| headers(vec![("stripe-signature", Some(format!("t={t},v1={},v1=abcd", hex::encode(sig)).into_bytes()))]);
        let good = header(&t, &sign(&key, &[t.as_bytes(), b".", &body]));
        prop_assert_eq!(verify(&stripe(), std::slice::from_ref(&key), &good, &body, NOW), Ok(()));
        if !body.is_empty() {
            let changed = flipped(body.clone(), at, bit);
            prop_assert_eq!(verify(&stripe(), std::slice::from_ref(&key), &good, &changed, NOW), Err(Rejection::Mismatch));
        }
        prop_assert_eq!(verify(&stripe(), &[flipped(key.clone(), at, bit)], &good, &body, NOW), Err(Rejection::Mismatch));
        let old = (NOW - stale).to_string();
        let replayed = header(&old, &sign(&key, &[old.as_bytes(), b".", &body]));
        prop_assert_eq!(
            verify(&stripe(), std::slice::from_ref(&key), &replayed, &body, NOW),
            Err(Rejection::Stale("stripe-signature".to_owned()))
        );
    }

    #[test]
    fn unsigned_standard_webhooks_deliveries_are_refused(
        id in value("msg_[A-Za-z0-9]{0,20}"),
        timestamp in value((NOW - 400..NOW + 400).prop_map(|t| t.to_string())),
        signature in value("(v1,[A-Za-z0-9+/=]{0,50} ?){0,3}"),
        body in proptest::collection::vec(any::<u8>(), 0..200),
        key in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let delivery = headers(vec![("webhook-id", id), ("webhook-timestamp", timestamp), ("webhook-signature", signature)]);
        prop_assert!(verify(&standard(), &[key], &delivery, &body, NOW).is_err());
    }

    #[test]
    fn signed_standard_webhooks_deliveries_pass_and_any_change_fails(
        body in proptest::collection::vec(any::<u8>(), 0..200),
        key in proptest::array::uniform32(any::<u8>()),
        id in "msg_[A-Za-z0-9]{1,20}",
        skew in -TOLERANCE_SECS..=TOLERANCE_SECS,
        stale in TOLERANCE_SECS + 1..100_000,
        at in any::<usize>(), bit in any::<u8>(),
    ) {
        let secret = format!("whsec_{}", STANDARD.encode(key));
        let keys = vec![hmac_key(&standard(), &secret).unwrap()];
        let sent = |t: &str, sig: &[u8]| headers(vec![
            ("webhook-id", Some(id.clone().into_bytes())),
            ("webhook-timestamp", Some(t.as_bytes().to_vec())),
            // A rotation: the old secret's signature first, then the current one's.
            ("webhook-signature", Some(format!("v1,{} v1,{}", STANDARD.encode([0u8; 32]), STANDARD.encode(sig)).into_bytes())),
        ]);
        let t = (NOW + skew).to_string();
        let good = sent(&t, &sign(&key, &[id.as_bytes(), b".", t.as_bytes(), b".", &body]));
        prop_assert_eq!(verify(&standard(), &keys, &good, &body, NOW), Ok(()));
        if !body.is_empty() {
            let changed = flipped(body.clone(), at, bit);
            prop_assert_eq!(verify(&standard(), &keys, &good, &changed, NOW), Err(Rejection::Mismatch));
        }
        prop_assert_eq!(verify(&standard(), &[flipped(key.to_vec(), at, bit)], &good, &body, NOW), Err(Rejection::Mismatch));
        let old = (NOW - stale).to_string();
        let replayed = sent(&old, &sign(&key, &[id.as_bytes(), b".", old.as_bytes(), b".", &body]));
        prop_assert_eq!(
            verify(&standard(), &keys, &replayed, &body, NOW),
            Err(Rejection::Stale("webhook-timestamp".to_owned()))
        );
    }
}

#[test]
fn a_previous_key_still_verifies_and_a_missing_header_is_named() {
    let (old, new) = (b"old secret".to_vec(), b"new secret".to_vec());
    let body = br#"{"zen":"Keep it logically awesome."}"#;
    let signed_with_old = headers(vec![(
        "x-hub-signature-256",
        Some(format!("sha256={}", hex::encode(sign(&old, &[body]))).into_bytes()),
    )]);
    assert_eq!(
        verify(&github(), &[new.clone(), old], &signed_with_old, body, NOW),
        Ok(())
    );
    assert_eq!(
        verify(&github(), &[new], &signed_with_old, body, NOW),
        Err(Rejection::Mismatch)
    );
    assert_eq!(
        verify(&github(), &[], &headers(vec![]), body, NOW),
        Err(Rejection::Missing("x-hub-signature-256".to_owned()))
    );
}

#[test]
fn each_preset_makes_a_secret_its_key_reads() {
    for preset in [generic(), github(), stripe(), standard()] {
        let secret = new_secret(&preset);
        let key = hmac_key(&preset, &secret).unwrap();
        assert!(key.len() >= 32, "{secret}");
    }
    assert!(new_secret(&standard()).starts_with("whsec_"));
    assert_eq!(hmac_key(&standard(), "not whsec"), None);
}

#[test]
fn the_delivery_id_comes_from_the_presets_header_or_the_idempotency_key() {
    let sent = headers(vec![
        ("x-github-delivery", Some(b"72d3162e".to_vec())),
        ("webhook-id", Some(b"msg_1".to_vec())),
        ("idempotency-key", Some(b"key-1".to_vec())),
    ]);
    assert_eq!(
        delivery_id(&github(), &sent, b""),
        Some("72d3162e".to_owned())
    );
    assert_eq!(
        delivery_id(&standard(), &sent, b""),
        Some("msg_1".to_owned())
    );
    assert_eq!(
        delivery_id(&generic(), &sent, b""),
        Some("key-1".to_owned())
    );
    assert_eq!(
        delivery_id(&stripe(), &headers(vec![]), br#"{"id":"evt_1"}"#),
        Some("evt_1".to_owned())
    );
    assert_eq!(delivery_id(&stripe(), &headers(vec![]), b"[]"), None);
}

/// What Obera signs as a sender verifies as a Standard Webhooks receiver, and only
/// for that body, id and key.
#[test]
fn outbound_standard_webhooks_signatures_verify_as_inbound_ones() {
    let key = standard_webhooks_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    assert_eq!(standard_webhooks_key("not-a-whsec-secret"), None);
    let body = br#"{"event":"ticket.created"}"#;
    let signed = |key: &[u8], id: &str, body: &[u8]| {
        Map(standard_webhooks_headers(key, id, NOW, body)
            .into_iter()
            .map(|(name, value)| (name, value.into_bytes()))
            .collect())
    };
    let good = signed(&key, "msg_1", body);
    assert_eq!(
        verify(&standard(), std::slice::from_ref(&key), &good, body, NOW),
        Ok(())
    );
    assert_eq!(
        delivery_id(&standard(), &good, body).as_deref(),
        Some("msg_1")
    );
    let tampered = br#"{"event":"ticket.deleted"}"#;
    assert_eq!(
        verify(
            &standard(),
            std::slice::from_ref(&key),
            &good,
            tampered,
            NOW
        ),
        Err(Rejection::Mismatch)
    );
    let other_key = signed(b"another key", "msg_1", body);
    assert_eq!(
        verify(&standard(), &[key], &other_key, body, NOW),
        Err(Rejection::Mismatch)
    );
}
