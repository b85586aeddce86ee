//! Statuses of runs and their steps, as the API reports them.

use crate::enums::text_enum;

text_enum!(
    /// Where a workflow execution is. `waiting` means suspended on a delay or an
    /// approval, holding no worker.
    ExecutionStatus {
        Queued => "queued",
        Running => "running",
        Waiting => "waiting",
        Succeeded => "succeeded",
        Failed => "failed",
        Cancelled => "cancelled",
    }
);

impl ExecutionStatus {
    /// Whether the execution has ended and will not change again.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            ExecutionStatus::Succeeded | ExecutionStatus::Failed | ExecutionStatus::Cancelled
        )
    }
}

text_enum!(
    /// Where one step of an execution is. `skipped` steps lie on branches not taken
    /// (or were side-effecting steps of a dry run).
    StepRunStatus {
        Pending => "pending",
        Running => "running",
        Succeeded => "succeeded",
        Failed => "failed",
        Skipped => "skipped",
        Waiting => "waiting",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_use_their_snake_case_names_on_the_wire() {
        for s in ExecutionStatus::ALL {
            assert_eq!(
                serde_json::to_value(s).ok(),
                Some(serde_json::json!(s.as_str()))
            );
            assert_eq!(s.as_str().parse::<ExecutionStatus>(), Ok(*s));
        }
        assert!(serde_json::from_str::<StepRunStatus>("\"done\"").is_err());
        assert!(ExecutionStatus::Cancelled.is_finished());
        assert!(!ExecutionStatus::Waiting.is_finished());
    }
}
