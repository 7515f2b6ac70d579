// Shared by both backends (see README.md beside this file).
//
// The read lane: a few pooled connections kept checked out between single-statement reads.
// sqlx tests every connection given back to its pool with a round trip to the server (a `Sync`
// on PostgreSQL), in a task of its own, and that costs a read on the pool about as much again
// as the statement itself. A connection whose statement ran to its end is in a known state and
// needs no such test, so the lane keeps it for the next read. One whose use was cut short (an
// error, or a future dropped mid-statement) is never kept: it goes back through the pool's
// own path, test included.

/// How long a connection may stay in the lane before it goes back to the pool, so that the
/// pool's own rules (its maximum lifetime, closing idle connections) still reach it.
const LANE_TENURE: std::time::Duration = std::time::Duration::from_secs(60);

pub struct Lane {
    held: std::sync::Mutex<Vec<Held>>,
    cap: usize,
}

struct Held {
    conn: sqlx::pool::PoolConnection<Db>,
    since: std::time::Instant,
}

/// A connection out of the lane (or the pool) for one read; [`Ticket::keep`] once it is done.
pub struct Ticket<'l> {
    held: Held,
    lane: &'l Lane,
    pool: &'l sqlx::Pool<Db>,
}

impl Lane {
    /// A lane beside a pool of `pool_size` connections. It keeps at most half of them, never
    /// all: a connection idle in the lane is invisible to the pool, so a caller that acquires
    /// from the pool itself (a transaction, a health ping) would otherwise wait out its whole
    /// acquire timeout whenever earlier reads had filled the lane.
    pub fn beside(pool_size: u32) -> Self {
        let cap = pool_size as usize / 2;
        Self {
            held: std::sync::Mutex::new(Vec::with_capacity(cap)),
            cap,
        }
    }

    /// The most recently kept connection that is still within its tenure, or one from `pool`.
    async fn take<'l>(&'l self, pool: &'l sqlx::Pool<Db>) -> Result<Ticket<'l>, sqlx::Error> {
        let mut expired = Vec::new();
        let reused = {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                match held.pop() {
                    Some(h) if h.since.elapsed() < LANE_TENURE => break Some(h),
                    Some(h) => expired.push(h),
                    None => break None,
                }
            }
        };
        // Dropped outside the lock: each goes back to the pool (and is tested there).
        drop(expired);
        let held = match reused {
            Some(h) => h,
            None => Held {
                conn: pool.acquire().await?,
                since: std::time::Instant::now(),
            },
        };
        Ok(Ticket {
            held,
            lane: self,
            pool,
        })
    }

    /// How many connections the lane holds right now.
    pub fn held(&self) -> usize {
        self.held.lock().map(|h| h.len()).unwrap_or(0)
    }
}

impl Ticket<'_> {
    fn conn(&mut self) -> &mut <Db as sqlx::Database>::Connection {
        &mut self.held.conn
    }

    /// The statement ran to its end: the connection goes back to the lane, or to the pool when
    /// the lane is full or the pool has no headroom. A pool with neither an idle connection nor
    /// room to open one may have callers waiting on it, and they cannot see the lane: keeping
    /// the connection would leave them waiting beside it.
    fn keep(self) {
        let Ticket { held, lane, pool } = self;
        let headroom = pool.num_idle() > 0 || pool.size() < pool.options().get_max_connections();
        let mut slots = lane.held.lock().unwrap_or_else(|p| p.into_inner());
        if headroom && slots.len() < lane.cap {
            slots.push(held);
        } else {
            drop(slots);
            drop(held);
        }
    }
}

/// Single-statement reads through the lane, written where the statement is
/// (`sqlx::query(..).bind(..).read_all(self)`), in place of `.fetch_all(pool)`.
trait LaneRead: Sized {
    fn read_all(self, b: &Backend) -> impl Future<Output = Result<Vec<DbRow>, sqlx::Error>> + Send;
    fn read_optional(
        self,
        b: &Backend,
    ) -> impl Future<Output = Result<Option<DbRow>, sqlx::Error>> + Send;
    fn read_one(self, b: &Backend) -> impl Future<Output = Result<DbRow, sqlx::Error>> + Send;
}

impl<'q, A> LaneRead for sqlx::query::Query<'q, Db, A>
where
    A: 'q + sqlx::IntoArguments<Db> + Send,
{
    async fn read_all(self, b: &Backend) -> Result<Vec<DbRow>, sqlx::Error> {
        let mut t = b.lane().take(b.read()).await?;
        let rows = self.fetch_all(t.conn()).await?;
        t.keep();
        Ok(rows)
    }

    async fn read_optional(self, b: &Backend) -> Result<Option<DbRow>, sqlx::Error> {
        let mut t = b.lane().take(b.read()).await?;
        let row = self.fetch_optional(t.conn()).await?;
        t.keep();
        Ok(row)
    }

    async fn read_one(self, b: &Backend) -> Result<DbRow, sqlx::Error> {
        let mut t = b.lane().take(b.read()).await?;
        let row = self.fetch_one(t.conn()).await?;
        t.keep();
        Ok(row)
    }
}
