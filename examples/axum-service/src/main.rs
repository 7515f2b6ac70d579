//! `ISSUER=http://127.0.0.1:8080/dev-issuer cargo run -p example-axum-service`: serves the
//! example on `LISTEN` (default `127.0.0.1:3000`), accepting tokens of `ISSUER` for
//! `CLIENT_ID` (default `portcullis-dev`, the dev issuer's client).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let Ok(issuer) = std::env::var("ISSUER") else {
        eprintln!("set ISSUER to the token issuer's URL (e.g. `portcullis dev`'s dev issuer)");
        return ExitCode::FAILURE;
    };
    let client_id = std::env::var("CLIENT_ID").unwrap_or_else(|_| "portcullis-dev".into());
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let verifier = match example_axum_service::verifier(&issuer, &client_id).await {
        Ok(v) => v,
        Err(e) => {
            eprintln!("cannot verify tokens of {issuer}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(&listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on http://{listen} (GET /me, GET /reports)");
    match axum::serve(listener, example_axum_service::app(verifier)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server stopped: {e}");
            ExitCode::FAILURE
        }
    }
}
