//! Workflow insights from run records: counts, success rate, nearest-rank
//! percentiles, runs per day, per-workflow lines and time saved. Plain functions over
//! what the store read, so the arithmetic is tested without a database (the rules are
//! on `obera_types::workflows::insights`).

use chrono::{DateTime, Utc};
use obera_types::{
    ExecutionStatus, FailingStep, InsightDay, InsightFigures, WorkflowId, WorkflowInsightLine,
    WorkflowInsights,
};
use std::collections::{BTreeMap, HashMap};

/// One finished run as insights need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSample {
    pub workflow_id: WorkflowId,
    pub status: ExecutionStatus,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: DateTime<Utc>,
}

/// A workflow's name and the minutes one successful run saves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowFacts {
    pub name: String,
    pub minutes_saved_per_run: u32,
}

/// The `pct`-th percentile of `sorted` (ascending) by nearest rank: the value at rank
/// ⌈pct/100 × n⌉. `None` for no values.
pub fn nearest_rank(sorted: &[u64], pct: u32) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as u64;
    let rank = (u64::from(pct) * n).div_ceil(100).clamp(1, n);
    usize::try_from(rank - 1)
        .ok()
        .and_then(|i| sorted.get(i))
        .copied()
}

fn duration_ms(run: &RunSample) -> Option<u64> {
    let started = run.started_at?;
    u64::try_from((run.completed_at - started).num_milliseconds()).ok()
}

/// The figures of `runs`; `minutes` gives each workflow's minutes saved per run.
pub fn figures<'a>(
    runs: impl IntoIterator<Item = &'a RunSample>,
    minutes: impl Fn(WorkflowId) -> u32,
) -> InsightFigures {
    let mut f = InsightFigures::default();
    let mut durations = Vec::new();
    for run in runs {
        f.runs += 1;
        match run.status {
            ExecutionStatus::Succeeded => {
                f.succeeded += 1;
                f.minutes_saved += u64::from(minutes(run.workflow_id));
            }
            ExecutionStatus::Failed => f.failed += 1,
            ExecutionStatus::Cancelled => f.cancelled += 1,
            _ => {}
        }
        durations.extend(duration_ms(run));
    }
    let judged = f.succeeded + f.failed;
    f.success_rate = (judged > 0).then(|| f.succeeded as f64 / judged as f64);
    durations.sort_unstable();
    f.p50_duration_ms = nearest_rank(&durations, 50);
    f.p95_duration_ms = nearest_rank(&durations, 95);
    f
}

/// Runs per UTC day of completion, oldest first; days without runs are left out.
pub fn days(runs: &[RunSample]) -> Vec<InsightDay> {
    let mut by_day: BTreeMap<chrono::NaiveDate, InsightDay> = BTreeMap::new();
    for run in runs {
        let date = run.completed_at.date_naive();
        let day = by_day.entry(date).or_insert(InsightDay {
            date,
            runs: 0,
            succeeded: 0,
            failed: 0,
        });
        day.runs += 1;
        match run.status {
            ExecutionStatus::Succeeded => day.succeeded += 1,
            ExecutionStatus::Failed => day.failed += 1,
            _ => {}
        }
    }
    by_day.into_values().collect()
}

