//! Access and ID tokens, Cognito-shaped unless the spec names another [`Shape`].
//!
//! The Cognito header is `{"alg","kid"}` with no `typ`, as Cognito sends it;
//! verifiers must accept a missing `typ`, so tokens from here exercise that path.
//! Extra claims are applied last and override the standard ones, and
//! [`TokenSpec::omit`] removes claims, so tests can shape invalid tokens that
//! are still signed by a real key.

use std::borrow::Cow;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::Error;
use crate::faults::{SKEW_SECS, TokenFault, WRONG_AUDIENCE};
use crate::issuer::{DevIssuer, sign_with, unix_now};
use crate::shape::Shape;

/// The app client id tokens carry unless told otherwise.
pub const DEFAULT_CLIENT_ID: &str = "portcullis-dev";
/// The subject tokens carry unless told otherwise.
pub const DEFAULT_SUB: &str = "dev-user";
/// How long tokens live unless told otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);

/// What to put in a minted token. Build with [`TokenSpec::new`] and the
/// chained setters, or fill the public fields directly.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSpec {
    pub sub: String,
    /// `username` / `cognito:username`; the `sub` when `None` (as in pools
    /// that sign in by email alias).
    pub username: Option<String>,
    /// ID token `email`; `{username}@example.com` when `None`.
    pub email: Option<String>,
    /// Access token `client_id`, ID token `aud`.
    pub client_id: String,
    /// `cognito:groups`; left out when empty, as Cognito does.
    pub groups: Vec<String>,
    /// `exp - iat`.
    pub ttl: Duration,
    /// Access token `scope`, joined with spaces.
    pub scopes: Vec<String>,
    /// Shared by every token of one sign-in session (Cognito's refresh
    /// lineage); a fresh UUIDv7 when `None`.
    pub origin_jti: Option<String>,
    /// `jti`; a fresh UUIDv7 when `None`.
    pub jti: Option<String>,
    pub amr: Option<Vec<String>>,
    /// `iat` in Unix seconds; now when `None`. Set it in the past or future
    /// to mint expired or not-yet-valid tokens.
    pub issued_at: Option<i64>,
    /// `auth_time`; the `iat` when `None`.
    pub auth_time: Option<i64>,
    /// Added last: they override standard claims of the same name.
    pub extra: Map<String, Value>,
    /// Claims removed after everything else (e.g. `exp` for a "missing exp" test).
    pub omit: Vec<String>,
    /// Whose claim shape the access token has.
    pub shape: Shape,
    /// `aud` of the shapes that carry one (not Cognito access tokens, and Google's is the
    /// client id); [`DEFAULT_AUDIENCE`](crate::DEFAULT_AUDIENCE) when `None`.
    pub audience: Option<String>,
    /// Entra's `tid` ([`DEFAULT_TENANT_ID`](crate::DEFAULT_TENANT_ID) when `None`), Google's
    /// hosted domain `hd` (left out when `None`).
    pub tenant: Option<String>,
}

impl Default for TokenSpec {
    fn default() -> Self {
        Self {
            sub: DEFAULT_SUB.to_owned(),
            username: None,
            email: None,
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            groups: Vec::new(),
            ttl: DEFAULT_TTL,
            scopes: vec!["openid".to_owned(), "profile".to_owned()],
            origin_jti: None,
            jti: None,
            amr: None,
            issued_at: None,
            auth_time: None,
            extra: Map::new(),
            omit: Vec::new(),
            shape: Shape::Cognito,
            audience: None,
            tenant: None,
        }
    }
}

impl TokenSpec {
    /// Defaults (client `portcullis-dev`, 1 h, scopes `openid profile`) for `sub`.
    #[must_use]
    pub fn new(sub: impl Into<String>) -> Self {
        Self {
            sub: sub.into(),
            ..Self::default()
        }
    }

