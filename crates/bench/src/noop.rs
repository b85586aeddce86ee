//! `obera-bench noop`: an actix-web server with one worker and one handler that
//! returns a constant, the floor of what any request to Obera can cost (HTTP
//! parsing, routing, the client). It prints its port on stdout.

use actix_web::{App, HttpResponse, HttpServer, web};
use std::io::Write;

/// The same body `/health` returns, so both responses have the same size.
const BODY: &str = r#"{"status":"ok"}"#;

/// Entry point of the `noop` subcommand.
pub fn main() -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async {
        let server = HttpServer::new(|| {
            App::new().route(
                "/",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .body(BODY)
                }),
            )
        })
        .workers(1)
        .bind("127.0.0.1:0")?;
        let port = server.addrs().first().map(|a| a.port()).unwrap_or(0);
        println!("listening on http://127.0.0.1:{port}");
        std::io::stdout().flush()?;
        server.run().await?;
        Ok(())
    })
}
