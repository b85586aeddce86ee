//! The rules of approvals: who may decide, whether a decision may be taken, and what
//! the votes so far settle. The store applies them under a row lock; these functions
//! only decide.

use obera_types::{ApprovalDecision, ApprovalStatus, ApprovalVote, UserId, WorkflowApproval};
use std::fmt;

/// The people who may decide an approval: the step's approvers, less the person the run
/// acts for (no one approves their own run). In the step's order.
pub fn eligible_approvers(approvers: &[UserId], acting_user: Option<UserId>) -> Vec<UserId> {
    approvers
        .iter()
        .copied()
        .filter(|a| Some(*a) != acting_user)
        .collect()
}

/// Why someone may not decide an approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// It already settled (or expired): a conflict, not a permission problem.
    Closed(ApprovalStatus),
    /// Its time ran out while it was pending; it times out at its next look.
    Expired,
    /// They are not one of its approvers (the person the run acts for never is).
    NotAnApprover,
    /// They decided it already.
    AlreadyVoted,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Closed(status) => write!(f, "this approval is {status}; it takes no more decisions"),
            Refusal::Expired => f.write_str("this approval's time ran out; it takes no more decisions"),
            Refusal::NotAnApprover => f.write_str(
                "you are not an approver of this approval (the person a run acts for cannot approve it)",
            ),
            Refusal::AlreadyVoted => f.write_str("you have already decided this approval"),
        }
    }
}

/// Whether `user` may decide `approval` at `now`.
pub fn may_decide(
    approval: &WorkflowApproval,
    user: UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Refusal> {
    if approval.status != ApprovalStatus::Pending {
        return Err(Refusal::Closed(approval.status));
    }
    if now >= approval.expires_at {
        return Err(Refusal::Expired);
    }
    if !approval.approvers.contains(&user) {
        return Err(Refusal::NotAnApprover);
    }
    if approval.votes.iter().any(|v| v.user_id == user) {
        return Err(Refusal::AlreadyVoted);
    }
    Ok(())
}

/// What the votes settle: rejected by any rejection, approved by `required`
/// approvals, pending otherwise.
pub fn approval_status(required: u8, votes: &[ApprovalVote]) -> ApprovalStatus {
    if votes.iter().any(|v| v.decision == ApprovalDecision::Reject) {
        return ApprovalStatus::Rejected;
    }
    let approvals = votes
        .iter()
        .filter(|v| v.decision == ApprovalDecision::Approve)
        .count();
    if approvals >= usize::from(required) {
        ApprovalStatus::Approved
    } else {
        ApprovalStatus::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use obera_types::{ApprovalId, CustomerId, ExecutionId, WorkflowId};
    use uuid::Uuid;

    fn user(n: u128) -> UserId {
        UserId(Uuid::from_u128(n))
    }

    fn vote(n: u128, decision: ApprovalDecision) -> ApprovalVote {
        ApprovalVote {
            user_id: user(n),
            decision,
            comment: None,
            decided_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    fn approval(approvers: &[u128], required: u8) -> WorkflowApproval {
        let created = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        WorkflowApproval {
            id: ApprovalId(Uuid::from_u128(1)),
            customer_id: CustomerId(Uuid::from_u128(2)),
            workflow_id: WorkflowId(Uuid::from_u128(3)),
            execution_id: ExecutionId(Uuid::from_u128(4)),
            step_path: "approve".to_owned(),
            message: "ok?".to_owned(),
            approvers: approvers.iter().map(|n| user(*n)).collect(),
            required,
            status: ApprovalStatus::Pending,
            votes: Vec::new(),
            expires_at: created + Duration::hours(1),
            created_at: created,
            decided_at: None,
        }
    }

    #[test]
    fn the_person_a_run_acts_for_is_never_an_approver() {
        let listed = [user(1), user(2), user(3)];
        assert_eq!(
            eligible_approvers(&listed, Some(user(2))),
            vec![user(1), user(3)]
        );
        assert_eq!(eligible_approvers(&listed, None), listed.to_vec());
        assert!(eligible_approvers(&[user(1)], Some(user(1))).is_empty());
    }

    #[test]
    fn votes_settle_by_count_and_any_rejection_rejects() {
        use ApprovalDecision::{Approve, Reject};
        assert_eq!(approval_status(2, &[]), ApprovalStatus::Pending);
        assert_eq!(
            approval_status(2, &[vote(1, Approve)]),
            ApprovalStatus::Pending
        );
        assert_eq!(
            approval_status(2, &[vote(1, Approve), vote(2, Approve)]),
            ApprovalStatus::Approved
        );
        assert_eq!(
            approval_status(2, &[vote(1, Approve), vote(2, Reject)]),
            ApprovalStatus::Rejected
        );
        assert_eq!(
            approval_status(1, &[vote(1, Reject)]),
            ApprovalStatus::Rejected
        );
    }

    #[test]
    fn only_pending_unexpired_approvals_take_one_decision_per_approver() {
        let mut a = approval(&[1, 2], 2);
        let now = a.created_at + Duration::minutes(5);
        assert_eq!(may_decide(&a, user(1), now), Ok(()));
        assert_eq!(may_decide(&a, user(9), now), Err(Refusal::NotAnApprover));
        a.votes.push(vote(1, ApprovalDecision::Approve));
        assert_eq!(may_decide(&a, user(1), now), Err(Refusal::AlreadyVoted));
        assert_eq!(may_decide(&a, user(2), a.expires_at), Err(Refusal::Expired));
        a.status = ApprovalStatus::Rejected;
        assert_eq!(
            may_decide(&a, user(2), now),
            Err(Refusal::Closed(ApprovalStatus::Rejected))
        );
    }
}
