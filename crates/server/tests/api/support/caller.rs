//! `Caller`: a token holder with request helpers, so a test reads as who does what.

use super::app::{TestApp, client};
use reqwest::{Method, Response};
use serde_json::{Value, json};

/// Someone calling one server: a token (or none) and that server's address.
#[derive(Clone)]
pub struct Caller {
    client: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Caller {
    pub(super) fn new(app: &TestApp, token: Option<String>) -> Self {
        Self {
            client: app.client.clone(),
            base: app.url(""),
            token,
        }
    }

    /// `token` calling the server at `base` (`http://host:port`), such as a `portcullis`
    /// process of the test's.
    pub fn at(base: &str, token: &str) -> Self {
        Self {
            client: client(),
            base: base.to_owned(),
            token: Some(token.to_owned()),
        }
    }

    /// The bearer token this caller sends.
    pub fn token(&self) -> &str {
        self.token
            .as_deref()
            .expect("an anonymous caller has no token")
    }

    /// The same token, sent to another app (an instance of the same cluster).
    pub fn on(&self, app: &TestApp) -> Caller {
        Caller::new(app, self.token.clone())
    }

    pub fn request(&self, method: Method, path: &str) -> Request {
        let url = format!("{}{path}", self.base);
        let mut inner = self.client.request(method.clone(), url);
        if let Some(t) = &self.token {
            inner = inner.bearer_auth(t);
        }
        Request {
            inner,
            what: format!("{method} {path}"),
        }
    }

    pub fn get(&self, path: &str) -> Request {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Request {
        self.request(Method::POST, path)
    }

    pub fn patch(&self, path: &str) -> Request {
        self.request(Method::PATCH, path)
    }

    pub fn put(&self, path: &str) -> Request {
        self.request(Method::PUT, path)
    }

    pub fn delete(&self, path: &str) -> Request {
        self.request(Method::DELETE, path)
    }

    /// The status of `GET /v1/me`.
    pub async fn me(&self) -> u16 {
        self.get("/v1/me").status().await
    }

    /// This caller's user id (from `GET /v1/me`, which must succeed).
    pub async fn id(&self) -> String {
        self.get("/v1/me").expect(200).await["id"]
            .as_str()
            .expect("user id")
            .to_owned()
    }

    /// Creates an org (this caller becomes its owner); returns its id.
    pub async fn create_org(&self, name: &str) -> String {
        let org = self
            .post("/v1/orgs")
            .json(json!({ "name": name }))
            .expect(201)
            .await;
        org["id"].as_str().expect("org id").to_owned()
    }

    /// Creates a `doc` resource named `name` in `org`; returns it.
    pub async fn create_resource(&self, org: &str, name: &str) -> Value {
        self.post(&format!("/v1/orgs/{org}/resources"))
            .json(json!({ "kind": "doc", "name": name }))
            .expect(201)
            .await
    }

    /// Sets a runtime flag (`body` is the `PUT` body), which must succeed.
    pub async fn set_flag(&self, name: &str, body: Value) -> Value {
        self.put(&format!("/v1/admin/flags/{name}"))
            .json(body)
            .expect(200)
            .await
    }

    /// Every item of a list endpoint, following `next_cursor` with pages of `size`.
    pub async fn all_pages(&self, path: &str, size: u32) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}{sep}page_size={size}&cursor={c}"),
                None => format!("{path}{sep}page_size={size}"),
            };
            let page = self.get(&url).expect(200).await;
            items.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return items,
            }
        }
    }
}

/// One request about to be sent.
pub struct Request {
    inner: reqwest::RequestBuilder,
    what: String,
}

impl Request {
    pub fn json(mut self, body: Value) -> Self {
        self.inner = self.inner.json(&body);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.inner = self.inner.header(name, value);
        self
    }

    pub fn if_match(self, etag: &str) -> Self {
        self.header("if-match", etag)
    }

    pub fn body(mut self, body: impl Into<reqwest::Body>) -> Self {
        self.inner = self.inner.body(body);
        self
    }

    pub async fn send(self) -> Response {
        self.inner.send().await.expect("request")
    }

    pub async fn status(self) -> u16 {
        self.send().await.status().as_u16()
    }

    /// Sends, asserts `status`, and returns the JSON body (`Null` for an empty one).
    pub async fn expect(self, status: u16) -> Value {
        let what = self.what.clone();
        let res = self.send().await;
        let got = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        assert_eq!(got, status, "{what}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}
