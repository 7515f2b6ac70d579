//! Where a key set comes from. The URI is only ever taken from configuration or from the
//! issuer's discovery document, never from a token.

use crate::keys::{VerifyingKey, parse_jwks};
use crate::provider::{UrlRefusal, check_key_url};
use async_trait::async_trait;
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

/// Largest JWKS or discovery document read; real ones are a few KiB.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// What the last successful response said about itself, for a conditional GET next time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag` of the last answer.
    pub etag: Option<String>,
    /// The `Last-Modified` of the last answer.
    pub last_modified: Option<String>,
}

#[derive(Debug)]
/// What a fetch brought.
pub enum Fetched {
    /// 304: the keys we hold are current.
    NotModified,
    /// A new key set.
    Keys {
        /// The usable keys.
        keys: Vec<VerifyingKey>,
        /// The validators to send with the next fetch.
        validators: Validators,
        /// The issuer's `Cache-Control: max-age`, if it sent one.
        max_age: Option<Duration>,
        /// The JWKS document as received, so it can be shared with other instances.
        document: Vec<u8>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
/// Why a fetch brought no keys.
pub enum FetchError {
    #[error("request failed: {0}")]
    /// The connection failed.
    Transport(String),
    #[error("timed out")]
    /// No answer within the timeout.
    Timeout,
    #[error("unexpected status {0}")]
    /// An unexpected HTTP status.
    Status(u16),
    #[error("document is not usable: {0}")]
    /// The answer is not a usable key set.
    Document(&'static str),
}

/// Why keys are being fetched: a shared copy that is good enough for a scheduled refresh may
/// be too old when a token names a kid we do not have (a rotation just happened).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchReason {
    /// Start-up, or the periodic refresh.
    Scheduled,
    /// A token named an unknown kid.
    UnknownKid,
}

#[async_trait]
/// Where an issuer's keys come from: its JWKS URL, discovery, a shared copy, or memory.
pub trait KeySource: Send + Sync + Debug {
    /// Fetches the key set; `validators` make it conditional.
    async fn fetch(
        &self,
        validators: &Validators,
        reason: FetchReason,
    ) -> Result<Fetched, FetchError>;
    /// For logs and metric labels.
    fn describe(&self) -> String;
}

/// The HTTP client every key fetch uses: short timeouts, no redirects (a redirect could send
/// the fetch to a host the operator never configured), rustls.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, FetchError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(3)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("portcullis-auth")
        .build()
        .map_err(|e| FetchError::Transport(e.to_string()))
}

/// A JWKS at a fixed URL (Cognito: `{issuer}/.well-known/jwks.json`).
#[derive(Debug, Clone)]
pub struct HttpJwks {
    client: reqwest::Client,
    url: String,
}

impl HttpJwks {
    /// Keys from the JWKS document at `url`, fetched with `client`.
    pub fn new(client: reqwest::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }
}

async fn get_bounded(
    client: &reqwest::Client,
    url: &str,
    validators: &Validators,
) -> Result<(StatusCode, reqwest::header::HeaderMap, Vec<u8>), FetchError> {
    let mut req = client.get(url);
    if let Some(etag) = &validators.etag {
        req = req.header(IF_NONE_MATCH, etag);
    }
    if let Some(lm) = &validators.last_modified {
        req = req.header(IF_MODIFIED_SINCE, lm);
    }
    let transport = |e: reqwest::Error| {
        if e.is_timeout() {
            FetchError::Timeout
        } else {
            FetchError::Transport(e.to_string())
        }
    };
    let mut resp = req.send().await.map_err(transport)?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(FetchError::Document("larger than 256 KiB"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, headers, body))
}

fn max_age(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let cc = headers.get(CACHE_CONTROL)?.to_str().ok()?;
    cc.split(',')
        .filter_map(|d| d.trim().strip_prefix("max-age="))
        .find_map(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs)
}

fn header_string(
    headers: &reqwest::header::HeaderMap,
    name: reqwest::header::HeaderName,
) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[async_trait]
impl KeySource for HttpJwks {
    async fn fetch(&self, validators: &Validators, _: FetchReason) -> Result<Fetched, FetchError> {
        let (status, headers, body) = get_bounded(&self.client, &self.url, validators).await?;
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if status != StatusCode::OK {
            return Err(FetchError::Status(status.as_u16()));
        }
        let (keys, skipped) = parse_jwks(&body).map_err(|_| FetchError::Document("not a JWKS"))?;
        for (kid, why) in skipped {
            tracing::warn!(url = %self.url, kid = ?kid, %why, "skipping unusable key in JWKS");
        }
        Ok(Fetched::Keys {
            keys,
            validators: Validators {
                etag: header_string(&headers, ETAG),
                last_modified: header_string(&headers, LAST_MODIFIED),
            },
            max_age: max_age(&headers),
            document: body,
        })
    }

