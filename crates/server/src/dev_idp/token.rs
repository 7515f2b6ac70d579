//! `POST /oauth2/token`: the `authorization_code` grant (with the PKCE verifier) and the
//! `refresh_token` grant (rotation, and reuse detection that revokes the family through the
//! server's own session revocation).

use super::client_auth::authenticate;
use super::clients::Client;
use super::codes::Redeemed;
use super::form::Params;
use super::oauth_error::{OAuthError, no_store};
use super::refresh::{Family, Rotated};
use super::signin::SignIn;
use super::{Idp, pkce};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use portcullis_dev_issuer::TokenSpec;
use portcullis_store::ChangeContext;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

pub async fn exchange(State(idp): State<Arc<Idp>>, headers: HeaderMap, body: Bytes) -> Response {
    match run(&idp, &headers, &body).await {
        Ok(body) => (no_store(), Json(body)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn run(idp: &Idp, headers: &HeaderMap, body: &[u8]) -> Result<Value, OAuthError> {
    let params = Params::parse(body).map_err(|name| {
        OAuthError::invalid_request(format!("the parameter {name} is given more than once"))
    })?;
    let grant_type = params
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    if !matches!(grant_type, "authorization_code" | "refresh_token") {
        return Err(OAuthError::unsupported_grant_type(
            "the dev issuer supports authorization_code and refresh_token",
        ));
    }
    let client = authenticate(idp, headers, &params)?;
    match grant_type {
        "authorization_code" => code_grant(idp, client, &params).await,
        _ => refresh_grant(idp, client, &params).await,
    }
}

async fn code_grant(idp: &Idp, client: &Client, params: &Params) -> Result<Value, OAuthError> {
    let code = params
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| OAuthError::invalid_request("redirect_uri is required"))?;
    let verifier = params
        .get("code_verifier")
        .ok_or_else(|| OAuthError::invalid_request("code_verifier is required (PKCE)"))?;
    let grant = match idp.codes.redeem(code, idp.now_ms()) {
        Redeemed::Fresh(grant) => grant,
        Redeemed::Invalid => {
            return Err(OAuthError::invalid_grant(
                "the code is unknown or has expired",
            ));
        }
        Redeemed::Reused { family } => {
            if let Some(family) = family {
                revoke_family(idp, &family, "code replayed").await;
            }
            return Err(OAuthError::invalid_grant(
                "the code was already used; what it produced is revoked",
            ));
        }
    };
    if grant.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "the code was issued to another client",
        ));
    }
    if grant.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri differs from the authorization request's",
        ));
    }
    if !pkce::verify(&grant.challenge, verifier) {
        return Err(OAuthError::invalid_grant(
            "code_verifier does not match the code_challenge",
        ));
    }
    let family = Family {
        id: uuid::Uuid::now_v7().to_string(),
        client_id: client.id.clone(),
        scopes: grant.scopes.clone(),
        nonce: grant.nonce.clone(),
        sign_in: grant.sign_in.clone(),
        expires_ms: idp.now_ms().saturating_add(idp.refresh_ttl_ms),
        revoked: false,
    };
    idp.codes.produced(code, &family.id);
    if let Some(browser) = &grant.sign_in.browser {
        idp.browsers.add_family(browser, &family.id);
    }
    let refresh = if client.refresh {
        Some(
            idp.refresh
                .start(family.clone(), idp.now_ms())
                .ok_or_else(|| OAuthError::server_error("no random value could be drawn"))?,
        )
    } else {
        None
    };
    Ok(respond(idp, &family, refresh))
}

async fn refresh_grant(idp: &Idp, client: &Client, params: &Params) -> Result<Value, OAuthError> {
    if !client.refresh {
        return Err(OAuthError::unauthorized_client(
            "this client may not use the refresh_token grant",
        ));
    }
    let token = params
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    match idp.refresh.rotate(token, &client.id, idp.now_ms()) {
        Rotated::Fresh { family, token } => Ok(respond(idp, &family, Some(token))),
        Rotated::Invalid => Err(OAuthError::invalid_grant(
            "the refresh token is unknown, expired, revoked or another client's",
        )),
        Rotated::Reused { family } => {
            revoke_family(idp, &family, "refresh token reused").await;
            Err(OAuthError::invalid_grant(
                "the refresh token was already used; its session is revoked",
            ))
        }
        Rotated::Failed => Err(OAuthError::server_error("no random value could be drawn")),
    }
}

/// Ends the family at the server (the API refuses its access tokens from now on) and here.
pub(super) async fn revoke_family(idp: &Idp, family: &str, why: &str) -> bool {
    idp.refresh.revoke(family);
    let request_id = crate::telemetry::request_id::RequestId::current()
        .map(|id| id.to_string())
        .unwrap_or_default();
    let ctx = ChangeContext::new(None, request_id, idp.app.clock.now());
    match idp.app.revocations.revoke_session(&ctx, family).await {
        Ok(()) => {
            tracing::info!(origin_jti = family, why, "dev issuer revoked a session");
            true
        }
        Err(error) => {
            tracing::error!(%error, origin_jti = family, "dev issuer could not revoke a session");
            false
        }
    }
}

fn spec(idp: &Idp, family: &Family) -> TokenSpec {
    let s: &SignIn = &family.sign_in;
    let mut spec = TokenSpec::new(&s.sub)
        .username(&s.username)
        .email(&s.email)
        .client_id(&family.client_id)
        .groups(s.groups.iter().map(String::as_str))
        .ttl(Duration::from_secs(idp.access_ttl_secs))
        .scopes(family.scopes.iter().map(String::as_str))
        .origin_jti(&family.id)
        .amr(s.amr())
        .auth_time(s.auth_time);
    if s.mfa
        && let Some((claim, value)) = &idp.mfa.extra_claim
    {
        spec = spec.claim(claim.clone(), value.clone());
    }
    spec
}

fn respond(idp: &Idp, family: &Family, refresh: Option<String>) -> Value {
    let spec = spec(idp, family);
    let access = idp.issuer.mint_access(&spec);
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": idp.access_ttl_secs,
        "scope": family.scopes.join(" "),
    });
    if family.scopes.iter().any(|s| s == "openid") {
        let mut claims = idp.issuer.id_claims(&spec);
        if let Some(nonce) = &family.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        if let Some(acr) = &family.sign_in.acr {
            claims.insert("acr".into(), json!(acr));
        }
        body["id_token"] = json!(idp.issuer.sign_claims(&claims));
    }
    if let Some(refresh) = refresh {
        body["refresh_token"] = json!(refresh);
    }
    body
}
