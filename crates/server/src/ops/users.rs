//! `portcullis users link`: gives a user an identity at another issuer, as
//! `POST /v1/admin/users/{user_id}/identities` does (docs/providers.md, "Migrating off Cognito").

use crate::config::Config;
use anyhow::bail;
use clap::Subcommand;
use portcullis_store::{ChangeContext, StoreError, UserId};

#[derive(Debug, Clone, Subcommand)]
pub enum UsersCommand {
    /// Link the identity (`--issuer`, `--sub`) to the user `--user`: that identity's tokens are
    /// the user's from then on. Audited as `identity.link` with no actor. Exit status: 0
    /// linked; 1 the user does not exist, the identity already belongs to a user, or the
    /// database failed; 2 invalid arguments or configuration.
    Link {
        /// The user's id (`id` of `GET /v1/me`).
        #[arg(long, value_name = "USER_ID")]
        user: UserId,
        /// The issuer exactly as the identity's tokens carry it in `iss`.
        #[arg(long)]
        issuer: String,
        /// The identity's `sub` at that issuer.
        #[arg(long)]
        sub: String,
    },
}

pub async fn run(config: &Config, command: UsersCommand) -> anyhow::Result<()> {
    let db = super::open(config).await?;
    match command {
        UsersCommand::Link { user, issuer, sub } => {
            let ctx = ChangeContext::new(None, super::request_id("users-link"), chrono::Utc::now());
            match db.store().link_identity(&ctx, user, &issuer, &sub).await {
                Ok(identity) => {
                    println!(
                        "linked {} {} to user {}",
                        identity.issuer, identity.sub, identity.user_id
                    );
                    Ok(())
                }
                Err(StoreError::NotFound) => bail!("no user has the id {user}"),
                Err(StoreError::Conflict(_)) => {
                    bail!("this identity already belongs to a user (see the audit log)")
                }
                Err(StoreError::Invalid(why)) => bail!("invalid identity: {why}"),
                Err(e) => Err(anyhow::Error::new(e).context("linking the identity")),
            }
        }
    }
}
