//! Live run events: a run followed over Server-Sent Events.
//!
//! The stream polls the run's records every [`POLL`] and sends the whole execution
//! whenever it differs from what was last sent. Polling the database rather than
//! listening to this process's worker means the stream sees every step whichever
//! instance runs it, on both backends, at the cost of one indexed read per poll per
//! watcher; PostgreSQL `LISTEN`/`NOTIFY` could replace the timer later without
//! changing the events. Sending the whole execution keeps clients simple (replace,
//! never merge) and lets a reconnecting client resume with nothing to replay.

use actix_web::HttpResponse;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::web::Bytes;
use obera_store::{Db, StoreError, TenantScope};
use obera_types::{ExecutionId, WorkflowExecution};
use std::convert::Infallible;
use std::time::{Duration, Instant};

/// How often the run's records are read.
const POLL: Duration = Duration::from_millis(250);
/// A comment line after this much silence, so proxies keep the connection open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// A stream ends after this long; the client reconnects to go on following.
const MAX_STREAM: Duration = Duration::from_secs(30 * 60);

struct Watch {
    db: Db,
    scope: TenantScope,
    id: ExecutionId,
    /// Read before the stream started (so a missing run was a 404), sent first.
    first: Option<WorkflowExecution>,
    last: Option<String>,
    finished: bool,
    started: Instant,
    quiet_since: Instant,
}

impl Watch {
    /// The next thing to send, or `None` when the stream is over.
    async fn next(&mut self) -> Option<Bytes> {
        if self.finished {
            return None;
        }
        loop {
            let execution = match self.first.take() {
                Some(first) => first,
                None => {
                    tokio::time::sleep(POLL).await;
                    if self.started.elapsed() > MAX_STREAM {
                        return None;
                    }
                    match self.db.get_workflow_run(&self.scope, self.id).await {
                        Ok(now) => now,
                        Err(StoreError::NotFound) => return None,
                        // The database is briefly unavailable: keep following.
                        Err(error) => {
                            tracing::debug!(%error, "reading a watched run failed");
                            if let Some(alive) = self.keep_alive() {
                                return Some(alive);
                            }
                            continue;
                        }
                    }
                }
            };
            let json = match serde_json::to_string(&execution) {
                Ok(json) => json,
                Err(error) => {
                    tracing::warn!(%error, "a run could not be written as JSON");
                    return None;
                }
            };
            if self.last.as_deref() == Some(json.as_str()) {
                if let Some(alive) = self.keep_alive() {
                    return Some(alive);
                }
                continue;
            }
            self.finished = execution.status.is_finished();
            self.quiet_since = Instant::now();
            let event = format!("event: run\ndata: {json}\n\n");
            self.last = Some(json);
            return Some(Bytes::from(event));
        }
    }

    fn keep_alive(&mut self) -> Option<Bytes> {
        (self.quiet_since.elapsed() >= KEEP_ALIVE).then(|| {
            self.quiet_since = Instant::now();
            Bytes::from_static(b": keep-alive\n\n")
        })
    }
}

/// The `text/event-stream` response following `first` until it finishes.
pub fn stream(db: Db, scope: TenantScope, first: WorkflowExecution) -> HttpResponse {
    let watch = Watch {
        db,
        scope,
        id: first.id,
        first: Some(first),
        last: None,
        finished: false,
        started: Instant::now(),
        quiet_since: Instant::now(),
    };
    let events = futures_util::stream::unfold(watch, |mut watch| async move {
        let bytes = watch.next().await?;
        Some((Ok::<_, Infallible>(bytes), watch))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(events)
}