    fn describe(&self) -> String {
        self.url.clone()
    }
}

/// Reads an OpenID Provider's discovery document and returns its `jwks_uri`. The document's
/// `issuer` must equal the configured one exactly (OpenID Connect Discovery 1.0, section 4.3):
/// otherwise one issuer could publish keys for another. The `jwks_uri` is held to the issuer's
/// own rule (https, or loopback http when allowed, never a user name or password): it is
/// remote content, so it must not be able to point the key fetch anywhere the operator could
/// not have configured.
pub async fn discover_jwks_uri(
    client: &reqwest::Client,
    issuer: &str,
    allow_http: bool,
) -> Result<String, FetchError> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let (status, _, body) = get_bounded(client, &url, &Validators::default()).await?;
    if status != StatusCode::OK {
        return Err(FetchError::Status(status.as_u16()));
    }
    let doc: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| FetchError::Document("discovery is not JSON"))?;
    if doc.get("issuer").and_then(|v| v.as_str()) != Some(issuer) {
        return Err(FetchError::Document(
            "discovery issuer differs from the configured issuer",
        ));
    }
    let uri = doc
        .get("jwks_uri")
        .and_then(|v| v.as_str())
        .ok_or(FetchError::Document("discovery has no jwks_uri"))?;
    check_key_url(uri, allow_http).map_err(|why| {
        FetchError::Document(match why {
            UrlRefusal::NotAUrl => "jwks_uri is not an absolute URL with a host",
            UrlRefusal::Userinfo => "jwks_uri carries a user name or password",
            UrlRefusal::NotHttps | UrlRefusal::PlainHttp => "jwks_uri is not https",
        })
    })?;
    Ok(uri.to_owned())
}

/// Keys held in process (the embedded dev issuer), read through a function so that rotations
/// show up at the next refresh exactly as they would over HTTP.
pub struct StaticJwks {
    name: String,
    jwks: Arc<dyn Fn() -> Vec<u8> + Send + Sync>,
}

impl Debug for StaticJwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticJwks")
            .field("name", &self.name)
            .finish()
    }
}

impl StaticJwks {
    /// Keys from `jwks`, a function returning a JWKS document; `name` is for logs.
    pub fn new(
        name: impl Into<String>,
        jwks: impl Fn() -> Vec<u8> + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            jwks: Arc::new(jwks),
        }
    }
}

#[async_trait]
impl KeySource for StaticJwks {
    async fn fetch(&self, _: &Validators, _: FetchReason) -> Result<Fetched, FetchError> {
        let document = (self.jwks)();
        let (keys, _) = parse_jwks(&document).map_err(|_| FetchError::Document("not a JWKS"))?;
        Ok(Fetched::Keys {
            keys,
            validators: Validators::default(),
            max_age: None,
            document,
        })
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// An OpenID Provider's keys: the `jwks_uri` is discovered on the first fetch and kept.
#[derive(Debug)]
pub struct DiscoveredJwks {
    client: reqwest::Client,
    issuer: String,
    allow_http: bool,
    jwks: tokio::sync::OnceCell<HttpJwks>,
}

impl DiscoveredJwks {
    /// Keys from the `jwks_uri` of `issuer`'s discovery document; `allow_http` admits loopback http.
    pub fn new(client: reqwest::Client, issuer: impl Into<String>, allow_http: bool) -> Self {
        Self {
            client,
            issuer: issuer.into(),
            allow_http,
            jwks: tokio::sync::OnceCell::new(),
        }
    }
}

#[async_trait]
impl KeySource for DiscoveredJwks {
    async fn fetch(
        &self,
        validators: &Validators,
        reason: FetchReason,
    ) -> Result<Fetched, FetchError> {
        let jwks = self
            .jwks
            .get_or_try_init(|| async {
                let uri = discover_jwks_uri(&self.client, &self.issuer, self.allow_http).await?;
                Ok::<_, FetchError>(HttpJwks::new(self.client.clone(), uri))
            })
            .await?;
        jwks.fetch(validators, reason).await
    }

    fn describe(&self) -> String {
        match self.jwks.get() {
            Some(j) => j.describe(),
            None => format!("{} (discovery)", self.issuer),
        }
    }
}
