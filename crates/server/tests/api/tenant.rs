//! Helpers for tests of the tenant API: an app on the embedded dev issuer, and a test-side
//! handle on that issuer (same key file, same issuer URL) to mint tokens for any user.

use crate::helpers::{TestApp, spawn_with, test_config};
use portcullis_dev_issuer::{DevIssuer, TokenSpec};
use reqwest::{Method, Response};
use serde_json::Value;

pub struct Tenant {
    pub app: TestApp,
    pub issuer: DevIssuer,
    _dir: tempfile::TempDir,
}

pub async fn start() -> Tenant {
    let dir = tempfile::tempdir().expect("dir");
    let mut config = test_config(&format!("sqlite://{}/p.db", dir.path().display()));
    config.data_dir = dir.path().to_owned();
    start_with(config, dir).await
}

pub async fn start_with(config: portcullis::Config, dir: tempfile::TempDir) -> Tenant {
    let app = spawn_with(&config).await;
    let url = format!("http://{}/dev-issuer", app.app.addr);
    let issuer = DevIssuer::open(&config.data_dir, url).expect("the app's dev issuer key");
    Tenant {
        app,
        issuer,
        _dir: dir,
    }
}

impl Tenant {
    pub fn token(&self, sub: &str) -> String {
        self.issuer.mint_access(&TokenSpec::new(sub).username(sub))
    }

    pub fn admin_token(&self, sub: &str) -> String {
        self.issuer.mint_access(
            &TokenSpec::new(sub)
                .username(sub)
                .groups(["portcullis-admin"]),
        )
    }

    pub async fn call(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        let mut req = self.app.client.request(method, self.app.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request")
    }

    /// Creates an org as `token`'s user (who becomes its owner) and returns its id.
    pub async fn create_org(&self, token: &str, name: &str) -> String {
        let org = self
            .ok(
                token,
                Method::POST,
                "/v1/orgs",
                Some(serde_json::json!({ "name": name })),
                201,
            )
            .await;
        org["id"].as_str().expect("org id").to_owned()
    }

    /// Every item of a list endpoint, following `next_cursor` with pages of `size`.
    pub async fn all_pages(&self, token: &str, path: &str, size: u32) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}{sep}page_size={size}&cursor={c}"),
                None => format!("{path}{sep}page_size={size}"),
            };
            let page = self.ok(token, Method::GET, &url, None, 200).await;
            items.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return items,
            }
        }
    }

    /// Sends and expects `status`, returning the JSON body (or Null for empty bodies).
    pub async fn ok(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let res = self.call(Some(token), method.clone(), path, body).await;
        let got = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        assert_eq!(got, status, "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}
