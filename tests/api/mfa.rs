//! The second factor (TOTP): operators must enrol before anything else, sign-in asks
//! for the code once an account has one, codes and recovery codes work once, refused
//! codes count toward the login throttle, secrets are sealed and recovery codes
//! hashed at rest, and a customer's admins can make it mandatory for everyone.

use crate::both_backends;
use crate::helpers::*;
use obera_types::{
    ApiScope, Department, ErrorCode, LoginRequest, MfaCode, Role, Session, UpdateCustomer,
};
use reqwest::{Method, StatusCode};

async fn login_with(app: &TestApp, email: &str, password: &str, code: &str) -> Reply {
    let body = LoginRequest {
        mfa_code: Some(code.to_owned()),
        ..login_request(email, password)
    };
    app.post("/api/v1/auth/login", None, &body).await
}

async fn post_code(app: &TestApp, path: &str, token: &str, code: &str) -> Reply {
    let body = MfaCode {
        code: code.to_owned(),
    };
    app.post(&format!("/api/v1{path}"), Some(token), &body)
        .await
}

/// A customer update that only sets whether a second factor is mandatory.
fn mfa_required(required: bool) -> UpdateCustomer {
    UpdateCustomer {
        mfa_required: Some(required),
        ..UpdateCustomer::default()
    }
}

