//! Graph walks over one level of a definition (a loop body is its own level), shared by
//! validation and dry-run previews.

use obera_types::{StepKey, WorkflowDefinition};
use std::collections::{HashMap, HashSet};

/// The steps reachable from `from` along edges (not `from` itself unless on a cycle).
pub(crate) fn reachable_from<'a>(
    definition: &'a WorkflowDefinition,
    from: &StepKey,
) -> HashSet<&'a StepKey> {
    let mut seen = HashSet::new();
    let mut stack: Vec<&StepKey> = definition
        .step(from)
        .map(|s| s.next.iter().map(|e| &e.to).collect())
        .unwrap_or_default();
    while let Some(key) = stack.pop() {
        if let Some(step) = definition.step(key)
            && seen.insert(&step.key)
        {
            stack.extend(step.next.iter().map(|e| &e.to));
        }
    }
    seen
}

/// Each distinct cycle (by its set of steps), in edge order, starting at the step where
/// the depth-first search entered it.
pub(crate) fn find_cycles(definition: &WorkflowDefinition) -> Vec<Vec<StepKey>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnStack,
        Done,
    }
    let index: HashMap<&StepKey, usize> = definition
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (&s.key, i))
        .collect();
    let successors: Vec<Vec<usize>> = definition
        .steps
        .iter()
        .map(|s| {
            s.next
                .iter()
                .filter_map(|e| index.get(&e.to).copied())
                .collect()
        })
        .collect();
    let mut marks = vec![Mark::New; definition.steps.len()];
    let mut cycles: Vec<Vec<StepKey>> = Vec::new();
    let mut seen_sets: HashSet<Vec<usize>> = HashSet::new();
    for root in 0..definition.steps.len() {
        if marks[root] != Mark::New {
            continue;
        }
        // Iterative DFS: (node, next successor to visit); `path` mirrors the stack.
        let mut stack = vec![(root, 0usize)];
        marks[root] = Mark::OnStack;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&succ) = successors[node].get(*next) {
                *next += 1;
                match marks[succ] {
                    Mark::New => {
                        marks[succ] = Mark::OnStack;
                        stack.push((succ, 0));
                    }
                    Mark::OnStack => {
                        let start = stack.iter().position(|&(n, _)| n == succ).unwrap_or(0);
                        let members: Vec<usize> = stack[start..].iter().map(|&(n, _)| n).collect();
                        let mut set = members.clone();
                        set.sort_unstable();
                        if seen_sets.insert(set) {
                            cycles.push(
                                members
                                    .iter()
                                    .map(|&n| definition.steps[n].key.clone())
                                    .collect(),
                            );
                        }
                    }
                    Mark::Done => {}
                }
            } else {
                marks[node] = Mark::Done;
                stack.pop();
            }
        }
    }
    cycles
}

/// Kahn's algorithm, taking ready steps in definition order. Steps on a cycle (which
/// validation refuses) come last, in definition order, so nothing is left out.
pub(crate) fn topological_order(definition: &WorkflowDefinition) -> Vec<usize> {
    let index: HashMap<&StepKey, usize> = definition
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (&s.key, i))
        .collect();
    let mut indegree = vec![0usize; definition.steps.len()];
    for step in &definition.steps {
        for edge in &step.next {
            if let Some(&to) = index.get(&edge.to) {
                indegree[to] += 1;
            }
        }
    }
    let mut placed = vec![false; definition.steps.len()];
    let mut order = Vec::with_capacity(definition.steps.len());
    while let Some(next) = (0..definition.steps.len()).find(|&i| !placed[i] && indegree[i] == 0) {
        placed[next] = true;
        order.push(next);
        for edge in &definition.steps[next].next {
            if let Some(&to) = index.get(&edge.to) {
                indegree[to] = indegree[to].saturating_sub(1);
            }
        }
    }
    order.extend((0..definition.steps.len()).filter(|&i| !placed[i]));
    order
}
