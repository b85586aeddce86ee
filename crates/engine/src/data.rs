//! The data every expression of a run sees, typed so the executor cannot forget a part
//! of it or spell a variable differently from what `validate` accepts. The shape is
//! documented for users in `obera_types::workflows`.

use obera_types::{CustomerId, ExecutionId, StepKey, StepRunStatus, WorkflowId};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The variable names an expression may read; anything else is refused when the
/// definition is saved.
pub const VARIABLES: [&str; 5] = ["trigger", "steps", "item", "index", "run"];

/// What expressions read while a run executes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataModel {
    /// The trigger payload.
    pub trigger: Value,
    /// The steps that have finished so far.
    pub steps: BTreeMap<StepKey, StepData>,
    /// The current loop item; null outside a loop body.
    pub item: Value,
    /// The current loop index; null outside a loop body.
    pub index: Option<u32>,
    pub run: RunInfo,
}

impl DataModel {
    /// The data of a run that has just started: no step has finished yet.
    pub fn new(run: RunInfo, trigger: Value) -> Self {
        Self {
            trigger,
            steps: BTreeMap::new(),
            item: Value::Null,
            index: None,
            run,
        }
    }

    /// The data one iteration of a loop body sees: everything finished so far, plus
    /// `item` and `index`.
    pub fn for_iteration(&self, item: Value, index: u32) -> Self {
        Self {
            item,
            index: Some(index),
            ..self.clone()
        }
    }
}

/// One finished step, as `steps.<key>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepData {
    pub status: StepRunStatus,
    pub output: Value,
    /// Why the step failed, when it failed and the run continued past it.
    pub error: Option<String>,
}

/// The execution an expression runs in, as `run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RunInfo {
    pub id: ExecutionId,
    pub workflow_id: WorkflowId,
    pub customer_id: CustomerId,
}
