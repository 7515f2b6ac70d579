//! `portcullis audit verify` and `portcullis audit export` (docs/architecture.md, "The audit trail").
//!
//! The audit log is a hash chain (`portcullis_store::audit_chain`): editing, removing or
//! reordering rows breaks it at each affected row, and `verify` names every one. A chain
//! cannot show that its newest rows were removed, though: what is left is still a valid
//! chain. `verify` therefore prints
//! the head (last `seq` and its hash) for the operator to record somewhere the database's
//! users cannot write, and `--expect-head` checks a recorded head against the log.

use crate::config::Config;
use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Subcommand;
use portcullis_store::audit_chain::{ChainBreak, ChainReport, ChainVerifier};
use portcullis_store::{AuditEntry, AuditStore, OrgId};
use std::fmt;
use std::io::Write;

/// `portcullis audit ...`
#[derive(Debug, Clone, Subcommand)]
pub enum AuditCommand {
    /// Check the whole audit log's hash chain and print its head (last seq and hash).
    #[command(after_help = "\
Exit status: 0 the log verifies (and matches --expect-head, if given); 1 the chain is broken, \
the expected head is missing or different, or the database cannot be read (no schema: run \
`portcullis migrate`); 2 invalid arguments or configuration.

A hash chain shows edited, removed and reordered rows, except rows removed from its end: \
record the printed head outside the database and check it later with --expect-head.")]
    Verify {
        /// A head printed by an earlier run (`<seq>:<hash>`): fail unless row <seq> still
        /// exists with that hash.
        #[arg(long, value_name = "SEQ:HASH")]
        expect_head: Option<Head>,
    },
    /// Write the audit log to stdout as NDJSON (one JSON object per row, oldest first).
    #[command(after_help = "\
Reads the whole log in seq order and filters while reading (row times come from the writers' \
clocks, so seq order is not strictly time order). Exit status: 0 done; 1 the database cannot be \
read; 2 invalid arguments or configuration.")]
    Export {
        /// Only rows that occurred at or after this RFC 3339 time.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        since: Option<DateTime<Utc>>,
        /// Only rows that occurred before this RFC 3339 time.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        until: Option<DateTime<Utc>>,
        /// Only rows of this org (UUID).
        #[arg(long, value_name = "ORG_ID")]
        org: Option<OrgId>,
    },
}

/// Runs an `audit` subcommand.
pub async fn run(config: &Config, command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify { expect_head } => run_verify(config, expect_head.as_ref()).await,
        AuditCommand::Export { since, until, org } => {
            run_export(config, &ExportFilter { since, until, org }).await
        }
    }
}

/// Rows read per round trip.
const BATCH: u32 = 500;

/// A point in the chain: `<seq>:<hash>`, as `verify` prints it and `--expect-head` takes it.
pub use portcullis_store::audit_chain::Head;

/// One thing `verify` found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    /// The chain itself breaks at a row.
    Chain(ChainBreak),
    /// The recorded head's row is gone: rows were removed from the end of the log.
    HeadMissing { expected: Head, last: Option<i64> },
    /// The recorded head's row is there with another hash: the log was rewritten from there.
    HeadChanged { expected: Head, found: String },
}

impl Broken {
    /// The row that is not what it should be.
    pub fn seq(&self) -> i64 {
        match self {
            Broken::Chain(at) => at.seq(),
            Broken::HeadMissing { expected, .. } | Broken::HeadChanged { expected, .. } => {
                expected.seq
            }
        }
    }
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "audit log broken at row {}: ", self.seq())?;
        match self {
            Broken::Chain(at) => write!(f, "{at}"),
            Broken::HeadMissing { expected, last } => {
                write!(f, "row {} no longer exists (", expected.seq)?;
                match last {
                    Some(last) => write!(f, "the log now ends at row {last}")?,
                    None => f.write_str("the log is now empty")?,
                }
                f.write_str("): rows were removed from the end of the log")
            }
            Broken::HeadChanged { expected, found } => write!(
                f,
                "row {} has hash {found}, but the recorded head is {expected}",
                expected.seq
            ),
        }
    }
}

impl std::error::Error for Broken {}

/// What `verify` read and found: the chain's own report, and every problem, the chain's
/// breaks (oldest row first) followed by a mismatch with the expected head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub chain: ChainReport,
    pub problems: Vec<Broken>,
}

impl Report {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }

    /// Rows read.
    pub fn rows(&self) -> i64 {
        self.chain.rows
    }

    /// The last row read (`None` for an empty log).
    pub fn head(&self) -> Option<&Head> {
        self.chain.head.as_ref()
    }

    /// The last `seq` of the unbroken prefix of the log.
    pub fn verified_up_to(&self) -> i64 {
        self.chain.verified_up_to()
    }
}

