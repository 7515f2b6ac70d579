//! The OpenID Provider metadata of the dev issuer with its identity provider: the issuer's
//! document plus every endpoint and what each supports.

use super::{AUTHORIZE_PATH, Idp, LOGOUT_PATH, REVOKE_PATH, TOKEN_PATH, USERINFO_PATH};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

pub async fn document(State(idp): State<Arc<Idp>>) -> Response {
    let mut doc = idp.issuer.openid_configuration();
    let extra = json!({
        "authorization_endpoint": idp.endpoint(AUTHORIZE_PATH),
        "token_endpoint": idp.endpoint(TOKEN_PATH),
        "revocation_endpoint": idp.endpoint(REVOKE_PATH),
        "userinfo_endpoint": idp.endpoint(USERINFO_PATH),
        "end_session_endpoint": idp.endpoint(LOGOUT_PATH),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "scopes_supported": ["openid", "profile", "email", "phone", "aws.cognito.signin.user.admin", "offline_access"],
        "acr_values_supported": idp.mfa.acr_values,
        "prompt_values_supported": ["none", "login"],
        "authorization_response_iss_parameter_supported": true,
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "token_use", "nonce", "acr", "amr",
            "origin_jti", "jti", "cognito:username", "cognito:groups", "email", "email_verified",
        ],
    });
    if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            doc.insert(k.clone(), v.clone());
        }
    }
    (
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        )],
        Json(doc),
    )
        .into_response()
}