    #[must_use]
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    #[must_use]
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    #[must_use]
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = client_id.into();
        self
    }

    #[must_use]
    pub fn groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.groups = groups.into_iter().map(Into::into).collect();
        self
    }

    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    #[must_use]
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    #[must_use]
    pub fn origin_jti(mut self, origin_jti: impl Into<String>) -> Self {
        self.origin_jti = Some(origin_jti.into());
        self
    }

    #[must_use]
    pub fn jti(mut self, jti: impl Into<String>) -> Self {
        self.jti = Some(jti.into());
        self
    }

    #[must_use]
    pub fn amr<I, S>(mut self, amr: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.amr = Some(amr.into_iter().map(Into::into).collect());
        self
    }

    #[must_use]
    pub fn issued_at(mut self, unix_secs: i64) -> Self {
        self.issued_at = Some(unix_secs);
        self
    }

    #[must_use]
    pub fn auth_time(mut self, unix_secs: i64) -> Self {
        self.auth_time = Some(unix_secs);
        self
    }

    /// Sets (or overrides) one claim.
    #[must_use]
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }

    /// Binds the access token to a DPoP key (RFC 9449 section 6.1): `cnf` is
    /// `{"jkt": thumbprint}`, the key's RFC 7638 SHA-256 thumbprint.
    #[must_use]
    pub fn dpop_bound(self, jkt: impl Into<String>) -> Self {
        self.claim("cnf", serde_json::json!({ "jkt": jkt.into() }))
    }

    /// Mints tokens with another provider's claim shape.
    #[must_use]
    pub fn shape(mut self, shape: Shape) -> Self {
        self.shape = shape;
        self
    }

    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    #[must_use]
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// Leaves `name` out of the token.
    #[must_use]
    pub fn omit(mut self, name: impl Into<String>) -> Self {
        self.omit.push(name.into());
        self
    }

    /// Adds a `name=value` claim as given on a command line (`--claim k=v`).
    ///
    /// # Errors
    /// [`Error::InvalidClaimArg`] without `=` or with an empty name.
    pub fn claim_arg(self, arg: &str) -> Result<Self, Error> {
        let (name, value) = parse_claim_arg(arg)?;
        Ok(self.claim(name, value))
    }
}

/// Splits `name=value`; the value is JSON if it parses as JSON (`n=3`,
/// `flag=true`, `list=["a"]`), otherwise the literal string.
///
/// # Errors
/// [`Error::InvalidClaimArg`] without `=` or with an empty name.
pub fn parse_claim_arg(arg: &str) -> Result<(String, Value), Error> {
    let invalid = || Error::InvalidClaimArg {
        input: arg.to_owned(),
    };
    let (name, raw) = arg.split_once('=').ok_or_else(invalid)?;
    if name.trim().is_empty() {
        return Err(invalid());
    }
    let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
    Ok((name.to_owned(), value))
}

/// Two tokens of one sign-in: what Cognito's token endpoint returns together.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub id_token: String,
    /// Shared by both tokens; revoking it revokes the session.
    pub origin_jti: String,
}

impl DevIssuer {
    /// The claims of an access token for `spec` (for [`Shape::Google`], of the ID token that
    /// stands in for one), before signing.
    #[must_use]
    pub fn access_claims(&self, spec: &TokenSpec) -> Map<String, Value> {
        if spec.shape != Shape::Cognito {
            return finish(self.shaped_claims(spec), spec);
        }
        let mut claims = self.common_claims(spec);
        claims.insert("token_use".into(), json!("access"));
        claims.insert("client_id".into(), json!(spec.client_id));
        claims.insert("scope".into(), json!(spec.scopes.join(" ")));
        claims.insert("username".into(), json!(username(spec)));
        finish(claims, spec)
    }

    /// The claims of an ID token for `spec`, before signing.
    #[must_use]
    pub fn id_claims(&self, spec: &TokenSpec) -> Map<String, Value> {
        let mut claims = self.common_claims(spec);
        let username = username(spec);
        claims.insert("token_use".into(), json!("id"));
        claims.insert("aud".into(), json!(spec.client_id));
        claims.insert("cognito:username".into(), json!(username));
        let email = spec
            .email
            .clone()
            .unwrap_or_else(|| format!("{username}@example.com"));
        claims.insert("email".into(), json!(email));
        claims.insert("email_verified".into(), json!(true));
        finish(claims, spec)
    }

    /// Mints a signed access token, with the header its shape's provider sends. A token fault
    /// switched on through [`DevIssuer::faults`] applies.
    #[must_use]
    pub fn mint_access(&self, spec: &TokenSpec) -> String {
        let spec = self.faulted(spec);
        self.sign_access(&spec)
    }

    fn sign_access(&self, spec: &TokenSpec) -> String {
        self.sign_claims_typed(&self.access_claims(spec), spec.shape.typ())
    }

