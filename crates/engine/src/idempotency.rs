//! The idempotency key of a step's side effect: the same on every attempt of the step
//! (so a retry after a worker died between the call and its commit is recognised by
//! the receiver) and different for every step, loop iteration and run.
//!
//! The key is a UUIDv5 (SHA-1 name-based UUID) of `run id / step path` in a namespace
//! of our own. A UUID is short, fixed-length, safe in any header (`Idempotency-Key`)
//! and accepted by services that insist the key look like one; SHA-1's weakness does
//! not matter here because nobody chooses our inputs to collide (the run id is a
//! random UUIDv7) and the key guards against duplicates, not forgery.

use obera_types::{ExecutionId, StepKey};
use std::fmt;
use uuid::Uuid;

/// Namespace of Obera's step idempotency keys (a fixed random UUID; changing it would
/// change every key).
const NAMESPACE: Uuid = Uuid::from_u128(0x6f2c_1b7e_5d0a_4c39_9e8f_31a4_b2d7_c650);

/// Where a step runs inside a definition: its key, preceded by the loop steps and
/// iterations it is nested in. Displayed as `each_user[3].send_mail`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StepPath {
    /// The enclosing loops, outermost first, with the iteration index.
    loops: Vec<(StepKey, u32)>,
    step: StepKey,
}

impl StepPath {
    /// A step at the top level of the definition.
    pub fn root(step: StepKey) -> Self {
        Self {
            loops: Vec::new(),
            step,
        }
    }

    /// A step of the body of this path's loop step, in iteration `index`.
    pub fn in_iteration(&self, index: u32, step: StepKey) -> Self {
        let mut loops = self.loops.clone();
        loops.push((self.step.clone(), index));
        Self { loops, step }
    }

    /// The step's own key.
    pub fn step(&self) -> &StepKey {
        &self.step
    }
}

impl fmt::Display for StepPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (key, index) in &self.loops {
            write!(f, "{key}[{index}].")?;
        }
        write!(f, "{}", self.step)
    }
}

/// The key for the side effect of the step at `path` in run `run`; the attempt number
/// is deliberately not part of it.
pub fn idempotency_key(run: ExecutionId, path: &StepPath) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{run}/{path}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> StepKey {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_key_is_stable_per_run_and_step() {
        let run = ExecutionId::new();
        let path = StepPath::root(key("charge"));
        assert_eq!(idempotency_key(run, &path), idempotency_key(run, &path));
        assert_ne!(
            idempotency_key(run, &path),
            idempotency_key(ExecutionId::new(), &path)
        );
        assert_ne!(
            idempotency_key(run, &path),
            idempotency_key(run, &StepPath::root(key("refund")))
        );
    }

    #[test]
    fn each_loop_iteration_has_its_own_key() {
        let run = ExecutionId::new();
        let each = StepPath::root(key("each_user"));
        let first = each.in_iteration(0, key("send_mail"));
        let second = each.in_iteration(1, key("send_mail"));
        assert_eq!(first.to_string(), "each_user[0].send_mail");
        assert_eq!(
            second.in_iteration(2, key("inner")).to_string(),
            "each_user[1].send_mail[2].inner"
        );
        assert_ne!(idempotency_key(run, &first), idempotency_key(run, &second));
    }

    #[test]
    fn the_key_does_not_change_between_releases() {
        let run = ExecutionId(Uuid::nil());
        let path = StepPath::root(key("a"));
        assert_eq!(
            idempotency_key(run, &path).to_string(),
            "64d088d1-7b08-573b-92e5-cbc11f546abf"
        );
        assert_eq!(idempotency_key(run, &path).get_version_num(), 5);
    }
}
