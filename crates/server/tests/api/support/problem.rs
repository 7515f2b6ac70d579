//! What every error answer must look like: an RFC 9457 problem document carrying the
//! response's request id.

use reqwest::Response;

pub fn request_id(res: &Response) -> String {
    res.headers()
        .get("x-request-id")
        .expect("every response has x-request-id")
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// Asserts an RFC 9457 body with the given status whose `request_id` is the header's, and
/// returns the body.
pub async fn assert_problem(res: Response, status: u16) -> serde_json::Value {
    assert_eq!(res.status().as_u16(), status);
    let id = request_id(&res);
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    assert_eq!(ct.as_deref(), Some("application/problem+json"));
    let body: serde_json::Value = res.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status);
    assert_eq!(body["request_id"], id.as_str());
    assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string());
    body
}

/// The `resource_metadata` URL (RFC 9728) the server that answered `res` names in its
/// challenges: its metadata document, at the origin the request went to.
pub fn metadata_url(res: &Response) -> String {
    let url = res.url();
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!(
        "{}://{}{port}/.well-known/oauth-protected-resource",
        url.scheme(),
        url.host_str().unwrap_or_default()
    )
}

/// `challenge` as the server that answered `res` completes it: with its `resource_metadata`.
pub fn with_metadata(res: &Response, challenge: &str) -> String {
    let url = metadata_url(res);
    if challenge.contains(' ') {
        format!(r#"{challenge}, resource_metadata="{url}""#)
    } else {
        format!(r#"{challenge} resource_metadata="{url}""#)
    }
}

/// The `WWW-Authenticate` header, if any.
pub fn challenge(res: &Response) -> Option<String> {
    res.headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
