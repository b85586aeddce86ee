//! A local SMTP server for tests: it speaks enough of RFC 5321 for a client to hand
//! it messages (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and keeps each one, or
//! refuses every recipient with a reply of the test's choosing.
//!
//! The server's settings must name its address before the app starts, inside the
//! synchronous settings hook: [`with_smtp_sink`] binds the port there and leaves the
//! listener for [`SmtpSink::take`] on the same thread (the test's runtime thread).

use obera_server::config::Settings;
use std::cell::RefCell;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

thread_local! {
    static BOUND: RefCell<Option<std::net::TcpListener>> = const { RefCell::new(None) };
}

/// A settings hook: the app's workflow emails go to a sink on a fresh port.
pub fn with_smtp_sink(settings: &mut Settings) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the SMTP sink");
    let port = listener.local_addr().expect("the sink's address").port();
    settings.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    settings.smtp_from = "Obera Tests <flows@example.com>".to_owned();
    BOUND.with(|b| *b.borrow_mut() = Some(listener));
}

/// One message the sink took.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent: headers, a blank line, the body (dot-unstuffed).
    pub data: String,
}

impl Mail {
    /// A header's value (the first of that name), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.split("\r\n").find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }

    pub fn body(&self) -> &str {
        self.data
            .split_once("\r\n\r\n")
            .map_or("", |(_, body)| body)
    }
}

pub struct SmtpSink {
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    /// Serves the listener [`with_smtp_sink`] bound; every recipient is refused with
    /// `refuse_rcpt` (e.g. `"550 5.1.1 no such user"`) when given.
    pub fn take(refuse_rcpt: Option<&'static str>) -> SmtpSink {
        let listener = BOUND
            .with(|b| b.borrow_mut().take())
            .expect("the app was spawned with with_smtp_sink");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
        let mails = Arc::new(Mutex::new(Vec::new()));
        let shared = mails.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(converse(stream, shared.clone(), refuse_rcpt));
            }
        });
        SmtpSink { mails }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

async fn converse(
    stream: tokio::net::TcpStream,
    mails: Arc<Mutex<Vec<Mail>>>,
    refuse_rcpt: Option<&'static str>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &str = match verb.as_str() {
            "EHLO" => "250-sink.test\r\n250 8BITMIME\r\n",
            "HELO" | "NOOP" => "250 OK\r\n",
            "RSET" => {
                (from, to) = (String::new(), Vec::new());
                "250 OK\r\n"
            }
            "MAIL" => {
                from = address(&command);
                "250 OK\r\n"
            }
            "RCPT" => match refuse_rcpt {
                Some(refusal) => {
                    write.write_all(format!("{refusal}\r\n").as_bytes()).await?;
                    continue;
                }
                None => {
                    to.push(address(&command));
                    "250 OK\r\n"
                }
            },
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                mails.lock().unwrap().push(Mail {
                    from: from.clone(),
                    to: std::mem::take(&mut to),
                    data,
                });
                "250 OK queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => "502 unknown command\r\n",
        };
        write.write_all(reply.as_bytes()).await?;
    }
}

/// The address in `MAIL FROM:<a>` or `RCPT TO:<a>`.
fn address(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map_or_else(String::new, |(address, _)| address.to_owned())
}
