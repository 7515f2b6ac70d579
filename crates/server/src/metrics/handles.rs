//! The handles of the series every request records into, looked up once per thread and kept:
//! the `metrics` macros build a key (allocating its labels) and search the registry on every
//! call, which cost more than the rest of the request's accounting together.
//!
//! Handles are kept only once the recorder is installed (`super::init`): a handle taken from
//! the no-op recorder before that would swallow every later increment.

use super::{AUTH_ATTEMPTS, HTTP_DURATION, HTTP_REQUESTS, TOKEN_VALIDATION};
use metrics::{Counter, Histogram, counter, histogram};
use std::cell::RefCell;
use std::collections::HashMap;

/// One route's series on this thread.
#[derive(Default)]
struct Route {
    /// By (method, status).
    requests: Vec<((&'static str, u16), Counter)>,
    /// By method.
    durations: Vec<(&'static str, Histogram)>,
}

#[derive(Default)]
struct Handles {
    routes: HashMap<Box<str>, Route>,
    auth_success: Option<Counter>,
    /// By rejection code.
    auth_failure: Vec<(&'static str, Counter)>,
    validation: [Option<Histogram>; 2],
}

thread_local! {
    static HANDLES: RefCell<Handles> = RefCell::default();
}

fn installed() -> bool {
    super::HANDLE.get().is_some()
}

fn with<R>(f: impl FnOnce(&mut Handles) -> R) -> R {
    HANDLES.with(|h| f(&mut h.borrow_mut()))
}

/// `portcullis_http_requests_total` and `portcullis_http_request_duration_seconds`.
pub fn http_request(method: &'static str, route: &str, status: u16, seconds: f64) {
    if !installed() {
        let (route, status) = (route.to_owned(), status.to_string());
        counter!(HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status)
            .increment(1);
        histogram!(HTTP_DURATION, "method" => method, "route" => route).record(seconds);
        return;
    }
    with(|h| {
        if !h.routes.contains_key(route) {
            h.routes.insert(route.into(), Route::default());
        }
        let Some(r) = h.routes.get_mut(route) else {
            return;
        };
        let requests = match r.requests.iter().find(|(k, _)| *k == (method, status)) {
            Some((_, c)) => c,
            None => {
                let c = counter!(
                    HTTP_REQUESTS,
                    "method" => method,
                    "route" => route.to_owned(),
                    "status" => status.to_string(),
                );
                r.requests.push(((method, status), c));
                &r.requests[r.requests.len() - 1].1
            }
        };
        requests.increment(1);
        let duration = match r.durations.iter().find(|(m, _)| *m == method) {
            Some((_, d)) => d,
            None => {
                let d = histogram!(HTTP_DURATION, "method" => method, "route" => route.to_owned());
                r.durations.push((method, d));
                &r.durations[r.durations.len() - 1].1
            }
        };
        duration.record(seconds);
    });
}

/// `portcullis_auth_attempts_total`: `code` is `None` on success.
pub fn auth_attempt(code: Option<&'static str>) {
    if !installed() {
        match code {
            None => counter!(AUTH_ATTEMPTS, "result" => "success", "reason" => "none").increment(1),
            Some(c) => counter!(AUTH_ATTEMPTS, "result" => "failure", "reason" => c).increment(1),
        }
        return;
    }
    with(|h| match code {
        None => h
            .auth_success
            .get_or_insert_with(
                || counter!(AUTH_ATTEMPTS, "result" => "success", "reason" => "none"),
            )
            .increment(1),
        Some(code) => match h.auth_failure.iter().find(|(c, _)| *c == code) {
            Some((_, c)) => c.increment(1),
            None => {
                let c = counter!(AUTH_ATTEMPTS, "result" => "failure", "reason" => code);
                c.increment(1);
                h.auth_failure.push((code, c));
            }
        },
    });
}

/// `portcullis_token_validation_duration_seconds`, by `cache` = hit / miss.
pub fn token_validated(hit: bool, seconds: f64) {
    let label = if hit { "hit" } else { "miss" };
    if !installed() {
        histogram!(TOKEN_VALIDATION, "cache" => label).record(seconds);
        return;
    }
    with(|h| {
        h.validation[usize::from(hit)]
            .get_or_insert_with(|| histogram!(TOKEN_VALIDATION, "cache" => label))
            .record(seconds);
    });
}
