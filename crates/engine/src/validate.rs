//! Save-time validation of a definition: everything that can be known wrong before a
//! run starts, reported all at once, each error naming its field by step key (e.g.
//! `steps.fetch_user.config.url`, or inside a loop body
//! `steps.each_user.config.body.steps.send_mail.config.channel.to[0]`), so the
//! builder can put the message beside the input that caused it.

use crate::expression::Evaluator;
use crate::template::CompiledTemplate;
use obera_types::workflows::{
    ApprovalStep, DbOperation, DelayStep, HeaderTemplate, HttpStep, LoopStep, NotifyChannel,
    RespondStep, SwitchStep,
};
use obera_types::{
    Branch, CredentialRef, Expression, FieldError, RetryPolicy, Step, StepConfig, StepKey,
    Template, UserId, WorkflowDefinition, WorkflowId,
};
use std::collections::{HashMap, HashSet};

/// What validation needs to know from outside the definition: the names and ids it
/// may refer to in the customer it is saved in.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Credentials in the customer's secret store.
    pub credentials: HashSet<CredentialRef>,
    /// Workflows a `sub_workflow` step may start.
    pub workflows: HashSet<WorkflowId>,
    /// People who may be named as approvers.
    pub users: HashSet<UserId>,
}

/// Numeric bounds, shared with the docs on the fields in `obera_types`.
mod bounds {
    pub const MAX_NAME_CHARS: usize = 200;
    pub const MAX_ATTEMPTS: u8 = 10;
    pub const MAX_INITIAL_BACKOFF_MS: u32 = 3_600_000;
    pub const MAX_BACKOFF_MS: u32 = 86_400_000;
    pub const MAX_MULTIPLIER: f64 = 10.0;
    pub const MAX_STEP_TIMEOUT_SECS: u32 = 86_400;
    pub const MAX_HTTP_TIMEOUT_MS: u32 = 300_000;
    pub const MAX_RESPONSE_BYTES: u32 = 10 * 1024 * 1024;
    pub const MAX_LOOP_CONCURRENCY: u16 = 32;
    pub const MAX_LOOP_ITERATIONS: u32 = 10_000;
    pub const MAX_DELAY_SECS: u64 = 366 * 86_400;
    pub const MIN_APPROVAL_SECS: u64 = 60;
    pub const MAX_APPROVAL_SECS: u64 = 30 * 86_400;
    pub const MAX_CODE_BYTES: usize = 64 * 1024;
    pub const MAX_CODE_TIMEOUT_MS: u32 = 60_000;
    pub const MAX_LABEL_CHARS: usize = 64;
}

/// Checks a definition against the rules a run relies on. Expressions and templates are
/// compiled with `evaluator`, the one that will later run them.
pub fn validate(
    definition: &WorkflowDefinition,
    catalog: &Catalog,
    evaluator: &Evaluator,
) -> Result<(), Vec<FieldError>> {
    let mut checker = Checker {
        catalog,
        evaluator,
        keys: HashSet::new(),
        errors: Vec::new(),
    };
    checker.definition(definition, "", false);
    if checker.errors.is_empty() {
        Ok(())
    } else {
        Err(checker.errors)
    }
}

struct Checker<'a> {
    catalog: &'a Catalog,
    evaluator: &'a Evaluator,
    /// Keys seen so far in the whole definition: they must be unique across loop bodies
    /// too, because `steps.<key>` in a body sees the outer steps as well.
    keys: HashSet<StepKey>,
    errors: Vec<FieldError>,
}

