//! `ISSUER=http://127.0.0.1:8080/dev-issuer cargo run -p example-grpc-service`: serves the
//! `portcullis.example.Greeter` gRPC service on `LISTEN` (default `127.0.0.1:50051`),
//! accepting tokens of `ISSUER` for `CLIENT_ID` (default `portcullis-dev`) that carry the
//! `greeter:hello` scope.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let Ok(issuer) = std::env::var("ISSUER") else {
        eprintln!("set ISSUER to the token issuer's URL (e.g. `portcullis dev`'s dev issuer)");
        return ExitCode::FAILURE;
    };
    let client_id = std::env::var("CLIENT_ID").unwrap_or_else(|_| "portcullis-dev".into());
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:50051".into());
    let verifier = match example_grpc_service::verifier(&issuer, &client_id).await {
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
    println!("gRPC on {listen}: {}", example_grpc_service::HELLO_PATH);
    match example_grpc_service::serve(listener, verifier).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server stopped: {e}");
            ExitCode::FAILURE
        }
    }
}