/// An operator without a second factor signs in to an enrolment-only session:
/// every other route answers 403 `mfa_enrolment_required` until a code confirms
/// the enrolment, and the next refresh is a full session.
async fn an_operator_must_enrol_before_doing_anything_else(app: TestApp) {
    let email = app.new_operator_account().await;
    let reply = app.login(&email, OPERATOR_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let session: Session = reply.json();
    assert!(session.me.mfa.required && !session.me.mfa.enrolled && session.me.mfa.enrolment_only);
    let token = session.access_token.clone();

    let reply = app.get("/api/v1/customers", &token).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    assert_eq!(reply.problem().code, ErrorCode::MfaEnrolmentRequired);
    let body = create_customer("Sneaky", "s@sneaky.example");
    let reply = app.create_customer(&token, &body).await;
    assert_eq!(
        reply.problem().code,
        ErrorCode::MfaEnrolmentRequired,
        "{}",
        reply.text
    );
    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);

    // Confirming before starting is refused; then start, and a wrong code is refused.
    assert_eq!(
        post_code(&app, "/me/mfa/enrolment/confirm", &token, "000000")
            .await
            .status,
        StatusCode::CONFLICT
    );
    let reply = app
        .send(
            Method::POST,
            "/api/v1/me/mfa/enrolment",
            Some(&token),
            None::<&()>,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let enrolment: obera_types::MfaEnrolment = reply.json();
    assert!(
        enrolment.otpauth_uri.starts_with("otpauth://totp/Obera:"),
        "{}",
        enrolment.otpauth_uri
    );
    assert!(
        enrolment
            .otpauth_uri
            .contains(&format!("secret={}", enrolment.secret))
    );
    assert!(enrolment.qr_svg.starts_with("<svg"), "{}", enrolment.qr_svg);
    let wrong = if totp_code(&enrolment.secret, 0) == "123456" {
        "654321"
    } else {
        "123456"
    };
    // 422 naming the field, not 401: the caller is signed in, only the code is wrong.
    let reply = post_code(&app, "/me/mfa/enrolment/confirm", &token, wrong).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert_eq!(reply.problem().errors[0].field, "code");

    let reply = post_code(
        &app,
        "/me/mfa/enrolment/confirm",
        &token,
        &totp_code(&enrolment.secret, 0),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let codes: obera_types::RecoveryCodes = reply.json();
    assert_eq!(codes.codes.len(), 10);
    // Enrolled: starting again is refused rather than silently replacing it.
    let again = app
        .send(
            Method::POST,
            "/api/v1/me/mfa/enrolment",
            Some(&token),
            None::<&()>,
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);

    let full = app.refresh(&body_refresh_token(&session)).await;
    assert!(
        full.me.mfa.enrolled && !full.me.mfa.enrolment_only,
        "{:?}",
        full.me.mfa
    );
    assert_eq!(full.me.mfa.recovery_codes_left, 10);
    assert_eq!(
        app.get("/api/v1/customers", &full.access_token)
            .await
            .status,
        StatusCode::OK
    );
    // The old enrolment-only token stays what it was.
    assert_eq!(
        app.get("/api/v1/customers", &token).await.status,
        StatusCode::FORBIDDEN
    );
}
both_backends!(an_operator_must_enrol_before_doing_anything_else);

/// With a second factor, a right password alone answers 401 `mfa_required`; the
/// code is then accepted once (a replayed code is refused).
async fn sign_in_asks_for_the_code_and_accepts_each_code_once(app: TestApp) {
    let (op, factor) = app.operator_with_factor().await;
    let reply = app.login(&op.email, OPERATOR_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    assert_eq!(reply.problem().code, ErrorCode::MfaRequired);
    // A wrong password with a code is still just wrong credentials.
    let reply = login_with(
        &app,
        &op.email,
        "wrong password",
        &totp_code(&factor.secret, 1),
    )
    .await;
    assert_eq!(
        reply.problem().code,
        ErrorCode::InvalidCredentials,
        "{}",
        reply.text
    );

    let code = totp_code(&factor.secret, 1);
    let reply = login_with(&app, &op.email, OPERATOR_PASSWORD, &code).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let session: Session = reply.json();
    assert!(!session.me.mfa.enrolment_only);
    assert_eq!(
        app.get("/api/v1/customers", &session.access_token)
            .await
            .status,
        StatusCode::OK
    );

    let replay = login_with(&app, &op.email, OPERATOR_PASSWORD, &code).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "{}", replay.text);
    assert_eq!(replay.problem().code, ErrorCode::MfaCodeInvalid);
    // The enrolment's own code (an older step) is refused too.
    let older = login_with(
        &app,
        &op.email,
        OPERATOR_PASSWORD,
        &totp_code(&factor.secret, 0),
    )
    .await;
    assert_eq!(
        older.problem().code,
        ErrorCode::MfaCodeInvalid,
        "{}",
        older.text
    );
}
both_backends!(sign_in_asks_for_the_code_and_accepts_each_code_once);

/// A recovery code signs in once, in any case and without its dash; the database
/// holds neither the TOTP secret nor any recovery code in clear.
async fn recovery_codes_work_once_and_nothing_is_stored_in_clear(app: TestApp) {
    let (op, factor) = app.operator_with_factor().await;
    let code = factor.recovery_codes[0].clone();
    let typed = code.to_lowercase().replace('-', "");
    let reply = login_with(&app, &op.email, OPERATOR_PASSWORD, &typed).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let session: Session = reply.json();
    assert_eq!(session.me.mfa.recovery_codes_left, 9);
    let again = login_with(&app, &op.email, OPERATOR_PASSWORD, &code).await;
    assert_eq!(
        again.problem().code,
        ErrorCode::MfaCodeInvalid,
        "{}",
        again.text
    );

    let secret = totp_rs::Secret::try_from_base32(&factor.secret)
        .unwrap()
        .as_bytes()
        .to_vec();
    let sealed: Vec<u8> = app
        .db
        .second_factor(op.user_id)
        .await
        .unwrap()
        .unwrap()
        .sealed_secret;
    assert!(
        !sealed.windows(secret.len()).any(|w| w == secret),
        "the TOTP secret is stored in clear"
    );
    assert!(
        !sealed
            .windows(factor.secret.len())
            .any(|w| w == factor.secret.as_bytes())
    );
    // Every stored recovery code is the SHA-256 of a code as issued, and nothing else.
    let hashes: Vec<String> = factor
        .recovery_codes
        .iter()
        .map(|c| {
            use sha2::Digest;
            sha2::Sha256::digest(c.replace('-', "").as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        })
        .collect();
    let quoted: Vec<String> = hashes.iter().map(|h| format!("'{h}'")).collect();
    let sql: &'static str = Box::leak(
        format!(
            "SELECT COUNT(*) FROM recovery_codes WHERE code_hash IN ({})",
            quoted.join(",")
        )
        .into_boxed_str(),
    );
    assert_eq!(
        app.db
            .count_visible_rows(op.customer_id, sql)
            .await
            .unwrap(),
        10
    );
    assert_eq!(
        app.db
            .count_visible_rows(op.customer_id, "SELECT COUNT(*) FROM recovery_codes")
            .await
            .unwrap(),
        10
    );
}
both_backends!(recovery_codes_work_once_and_nothing_is_stored_in_clear);

/// Wrong codes behind a right password are failed attempts: after the account's
/// limit even the right code is refused with 429. A right password without a code
/// is not a failure, so asking for the code never locks anyone out.
async fn refused_codes_count_toward_the_login_throttle(app: TestApp) {
    let (op, factor) = app.operator_with_factor().await;
    for _ in 0..6 {
        assert_eq!(
            app.login(&op.email, OPERATOR_PASSWORD).await.problem().code,
            ErrorCode::MfaRequired
        );
    }
    let right = totp_code(&factor.secret, 1);
    let wrong = if right == "111111" {
        "222222"
    } else {
        "111111"
    };
    for _ in 0..3 {
        let reply = login_with(&app, &op.email, OPERATOR_PASSWORD, wrong).await;
        assert_eq!(
            reply.problem().code,
            ErrorCode::MfaCodeInvalid,
            "{}",
            reply.text
        );
    }
    let reply = login_with(&app, &op.email, OPERATOR_PASSWORD, &right).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the right code got in after the limit: {}",
        reply.text
    );
    assert!(reply.headers.contains_key("retry-after"));
}
both_backends!(refused_codes_count_toward_the_login_throttle, |s| s
    .login_max_failures =
    3);

/// A customer admin may turn a second factor on for themselves, and require it for
/// the organisation only once enrolled; an API key may not change the policy. Once
/// required, a member without one is limited to enrolling, and no one can remove it.
async fn a_customer_admin_can_make_it_mandatory_for_the_organisation(app: TestApp) {
    let admin = app.signup("Acme").await;
    let member = app
        .add_member(&admin, Department::Finance, Role::Member)
        .await;
    let customer = format!("/api/v1/customers/{}", admin.customer_id);
    let require = mfa_required(true);

    let reply = app.patch(&customer, &admin.token, &require).await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "an admin without a second factor required one: {}",
        reply.text
    );
    let key = app.api_key(&admin, &[ApiScope::CustomerWrite]).await;
    let reply = app.patch(&customer, &key.secret, &require).await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "an API key changed the policy: {}",
        reply.text
    );

    // Optional for the admin: enrolling makes sign-in ask for the code.
    let (admin, factor) = app.enrol(admin).await;
    assert_eq!(
        app.login(&admin.email, "correct horse battery")
            .await
            .problem()
            .code,
        ErrorCode::MfaRequired
    );
    let reply = app.patch(&customer, &admin.token, &require).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body: obera_types::Customer = reply.json();
    assert!(body.mfa_required);

    // The member's next session is enrolment-only.
    let session = app.refresh(&member.refresh_token).await;
    assert!(session.me.mfa.enrolment_only, "{:?}", session.me.mfa);
    let reply = app
        .get(&format!("{customer}/users"), &session.access_token)
        .await;
    assert_eq!(
        reply.problem().code,
        ErrorCode::MfaEnrolmentRequired,
        "{}",
        reply.text
    );

    // Mandatory: the admin cannot remove their own; once optional again they can.
    let reply = post_code(
        &app,
        "/me/mfa/disable",
        &admin.token,
        &totp_code(&factor.secret, 1),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    let reply = app
        .patch(&customer, &admin.token, &mfa_required(false))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let reply = post_code(
        &app,
        "/me/mfa/disable",
        &admin.token,
        &factor.recovery_codes[1],
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    assert_eq!(
        app.login(&admin.email, "correct horse battery")
            .await
            .status,
        StatusCode::OK
    );

    let actions = app.audit_actions(&admin).await;
    for action in [
        "auth.mfa_enrolled",
        "auth.recovery_code_used",
        "auth.mfa_removed",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} missing from {actions:?}"
        );
    }
}
both_backends!(a_customer_admin_can_make_it_mandatory_for_the_organisation);