impl Checker<'_> {
    fn error(&mut self, field: String, message: impl Into<String>) {
        self.errors.push(FieldError {
            field,
            message: message.into(),
        });
    }

    /// `prefix` is empty at the top and `steps.<loop>.config.body.` in a loop body.
    fn definition(&mut self, definition: &WorkflowDefinition, prefix: &str, in_loop: bool) {
        if definition.steps.is_empty() {
            let what = if in_loop { "a loop body" } else { "a workflow" };
            self.error(
                format!("{prefix}steps"),
                format!("{what} needs at least one step"),
            );
            return;
        }
        for step in &definition.steps {
            let at = format!("{prefix}steps.{}", step.key);
            if !self.keys.insert(step.key.clone()) {
                self.error(
                    format!("{at}.key"),
                    format!("the key `{}` is used by more than one step", step.key),
                );
            }
            self.step(definition, step, &at, in_loop);
        }
        self.cycles(definition, prefix);
        self.responds(definition, prefix);
    }

    fn step(&mut self, definition: &WorkflowDefinition, step: &Step, at: &str, in_loop: bool) {
        let name = step.name.trim();
        if name.is_empty() {
            self.error(format!("{at}.name"), "must not be blank");
        } else if name.chars().count() > bounds::MAX_NAME_CHARS {
            self.error(
                format!("{at}.name"),
                format!("must be at most {} characters", bounds::MAX_NAME_CHARS),
            );
        }
        self.edges(definition, step, at, in_loop);
        self.retry(&step.retry, &format!("{at}.retry"));
        if let Some(secs) = step.timeout_secs {
            self.range(
                format!("{at}.timeout_secs"),
                u64::from(secs),
                1,
                bounds::MAX_STEP_TIMEOUT_SECS.into(),
            );
        }
        let config = format!("{at}.config");
        match &step.config {
            StepConfig::Http(http) => self.http(http, &config),
            StepConfig::Transform(t) => {
                self.expression(&t.expression, format!("{config}.expression"))
            }
            StepConfig::Condition(c) => {
                self.expression(&c.condition, format!("{config}.condition"))
            }
            StepConfig::Switch(switch) => self.switch(switch, &config),
            StepConfig::Loop(looped) => self.looped(looped, &config),
            StepConfig::Delay(delay) => self.delay(delay, &config),
            StepConfig::Respond(respond) => self.respond(respond, &config, in_loop),
            StepConfig::Db(db) => match &db.operation {
                DbOperation::ListUsers(_) => {}
                DbOperation::GetUser(get) => {
                    self.template(&get.user_id, format!("{config}.operation.user_id"))
                }
                DbOperation::RecordAuditEvent(record) => {
                    self.template(&record.detail, format!("{config}.operation.detail"))
                }
            },
            StepConfig::Notify(notify) => {
                self.notify(&notify.channel, &format!("{config}.channel"))
            }
            StepConfig::Approval(approval) => self.approval(approval, &config),
            StepConfig::SubWorkflow(sub) => {
                if !self.catalog.workflows.contains(&sub.workflow_id) {
                    self.error(
                        format!("{config}.workflow_id"),
                        format!("no workflow with id {} in this customer", sub.workflow_id),
                    );
                }
                if let Some(input) = &sub.input {
                    self.expression(input, format!("{config}.input"));
                }
            }
            StepConfig::Code(code) => {
                if code.source.trim().is_empty() {
                    self.error(format!("{config}.source"), "must not be blank");
                } else if code.source.len() > bounds::MAX_CODE_BYTES {
                    self.error(
                        format!("{config}.source"),
                        format!("must be at most {} bytes", bounds::MAX_CODE_BYTES),
                    );
                }
                if let Some(ms) = code.timeout_ms {
                    self.range(
                        format!("{config}.timeout_ms"),
                        ms.into(),
                        1,
                        bounds::MAX_CODE_TIMEOUT_MS.into(),
                    );
                }
            }
        }
    }

    fn edges(&mut self, definition: &WorkflowDefinition, step: &Step, at: &str, in_loop: bool) {
        let mut seen = HashSet::new();
        for (i, edge) in step.next.iter().enumerate() {
            let edge_at = format!("{at}.next[{i}]");
            if definition.step(&edge.to).is_none() {
                let scope = if in_loop {
                    "this loop body"
                } else {
                    "this workflow"
                };
                self.error(
                    format!("{edge_at}.to"),
                    format!("there is no step `{}` in {scope}", edge.to),
                );
            }
            if !seen.insert(edge) {
                self.error(edge_at.clone(), "the same edge is listed twice");
            }
            if let Some(message) = branch_misfit(&step.config, &edge.branch) {
                self.error(format!("{edge_at}.branch"), message);
            }
        }
    }

    fn retry(&mut self, retry: &RetryPolicy, at: &str) {
        self.range(
            format!("{at}.max_attempts"),
            retry.max_attempts.into(),
            1,
            bounds::MAX_ATTEMPTS.into(),
        );
        self.range(
            format!("{at}.initial_backoff_ms"),
            retry.initial_backoff_ms.into(),
            1,
            bounds::MAX_INITIAL_BACKOFF_MS.into(),
        );
        if retry.max_backoff_ms < retry.initial_backoff_ms {
            self.error(
                format!("{at}.max_backoff_ms"),
                "must not be less than initial_backoff_ms",
            );
        } else {
            self.range(
                format!("{at}.max_backoff_ms"),
                retry.max_backoff_ms.into(),
                1,
                bounds::MAX_BACKOFF_MS.into(),
            );
        }
        if !(1.0..=bounds::MAX_MULTIPLIER).contains(&retry.multiplier) {
            self.error(
                format!("{at}.multiplier"),
                format!("must be between 1 and {}", bounds::MAX_MULTIPLIER),
            );
        }
    }

    fn range(&mut self, field: String, value: u64, min: u64, max: u64) {
        if !(min..=max).contains(&value) {
            self.error(field, format!("must be between {min} and {max}"));
        }
    }

    fn expression(&mut self, expression: &Expression, field: String) {
        if let Err(e) = self.evaluator.compile(&expression.0) {
            self.error(field, format!("the expression is not valid: {e}"));
        }
    }

    fn template(&mut self, template: &Template, field: String) {
        if let Err(e) = CompiledTemplate::compile(self.evaluator, template) {
            self.error(field, format!("the template is not valid: {e}"));
        }
    }

    fn credential(&mut self, credential: &CredentialRef, field: String) {
        if !self.catalog.credentials.contains(credential) {
            self.error(
                field,
                format!("there is no credential named `{credential}`"),
            );
        }
    }

    fn headers(&mut self, headers: &[HeaderTemplate], at: &str) {
        for (i, header) in headers.iter().enumerate() {
            if !valid_header_name(&header.name) {
                self.error(
                    format!("{at}.headers[{i}].name"),
                    format!("`{}` is not a valid header name", header.name),
                );
            }
            self.template(&header.value, format!("{at}.headers[{i}].value"));
        }
    }

    fn http(&mut self, http: &HttpStep, at: &str) {
        let url = format!("{at}.url");
        match CompiledTemplate::compile(self.evaluator, &http.url) {
            Err(e) => self.error(url, format!("the template is not valid: {e}")),
            Ok(compiled) => {
                if let Some(text) = compiled.literal()
                    && !(text.starts_with("https://") || text.starts_with("http://"))
                {
                    self.error(url, "must be an http:// or https:// URL");
                }
            }
        }
        self.headers(&http.headers, at);
        if let Some(body) = &http.body {
            self.template(body, format!("{at}.body"));
        }
        if let Some(credential) = &http.credential {
            self.credential(credential, format!("{at}.credential"));
        }
        if let Some(ms) = http.timeout_ms {
            self.range(
                format!("{at}.timeout_ms"),
                ms.into(),
                1,
                bounds::MAX_HTTP_TIMEOUT_MS.into(),
            );
        }
        if let Some(bytes) = http.max_response_bytes {
            self.range(
                format!("{at}.max_response_bytes"),
                bytes.into(),
                1,
                bounds::MAX_RESPONSE_BYTES.into(),
            );
        }
    }

    fn switch(&mut self, switch: &SwitchStep, at: &str) {
        if switch.cases.is_empty() {
            self.error(format!("{at}.cases"), "a switch needs at least one case");
        }
        let mut labels = HashSet::new();
        for (i, case) in switch.cases.iter().enumerate() {
            let label_at = format!("{at}.cases[{i}].label");
            let label = case.label.trim();
            if label.is_empty() {
                self.error(label_at, "must not be blank");
            } else if label.chars().count() > bounds::MAX_LABEL_CHARS {
                self.error(
                    label_at,
                    format!("must be at most {} characters", bounds::MAX_LABEL_CHARS),
                );
            } else if label != case.label {
                self.error(label_at, "must not start or end with spaces");
            } else if !labels.insert(label) {
                self.error(label_at, format!("another case is also labelled `{label}`"));
            }
            self.expression(&case.condition, format!("{at}.cases[{i}].condition"));
        }
    }

    fn looped(&mut self, looped: &LoopStep, at: &str) {
        self.expression(&looped.items, format!("{at}.items"));
        self.range(
            format!("{at}.concurrency"),
            looped.concurrency.into(),
            1,
            bounds::MAX_LOOP_CONCURRENCY.into(),
        );
        self.range(
            format!("{at}.max_iterations"),
            looped.max_iterations.into(),
            1,
            bounds::MAX_LOOP_ITERATIONS.into(),
        );
        self.definition(&looped.body, &format!("{at}.body."), true);
    }

    fn delay(&mut self, delay: &DelayStep, at: &str) {
        match (delay.duration_secs, &delay.until) {
            (Some(secs), None) => self.range(
                format!("{at}.duration_secs"),
                secs,
                1,
                bounds::MAX_DELAY_SECS,
            ),
            (None, Some(until)) => self.expression(until, format!("{at}.until")),
            _ => self.error(at.to_owned(), "set exactly one of duration_secs and until"),
        }
    }

    fn respond(&mut self, respond: &RespondStep, at: &str, in_loop: bool) {
        if in_loop {
            self.error(
                at.to_owned(),
                "a respond step cannot be in a loop body: a webhook is answered only once",
            );
        }
        self.range(format!("{at}.status"), respond.status.into(), 100, 599);
        self.headers(&respond.headers, at);
        if let Some(body) = &respond.body {
            self.template(body, format!("{at}.body"));
        }
    }

    fn notify(&mut self, channel: &NotifyChannel, at: &str) {
        match channel {
            NotifyChannel::Email(email) => {
                if email.to.is_empty() {
                    self.error(format!("{at}.to"), "an email needs at least one recipient");
                }
                for (i, to) in email.to.iter().enumerate() {
                    self.template(to, format!("{at}.to[{i}]"));
                }
                self.template(&email.subject, format!("{at}.subject"));
                self.template(&email.body, format!("{at}.body"));
            }
            NotifyChannel::Webhook(webhook) => {
                self.template(&webhook.url, format!("{at}.url"));
                self.credential(&webhook.secret, format!("{at}.secret"));
                if let Some(body) = &webhook.body {
                    self.template(body, format!("{at}.body"));
                }
            }
        }
    }

    fn approval(&mut self, approval: &ApprovalStep, at: &str) {
        if approval.approvers.is_empty() {
            self.error(
                format!("{at}.approvers"),
                "an approval needs at least one approver",
            );
        }
        let mut seen = HashSet::new();
        for (i, user) in approval.approvers.iter().enumerate() {
            if !seen.insert(user) {
                self.error(
                    format!("{at}.approvers[{i}]"),
                    "this approver is listed twice",
                );
            } else if !self.catalog.users.contains(user) {
                self.error(
                    format!("{at}.approvers[{i}]"),
                    format!("no user with id {user} in this customer"),
                );
            }
        }
        let most = u64::try_from(approval.approvers.len().max(1)).unwrap_or(u64::MAX);
        self.range(format!("{at}.required"), approval.required.into(), 1, most);
        self.range(
            format!("{at}.timeout_secs"),
            approval.timeout_secs,
            bounds::MIN_APPROVAL_SECS,
            bounds::MAX_APPROVAL_SECS,
        );
        self.template(&approval.message, format!("{at}.message"));
    }

    /// Reports every cycle once, naming its steps in order, at the `next` of the step
    /// where the cycle was entered.
    fn cycles(&mut self, definition: &WorkflowDefinition, prefix: &str) {
        for cycle in find_cycles(definition) {
            let names: Vec<&str> = cycle.iter().map(|k| k.as_str()).collect();
            if let Some(first) = cycle.first() {
                self.error(
                    format!("{prefix}steps.{first}.next"),
                    format!(
                        "steps {} → {first} form a cycle; use a loop step to repeat work",
                        names.join(" → ")
                    ),
                );
            }
        }
    }

    /// A synchronous webhook is answered once: no respond step may run after another.
    fn responds(&mut self, definition: &WorkflowDefinition, prefix: &str) {
        let responds: Vec<&StepKey> = definition
            .steps
            .iter()
            .filter(|s| matches!(s.config, StepConfig::Respond(_)))
            .map(|s| &s.key)
            .collect();
        for from in &responds {
            let reachable = reachable_from(definition, from);
            for to in &responds {
                if from != to && reachable.contains(*to) {
                    self.error(
                        format!("{prefix}steps.{to}"),
                        format!(
                            "respond step `{to}` can run after respond step `{from}`; a webhook is answered only once"
                        ),
                    );
                }
            }
        }
    }
}

