//! The `notify` step's email channel: a plain-text message through the SMTP server the
//! operator configured (`OBERA_SMTP_URL`), its recipients, subject and body rendered
//! from the run's data.
//!
//! The `Message-ID` is derived from the step's idempotency key, the same on every
//! attempt, so a message sent again after a crash carries the id of the first and
//! mail systems that dedupe on it deliver it once. A permanent refusal by the server
//! (5xx) fails the step at once; a temporary one (4xx, a dropped connection) is
//! retried on the step's policy.

use super::render;
use super::{Attempt, StepFailure};
use lettre::message::{Mailbox, Message, header::ContentType};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Tokio1Executor};
use obera_engine::{Bindings, Evaluator, FailureKind};
use obera_types::EmailNotification;
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

/// The most recipients one notification may have: more is a mailing, not a notice.
pub const MAX_RECIPIENTS: usize = 50;

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends workflow emails; one per process.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// The mailer of the configured server, or `None` when none is configured.
    pub fn from_settings(url: Option<&str>, from: &str) -> anyhow::Result<Option<Self>> {
        let Some(url) = url.filter(|u| !u.trim().is_empty()) else {
            return Ok(None);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("OBERA_SMTP_URL is not a usable SMTP URL: {e}"))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from = from
            .parse()
            .map_err(|e| anyhow::anyhow!("OBERA_SMTP_FROM `{from}` is not an address: {e}"))?;
        Ok(Some(Self { transport, from }))
    }

    /// Renders and sends one attempt of an email notification.
    pub async fn send(
        &self,
        config: &EmailNotification,
        idempotency_key: Uuid,
        evaluator: &Evaluator,
        bindings: &mut Bindings,
    ) -> Attempt {
        let message_id = format!("<{}@workflows.obera>", idempotency_key.simple());
        let rendered = Rendered::new(config, evaluator, bindings);
        let (input, message) = match rendered {
            Ok(r) => (r.describe(&message_id), r.message(&self.from, &message_id)),
            Err(failure) => return Attempt::computed(Err(failure)),
        };
        let result = match message {
            Ok(message) => match self.transport.send(message).await {
                Ok(response) => Ok(json!({
                    "message_id": message_id,
                    "accepted": response.is_positive(),
                    "server": response.message().collect::<Vec<_>>().join(" "),
                })),
                Err(e) => Err(StepFailure {
                    kind: if e.is_permanent() {
                        FailureKind::Invalid
                    } else {
                        FailureKind::Transport
                    },
                    message: format!("the SMTP server did not take the message: {e}"),
                }),
            },
            Err(failure) => Err(failure),
        };
        Attempt { input, result }
    }
}

/// A step that cannot send: no server is configured.
pub fn not_configured() -> Attempt {
    Attempt::computed(Err(StepFailure::denied(
        "no SMTP server is configured for workflow emails (OBERA_SMTP_URL)",
    )))
}

/// The message's parts, rendered.
struct Rendered {
    to: Vec<Mailbox>,
    subject: String,
    body: String,
}

impl Rendered {
    fn new(
        config: &EmailNotification,
        evaluator: &Evaluator,
        bindings: &mut Bindings,
    ) -> Result<Self, StepFailure> {
        if config.to.is_empty() || config.to.len() > MAX_RECIPIENTS {
            return Err(StepFailure::invalid(format!(
                "an email needs 1 to {MAX_RECIPIENTS} recipients"
            )));
        }
        let mut to = Vec::with_capacity(config.to.len());
        for (i, template) in config.to.iter().enumerate() {
            let text = render::text(evaluator, bindings, template, &format!("to[{i}]"))?;
            let mailbox = text.trim().parse::<Mailbox>().map_err(|e| {
                StepFailure::invalid(format!("to[{i}]: `{text}` is not an email address: {e}"))
            })?;
            to.push(mailbox);
        }
        let subject = render::text(evaluator, bindings, &config.subject, "subject")?;
        if subject.chars().any(char::is_control) {
            return Err(StepFailure::invalid(
                "subject: a subject is one line, without control characters",
            ));
        }
        let body = render::text(evaluator, bindings, &config.body, "body")?;
        Ok(Self { to, subject, body })
    }

    fn describe(&self, message_id: &str) -> serde_json::Value {
        json!({
            "to": self.to.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "subject": self.subject,
            "body": self.body,
            "message_id": message_id,
        })
    }

    fn message(&self, from: &Mailbox, message_id: &str) -> Result<Message, StepFailure> {
        let mut builder = Message::builder()
            .from(from.clone())
            .subject(self.subject.clone())
            .message_id(Some(message_id.to_owned()))
            .header(ContentType::TEXT_PLAIN);
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        builder
            .body(self.body.clone())
            .map_err(|e| StepFailure::invalid(format!("the message cannot be built: {e}")))
    }
}
