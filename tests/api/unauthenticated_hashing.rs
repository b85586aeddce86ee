//! Password hashing that anyone can trigger without an account is bounded: bogus
//! invitations never hash, concurrent hashing is capped (the excess is shed with
//! 503), and sign-up, invitation acceptance and demo entry are throttled per address.

use crate::both_backends;
use crate::helpers::*;
use obera_types::*;
use reqwest::StatusCode;
use std::time::{Duration, Instant};

/// A line of `/proc/self/status` in MiB (`VmHWM`, `VmRSS`). The test server runs in
/// this process, so these are the server's figures.
fn memory_mib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kib| kib / 1024)
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// Status and `Retry-After` of each reply to `bodies`, all sent to `path` at once.
async fn post_all_at_once(
    app: &TestApp,
    path: &str,
    bodies: Vec<impl serde::Serialize>,
) -> Vec<(StatusCode, Option<String>)> {
    let mut set = tokio::task::JoinSet::new();
    for body in bodies {
        let request = app
            .client
            .post(format!("{}{path}", app.address))
            .json(&body);
        set.spawn(async move {
            let res = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("request: {e}"));
            let retry = res
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            (res.status(), retry)
        });
    }
    set.join_all().await
}

/// Asks `/health` every 50 ms until `stop` is set; returns the slowest answer, or
/// panics if one fails or takes over two seconds.
fn watch_health(
    app: &TestApp,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<Duration> {
    let client = app.client.clone();
    let url = format!("{}/health", app.address);
    tokio::spawn(async move {
        let mut slowest = Duration::ZERO;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let started = Instant::now();
            let res = tokio::time::timeout(Duration::from_secs(2), client.get(&url).send())
                .await
                .unwrap_or_else(|_| panic!("/health did not answer within 2 s"))
                .unwrap_or_else(|e| panic!("/health: {e}"));
            assert_eq!(res.status(), StatusCode::OK);
            slowest = slowest.max(started.elapsed());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        slowest
    })
}

/// Five hundred bogus invitation acceptances at once: none hashes a password, the
/// server stays under 512 MiB and `/health` keeps answering.
async fn five_hundred_concurrent_bogus_invitation_acceptances_keep_memory_bounded_and_health_answering(
    app: TestApp,
) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let health = watch_health(&app, stop.clone());
    let bodies = (0..500)
        .map(|n| AcceptInviteRequest {
            invite_token: format!("bogus-token-{n}"),
            password: parse("a long enough password"),
        })
        .collect();
    let answers = post_all_at_once(&app, "/api/v1/auth/accept-invite", bodies).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let slowest = health
        .await
        .unwrap_or_else(|e| panic!("health watcher: {e}"));
    let (peak, now) = (memory_mib("VmHWM"), memory_mib("VmRSS"));
    eprintln!(
        "500 bogus accept-invite: VmHWM {peak} MiB, VmRSS {now} MiB, slowest /health {slowest:?}"
    );
    let other: Vec<StatusCode> = answers
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| *s != StatusCode::NOT_FOUND)
        .collect();
    assert!(
        other.is_empty(),
        "bogus invitations got other answers than 404: {other:?}"
    );
    assert!(peak <= 512, "the server peaked at {peak} MiB");
}
// A generous pool wait: 500 requests share 5 connections, and on a loaded machine
// the default 2 s would shed some with 503, which is right but not what this counts.
both_backends!(
    five_hundred_concurrent_bogus_invitation_acceptances_keep_memory_bounded_and_health_answering,
    |s| {
        s.auth_max_per_address = 100_000;
        s.database_acquire_timeout_ms = 60_000;
    }
);

/// Five hundred sign-ins at once that each need a password check (unknown
/// accounts from one address, throttle raised): the default hashing cap keeps
/// the server under 512 MiB and `/health` answering; what the cap cannot take in
/// time is shed with 503.
async fn five_hundred_concurrent_password_checks_stay_under_the_memory_bound_with_the_default_cap(
    app: TestApp,
) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let health = watch_health(&app, stop.clone());
    let bodies = (0..500)
        .map(|n| login_request(&format!("nobody-{n}@example.com"), "wrong password"))
        .collect();
    let answers = post_all_at_once(&app, "/api/v1/auth/login", bodies).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let slowest = health
        .await
        .unwrap_or_else(|e| panic!("health watcher: {e}"));
    let checked = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::UNAUTHORIZED)
        .count();
    let shed = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    let peak = memory_mib("VmHWM");
    eprintln!(
        "500 logins at once, default cap: {checked} checked, {shed} shed, VmHWM {peak} MiB, slowest /health {slowest:?}"
    );
    assert_eq!(checked + shed, 500, "answers other than 401 and 503");
    assert!(peak <= 512, "the server peaked at {peak} MiB");
}
both_backends!(
    five_hundred_concurrent_password_checks_stay_under_the_memory_bound_with_the_default_cap,
    |s| s.login_max_failures = 100_000
);

