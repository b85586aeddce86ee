//! The checks of each step kind's config: numbers in range, expressions and templates
//! that compile, names that exist in the [`super::Catalog`].

use super::{Checker, bounds};
use crate::template::CompiledTemplate;
use obera_types::workflows::{
    ApprovalStep, DbOperation, DelayStep, HeaderTemplate, HttpStep, LoopStep, NotifyChannel,
    RespondStep, SwitchStep,
};
use obera_types::{CredentialKind, CredentialRef, Expression, RetryPolicy, StepConfig, Template};
use std::collections::HashSet;

impl Checker<'_> {
    /// The checks of each step kind's config, at `config` (`steps.<key>.config`).
    pub(super) fn config(&mut self, step: &StepConfig, config: &str, in_loop: bool) {
        match step {
            StepConfig::Http(http) => self.http(http, config),
            StepConfig::Transform(t) => {
                self.expression(&t.expression, format!("{config}.expression"))
            }
            StepConfig::Condition(c) => {
                self.expression(&c.condition, format!("{config}.condition"))
            }
            StepConfig::Switch(switch) => self.switch(switch, config),
            StepConfig::Loop(looped) => self.looped(looped, config),
            StepConfig::Delay(delay) => self.delay(delay, config),
            StepConfig::Respond(respond) => self.respond(respond, config, in_loop),
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
            StepConfig::Approval(approval) => self.approval(approval, config),
            StepConfig::SubWorkflow(sub) => {
                if !self.catalog.knows_workflow(&sub.workflow_id) {
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
                } else if let Some(error) = self.catalog.script_errors.get(&code.source) {
                    self.error(format!("{config}.source"), error.clone());
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

    pub(super) fn retry(&mut self, retry: &RetryPolicy, at: &str) {
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

    pub(super) fn range(&mut self, field: String, value: u64, min: u64, max: u64) {
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

    /// `signs`: the credential signs (a notify webhook's), rather than being sent (an
    /// http step's); each needs its own kind.
    fn credential(&mut self, credential: &CredentialRef, field: String, signs: bool) {
        match self.catalog.credentials.get(credential) {
            None if self.catalog.references_deferred => {}
            None => self.error(
                field,
                format!("there is no credential named `{credential}`"),
            ),
            Some(CredentialKind::SigningSecret) if !signs => self.error(
                field,
                format!("credential `{credential}` is a signing secret, which is never sent: use a bearer_token, basic or header credential"),
            ),
            Some(kind) if signs && *kind != CredentialKind::SigningSecret => self.error(
                field,
                format!("credential `{credential}` is a `{kind}` credential and cannot sign webhooks: use a signing_secret credential"),
            ),
            Some(_) => {}
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
            self.credential(credential, format!("{at}.credential"), false);
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
                self.credential(&webhook.secret, format!("{at}.secret"), true);
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
            } else if !self.catalog.knows_user(user) {
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
}

/// RFC 9110 token characters.
fn valid_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
