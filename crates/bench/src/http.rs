//! A minimal HTTP/1.1 keep-alive client over one TCP connection.
//!
//! Why not reqwest or hyper: on a 2-core machine the load generator shares the CPU
//! with the server, so its own cost per request must be as small as possible. This
//! client writes a prebuilt request and reads one `Content-Length` response; the
//! server under test always answers with sized bodies.

use anyhow::{Context, bail};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One persistent connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// A response: status and body.
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// The bytes of a request with an optional bearer token and JSON body.
pub fn request(method: &str, path: &str, bearer: Option<&str>, json: Option<&str>) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if let Some(token) = bearer {
        r.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if let Some(body) = json {
        r.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
    } else {
        r.push_str("\r\n");
    }
    r.into_bytes()
}

/// `req` with one more header line after its request line.
pub fn with_header(req: &[u8], name: &str, value: &str) -> Vec<u8> {
    let line_end = req
        .windows(2)
        .position(|w| w == b"\r\n")
        .map_or(req.len(), |i| i + 2);
    let mut out = Vec::with_capacity(req.len() + name.len() + value.len() + 4);
    out.extend_from_slice(&req[..line_end]);
    out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    out.extend_from_slice(&req[line_end..]);
    out
}

fn header_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Status code and `Content-Length` of a response head.
fn parse_head(head: &[u8]) -> anyhow::Result<(u16, usize)> {
    let text = std::str::from_utf8(head).context("response head is not UTF-8")?;
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .context("no status line")?;
    let mut length = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                bail!("chunked responses are not supported by the bench client");
            }
        }
    }
    Ok((status, length.unwrap_or(0)))
}

impl Conn {
    /// Opens a connection with Nagle off (requests are single small writes).
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(64 * 1024),
        })
    }

    /// Sends one request and reads its whole response.
    pub async fn send(&mut self, req: &[u8]) -> anyhow::Result<Response> {
        self.stream.write_all(req).await?;
        let head_len = loop {
            if let Some(n) = header_end(&self.buf) {
                break n;
            }
            self.fill().await?;
        };
        let (status, body_len) = parse_head(&self.buf[..head_len])?;
        while self.buf.len() < head_len + body_len {
            self.fill().await?;
        }
        let body = self.buf[head_len..head_len + body_len].to_vec();
        self.buf.drain(..head_len + body_len);
        Ok(Response { status, body })
    }

    async fn fill(&mut self) -> anyhow::Result<()> {
        // `read_buf` fills spare capacity without zeroing it first.
        self.buf.reserve(16 * 1024);
        let n = self.stream.read_buf(&mut self.buf).await?;
        if n == 0 {
            bail!("the server closed the connection");
        }
        Ok(())
    }
}

/// One request on a fresh connection, for setup calls; fails unless the status is 2xx.
pub async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    json: Option<&serde_json::Value>,
) -> anyhow::Result<serde_json::Value> {
    let body = json.map(serde_json::Value::to_string);
    let mut conn = Conn::connect(addr).await?;
    let res = conn
        .send(&request(method, path, bearer, body.as_deref()))
        .await?;
    if !(200..300).contains(&res.status) {
        bail!(
            "{method} {path} answered {}: {}",
            res.status,
            String::from_utf8_lossy(&res.body)
        );
    }
    if res.body.is_empty() {
        return Ok(serde_json::Value::Null);
    }
    Ok(serde_json::from_slice(&res.body)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_added_header_follows_the_request_line() {
        let req = request("POST", "/x", None, Some("{}"));
        let out =
            String::from_utf8_lossy(&with_header(&req, "Idempotency-Key", "k-1")).into_owned();
        assert_eq!(
            out,
            "POST /x HTTP/1.1\r\nIdempotency-Key: k-1\r\nHost: 127.0.0.1\r\n\
             Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        );
    }
}
