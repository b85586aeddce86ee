//! Event triggers' filters: an expression over the trigger data an event's run would
//! get, checked when a trigger is saved and evaluated when the event is emitted. The
//! store evaluates them inside the transaction of the emitting change (an invitation,
//! an operator's request), so they have an evaluator of their own with bounds far
//! tighter than a step's: a runaway filter costs the request at most [`LIMITS`]'
//! 10 ms per listening trigger, then lets nothing through.

use obera_engine::{Bindings, Evaluator, ExprError, Limits, condition_holds};
use obera_store::EventFilter;
use obera_types::{Expression, TriggerId};
use serde_json::Value;
use std::time::Duration;

/// A filter's bounds: a predicate over one event needs little.
const LIMITS: Limits = Limits {
    max_source_bytes: 4 * 1024,
    max_operations: 10_000,
    max_string_bytes: 1024 * 1024,
    max_array_len: 10_000,
    max_map_len: 10_000,
    max_call_depth: 8,
    max_expr_depth: 32,
    timeout: Duration::from_millis(10),
};

/// The filter evaluator; build one per process (building one registers hundreds of
/// functions) and share it.
#[derive(Debug)]
pub struct EventFilters {
    evaluator: Evaluator,
}

impl Default for EventFilters {
    fn default() -> Self {
        Self {
            evaluator: Evaluator::new(LIMITS),
        }
    }
}

impl EventFilters {
    /// Checks a filter being saved; the error is for people.
    pub fn check(&self, filter: &Expression) -> Result<(), ExprError> {
        self.evaluator.compile(&filter.0).map(drop)
    }

    /// Whether `filter` yields `true` for `data`; anything but a boolean is an error.
    fn holds(&self, filter: &Expression, data: &Value) -> Result<bool, String> {
        let compiled = self
            .evaluator
            .compile(&filter.0)
            .map_err(|e| e.to_string())?;
        let mut bindings = Bindings::for_trigger(data).map_err(|e| e.to_string())?;
        let value = self
            .evaluator
            .evaluate(&compiled, &mut bindings)
            .map_err(|e| e.to_string())?;
        condition_holds(&value).map_err(|e| e.to_string())
    }
}

impl EventFilter for EventFilters {
    fn admits(&self, trigger: TriggerId, filter: &Expression, data: &Value) -> bool {
        self.holds(filter, data).unwrap_or_else(|error| {
            tracing::warn!(trigger_id = %trigger, %error, "an event trigger's filter failed; the event starts nothing");
            false
        })
    }
}
