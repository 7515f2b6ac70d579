//! Times `list_resources` through the real PostgreSQL store, first page and a deep page.
//!
//! Usage: portcullis-bench-pagination <database-url> <org-id> <deep-after-id> [iterations] [warm-up]
//!
//! Modes, each timed for the first page (no `after`) and the deep page (`after` = deep key):
//!
//! - `app`: `PgStore::connect(url, &ConnectOptions::default())` and
//!   `ResourceStore::list_resources(org, &ResourceFilter::default(), &PageRequest::new(20, after))`,
//!   the code path the HTTP handlers use (pool acquire, prepared statement, row decoding into
//!   `Resource`, `Page::from_rows`).
//! - `pool`: the same SQL text through a `PgPool` built with the same options as `PgStore`
//!   (max 10 connections, `test_before_acquire(false)`), rows fetched but not decoded.
//! - `conn`: the same SQL text on one `PgConnection`, no pool; rows fetched but not decoded.
//!
//! `pool` and `conn` exist only to say where the app path's time goes; the SQL they send is
//! copied from `crates/store/sql/resources.rs` and the program checks, before timing, that it
//! returns the same ids as the app path.
//!
//! Each line of output: `<mode> <page> n=.. mean_us=.. p50_us=.. p95_us=.. min_us=..`.

use portcullis_store::{ConnectOptions, OrgId, PageRequest, ResourceFilter, ResourceStore};
use portcullis_store_postgres::PgStore;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, Row};
use std::str::FromStr;
use std::time::{Duration, Instant};
use uuid::Uuid;

const PAGE: u32 = 20;
const COLS: &str = "resources.id, resources.org_id, resources.owner_id, resources.kind, resources.name, resources.data, resources.version, resources.created_at, resources.updated_at, resources.deleted_at, resources.deleted_by";

fn sql(deep: bool) -> String {
    let mut s = format!("SELECT {COLS} FROM resources WHERE org_id = $1 AND deleted_at IS NULL");
    if deep {
        s.push_str(" AND id > $2 ORDER BY id LIMIT $3");
    } else {
        s.push_str(" ORDER BY id LIMIT $2");
    }
    s
}

struct Stats {
    n: usize,
    mean: f64,
    p50: f64,
    p95: f64,
    min: f64,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let n = v.len();
    Stats {
        n,
        mean: v.iter().map(|d| us(*d)).sum::<f64>() / n as f64,
        p50: us(v[n * 50 / 100]),
        p95: us(v[n * 95 / 100]),
        min: us(v[0]),
    }
}

fn report(mode: &str, page: &str, s: &Stats) {
    println!(
        "{mode} {page} n={} mean_us={:.1} p50_us={:.1} p95_us={:.1} min_us={:.1}",
        s.n, s.mean, s.p50, s.p95, s.min
    );
}

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

async fn time<F, Fut>(warmup: usize, iters: usize, mut f: F) -> Res<Stats>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Res<usize>>,
{
    for _ in 0..warmup {
        f().await?;
    }
    let mut v = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        let n = f().await?;
        v.push(t.elapsed());
        // 21 rows fetched, 20 kept: a full page with a next key, on both pages.
        if n != PAGE as usize {
            return Err(format!("expected {PAGE} items, got {n}").into());
        }
    }
    Ok(stats(v))
}

fn main() -> Res<()> {
    // The server runs on Tokio's multi-thread runtime; BENCH_RUNTIME=current_thread is there
    // to show how much of the app path's time is the runtime's cross-thread wake-ups.
    let rt = match std::env::var("BENCH_RUNTIME").as_deref() {
        Ok("current_thread") => tokio::runtime::Builder::new_current_thread().enable_all().build()?,
        _ => tokio::runtime::Builder::new_multi_thread().enable_all().build()?,
    };
    // On a worker thread, as the server's handlers run: `block_on` alone would poll the timed
    // futures on this thread, outside the runtime's workers, so that every socket event
    // (handled by a worker's I/O driver) had to wake this thread across cores, a cost the
    // server does not pay.
    rt.block_on(async { tokio::spawn(run()).await? })
}

