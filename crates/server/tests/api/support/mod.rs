//! The harness every end-to-end test starts from: `TestApp::sqlite()` or
//! `TestApp::postgres(&url)`, `.with_config(..)`, `.start()`; then callers (`app.caller("alice")`,
//! `app.admin("root")`) make the requests.

mod app;
pub mod binary;
mod caller;
pub mod cluster;
pub mod problem;
pub mod proxy;
pub mod samples;
pub mod services;
pub mod ws;

pub use app::{TestApp, TestAppBuilder, client};
pub use caller::Caller;
pub use problem::{assert_problem, request_id};
pub use services::{postgres_admin_url, redis_url};