    /// `spec` with the pending token fault applied, if one is pending.
    fn faulted<'a>(&self, spec: &'a TokenSpec) -> Cow<'a, TokenSpec> {
        match self.faults().take_token_fault() {
            Some(fault) => Cow::Owned(broken(spec, fault)),
            None => Cow::Borrowed(spec),
        }
    }

    /// Mints a signed Cognito ID token (verifiers of access tokens must reject it).
    #[must_use]
    pub fn mint_id(&self, spec: &TokenSpec) -> String {
        self.sign_claims(&self.id_claims(spec))
    }

    /// Mints an access and an ID token sharing one `origin_jti`. A token fault switched on
    /// through [`DevIssuer::faults`] applies to both, and counts once.
    #[must_use]
    pub fn mint_pair(&self, spec: &TokenSpec) -> TokenPair {
        let spec = self.faulted(spec);
        let origin_jti = spec
            .origin_jti
            .clone()
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let spec = TokenSpec {
            origin_jti: Some(origin_jti.clone()),
            jti: None,
            ..spec.into_owned()
        };
        TokenPair {
            access_token: self.sign_access(&spec),
            id_token: self.mint_id(&spec),
            origin_jti,
        }
    }

    /// Signs `claims` with the current key under the standard header.
    #[must_use]
    pub fn sign_claims(&self, claims: &Map<String, Value>) -> String {
        self.sign_claims_typed(claims, None)
    }

    fn sign_claims_typed(&self, claims: &Map<String, Value>, typ: Option<&str>) -> String {
        let keys = self.snapshot();
        let key = &keys.current.key;
        let mut header = json!({ "kid": key.kid(), "alg": key.alg().as_str() });
        if let Some(typ) = typ {
            header["typ"] = json!(typ);
        }
        let payload = Value::Object(claims.clone()).to_string();
        sign_with(key, header.to_string().as_bytes(), payload.as_bytes())
    }

    fn common_claims(&self, spec: &TokenSpec) -> Map<String, Value> {
        let iat = spec.issued_at.unwrap_or_else(unix_now);
        let ttl = i64::try_from(spec.ttl.as_secs()).unwrap_or(i64::MAX);
        let new_id = || uuid::Uuid::now_v7().to_string();
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(spec.sub));
        claims.insert("iss".into(), json!(self.issuer_url()));
        if !spec.groups.is_empty() {
            claims.insert("cognito:groups".into(), json!(spec.groups));
        }
        claims.insert(
            "origin_jti".into(),
            json!(spec.origin_jti.clone().unwrap_or_else(new_id)),
        );
        claims.insert("event_id".into(), json!(new_id()));
        claims.insert("auth_time".into(), json!(spec.auth_time.unwrap_or(iat)));
        claims.insert("iat".into(), json!(iat));
        claims.insert("exp".into(), json!(iat.saturating_add(ttl)));
        claims.insert("jti".into(), json!(spec.jti.clone().unwrap_or_else(new_id)));
        if let Some(amr) = &spec.amr {
            claims.insert("amr".into(), json!(amr));
        }
        claims
    }
}

/// `spec` changed the way `fault` says.
fn broken(spec: &TokenSpec, fault: TokenFault) -> TokenSpec {
    let mut spec = spec.clone();
    let ttl = i64::try_from(spec.ttl.as_secs()).unwrap_or(i64::MAX);
    match fault {
        TokenFault::Expired => {
            let iat = unix_now().saturating_sub(ttl).saturating_sub(SKEW_SECS);
            spec.issued_at = Some(iat);
            spec.auth_time = Some(iat);
        }
        TokenFault::NotYetValid => {
            let iat = unix_now().saturating_add(SKEW_SECS);
            spec.issued_at = Some(iat);
            spec.auth_time = Some(iat);
            spec.extra.insert("nbf".into(), json!(iat));
        }
        TokenFault::WrongAudience => {
            spec.client_id = WRONG_AUDIENCE.to_owned();
            spec.audience = Some(WRONG_AUDIENCE.to_owned());
        }
    }
    spec
}

pub(crate) fn username(spec: &TokenSpec) -> &str {
    spec.username.as_deref().unwrap_or(&spec.sub)
}

fn finish(mut claims: Map<String, Value>, spec: &TokenSpec) -> Map<String, Value> {
    for (name, value) in &spec.extra {
        claims.insert(name.clone(), value.clone());
    }
    for name in &spec.omit {
        claims.remove(name);
    }
    claims
}
