//! A browser for the console tests: keeps cookies (by name, one host), follows redirects only
//! when asked, sends `Origin` on form posts as browsers do, and signs in through the dev
//! identity provider's persona page.

use crate::support::TestApp;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

pub struct Browser {
    client: reqwest::Client,
    pub base: String,
    cookies: Mutex<BTreeMap<String, String>>,
}

/// One response, read whole.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
    pub url: String,
}

impl Page {
    pub fn location(&self) -> Option<String> {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Every `Set-Cookie` line.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect()
    }

    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// The value of the first `<input ... name="{name}" value="...">`.
    pub fn input(&self, name: &str) -> Option<String> {
        let needle = format!("name=\"{name}\" value=\"");
        let at = self.body.find(&needle)? + needle.len();
        let end = self.body[at..].find('"')?;
        Some(html_unescape(&self.body[at..at + end]))
    }

    /// The `action` of the first form.
    pub fn form_action(&self) -> Option<String> {
        let needle = "<form method=\"post\" action=\"";
        let at = self.body.find(needle)? + needle.len();
        let end = self.body[at..].find('"')?;
        Some(html_unescape(&self.body[at..at + end]))
    }
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
            base: app.url(""),
            cookies: Mutex::default(),
        }
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with("http://") || url.starts_with("https://") {
            url.to_owned()
        } else {
            format!("{}{url}", self.base)
        }
    }

    fn cookie_header(&self) -> String {
        let jar = self.cookies.lock().expect("jar");
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The value of a cookie the browser holds.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().expect("jar").get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies
            .lock()
            .expect("jar")
            .insert(name.to_owned(), value.to_owned());
    }

    fn keep(&self, headers: &HeaderMap) {
        let mut jar = self.cookies.lock().expect("jar");
        for v in headers.get_all(SET_COOKIE) {
            let Ok(line) = v.to_str() else { continue };
            let Some((pair, attrs)) = line.split_once(';').or(Some((line, ""))) else {
                continue;
            };
            let Some((name, value)) = pair.trim().split_once('=') else {
                continue;
            };
            if attrs.contains("Max-Age=0") || value.is_empty() {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    /// Sends one request, no redirect followed. `origin`: the `Origin` header of a POST.
    pub async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        form: Option<&[(&str, &str)]>,
        origin: Option<&str>,
    ) -> Page {
        let url = self.absolute(url);
        let mut req = self.client.request(method, &url);
        let cookies = self.cookie_header();
        if !cookies.is_empty() {
            req = req.header("cookie", cookies);
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(fields) = form {
            let body: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields.iter().copied())
                .finish();
            req = req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        self.keep(&headers);
        let body = res.text().await.unwrap_or_default();
        Page {
            status,
            headers,
            body,
            url,
        }
    }

    pub async fn get(&self, url: &str) -> Page {
        self.send(reqwest::Method::GET, url, None, None).await
    }

    /// Follows redirects (as GETs) from `page` until a page that is not one.
    pub async fn follow(&self, mut page: Page) -> Page {
        for _ in 0..10 {
            if !(300..400).contains(&page.status) {
                return page;
            }
            let Some(next) = page.location() else {
                return page;
            };
            let next = if next.starts_with('/') || next.starts_with("http") {
                next
            } else {
                format!("/{next}")
            };
            page = self.get(&next).await;
        }
        page
    }

    /// GET and follow redirects.
    pub async fn open(&self, url: &str) -> Page {
        let first = self.get(url).await;
        self.follow(first).await
    }

    /// A form post from the console's own origin, redirects followed.
    pub async fn submit(&self, url: &str, fields: &[(&str, &str)]) -> Page {
        let base = self.base.clone();
        let first = self
            .send(reqwest::Method::POST, url, Some(fields), Some(&base))
            .await;
        self.follow(first).await
    }

    /// Signs in to the console as a persona of the dev identity provider; the console page
    /// landed on.
    pub async fn sign_in(&self, persona: &str) -> Page {
        self.sign_in_to("/console", persona).await
    }

    pub async fn sign_in_to(&self, path: &str, persona: &str) -> Page {
        let signin = self.open(path).await;
        assert_eq!(signin.status, 200, "the sign-in page: {}", signin.body);
        let request = signin.input("request").expect("sign-in request id");
        let action = signin.form_action().expect("sign-in form");
        let base = self.base.clone();
        let back = self
            .send(
                reqwest::Method::POST,
                &action,
                Some(&[("request", request.as_str()), ("persona", persona)]),
                Some(&base),
            )
            .await;
        assert!(
            (300..400).contains(&back.status),
            "the identity provider sends the browser back: {} {}",
            back.status,
            back.body
        );
        self.follow(back).await
    }
}