/// More concurrent password checks than the cap allows: the excess waits a short
/// time, then is shed with 503 and `Retry-After`, and memory stays bounded.
async fn password_checks_beyond_the_concurrency_cap_are_shed_with_503_and_retry_after(
    app: TestApp,
) {
    let bodies = (0..100)
        .map(|n| login_request(&format!("nobody-{n}@example.com"), "wrong password"))
        .collect();
    let answers = post_all_at_once(&app, "/api/v1/auth/login", bodies).await;
    let checked = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::UNAUTHORIZED)
        .count();
    let shed: Vec<_> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    eprintln!(
        "100 logins at once, one hashing slot: {checked} checked, {} shed, VmHWM {} MiB",
        shed.len(),
        memory_mib("VmHWM")
    );
    assert_eq!(checked + shed.len(), 100, "answers other than 401 and 503");
    assert!(checked >= 1, "nothing was checked");
    assert!(
        !shed.is_empty(),
        "nothing was shed with one hashing slot and a 1 ms queue"
    );
    for (_, retry) in shed {
        let secs: u64 = retry
            .as_deref()
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("503 without a numeric Retry-After"));
        assert!(secs >= 1);
    }
    assert!(memory_mib("VmHWM") <= 512);
    // Once the burst is over, sign-in works again.
    let admin = app.signup("Acme").await;
    assert_eq!(
        app.login(&admin.email, "correct horse battery")
            .await
            .status,
        StatusCode::OK
    );
}
both_backends!(
    password_checks_beyond_the_concurrency_cap_are_shed_with_503_and_retry_after,
    |s| {
        s.login_max_failures = 100_000;
        s.password_hash_concurrency = 1;
        s.password_hash_queue_ms = 1;
    }
);

/// Sign-up, invitation acceptance and demo entry each have their own per-address
/// budget; past it they answer 429 with `Retry-After`, before any hashing.
async fn sign_up_invitation_acceptance_and_demo_entry_are_throttled_per_address(app: TestApp) {
    let mut admins = Vec::new();
    for n in 0..3 {
        admins.push(app.signup(&format!("Company {n}")).await);
    }
    let body = signup_request(
        "One Too Many",
        "A",
        "late@example.com",
        "correct horse battery",
    );
    let reply = app.try_signup(&body).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.text
    );
    assert_eq!(reply.problem().code, ErrorCode::RateLimited);
    let secs: u64 = reply
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or_else(|| panic!("no numeric Retry-After"));
    assert!((840..=900).contains(&secs), "Retry-After {secs}");
    let op = app.operator().await;
    let page: CustomerPage = app.get("/api/v1/customers", &op.token).await.json();
    assert_eq!(
        page.items.len(),
        3,
        "the refused sign-up created a customer"
    );

    for _ in 0..3 {
        assert_eq!(
            app.accept_invite("no-such-token", "a long enough password")
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        app.accept_invite("no-such-token", "a long enough password")
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );

    for _ in 0..3 {
        assert_eq!(
            app.demo_login(Department::It).await.status,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        app.demo_login(Department::It).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Sign-in has its own budget, untouched by all of the above.
    assert_eq!(
        app.login(&admins[0].email, "correct horse battery")
            .await
            .status,
        StatusCode::OK
    );
}
both_backends!(
    sign_up_invitation_acceptance_and_demo_entry_are_throttled_per_address,
    |s| s.auth_max_per_address = 3
);

/// An office accepting many invitations from one address is not locked out: a
/// successful acceptance gives its attempt back, while bogus tokens still count.
async fn successful_invitation_acceptances_do_not_use_up_the_address_budget(app: TestApp) {
    let admin = app.signup("Acme").await;
    for _ in 0..3 {
        app.add_member(&admin, Department::Hr, Role::Member).await;
    }
    for _ in 0..2 {
        assert_eq!(
            app.accept_invite("no-such-token", "a long enough password")
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        app.accept_invite("no-such-token", "a long enough password")
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
}
both_backends!(
    successful_invitation_acceptances_do_not_use_up_the_address_budget,
    |s| s.auth_max_per_address = 2
);