/// New recovery codes replace the old ones; the call needs a valid code, and API
/// keys cannot reach the second-factor routes at all.
async fn replacing_recovery_codes_ends_the_old_ones(app: TestApp) {
    let (op, factor) = app.operator_with_factor().await;
    let reply = post_code(&app, "/me/mfa/recovery-codes", &op.token, "not a code").await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    let reply = post_code(
        &app,
        "/me/mfa/recovery-codes",
        &op.token,
        &totp_code(&factor.secret, 1),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let fresh: obera_types::RecoveryCodes = reply.json();
    assert_eq!(fresh.codes.len(), 10);
    let old = login_with(
        &app,
        &op.email,
        OPERATOR_PASSWORD,
        &factor.recovery_codes[0],
    )
    .await;
    assert_eq!(
        old.problem().code,
        ErrorCode::MfaCodeInvalid,
        "{}",
        old.text
    );
    let new = login_with(&app, &op.email, OPERATOR_PASSWORD, &fresh.codes[0]).await;
    assert_eq!(new.status, StatusCode::OK, "{}", new.text);
    // Operators may never remove theirs.
    let reply = post_code(&app, "/me/mfa/disable", &op.token, &fresh.codes[1]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);

    let admin = app.signup("Acme").await;
    let key = app.api_key(&admin, &[ApiScope::UsersWrite]).await;
    let reply = app
        .send(
            Method::POST,
            "/api/v1/me/mfa/enrolment",
            Some(&key.secret),
            None::<&()>,
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
}
both_backends!(replacing_recovery_codes_ends_the_old_ones);
