//! The last active admin of a customer cannot disappear, even when two admins remove
//! each other at the same moment.

use crate::both_backends;
use crate::helpers::{Member, TestApp};
use obera_store::Db;
use obera_types::*;
use reqwest::StatusCode;

const ROUNDS: usize = 8;

/// The customer's active admins, read from the database rather than through the server.
async fn active_admins(app: &TestApp, customer: CustomerId) -> i64 {
    match &app.db {
        // Row-level security confines the count to the customer.
        Db::Postgres(_) => app.db.count_visible_rows(customer, "SELECT COUNT(*) FROM user_profiles WHERE role = 'admin' AND status = 'active'").await.unwrap(),
        Db::Sqlite(pool) => sqlx::query_scalar("SELECT COUNT(*) FROM user_profiles WHERE role = 'admin' AND status = 'active' AND customer_id = $1")
            .bind(customer.0)
            .fetch_one(pool)
            .await
            .unwrap(),
    }
}

/// `actor` removes `target`'s admin rights: demotes them, or deactivates them.
fn remove(
    app: &TestApp,
    actor: &Member,
    target: &Member,
    deactivate: bool,
) -> tokio::task::JoinHandle<StatusCode> {
    let users = format!(
        "{}/api/v1/customers/{}/users/{}",
        app.address, actor.customer_id, target.user_id
    );
    // Deactivation takes no body, as everywhere else in the tests.
    let request = if deactivate {
        app.client.post(format!("{users}/deactivate"))
    } else {
        app.client.patch(users).json(&UpdateUser {
            role: Some(Role::Member),
            ..UpdateUser::default()
        })
    };
    let request = request.bearer_auth(&actor.token);
    tokio::spawn(async move { request.send().await.unwrap().status() })
}

/// Gives `target` back what `remove` took, acting as `winner`.
async fn restore(app: &TestApp, winner: &Member, target: &Member, deactivate: bool) {
    let users = format!(
        "/api/v1/customers/{}/users/{}",
        winner.customer_id, target.user_id
    );
    let reply = if deactivate {
        app.send(
            reqwest::Method::POST,
            &format!("{users}/reactivate"),
            Some(&winner.token),
            None::<&()>,
        )
        .await
    } else {
        let promote = UpdateUser {
            role: Some(Role::Admin),
            ..UpdateUser::default()
        };
        app.patch(&users, &winner.token, &promote).await
    };
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

/// Two admins demoting (or deactivating) each other concurrently: one wins, the other
/// is refused, and the customer always keeps an active admin. Another customer's
/// admins are untouched.
async fn two_admins_removing_each_other_at_once_leave_one_admin(app: TestApp) {
    let first = app.signup("Acme").await;
    let second = app.add_member(&first, Department::Admin, Role::Admin).await;
    let bystander = app.signup("Other").await;
    let mut refused = Vec::new();
    for round in 0..ROUNDS {
        let deactivate = round % 2 == 1;
        let a = remove(&app, &first, &second, deactivate);
        let b = remove(&app, &second, &first, deactivate);
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        assert!(
            active_admins(&app, first.customer_id).await >= 1,
            "round {round}: no active admin left ({a}, {b})"
        );
        let (winner, loser, lost) = match (a, b) {
            (StatusCode::OK, lost) => (&first, &second, lost),
            (lost, StatusCode::OK) => (&second, &first, lost),
            other => panic!("round {round}: neither removal succeeded: {other:?}"),
        };
        // 409 from the rule; 401/403 when the loser's own rights were already gone
        // by the time its request was authorised.
        assert!(
            [
                StatusCode::CONFLICT,
                StatusCode::FORBIDDEN,
                StatusCode::UNAUTHORIZED
            ]
            .contains(&lost),
            "round {round}: the loser got {lost}"
        );
        refused.push(lost);
        restore(&app, winner, loser, deactivate).await;
        assert_eq!(active_admins(&app, first.customer_id).await, 2);
    }
    assert!(
        refused.contains(&StatusCode::CONFLICT),
        "the last-admin rule never answered: {refused:?}"
    );
    assert_eq!(active_admins(&app, bystander.customer_id).await, 1);
}
both_backends!(two_admins_removing_each_other_at_once_leave_one_admin);
