//! The embedded dev issuer inside the server: its keys live in the data directory so tokens
//! survive restarts, and it is published under [`DEV_ISSUER_PATH`] so other local services can
//! verify its tokens the way they would verify Cognito's.

use anyhow::Context;
use portcullis_dev_issuer::DevIssuer;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// Where the dev issuer's discovery document and JWKS are served on the API listener.
pub const DEV_ISSUER_PATH: &str = "/dev-issuer";

/// `http://{addr}/dev-issuer`: the `iss` of dev tokens unless `auth.issuer` says otherwise.
pub fn dev_issuer_url(addr: SocketAddr) -> String {
    format!("http://{addr}{DEV_ISSUER_PATH}")
}

pub fn open_dev_issuer(data_dir: &Path, issuer_url: &str) -> anyhow::Result<Arc<DevIssuer>> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
    let issuer = DevIssuer::open(data_dir, issuer_url.to_owned())
        .with_context(|| format!("opening the dev issuer keys in {}", data_dir.display()))?;
    Ok(Arc::new(issuer))
}
