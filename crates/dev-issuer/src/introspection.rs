//! A token introspection endpoint (RFC 7662) whose answers a test controls: it authenticates
//! its client (Basic or form body), answers `active` for the tokens it is told about and
//! `active: false` for any other, fails with 500 or hangs on request, and counts its calls.

use crate::Mode;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The path the endpoint is served at.
pub const INTROSPECTION_PATH: &str = "/oauth2/introspect";

/// How the last call authenticated, as the endpoint saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeenAuth {
    Basic,
    Post,
    None,
}

#[derive(Debug, Default)]
struct Book {
    answers: HashMap<String, Value>,
    last_auth: Option<SeenAuth>,
}

#[derive(Debug, Clone)]
struct Shared {
    client_id: String,
    client_secret: String,
    mode: Arc<AtomicU8>,
    calls: Arc<AtomicUsize>,
    book: Arc<Mutex<Book>>,
}

/// The running endpoint; stops when dropped.
#[derive(Debug)]
pub struct IntrospectionEndpoint {
    pub addr: SocketAddr,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl IntrospectionEndpoint {
    /// Serves [`INTROSPECTION_PATH`] on a loopback port for the client `client_id` with
    /// `client_secret`.
    pub async fn start(client_id: &str, client_secret: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Shared {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            mode: Arc::new(AtomicU8::new(Mode::Answer as u8)),
            calls: Arc::new(AtomicUsize::new(0)),
            book: Arc::default(),
        };
        let app = Router::new()
            .route(INTROSPECTION_PATH, post(introspect))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            shared,
            server,
        })
    }

    /// The endpoint's URL.
    pub fn url(&self) -> String {
        format!("http://{}{INTROSPECTION_PATH}", self.addr)
    }

    /// Answers `answer` (with `"active": true` added) for `token` from now on.
    pub fn activate(&self, token: &str, mut answer: Value) {
        if let Some(obj) = answer.as_object_mut() {
            obj.insert("active".into(), Value::Bool(true));
        }
        self.book().answers.insert(token.to_owned(), answer);
    }

    /// Answers `active: false` for `token` from now on.
    pub fn deactivate(&self, token: &str) {
        self.book().answers.remove(token);
    }

    pub fn set(&self, mode: Mode) {
        self.shared.mode.store(mode as u8, Ordering::SeqCst);
    }

    /// Calls received so far, whatever the mode or the outcome.
    pub fn calls(&self) -> usize {
        self.shared.calls.load(Ordering::SeqCst)
    }

    /// How the last call's client authenticated.
    pub fn last_auth(&self) -> Option<SeenAuth> {
        self.book().last_auth
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.shared
            .book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for IntrospectionEndpoint {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn decode_form(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The client credentials of a request, and how they came.
fn credentials(headers: &HeaderMap, form: &HashMap<String, String>) -> (SeenAuth, String, String) {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = STANDARD
            .decode(basic)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let (id, secret) = decoded.split_once(':').unwrap_or_default();
        return (SeenAuth::Basic, decode_form(id), decode_form(secret));
    }
    match (form.get("client_id"), form.get("client_secret")) {
        (Some(id), Some(secret)) => (SeenAuth::Post, id.clone(), secret.clone()),
        _ => (SeenAuth::None, String::new(), String::new()),
    }
}

async fn introspect(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    s.calls.fetch_add(1, Ordering::SeqCst);
    match s.mode.load(Ordering::SeqCst) {
        1 => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        2 => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
        _ => {}
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let (seen, id, secret) = credentials(&headers, &form);
    let answer = {
        let mut book = s
            .book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        book.last_auth = Some(seen);
        form.get("token").and_then(|t| book.answers.get(t).cloned())
    };
    if id != s.client_id || secret != s.client_secret {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    axum::Json(answer.unwrap_or_else(|| json!({"active": false}))).into_response()
}
