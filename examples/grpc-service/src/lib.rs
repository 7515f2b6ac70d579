//! A tonic gRPC service protected by `portcullis_auth::layer::AuthLayer`, the same layer as the
//! axum example, refusing with gRPC statuses: `UNAUTHENTICATED` for a missing or bad token,
//! `PERMISSION_DENIED` for a token without [`GREETER_SCOPE`], with generic messages.
//!
//! No `.proto` file and no `protoc`: the two messages are prost structs written by hand, and
//! the service routes its one method itself with tonic's server-side `Grpc` handler. The wire
//! format is what this `.proto` would give:
//!
//! ```text
//! package portcullis.example;
//! service Greeter { rpc Hello(HelloRequest) returns (HelloReply); }
//! message HelloRequest { string name = 1; }
//! message HelloReply { string message = 1; string subject = 2; }
//! ```

use portcullis_auth::layer::AuthLayer;
use portcullis_auth::provider::Profile;
use portcullis_auth::{Verified, Verifier};
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::body::Body;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::codegen::{BoxFuture, Service, http};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};
use tonic_prost::ProstCodec;

/// The scope every call needs on top of a valid token.
pub const GREETER_SCOPE: &str = "greeter:hello";
/// The service's full name.
pub const SERVICE: &str = "portcullis.example.Greeter";
/// The path of its one method.
pub const HELLO_PATH: &str = "/portcullis.example.Greeter/Hello";

/// `HelloRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloRequest {
    /// Whom to greet.
    #[prost(string, tag = "1")]
    pub name: String,
}

/// `HelloReply`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloReply {
    /// The greeting.
    #[prost(string, tag = "1")]
    pub message: String,
    /// The verified token's subject.
    #[prost(string, tag = "2")]
    pub subject: String,
}

/// A verifier for one Cognito-shaped issuer (such as `portcullis dev`'s embedded issuer) that
/// accepts `client_id`. Plain http is allowed for loopback issuers only.
pub async fn verifier(
    issuer: &str,
    client_id: &str,
) -> Result<Arc<Verifier>, portcullis_auth::builder::BuildError> {
    let profile = Profile {
        region: None,
        user_pool_id: None,
        ..Profile::cognito("", "", [client_id])
    }
    .issuer(issuer);
    let verifier = Verifier::builder()
        .profile(profile)
        .allow_loopback_http(true)
        .build()
        .await?;
    Ok(Arc::new(verifier))
}

/// The `Greeter` service.
#[derive(Debug, Clone, Default)]
pub struct Greeter;

impl NamedService for Greeter {
    const NAME: &'static str = SERVICE;
}

impl Service<http::Request<Body>> for Greeter {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        if req.uri().path() == HELLO_PATH {
            Box::pin(async move {
                let mut grpc = Grpc::new(ProstCodec::<HelloReply, HelloRequest>::default());
                Ok(grpc.unary(Hello, req).await)
            })
        } else {
            Box::pin(async { Ok(Status::unimplemented("no such method").into_http()) })
        }
    }
}

/// The `Hello` method.
struct Hello;

impl UnaryService<HelloRequest> for Hello {
    type Response = HelloReply;
    type Future = BoxFuture<Response<HelloReply>, Status>;

    fn call(&mut self, request: Request<HelloRequest>) -> Self::Future {
        Box::pin(async move {
            // The layer ran before: a call without a verified token never gets here, but the
            // handler does not take that on faith.
            let Some(verified) = request.extensions().get::<Arc<Verified>>().cloned() else {
                return Err(Status::unauthenticated("authentication required"));
            };
            let name = request.into_inner().name;
            Ok(Response::new(HelloReply {
                message: format!("hello, {name}"),
                subject: verified.claims.sub.to_string(),
            }))
        })
    }
}

/// Serves `Greeter` behind the layer on `listener` until the task is dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    verifier: Arc<Verifier>,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .layer(AuthLayer::grpc(verifier).require_scopes([GREETER_SCOPE]))
        .add_service(Greeter)
        .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
        .await
}

/// Calls `Hello` over `channel`, with `token` as the bearer token when given.
pub async fn hello(
    channel: Channel,
    token: Option<&str>,
    name: &str,
) -> Result<HelloReply, Status> {
    let mut client = tonic::client::Grpc::new(channel);
    client
        .ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let mut request = Request::new(HelloRequest {
        name: name.to_owned(),
    });
    if let Some(token) = token {
        let value = format!("Bearer {token}")
            .parse()
            .map_err(|_| Status::invalid_argument("the token is no header value"))?;
        request.metadata_mut().insert("authorization", value);
    }
    let codec = ProstCodec::<HelloRequest, HelloReply>::default();
    client
        .unary(request, PathAndQuery::from_static(HELLO_PATH), codec)
        .await
        .map(Response::into_inner)
}
