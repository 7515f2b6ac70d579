//! The list envelope every list endpoint answers with, and the page parameters they share.

use super::cursor::{self, Scope};
use super::error::ApiError;
use super::input::invalid_parameter;
use portcullis_store::page::DEFAULT_PAGE_SIZE;
use portcullis_store::{Page, PageRequest};
use serde::Serialize;
use uuid::Uuid;

/// `{"items": [...], "next_cursor": "<opaque>" | null}`.
#[derive(Debug, Serialize)]
pub struct List<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// `page_size` (1..=100, default 20; anything else is 422) and an optional cursor, bound to
/// the list's `scope`.
pub fn id_page(
    page_size: Option<u32>,
    cursor: Option<&str>,
    scope: &Scope,
) -> Result<PageRequest, ApiError> {
    let after = cursor.map(|c| cursor::decode_id(scope, c)).transpose()?;
    PageRequest::new(page_size.unwrap_or(DEFAULT_PAGE_SIZE), after).map_err(|_| bad_page_size())
}

pub fn seq_page(
    page_size: Option<u32>,
    cursor: Option<&str>,
    scope: &Scope,
) -> Result<PageRequest<i64>, ApiError> {
    let after = cursor.map(|c| cursor::decode_seq(scope, c)).transpose()?;
    PageRequest::new(page_size.unwrap_or(DEFAULT_PAGE_SIZE), after).map_err(|_| bad_page_size())
}

/// The only thing `PageRequest::new` refuses is the size.
fn bad_page_size() -> ApiError {
    invalid_parameter("page_size", "must be between 1 and 100")
}

pub fn id_list<T, U>(page: Page<T>, scope: &Scope, f: impl Fn(T) -> U) -> List<U> {
    List {
        next_cursor: page.next.map(|k: Uuid| cursor::encode_id(scope, k)),
        items: page.items.into_iter().map(f).collect(),
    }
}

pub fn seq_list<T, U>(page: Page<T, i64>, scope: &Scope, f: impl Fn(T) -> U) -> List<U> {
    List {
        next_cursor: page.next.map(|k| cursor::encode_seq(scope, k)),
        items: page.items.into_iter().map(f).collect(),
    }
}
