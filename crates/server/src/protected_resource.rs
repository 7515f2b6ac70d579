//! This API as an OAuth protected resource (RFC 9728): its identifier, its metadata document,
//! and the `WWW-Authenticate` challenges of a refusal, each naming that document
//! (`resource_metadata`, section 5.1) and offering `DPoP` where some issuer accepts it.

use crate::config::Config;
use portcullis_auth::Verifier;
use portcullis_auth::bearer::Challenges;
use portcullis_auth::dpop::DpopMode;
use serde_json::{Value, json};
use std::net::SocketAddr;

/// Where the metadata document is served, under the resource URL.
pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

#[derive(Debug, Clone)]
pub struct ProtectedResource {
    /// The resource identifier: the configured `resource`, or `http://{bound address}`.
    pub id: String,
    /// `{id}/.well-known/oauth-protected-resource`.
    pub metadata_url: String,
    /// The metadata document, built once.
    pub document: Value,
    /// The challenges of a 401, for this configuration.
    pub challenges: Challenges,
}

impl ProtectedResource {
    pub fn new(config: &Config, bound: SocketAddr, verifier: &Verifier) -> anyhow::Result<Self> {
        let url = crate::config::resource::effective(config.resource.as_deref(), bound)
            .map_err(|why| anyhow::anyhow!("resource: {why}"))?;
        let id = url.as_str().trim_end_matches('/').to_owned();
        let metadata_url = format!("{id}{METADATA_PATH}");
        let mut servers: Vec<String> = Vec::new();
        let mut modes = Vec::new();
        for provider in verifier.providers() {
            let issuer = provider.issuer().to_owned();
            modes.push(verifier.dpop_mode(&issuer));
            if !servers.contains(&issuer) {
                servers.push(issuer);
            }
        }
        let mut document = json!({
            "resource": id,
            "authorization_servers": servers,
            "scopes_supported": config.resource_scopes,
            "bearer_methods_supported": ["header"],
            "resource_name": "Portcullis",
        });
        let dpop_on = modes.iter().any(|m| *m != DpopMode::Off);
        if let (true, Some(dpop)) = (dpop_on, verifier.dpop()) {
            let algs: Vec<&str> = dpop.config().algorithms.iter().map(|a| a.name()).collect();
            document["dpop_signing_alg_values_supported"] = json!(algs);
            if modes.iter().all(|m| *m == DpopMode::Required) {
                document["dpop_bound_access_tokens_required"] = json!(true);
            }
        }
        let challenges = Challenges::for_verifier(verifier).resource_metadata(metadata_url.clone());
        Ok(Self {
            id,
            metadata_url,
            document,
            challenges,
        })
    }
}
