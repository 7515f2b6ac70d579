//! The console as an OAuth 2.0 client of the issuer: where its endpoints are (discovery, or a
//! Cognito hosted-UI domain), and the token endpoint calls (code exchange with the PKCE
//! verifier, refresh). Nothing the issuer answers is shown to the browser.

use crate::config::ClientSecret;
use serde::Deserialize;
use std::time::Duration;

/// Timeout of every call to the issuer.
const ISSUER_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the console finds the issuer's endpoints.
#[derive(Debug, Clone)]
pub enum Source {
    /// `{issuer}/.well-known/openid-configuration`.
    Discovery { issuer: String },
    /// A Cognito hosted UI (`console.cognito_domain`), or the dev issuer, which has the same
    /// paths under its issuer URL.
    CognitoShaped { base: String },
}

#[derive(Debug, Clone)]
pub struct Endpoints {
    pub authorize: String,
    pub token: String,
    /// RP-initiated logout; Cognito-shaped (`client_id` + `logout_uri`) or OIDC
    /// (`client_id` + `post_logout_redirect_uri`).
    pub logout: Option<Logout>,
    pub revocation: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Logout {
    Cognito(String),
    Oidc(String),
}

/// Why a call to the issuer failed; for the log only.
#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    #[error("issuer unreachable: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("issuer answered {0}")]
    Status(u16),
    #[error("issuer document lacks {0}")]
    Missing(&'static str),
    #[error("issuer endpoint is not https: {0}")]
    NotHttps(&'static str),
}

#[derive(Debug, Deserialize)]
struct Discovery {
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    end_session_endpoint: Option<String>,
    revocation_endpoint: Option<String>,
}

/// An https URL, or http on a loopback host (the dev issuer, a test issuer).
pub fn acceptable_url(raw: &str) -> bool {
    url::Url::parse(raw).is_ok_and(|u| match u.scheme() {
        "https" => u.host().is_some(),
        "http" => match u.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        },
        _ => false,
    })
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(ISSUER_TIMEOUT)
        .connect_timeout(ISSUER_TIMEOUT)
        // An issuer's endpoints answer directly; a redirect is not followed with a code in hand.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

impl Source {
    pub async fn resolve(&self, http: &reqwest::Client) -> Result<Endpoints, IssuerError> {
        match self {
            Source::CognitoShaped { base } => {
                let base = base.trim_end_matches('/');
                Ok(Endpoints {
                    authorize: format!("{base}/oauth2/authorize"),
                    token: format!("{base}/oauth2/token"),
                    logout: Some(Logout::Cognito(format!("{base}/logout"))),
                    revocation: Some(format!("{base}/oauth2/revoke")),
                })
            }
            Source::Discovery { issuer } => {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    issuer.trim_end_matches('/')
                );
                let res = http.get(url).send().await?;
                if !res.status().is_success() {
                    return Err(IssuerError::Status(res.status().as_u16()));
                }
                let d: Discovery = res.json().await?;
                let authorize = d
                    .authorization_endpoint
                    .ok_or(IssuerError::Missing("authorization_endpoint"))?;
                let token = d
                    .token_endpoint
                    .ok_or(IssuerError::Missing("token_endpoint"))?;
                if !acceptable_url(&authorize) {
                    return Err(IssuerError::NotHttps("authorization_endpoint"));
                }
                if !acceptable_url(&token) {
                    return Err(IssuerError::NotHttps("token_endpoint"));
                }
                Ok(Endpoints {
                    authorize,
                    token,
                    logout: d
                        .end_session_endpoint
                        .filter(|u| acceptable_url(u))
                        .map(Logout::Oidc),
                    revocation: d.revocation_endpoint.filter(|u| acceptable_url(u)),
                })
            }
        }
    }
}

/// The token endpoint's answer (RFC 6749 section 5.1); `token_type` is Bearer for every
/// issuer the console supports and is not relied on.
#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
}

/// The client's credentials at the token endpoint.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub secret: Option<ClientSecret>,
}

impl Client {
    async fn token_call(
        &self,
        http: &reqwest::Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> Result<TokenResponse, IssuerError> {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        let mut req = http.post(endpoint);
        match &self.secret {
            // client_secret_basic (RFC 6749 section 2.3.1): the form-encoded id and secret.
            Some(secret) => {
                let id: String = url::form_urlencoded::byte_serialize(self.id.as_bytes()).collect();
                let pw: String =
                    url::form_urlencoded::byte_serialize(secret.expose().as_bytes()).collect();
                req = req.basic_auth(id, Some(pw));
            }
            None => fields.push(("client_id", &self.id)),
        }
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let res = req
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body)
            .send()
            .await?;
        if !res.status().is_success() {
            return Err(IssuerError::Status(res.status().as_u16()));
        }
        Ok(res.json().await?)
    }

    pub async fn exchange_code(
        &self,
        http: &reqwest::Client,
        endpoints: &Endpoints,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<TokenResponse, IssuerError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", code_verifier),
        ];
        self.token_call(http, &endpoints.token, &form).await
    }

    pub async fn refresh(
        &self,
        http: &reqwest::Client,
        endpoints: &Endpoints,
        refresh_token: &str,
    ) -> Result<TokenResponse, IssuerError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        self.token_call(http, &endpoints.token, &form).await
    }

    /// RFC 7009; best effort (the caller logs a failure and goes on ending the session).
    pub async fn revoke(
        &self,
        http: &reqwest::Client,
        endpoint: &str,
        refresh_token: &str,
    ) -> Result<(), IssuerError> {
        let mut fields = vec![
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
        ];
        let mut req = http.post(endpoint);
        match &self.secret {
            Some(secret) => req = req.basic_auth(&self.id, Some(secret.expose())),
            None => fields.push(("client_id", &self.id)),
        }
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let res = req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(IssuerError::Status(res.status().as_u16()))
        }
    }
}

/// The `nonce` claim of an ID token received from the token endpoint over TLS (OpenID Connect
/// Core 3.1.3.7 lets a client rely on the TLS channel for it). The console identifies the user
/// by the access token through the API's checks, never by the ID token; the nonce only binds
/// the answer to this login.
pub fn id_token_nonce(id_token: &str) -> Option<String> {
    use base64::Engine;
    let payload = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("nonce")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_only_for_loopback() {
        assert!(acceptable_url("https://auth.example.com/oauth2/token"));
        assert!(acceptable_url(
            "http://127.0.0.1:8080/dev-issuer/oauth2/token"
        ));
        assert!(acceptable_url("http://localhost/x"));
        assert!(!acceptable_url("http://auth.example.com/oauth2/token"));
        assert!(!acceptable_url("javascript:alert(1)"));
        assert!(!acceptable_url("ftp://127.0.0.1/"));
    }
}
