//! The metrics listener. It is separate from the API so that `/metrics` is never reachable
//! through the public address.
//!
//! PLACEHOLDER: no metrics are recorded or exported yet. The endpoint exists so that the
//! listener, its configuration and the "not on the public router" rule are in place; it serves
//! an empty exposition with a comment saying so until the Prometheus exporter is wired in.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

pub fn router() -> Router {
    Router::new().route("/metrics", get(placeholder))
}

async fn placeholder() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        "# portcullis: metrics are not exported yet\n",
    )
}