/// Insights over `[from, to)` from the runs finished in it, the steps that failed
/// (most first, as the store counted them) and the customer's workflows.
pub fn summarise(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    runs: &[RunSample],
    failing_steps: Vec<FailingStep>,
    workflows: &HashMap<WorkflowId, WorkflowFacts>,
) -> WorkflowInsights {
    let minutes = |id| workflows.get(&id).map_or(0, |w| w.minutes_saved_per_run);
    let mut by_workflow: HashMap<WorkflowId, Vec<&RunSample>> = HashMap::new();
    for run in runs {
        by_workflow.entry(run.workflow_id).or_default().push(run);
    }
    let mut lines: Vec<WorkflowInsightLine> = by_workflow
        .into_iter()
        .map(|(id, runs)| WorkflowInsightLine {
            workflow_id: id,
            name: workflows
                .get(&id)
                .map(|w| w.name.clone())
                .unwrap_or_default(),
            figures: figures(runs, minutes),
        })
        .collect();
    lines.sort_by(|a, b| {
        b.figures
            .runs
            .cmp(&a.figures.runs)
            .then(a.workflow_id.cmp(&b.workflow_id))
    });
    WorkflowInsights {
        from,
        to,
        totals: figures(runs, minutes),
        days: days(runs),
        failing_steps,
        workflows: lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, h: u32, ms: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, h, 0, 0)
            .single()
            .unwrap_or_default()
            + chrono::Duration::milliseconds(ms)
    }

    fn run(w: WorkflowId, status: ExecutionStatus, day: u32, ms: Option<i64>) -> RunSample {
        RunSample {
            workflow_id: w,
            status,
            started_at: ms.map(|_| at(day, 9, 0)),
            completed_at: at(day, 9, ms.unwrap_or(0)),
        }
    }

    #[test]
    fn nearest_rank_picks_the_value_at_the_rounded_up_rank() {
        let v: Vec<u64> = (1..=20).map(|n| n * 10).collect();
        assert_eq!(nearest_rank(&v, 50), Some(100)); // rank 10
        assert_eq!(nearest_rank(&v, 95), Some(190)); // rank 19
        assert_eq!(nearest_rank(&[7], 95), Some(7));
        assert_eq!(nearest_rank(&[1, 2, 3], 50), Some(2)); // rank ⌈1.5⌉ = 2
        assert_eq!(nearest_rank(&[], 50), None);
        assert_eq!(nearest_rank(&[4, 9], 0), Some(4));
    }

    #[test]
    fn a_fixture_of_runs_gives_the_hand_computed_figures() {
        use ExecutionStatus::*;
        let (a, b) = (WorkflowId::new(), WorkflowId::new());
        let runs = vec![
            run(a, Succeeded, 1, Some(100)),
            run(a, Succeeded, 1, Some(300)),
            run(a, Failed, 2, Some(200)),
            run(a, Cancelled, 2, None),
            run(b, Succeeded, 2, Some(1_000)),
            run(b, Failed, 3, Some(50)),
        ];
        let facts = HashMap::from([
            (
                a,
                WorkflowFacts {
                    name: "A".into(),
                    minutes_saved_per_run: 15,
                },
            ),
            (
                b,
                WorkflowFacts {
                    name: "B".into(),
                    minutes_saved_per_run: 60,
                },
            ),
        ]);
        let out = summarise(at(1, 0, 0), at(4, 0, 0), &runs, Vec::new(), &facts);
        let t = &out.totals;
        assert_eq!((t.runs, t.succeeded, t.failed, t.cancelled), (6, 3, 2, 1));
        assert_eq!(t.success_rate, Some(0.6)); // 3 of 5 judged
        // Durations 50, 100, 200, 300, 1000: p50 rank 3, p95 rank 5.
        assert_eq!(
            (t.p50_duration_ms, t.p95_duration_ms),
            (Some(200), Some(1_000))
        );
        assert_eq!(t.minutes_saved, 15 + 15 + 60);
        let days: Vec<(u32, u64, u64, u64)> = out
            .days
            .iter()
            .map(|d| {
                (
                    chrono::Datelike::day(&d.date),
                    d.runs,
                    d.succeeded,
                    d.failed,
                )
            })
            .collect();
        assert_eq!(days, [(1, 2, 2, 0), (2, 3, 1, 1), (3, 1, 0, 1)]);
        assert_eq!(out.workflows[0].workflow_id, a);
        let fa = &out.workflows[0].figures;
        assert_eq!(
            (fa.runs, fa.success_rate, fa.minutes_saved),
            (4, Some(2.0 / 3.0), 30)
        );
        assert_eq!(
            (fa.p50_duration_ms, fa.p95_duration_ms),
            (Some(200), Some(300))
        );
        assert_eq!(out.workflows[1].name, "B");
    }

    #[test]
    fn no_runs_give_no_rates_or_percentiles() {
        let out = summarise(at(1, 0, 0), at(2, 0, 0), &[], Vec::new(), &HashMap::new());
        assert_eq!(out.totals, InsightFigures::default());
        assert!(out.days.is_empty() && out.workflows.is_empty());
    }
}
