//! Keyset pagination. The store only knows keys (an id, or an audit sequence number); turning a
//! key into an opaque, tamper-evident cursor is the HTTP layer's job.

use crate::error::StoreError;
use uuid::Uuid;

pub const DEFAULT_PAGE_SIZE: u32 = 20;
pub const MAX_PAGE_SIZE: u32 = 100;

/// A page request: at most `limit` items strictly after the key `after` in the list's order,
/// and, with a byte budget, no more items than fit in it (lists that support one say so).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<K = Uuid> {
    limit: u32,
    pub after: Option<K>,
    max_bytes: Option<usize>,
}

impl<K> PageRequest<K> {
    /// `limit` must be in `1..=MAX_PAGE_SIZE`; anything else is refused, never clamped, so a
    /// client learns that its request was not honoured.
    pub fn new(limit: u32, after: Option<K>) -> Result<Self, StoreError> {
        if (1..=MAX_PAGE_SIZE).contains(&limit) {
            Ok(Self {
                limit,
                after,
                max_bytes: None,
            })
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

    /// Ends the page early once its items, serialized as JSON, would pass `max` bytes; the
    /// page then has a next key like a full one. At least one item is always returned, so
    /// a client moves on even past an item larger than the budget.
    pub fn with_max_bytes(mut self, max: usize) -> Self {
        self.max_bytes = Some(max);
        self
    }

    pub fn max_bytes(&self) -> Option<usize> {
        self.max_bytes
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
            max_bytes: None,
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

/// Builds a page from rows offered one at a time in list order, so that a backend can stop
/// reading as soon as the page is complete (by count or by the request's byte budget) instead
/// of holding every fetched row.
#[derive(Debug)]
pub struct PageBuilder<T> {
    limit: usize,
    max_bytes: Option<usize>,
    items: Vec<T>,
    bytes: usize,
    more: bool,
}

impl<T: serde::Serialize> PageBuilder<T> {
    pub fn new<K>(req: &PageRequest<K>) -> Self {
        Self {
            limit: req.limit as usize,
            max_bytes: req.max_bytes,
            items: Vec::with_capacity(req.limit as usize),
            bytes: 0,
            more: false,
        }
    }

    /// Whether the page already holds its `limit` items: a further row only says that there is
    /// more, and need not be decoded (it is counted as that by [`PageBuilder::more`]).
    pub fn is_full(&self) -> bool {
        self.items.len() >= self.limit
    }

    /// There is a row after the page's last.
    pub fn more(&mut self) {
        self.more = true;
    }

    /// Offers the next row. `false`: the page is complete, this row was not taken and starts
    /// the next page; stop reading.
    pub fn push(&mut self, item: T) -> bool {
        if self.items.len() >= self.limit {
            self.more = true;
            return false;
        }
        if let Some(max) = self.max_bytes {
            // The separator between items in the JSON array counts too.
            let size = json_len(&item).saturating_add(1);
            if !self.items.is_empty() && self.bytes.saturating_add(size) > max {
                self.more = true;
                return false;
            }
            self.bytes = self.bytes.saturating_add(size);
        }
        self.items.push(item);
        true
    }

    pub fn finish<K>(self, key: impl Fn(&T) -> K) -> Page<T, K> {
        let next = if self.more {
            self.items.last().map(key)
        } else {
            None
        };
        Page {
            items: self.items,
            next,
        }
    }
}

/// The length of `v` serialized as compact JSON, as the HTTP layer writes it, without
/// building the text.
pub fn json_len<T: serde::Serialize>(v: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, v) {
        Ok(()) => count.0,
        // Nothing the store serializes fails; if it did, the item counts as too large rather
        // than free.
        Err(_) => usize::MAX,
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

    fn build(req: &PageRequest<i64>, rows: &[&str]) -> Page<String, i64> {
        let mut b = PageBuilder::new(req);
        for r in rows {
            if !b.push((*r).to_owned()) {
                break;
            }
        }
        b.finish(|s| s.len() as i64)
    }

    #[test]
    fn a_byte_budget_cuts_the_page_but_keeps_one_item() {
        // Each item is `"xxxx"` (6 bytes) plus a separator: 7.
        let req = PageRequest::<i64>::new(10, None)
            .expect("valid")
            .with_max_bytes(15);
        let page = build(&req, &["xxxx", "yyyy", "zzzz"]);
        assert_eq!(page.items, ["xxxx", "yyyy"]);
        assert_eq!(page.next, Some(4));
        let huge = "h".repeat(100);
        let page = build(&req, &[&huge, "x"]);
        assert_eq!(page.items, std::slice::from_ref(&huge));
        assert!(page.next.is_some());
        // Without a budget only the count ends a page; the last page has no next key.
        let req = PageRequest::<i64>::new(2, None).expect("valid");
        assert_eq!(build(&req, &[&huge, &huge, "x"]).items.len(), 2);
        assert_eq!(build(&req, &["a"]).next, None);
        assert_eq!(json_len(&"ab"), 4);
    }
}