/// Why an edge's branch does not fit its step's kind, if it does not.
fn branch_misfit(config: &StepConfig, branch: &Branch) -> Option<String> {
    match (config, branch) {
        (StepConfig::Condition(_), Branch::True | Branch::False) => None,
        (StepConfig::Condition(_), other) => Some(format!(
            "a condition step's edges are `true` or `false`, not `{other}`"
        )),
        (StepConfig::Switch(switch), Branch::Case(label)) => {
            if switch.cases.iter().any(|c| &c.label == label) {
                None
            } else {
                Some(format!("the switch has no case labelled `{label}`"))
            }
        }
        (StepConfig::Switch(_), Branch::Default) => None,
        (StepConfig::Switch(_), other) => Some(format!(
            "a switch step's edges are `case:<label>` or `default`, not `{other}`"
        )),
        (_, Branch::Always) => None,
        (other, branch) => Some(format!(
            "a {} step only has `always` edges, not `{branch}`",
            other.tag()
        )),
    }
}

/// RFC 9110 token characters.
fn valid_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The steps reachable from `from` along edges (not `from` itself unless on a cycle).
fn reachable_from<'a>(definition: &'a WorkflowDefinition, from: &StepKey) -> HashSet<&'a StepKey> {
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
fn find_cycles(definition: &WorkflowDefinition) -> Vec<Vec<StepKey>> {
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
