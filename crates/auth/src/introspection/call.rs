//! One POST to the introspection endpoint, with client authentication, a timeout and a cap on
//! the answer's size.

use super::config::{ClientAuth, IntrospectionConfig};
use super::observer::CallOutcome;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Introspection answers are a few hundred bytes; anything far larger is no answer of an
/// issuer's and is not buffered.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// What the endpoint said: the answer's bytes, or why there is none.
pub(super) type Answer = Result<Vec<u8>, CallOutcome>;

/// RFC 6749, section 2.3.1: id and secret are form-encoded before they are joined for Basic.
fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub(super) async fn introspect(
    client: &reqwest::Client,
    config: &IntrospectionConfig,
    token: &str,
) -> Answer {
    let mut request = client
        .post(&config.endpoint)
        .timeout(config.timeout)
        .header(reqwest::header::ACCEPT, "application/json")
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        );
    if config.auth == ClientAuth::Basic {
        let pair = format!(
            "{}:{}",
            form_encode(&config.client_id),
            form_encode(config.client_secret.expose())
        );
        request = request.header(
            reqwest::header::AUTHORIZATION,
            format!("Basic {}", STANDARD.encode(pair)),
        );
    }
    let mut response = request
        .body(form(config, token))
        .send()
        .await
        .map_err(failure)?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(CallOutcome::HttpError);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failure)? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(CallOutcome::BadResponse);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The form body: the token, the hint, and with `client_secret_post` the credentials.
fn form(config: &IntrospectionConfig, token: &str) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("token", token);
    form.append_pair("token_type_hint", "access_token");
    if config.auth == ClientAuth::Post {
        form.append_pair("client_id", &config.client_id);
        form.append_pair("client_secret", config.client_secret.expose());
    }
    form.finish()
}

fn failure(e: reqwest::Error) -> CallOutcome {
    if e.is_timeout() {
        CallOutcome::Timeout
    } else {
        CallOutcome::Transport
    }
}
