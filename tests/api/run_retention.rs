//! Run retention: the purge deletes finished runs that ended before the retention
//! cutoff with their steps, attempts, approvals and deliveries, in batches, and
//! keeps recent runs, live ones and runs whose parent or child is live; webhook
//! deliveries go once past the replay window; on SQLite the file really shrinks.
//! Rows are aged with SQL and the purge is given the time, so nothing sleeps.

use crate::both_backends;
use crate::helpers::*;
use crate::workflow_approvals::{approval_flow, waiting_on_approval};
use crate::workflow_runs::{published, start, transform};
use crate::workflow_triggers::{doubling, event, send_signed, trigger};
use chrono::Duration;
use obera_store::{Db, DbOptions, PURGE_BATCH};
use obera_types::*;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::types::Json;
use uuid::Uuid;

/// Runs `$body` with `$c` bound to a connection in a transaction that sees
/// `$customer`'s rows (on PostgreSQL, tenant tables are under FORCE row-level
/// security for the request role), committed afterwards.
macro_rules! in_tenant {
    ($app:expr, $customer:expr, |$c:ident| $body:expr) => {
        match &$app.db {
            Db::Sqlite(pool) => {
                let mut tx = pool.begin().await.unwrap();
                let out = {
                    let $c: &mut sqlx::SqliteConnection = &mut *tx;
                    $body
                };
                tx.commit().await.unwrap();
                out
            }
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await.unwrap();
                sqlx::query("SELECT set_config('app.customer_id', $1, true)")
                    .bind($customer.to_string())
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                let out = {
                    let $c: &mut sqlx::PgConnection = &mut *tx;
                    $body
                };
                tx.commit().await.unwrap();
                out
            }
        }
    };
}

