//! Keyset pagination. The store only knows keys (an id, or an audit sequence number); turning a
//! key into an opaque, tamper-evident cursor is the HTTP layer's job.

use crate::error::StoreError;
use uuid::Uuid;

pub const DEFAULT_PAGE_SIZE: u32 = 20;
pub const MAX_PAGE_SIZE: u32 = 100;

/// A page request: at most `limit` items strictly after the key `after` in the list's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<K = Uuid> {
    limit: u32,
    pub after: Option<K>,
}

impl<K> PageRequest<K> {
    /// `limit` must be in `1..=MAX_PAGE_SIZE`; anything else is refused, never clamped, so a
    /// client learns that its request was not honoured.
    pub fn new(limit: u32, after: Option<K>) -> Result<Self, StoreError> {
        if (1..=MAX_PAGE_SIZE).contains(&limit) {
            Ok(Self { limit, after })
        } else {
            Err(StoreError::Invalid("page size must be between 1 and 100"))
        }
    }

    pub fn first(limit: u32) -> Result<Self, StoreError> {
        Self::new(limit, None)
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Backends ask for one row more than the page holds to learn whether another page exists
    /// without a second query.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

impl<K> Default for PageRequest<K> {
    fn default() -> Self {
        Self {
            limit: DEFAULT_PAGE_SIZE,
            after: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T, K = Uuid> {
    pub items: Vec<T>,
    /// The key to pass as `after` for the next page; `None` on the last page.
    pub next: Option<K>,
}

impl<T, K> Page<T, K> {
    /// Builds a page from up to `limit + 1` rows fetched in list order.
    pub fn from_rows<R>(mut rows: Vec<T>, req: &PageRequest<R>, key: impl Fn(&T) -> K) -> Self {
        let limit = req.limit as usize;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more { rows.last().map(key) } else { None };
        Self { items: rows, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_bounds_are_enforced() {
        assert!(PageRequest::<Uuid>::new(0, None).is_err());
        assert!(PageRequest::<Uuid>::new(1, None).is_ok());
        assert!(PageRequest::<Uuid>::new(100, None).is_ok());
        assert!(PageRequest::<Uuid>::new(101, None).is_err());
        assert_eq!(PageRequest::<Uuid>::default().limit(), 20);
    }

    #[test]
    fn next_key_only_when_more_rows_exist() {
        let req = PageRequest::<i64>::new(2, None).expect("valid");
        let full = Page::from_rows(vec![1, 2, 3], &req, |x| *x as i64);
        assert_eq!(full.items, vec![1, 2]);
        assert_eq!(full.next, Some(2));
        let last = Page::from_rows(vec![1, 2], &req, |x| *x as i64);
        assert_eq!(last.next, None);
    }
}
