//! `portcullis purge --older-than 30d`: the end of soft delete (README, "Commands").

use crate::config::Config;
use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use portcullis_store::{ChangeContext, Store};
use std::time::Duration;

/// `portcullis purge`
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Each removed org and resource gets an audit row (`org.purge`, `resource.purge`, no actor, \
request id `purge-<uuid>`) in the same transaction as the delete. The schema must exist: this \
command does not migrate. Exit status: 0 done; 1 the database failed; 2 invalid arguments or \
configuration.")]
pub struct PurgeArgs {
    /// Remove what was soft-deleted longer ago than this: `90s`, `15m`, `8h`, `30d`.
    #[arg(long, value_name = "AGE", value_parser = super::parse_age)]
    pub older_than: Duration,
}

/// What one run removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purged {
    /// Carried by the run's audit rows.
    pub request_id: String,
    pub resources: u64,
    pub orgs: u64,
    pub revocations: u64,
}

impl std::fmt::Display for Purged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "purged {}, {}, {}",
            counted(self.resources, "resource", "resources"),
            counted(self.orgs, "org", "orgs"),
            counted(
                self.revocations,
                "expired revocation",
                "expired revocations"
            ),
        )
    }
}

fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Removes resources, then orgs, soft-deleted more than `older_than` before `now` (the store
/// writes one `resource.purge` / `org.purge` audit row per removed row in the same transaction
/// as the delete, with no actor and one request id for the run), then token revocations whose
/// tokens have expired by `now` (nothing to audit: they no longer protect anything).
pub async fn purge(
    store: &dyn Store,
    older_than: Duration,
    now: DateTime<Utc>,
) -> anyhow::Result<Purged> {
    let age = chrono::TimeDelta::from_std(older_than).context("--older-than is too long")?;
    let before = now
        .checked_sub_signed(age)
        .context("--older-than is too long")?;
    let ctx = ChangeContext::new(None, super::request_id("purge"), now);
    // Resources first, so that a soft-deleted resource of an org purged in this same run gets
    // its own audit row; the org's live resources go with the org (its `org.purge` row).
    let resources = store
        .purge_resources(&ctx, before)
        .await
        .context("purging deleted resources")?;
    let orgs = store
        .purge_orgs(&ctx, before)
        .await
        .context("purging deleted orgs")?;
    let revocations = store
        .purge_expired_revocations(now)
        .await
        .context("purging expired token revocations")?;
    tracing::info!(
        request_id = %ctx.request_id,
        %before,
        resources,
        orgs,
        revocations,
        "purged"
    );
    Ok(Purged {
        request_id: ctx.request_id,
        resources,
        orgs,
        revocations,
    })
}

/// The command: open without migrating, purge with the system clock, print the counts.
pub async fn run(config: &Config, args: &PurgeArgs) -> anyhow::Result<()> {
    let db = super::open(config).await?;
    let purged = purge(db.store().as_ref(), args.older_than, Utc::now()).await?;
    println!("{purged}");
    println!("audit request id: {}", purged.request_id);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_english() {
        let p = Purged {
            request_id: String::new(),
            resources: 3,
            orgs: 1,
            revocations: 12,
        };
        assert_eq!(
            p.to_string(),
            "purged 3 resources, 1 org, 12 expired revocations"
        );
        let p = Purged {
            request_id: String::new(),
            resources: 1,
            orgs: 0,
            revocations: 1,
        };
        assert_eq!(
            p.to_string(),
            "purged 1 resource, 0 orgs, 1 expired revocation"
        );
    }
}