async fn run() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        return Err("usage: portcullis-bench-pagination <url> <org-id> <deep-after-id> [iterations] [warm-up]".into());
    }
    let url = &args[1];
    let org = OrgId(Uuid::parse_str(&args[2])?);
    let deep_after = Uuid::parse_str(&args[3])?;
    let iters: usize = args.get(4).map(|s| s.parse()).transpose()?.unwrap_or(2000);
    let warmup: usize = args.get(5).map(|s| s.parse()).transpose()?.unwrap_or(200);
    let filter = ResourceFilter::default();

    // --- app: the real store ---
    let store = PgStore::connect(url, &ConnectOptions::default())?;
    let app_ids = |after: Option<Uuid>| {
        let store = store.clone();
        let filter = filter.clone();
        async move {
            let page = store
                .list_resources(org, &filter, &PageRequest::new(PAGE, after)?)
                .await?;
            if page.next.is_none() {
                return Err::<_, Box<dyn std::error::Error + Send + Sync>>(
                    "page has no next key".into(),
                );
            }
            Ok(page.items.iter().map(|r| r.id.0).collect::<Vec<_>>())
        }
    };
    let app_first_ids = app_ids(None).await?;
    let app_deep_ids = app_ids(Some(deep_after)).await?;

    // --- conn: one plain connection, same SQL ---
    let mut conn = PgConnection::connect(url).await?;
    let first_sql = sql(false);
    let deep_sql = sql(true);
    let ids = |rows: &[sqlx::postgres::PgRow]| -> Res<Vec<Uuid>> {
        rows.iter()
            .take(PAGE as usize)
            .map(|r| r.try_get::<Uuid, _>("id").map_err(Into::into))
            .collect()
    };
    let q = sqlx::query(sqlx::AssertSqlSafe(first_sql.clone()))
        .bind(org.0)
        .bind(i64::from(PAGE) + 1);
    if ids(&conn.fetch_all(q).await?)? != app_first_ids {
        return Err("raw first-page SQL disagrees with list_resources".into());
    }
    {
        let q = sqlx::query(sqlx::AssertSqlSafe(deep_sql.clone()))
            .bind(org.0)
            .bind(deep_after)
            .bind(i64::from(PAGE) + 1);
        if ids(&conn.fetch_all(q).await?)? != app_deep_ids {
            return Err("raw deep-page SQL disagrees with list_resources".into());
        }
    }

    // --- pool: same options as PgStore::connect ---
    let defaults = ConnectOptions::default();
    let pool = PgPoolOptions::new()
        .max_connections(defaults.max_connections.max(1))
        .acquire_timeout(defaults.acquire_timeout)
        .test_before_acquire(false)
        .connect_lazy_with(PgConnectOptions::from_str(url)?.application_name("portcullis"));

    let one = |after: Option<Uuid>| {
        let store = store.clone();
        let filter = filter.clone();
        async move {
            let page = store
                .list_resources(org, &filter, &PageRequest::new(PAGE, after)?)
                .await?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(page.items.len())
        }
    };
    let s = time(warmup, iters, || one(None)).await?;
    report("app", "first", &s);
    let s = time(warmup, iters, || one(Some(deep_after))).await?;
    report("app", "deep", &s);

    let pool_q = |after: Option<Uuid>| {
        let pool = pool.clone();
        let (first_sql, deep_sql) = (first_sql.clone(), deep_sql.clone());
        async move {
            let rows = match after {
                None => {
                    sqlx::query(sqlx::AssertSqlSafe(first_sql))
                        .bind(org.0)
                        .bind(i64::from(PAGE) + 1)
                        .fetch_all(&pool)
                        .await?
                }
                Some(a) => {
                    sqlx::query(sqlx::AssertSqlSafe(deep_sql))
                        .bind(org.0)
                        .bind(a)
                        .bind(i64::from(PAGE) + 1)
                        .fetch_all(&pool)
                        .await?
                }
            };
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(rows.len().min(PAGE as usize))
        }
    };
    let s = time(warmup, iters, || pool_q(None)).await?;
    report("pool", "first", &s);
    let s = time(warmup, iters, || pool_q(Some(deep_after))).await?;
    report("pool", "deep", &s);

    // The plain connection is borrowed mutably by each call, so it is timed by hand here.
    for deep in [false, true] {
        let mut v = Vec::with_capacity(iters);
        for i in 0..warmup + iters {
            let text = if deep { &deep_sql } else { &first_sql };
            let mut q = sqlx::query(sqlx::AssertSqlSafe(text.clone())).bind(org.0);
            if deep {
                q = q.bind(deep_after);
            }
            q = q.bind(i64::from(PAGE) + 1);
            let t = Instant::now();
            let rows = conn.fetch_all(q).await?;
            let d = t.elapsed();
            if rows.len() != PAGE as usize + 1 {
                return Err(format!("expected {} rows, got {}", PAGE + 1, rows.len()).into());
            }
            if i >= warmup {
                v.push(d);
            }
        }
        report("conn", if deep { "deep" } else { "first" }, &stats(v));
    }
    // Whether the server kept re-planning (custom plans) or switched to a generic plan for the
    // prepared statements of this connection.
    for row in conn
        .fetch_all(
            "SELECT generic_plans, custom_plans, statement FROM pg_prepared_statements \
             WHERE statement LIKE 'SELECT resources.id%' ORDER BY statement",
        )
        .await?
    {
        let (generic, custom, text): (i64, i64, String) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let shape = if text.contains("id > $2") { "deep" } else { "first" };
        println!("plans conn {shape} generic_plans={generic} custom_plans={custom}");
    }
    conn.close().await?;
    pool.close().await;
    Ok(())
}