/// Walks the whole log oldest first with [`ChainVerifier`], which keeps going past a break so
/// that every broken row is reported, then checks `expect` against what it read. The error is
/// a database failure; a log that does not verify is a [`Report`] with problems.
pub async fn verify(
    store: &dyn AuditStore,
    expect: Option<&Head>,
) -> portcullis_store::StoreResult<Report> {
    let mut verifier = ChainVerifier::default();
    let mut expected_found: Option<String> = None;
    let mut after = 0;
    loop {
        let rows = store.audit_after(after, BATCH).await?;
        for row in &rows {
            verifier.check(row);
            if expect.is_some_and(|e| e.seq == row.seq) {
                expected_found = Some(row.hash.clone());
            }
        }
        if let Some(last) = rows.last() {
            after = last.seq;
        }
        if rows.len() < BATCH as usize {
            break;
        }
    }
    let chain = verifier.finish();
    let mut problems: Vec<Broken> = chain.breaks.iter().cloned().map(Broken::Chain).collect();
    if let Some(expected) = expect {
        match expected_found {
            None => problems.push(Broken::HeadMissing {
                expected: expected.clone(),
                last: chain.head.as_ref().map(|h| h.seq),
            }),
            Some(found) if found != expected.hash => problems.push(Broken::HeadChanged {
                expected: expected.clone(),
                found,
            }),
            Some(_) => {}
        }
    }
    Ok(Report { chain, problems })
}

/// `audit verify`: exit 0 with the row count and head, or every problem on stderr, one line
/// each, and exit 1.
pub async fn run_verify(config: &Config, expect: Option<&Head>) -> anyhow::Result<()> {
    let db = super::open(config).await?;
    let store = db.store();
    let report = verify(store.as_ref(), expect)
        .await
        .context("reading the audit log")?;
    if !report.is_intact() {
        for problem in &report.problems {
            eprintln!("{problem}");
        }
        anyhow::bail!(
            "the audit log does not verify: {} problem{} in {} rows read; rows up to {} verify",
            report.problems.len(),
            if report.problems.len() == 1 { "" } else { "s" },
            report.rows(),
            report.verified_up_to(),
        );
    }
    println!("audit log intact: {} rows verified", report.rows());
    match report.head() {
        Some(head) => {
            println!("head: {head}");
            match expect {
                Some(e) => println!("expected head {e} is present and unchanged"),
                None => println!(
                    "record the head outside this database and pass it to `audit verify --expect-head` later: \
                     only that detects rows removed from the end of the log"
                ),
            }
        }
        None => println!("head: none (the log is empty)"),
    }
    Ok(())
}

/// Which rows `audit export` writes. `since` is inclusive and `until` exclusive, as in the
/// HTTP audit listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportFilter {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub org: Option<OrgId>,
}

impl ExportFilter {
    pub fn matches(&self, e: &AuditEntry) -> bool {
        self.since.is_none_or(|s| e.occurred_at >= s)
            && self.until.is_none_or(|u| e.occurred_at < u)
            && self.org.is_none_or(|o| e.org_id == Some(o))
    }
}

/// Writes every matching row as one JSON object per line, in `seq` order (oldest first).
/// The filter is applied while paging through the whole log: row times come from the
/// writers' clocks, so `seq` order is not guaranteed to be time order and no page can be
/// skipped. Returns (rows written, rows read).
pub async fn export(
    store: &dyn AuditStore,
    filter: &ExportFilter,
    out: &mut dyn Write,
) -> anyhow::Result<(u64, u64)> {
    let (mut written, mut read) = (0, 0);
    let mut after = 0;
    loop {
        let rows = store
            .audit_after(after, BATCH)
            .await
            .context("reading the audit log")?;
        for row in rows.iter().filter(|r| filter.matches(r)) {
            serde_json::to_writer(&mut *out, row).context("writing JSON")?;
            out.write_all(b"\n")?;
            written += 1;
        }
        read += rows.len() as u64;
        out.flush()?;
        match rows.last() {
            Some(last) if rows.len() == BATCH as usize => after = last.seq,
            _ => return Ok((written, read)),
        }
    }
}

/// `audit export`: NDJSON on stdout; a reader that stops early (`| head`) is not an error.
pub async fn run_export(config: &Config, filter: &ExportFilter) -> anyhow::Result<()> {
    let db = super::open(config).await?;
    let store = db.store();
    let mut out = std::io::BufWriter::new(std::io::stdout());
    match export(store.as_ref(), filter, &mut out).await {
        Ok((written, read)) => {
            eprintln!("exported {written} of {read} audit rows");
            Ok(())
        }
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// `--since` / `--until`: an RFC 3339 time.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!("invalid time {s:?}: expected RFC 3339 such as 2025-01-31T00:00:00Z ({e})")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn break_messages_name_the_row() {
        let b = Broken::Chain(ChainBreak::Altered { seq: 4 });
        assert!(
            b.to_string()
                .starts_with("audit log broken at row 4: row 4 was altered")
        );
        let b = Broken::HeadMissing {
            expected: Head {
                seq: 9,
                hash: "0".repeat(64),
            },
            last: Some(8),
        };
        assert!(
            b.to_string()
                .starts_with("audit log broken at row 9: row 9 no longer exists")
        );
    }

    #[test]
    fn times() {
        assert!(parse_time("2025-01-31T00:00:00Z").is_ok());
        assert!(parse_time("2025-01-31T01:00:00+01:00").is_ok());
        assert!(parse_time("2025-01-31").is_err());
    }
}