/// `SELECT count(*)` of `table`'s rows of `customer` whose `column` is `id`.
async fn count(app: &TestApp, customer: CustomerId, table: &str, column: &str, id: Uuid) -> i64 {
    let sql = format!("SELECT count(*) FROM {table} WHERE customer_id = $1 AND {column} = $2");
    in_tenant!(app, customer, |c| sqlx::query_scalar(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(customer.0)
    .bind(id)
    .fetch_one(&mut *c)
    .await
    .unwrap())
}

/// Sets `run` as ended `days` ago.
async fn age_run(app: &TestApp, customer: CustomerId, run: ExecutionId, days: i64) {
    const SQL: &str =
        "UPDATE workflow_executions SET completed_at = $1 WHERE customer_id = $2 AND id = $3";
    let at = obera_store::now() - Duration::days(days);
    in_tenant!(app, customer, |c| sqlx::query(SQL)
        .bind(at)
        .bind(customer.0)
        .bind(run.0)
        .execute(&mut *c)
        .await
        .unwrap()
        .rows_affected());
}

/// Makes `run` a child of `parent`, as a sub-workflow step would have started it;
/// `live` also puts it back to running.
async fn adopt(
    app: &TestApp,
    customer: CustomerId,
    run: ExecutionId,
    parent: ExecutionId,
    live: bool,
) {
    const SQL: &str = "UPDATE workflow_executions SET parent_execution_id = $1, parent_step_path = 'sub', \
         status = CASE WHEN $2 THEN 'running' ELSE status END WHERE customer_id = $3 AND id = $4";
    in_tenant!(app, customer, |c| sqlx::query(SQL)
        .bind(parent.0)
        .bind(live)
        .bind(customer.0)
        .bind(run.0)
        .execute(&mut *c)
        .await
        .unwrap()
        .rows_affected());
}

fn two_steps() -> serde_json::Value {
    json!({ "steps": [transform("a", "trigger.n + 1", &["b"]), transform("b", "steps.a.output * 2", &[])] })
}

async fn finished_run(app: &TestApp, admin: &Member, base: &str) -> WorkflowExecution {
    let body = StartWorkflowRun {
        input: json!({ "n": 1 }),
        ..Default::default()
    };
    let queued = start(app, base, &admin.token, &body).await;
    let run = app.finished_run(admin, queued.id).await;
    assert_eq!(run.status, ExecutionStatus::Succeeded, "{run:?}");
    run
}

async fn run_status(app: &TestApp, admin: &Member, run: ExecutionId) -> StatusCode {
    let path = format!(
        "/api/v1/customers/{}/workflow-runs/{run}",
        admin.customer_id
    );
    app.get(&path, &admin.token).await.status
}

async fn old_finished_runs_go_with_their_records_and_recent_and_live_ones_stay(app: TestApp) {
    let admin = app.signup("Retains").await;
    let c = admin.customer_id;
    let base = published(&app, &admin, two_steps()).await;
    let old = finished_run(&app, &admin, &base).await;
    let recent = finished_run(&app, &admin, &base).await;
    let live = finished_run(&app, &admin, &base).await;
    let child_of_live = finished_run(&app, &admin, &base).await;
    let parent_of_live = finished_run(&app, &admin, &base).await;
    // A cancelled run with the approval it had opened.
    let approver = app.add_member(&admin, Department::It, Role::Member).await;
    let (asking, approval) =
        waiting_on_approval(&app, &admin, approval_flow(&[&approver], 1)).await;
    let reply = app.cancel_run(&admin, asking.id).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let cancelled = app.finished_run(&admin, asking.id).await;
    assert_eq!(cancelled.status, ExecutionStatus::Cancelled);

    for run in [&old, &live, &child_of_live, &parent_of_live, &cancelled] {
        age_run(&app, c, run.id, 40).await;
    }
    // `live` runs again (its completion time says nothing then), under
    // `parent_of_live` and above `child_of_live`.
    adopt(&app, c, live.id, parent_of_live.id, true).await;
    adopt(&app, c, child_of_live.id, live.id, false).await;

    let mut steps = 0;
    let mut attempts = 0;
    for run in [&old, &cancelled] {
        steps += count(&app, c, "workflow_step_runs", "execution_id", run.id.0).await;
        attempts += count(&app, c, "workflow_step_attempts", "execution_id", run.id.0).await;
    }
    assert!(
        steps >= 3 && attempts >= 2,
        "{steps} steps, {attempts} attempts"
    );
    let approvals = count(
        &app,
        c,
        "workflow_approvals",
        "execution_id",
        cancelled.id.0,
    )
    .await;
    assert_eq!(approvals, 1);

    let now = obera_store::now();
    let kept_for_ever = app.db.purge_expired(now, None).await.unwrap();
    assert_eq!(kept_for_ever.executions, 0, "{kept_for_ever:?}");

    let purged = app
        .db
        .purge_expired(now, Some(Duration::days(30)))
        .await
        .unwrap();
    assert_eq!(purged.executions, 2, "{purged:?}");
    assert_eq!(
        (purged.step_runs, purged.step_attempts, purged.approvals),
        (steps as u64, attempts as u64, 1),
        "{purged:?}"
    );
    for run in [&old, &cancelled] {
        assert_eq!(
            run_status(&app, &admin, run.id).await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            count(&app, c, "workflow_step_runs", "execution_id", run.id.0).await,
            0
        );
        assert_eq!(
            count(&app, c, "workflow_step_attempts", "execution_id", run.id.0).await,
            0
        );
    }
    let path = format!("/api/v1/customers/{c}/workflow-approvals/{}", approval.id);
    assert_eq!(
        app.get(&path, &admin.token).await.status,
        StatusCode::NOT_FOUND
    );
    for run in [&recent, &live, &child_of_live, &parent_of_live] {
        assert_eq!(
            run_status(&app, &admin, run.id).await,
            StatusCode::OK,
            "{run:?}"
        );
    }
    let kept: WorkflowExecution = app
        .get(
            &format!("/api/v1/customers/{c}/workflow-runs/{}", recent.id),
            &admin.token,
        )
        .await
        .json();
    assert_eq!(kept.steps.len(), 2);

    let again = app
        .db
        .purge_expired(now, Some(Duration::days(30)))
        .await
        .unwrap();
    assert_eq!(again.executions, 0, "{again:?}");
}
both_backends!(old_finished_runs_go_with_their_records_and_recent_and_live_ones_stay);

/// 1 KiB of JSON, so the deleted rows fill many pages.
fn filler() -> Json<serde_json::Value> {
    Json(json!({ "pad": "x".repeat(1024) }))
}

/// Inserts `n` runs of `run`'s workflow that ended 40 days ago, each with a step
/// record and an attempt.
async fn old_runs(app: &TestApp, customer: CustomerId, run: &WorkflowExecution, n: usize) {
    const RUN: &str = "INSERT INTO workflow_executions (customer_id, id, workflow_id, version, triggered_by, \
         trigger_data, status, created_at, started_at, completed_at) \
         VALUES ($1, $2, $3, $4, 'manual', $5, 'succeeded', $6, $6, $6)";
    const STEP: &str = "INSERT INTO workflow_step_runs (customer_id, execution_id, path, step_key, status, \
         output, started_at, completed_at) VALUES ($1, $2, 'a', 'a', 'succeeded', $3, $4, $4)";
    const ATTEMPT: &str = "INSERT INTO workflow_step_attempts (customer_id, execution_id, path, attempt, \
         status, input, output, started_at, completed_at, duration_ms) \
         VALUES ($1, $2, 'a', 1, 'succeeded', $3, $3, $4, $4, 1)";
    let at = obera_store::now() - Duration::days(40);
    let version = i32::try_from(run.version).unwrap();
    in_tenant!(app, customer, |c| for _ in 0..n {
        let id = Uuid::now_v7();
        sqlx::query(RUN)
            .bind(customer.0)
            .bind(id)
            .bind(run.workflow_id.0)
            .bind(version)
            .bind(filler())
            .bind(at)
            .execute(&mut *c)
            .await
            .unwrap();
        for sql in [STEP, ATTEMPT] {
            sqlx::query(sql)
                .bind(customer.0)
                .bind(id)
                .bind(filler())
                .bind(at)
                .execute(&mut *c)
                .await
                .unwrap();
        }
    });
}

/// `PRAGMA <name>` of the SQLite file.
async fn pragma(pool: &sqlx::SqlitePool, name: &str) -> i64 {
    let sql = format!("PRAGMA {name}");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn a_purge_of_several_batches_deletes_them_all_and_frees_the_space(app: TestApp) {
    let admin = app.signup("Bulk").await;
    let c = admin.customer_id;
    let base = published(&app, &admin, two_steps()).await;
    let recent = finished_run(&app, &admin, &base).await;
    let n = 2 * PURGE_BATCH + 7;
    old_runs(&app, c, &recent, n).await;
    let pages_before = match &app.db {
        Db::Sqlite(pool) => Some(pragma(pool, "page_count").await),
        Db::Postgres(_) => None,
    };

    let purged = app
        .db
        .purge_expired(obera_store::now(), Some(Duration::days(30)))
        .await
        .unwrap();
    let n = n as u64;
    assert_eq!(
        (purged.executions, purged.step_runs, purged.step_attempts),
        (n, n, n),
        "{purged:?}"
    );
    let left = count(
        &app,
        c,
        "workflow_executions",
        "workflow_id",
        recent.workflow_id.0,
    )
    .await;
    assert_eq!(left, 1, "only the recent run stays");
    assert_eq!(run_status(&app, &admin, recent.id).await, StatusCode::OK);

    // SQLite gives the pages back: nothing is left on the freelist, and the file is
    // far smaller than with some 3,000 rows of 1 KiB each.
    if let (Db::Sqlite(pool), Some(before)) = (&app.db, pages_before) {
        assert_eq!(pragma(pool, "freelist_count").await, 0);
        let after = pragma(pool, "page_count").await;
        assert!(after * 2 < before, "{before} pages before, {after} after");
    }
}
both_backends!(a_purge_of_several_batches_deletes_them_all_and_frees_the_space);

async fn deliveries_go_after_the_replay_window_and_with_their_purged_run(app: TestApp) {
    let admin = app.signup("Deliveries").await;
    let c = admin.customer_id;
    let base = published(&app, &admin, doubling()).await;
    let hook = trigger(&app, &admin, &base, json!({ "preset": "github" }), "async").await;
    let mut runs = Vec::new();
    for id in ["d-old", "d-new"] {
        let reply = send_signed(&app, &hook, "github", &event(id, 1), id).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
        let receipt: WebhookReceipt = reply.json();
        runs.push(app.finished_run(&admin, receipt.execution_id).await);
    }
    const AGE: &str = "UPDATE webhook_deliveries SET received_at = $1 WHERE customer_id = $2 AND delivery_id = 'd-old'";
    let past = obera_store::now() - Duration::hours(25);
    in_tenant!(app, c, |conn| sqlx::query(AGE)
        .bind(past)
        .bind(c.0)
        .execute(&mut *conn)
        .await
        .unwrap()
        .rows_affected());
    let deliveries = async |app: &TestApp| {
        count(
            app,
            c,
            "webhook_deliveries",
            "trigger_id",
            hook.trigger.id.0,
        )
        .await
    };
    assert_eq!(deliveries(&app).await, 2);

    let purged = app
        .db
        .purge_expired(obera_store::now(), None)
        .await
        .unwrap();
    assert_eq!(
        (purged.webhook_deliveries, purged.executions),
        (1, 0),
        "{purged:?}"
    );
    assert_eq!(deliveries(&app).await, 1);
    assert_eq!(run_status(&app, &admin, runs[0].id).await, StatusCode::OK);

    // A run past its retention takes its delivery along, even one still in the window.
    age_run(&app, c, runs[1].id, 40).await;
    let purged = app
        .db
        .purge_expired(obera_store::now(), Some(Duration::days(30)))
        .await
        .unwrap();
    assert_eq!(
        (purged.webhook_deliveries, purged.executions),
        (1, 1),
        "{purged:?}"
    );
    assert_eq!(deliveries(&app).await, 0);
    assert_eq!(
        run_status(&app, &admin, runs[1].id).await,
        StatusCode::NOT_FOUND
    );
}
both_backends!(deliveries_go_after_the_replay_window_and_with_their_purged_run);

/// A SQLite file made before incremental auto-vacuum existed is converted once when
/// the store opens it, keeping its data; a new file starts in that mode.
#[tokio::test]
async fn an_older_sqlite_file_is_converted_to_incremental_vacuum_when_opened() {
    use sqlx::Connection;
    let dir = temp_dir();
    let url = format!("sqlite://{}", dir.join("old.db").display());
    let mut old = sqlx::SqliteConnection::connect(&format!("{url}?mode=rwc"))
        .await
        .unwrap();
    sqlx::query("CREATE TABLE keepsake (note TEXT)")
        .execute(&mut old)
        .await
        .unwrap();
    sqlx::query("INSERT INTO keepsake VALUES ('still here')")
        .execute(&mut old)
        .await
        .unwrap();
    let mode: i64 = sqlx::query_scalar("PRAGMA auto_vacuum")
        .fetch_one(&mut old)
        .await
        .unwrap();
    assert_eq!(mode, 0, "a plain SQLite file has no auto-vacuum");
    old.close().await.unwrap();

    let db = Db::connect(&DbOptions {
        url,
        migrate_url: None,
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_secs(5),
    })
    .await
    .unwrap();
    let Db::Sqlite(pool) = &db else {
        unreachable!()
    };
    let note: String = sqlx::query_scalar("SELECT note FROM keepsake")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(note, "still here");
    db.close().await;
    // The file's own header, not a connection's idea of it: a non-zero largest root
    // page (offset 52) marks an auto-vacuum file, and offset 64 its incremental mode.
    let file = std::fs::read(dir.join("old.db")).unwrap();
    let word = |at: usize| u32::from_be_bytes(file[at..at + 4].try_into().unwrap());
    assert!(word(52) > 0 && word(64) == 1, "{} {}", word(52), word(64));
    let _ = std::fs::remove_dir_all(dir);
}
