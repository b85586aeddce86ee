//! The answer of a synchronous webhook: wait for the run, then answer with its first
//! succeeded `respond` step in definition order. A `respond` step's output is
//! `{ "status": <100–599>, "headers": { "<name>": "<value>", … }, "body": <JSON> }`; a
//! string body is sent as `text/plain`, any other JSON as `application/json`. A run
//! without a respond step answers 200 with its id and status; a failed or cancelled
//! run is a 502 naming it; one still going after [`SYNC_WAIT`] a 504 (it goes on).

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use obera_types::{
    CustomerId, ExecutionId, ExecutionStatus, StepConfig, StepRunStatus, WebhookReceipt,
    WorkflowDefinition, WorkflowExecution,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long a synchronous webhook waits for its run.
pub const SYNC_WAIT: Duration = Duration::from_secs(30);
/// How often the run is read while waiting, for a run another instance executes; one
/// this instance ends wakes the wait at once ([`crate::run_endings`]).
const POLL: Duration = Duration::from_millis(50);

/// What a `respond` step records (the contract with the step's executor).
#[derive(Debug, Deserialize)]
struct Respond {
    status: u16,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: serde_json::Value,
}

/// Waits for run `id` of `customer` and answers as the module says.
pub async fn answer(
    state: &AppState,
    customer: CustomerId,
    id: ExecutionId,
) -> ApiResult<HttpResponse> {
    let until = Instant::now() + SYNC_WAIT;
    let ended = state.run_endings.watch(id);
    loop {
        let (execution, definition) = state.db.workflow_run_for_worker(customer, id).await?;
        if execution.status.is_finished() {
            return finished(&execution, &definition);
        }
        if Instant::now() >= until {
            return Err(ApiError::RunTimedOut(format!(
                "run {id} did not finish within {} seconds; it goes on",
                SYNC_WAIT.as_secs()
            )));
        }
        tokio::select! {
            () = ended.ended() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

fn finished(
    execution: &WorkflowExecution,
    definition: &WorkflowDefinition,
) -> ApiResult<HttpResponse> {
    if execution.status != ExecutionStatus::Succeeded {
        return Err(ApiError::RunFailed(format!(
            "run {} {}: {}",
            execution.id,
            execution.status,
            execution
                .error_message
                .as_deref()
                .unwrap_or("no reason recorded")
        )));
    }
    let respond = definition
        .steps
        .iter()
        .filter(|step| matches!(step.config, StepConfig::Respond(_)))
        .find_map(|step| {
            execution
                .steps
                .iter()
                // Top-level steps only: a step inside a loop body has a longer path.
                .find(|run| run.path == step.key.as_str() && run.status == StepRunStatus::Succeeded)
        });
    let Some(step) = respond else {
        return Ok(HttpResponse::Ok().json(WebhookReceipt {
            execution_id: execution.id,
            status: execution.status,
        }));
    };
    let bad = |why: String| {
        ApiError::RunFailed(format!(
            "run {}: step `{}` {why}",
            execution.id, step.step_key
        ))
    };
    let out: Respond = serde_json::from_value(step.output.clone())
        .map_err(|e| bad(format!("recorded no answer: {e}")))?;
    let status = StatusCode::from_u16(out.status)
        .map_err(|_| bad(format!("answered status {}", out.status)))?;
    let mut reply = HttpResponse::build(status);
    match &out.body {
        serde_json::Value::String(_) => reply.content_type("text/plain; charset=utf-8"),
        _ => reply.content_type("application/json"),
    };
    for (name, value) in &out.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| bad(format!("answered header name `{name}`")))?;
        let value = HeaderValue::from_str(value).map_err(|_| {
            bad(format!(
                "answered a value of header `{name}` that is not a header value"
            ))
        })?;
        reply.insert_header((name, value));
    }
    Ok(match out.body {
        serde_json::Value::String(text) => reply.body(text),
        body => reply.json(body),
    })
}
