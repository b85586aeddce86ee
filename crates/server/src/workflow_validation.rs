//! Checking a workflow definition before it is stored: the engine's rules, plus the
//! references only the customer's records can settle (approvers who are its people,
//! sub-workflows that are its workflows, credentials it has stored) and the syntax of
//! `code` steps' scripts. Used wherever a definition is saved: a customer's own
//! workflows, and each customer an MSP workflow is deployed to.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::web;
use obera_engine::Catalog;
use obera_store::{StoreError, TenantScope};
use obera_types::{NotifyChannel, Step, StepConfig, WorkflowDefinition};
use std::collections::HashMap;

/// Checks `definition` against the engine's rules and the records of `scope`'s
/// customer (approvers who are its people, sub-workflows that are its workflows,
/// credentials it has stored). With no scope (an MSP-level definition) those
/// references are left for each customer to settle when it is deployed there.
/// Refusals are `ApiError::Validation` with fields under `field`.
pub(crate) async fn validated(
    state: &AppState,
    scope: Option<&TenantScope>,
    definition: &WorkflowDefinition,
    field: &str,
) -> ApiResult<()> {
    let (mut users, mut workflows, mut names_credentials) = (Vec::new(), Vec::new(), false);
    workflows.extend(definition.error_workflow_id);
    let mut scripts: Vec<String> = Vec::new();
    let mut steps: Vec<&Step> = definition.steps.iter().collect();
    while let Some(step) = steps.pop() {
        match &step.config {
            StepConfig::Approval(approval) => users.extend(approval.approvers.iter().copied()),
            StepConfig::SubWorkflow(sub) => workflows.push(sub.workflow_id),
            StepConfig::Loop(body) => steps.extend(body.body.steps.iter()),
            StepConfig::Code(code) => scripts.push(code.source.clone()),
            StepConfig::Http(http) => names_credentials |= http.credential.is_some(),
            StepConfig::Notify(notify) => {
                names_credentials |= matches!(notify.channel, NotifyChannel::Webhook(_));
            }
            _ => {}
        }
    }
    let mut catalog = Catalog {
        script_errors: script_errors(scripts).await?,
        references_deferred: scope.is_none(),
        ..Catalog::default()
    };
    let Some(scope) = scope else {
        return checked(state, definition, &catalog, field);
    };
    if names_credentials {
        // One query for all the names, whatever the number of steps naming them.
        catalog
            .credentials
            .extend(state.db.credential_kinds(scope).await?);
    }
    // A reference that is not the customer's is left out, for validation to name;
    // any other failure (the database) is the request's.
    let known = |found: Result<_, StoreError>| match found {
        Ok(_) => Ok(true),
        Err(StoreError::NotFound) => Ok(false),
        Err(e) => Err(ApiError::from(e)),
    };
    for user in users {
        if known(state.db.get_profile(scope, user).await.map(drop))? {
            catalog.users.insert(user);
        }
    }
    for workflow in workflows {
        if known(state.db.get_workflow(scope, workflow).await.map(drop))? {
            catalog.workflows.insert(workflow);
        }
    }
    checked(state, definition, &catalog, field)
}

fn checked(
    state: &AppState,
    definition: &WorkflowDefinition,
    catalog: &Catalog,
    field: &str,
) -> ApiResult<()> {
    obera_engine::validate(definition, catalog, &state.evaluator).map_err(|errors| {
        ApiError::Validation(
            errors
                .into_iter()
                .map(|mut e| {
                    e.field = format!("{field}.{}", e.field);
                    e
                })
                .collect(),
        )
    })
}

/// The syntax errors of `code` steps' scripts, by source, compiled (not run) on the
/// blocking pool: the JavaScript engine is the server's, not the pure engine's.
async fn script_errors(scripts: Vec<String>) -> ApiResult<HashMap<String, String>> {
    if scripts.is_empty() {
        return Ok(HashMap::new());
    }
    web::block(move || {
        scripts
            .into_iter()
            .filter_map(|source| {
                let error = crate::steps::code::syntax_error(&source)?;
                Some((source, error))
            })
            .collect()
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("the scripts could not be checked: {e}")))
}
