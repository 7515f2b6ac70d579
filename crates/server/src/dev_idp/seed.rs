//! The dev seed: on every start, `portcullis dev` makes the store hold each persona's user, the
//! orgs its memberships name, and those memberships with their roles. Idempotent: what exists
//! is reused, only what differs is written, and every write is audited with the request id
//! `dev-seed` and no actor (the operator's own change, like `purge`).

use crate::config::Persona;
use portcullis_store::{
    ChangeContext, MemberManager, NewUser, OrgId, Role, Store, StoreResult, UserId,
};
use std::collections::HashMap;

pub const REQUEST_ID: &str = "dev-seed";

/// What the seed changed, for the log.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Seeded {
    pub users_created: usize,
    pub orgs_created: usize,
    pub memberships_written: usize,
}

pub async fn run(
    store: &dyn Store,
    issuer: &str,
    personas: &[Persona],
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<Seeded> {
    let ctx = ChangeContext::new(None, REQUEST_ID, now);
    let mut seeded = Seeded::default();
    let mut users: HashMap<&str, UserId> = HashMap::new();
    for p in personas {
        let up = store
            .upsert_user(
                &NewUser {
                    issuer: issuer.to_owned(),
                    sub: p.sub.clone(),
                    username: Some(p.username().to_owned()),
                    email: Some(p.email()),
                    seen: false,
                },
                now,
            )
            .await?;
        seeded.users_created += usize::from(up.created);
        users.insert(&p.sub, up.user.id);
    }
    let mut orgs: HashMap<&str, OrgId> = HashMap::new();
    for p in personas {
        for m in &p.memberships {
            if orgs.contains_key(m.org.as_str()) {
                continue;
            }
            // Configuration validation guarantees an owner persona for every org.
            let Some(owner) = personas.iter().find(|q| {
                q.memberships
                    .iter()
                    .any(|n| n.org == m.org && n.role == "owner")
            }) else {
                continue;
            };
            let Some(&owner_id) = users.get(owner.sub.as_str()) else {
                continue;
            };
            let existing = store
                .memberships_of_user(owner_id)
                .await?
                .into_iter()
                .filter(|s| s.org_name == m.org)
                .map(|s| s.org_id)
                .min();
            let id = match existing {
                Some(id) => id,
                None => {
                    seeded.orgs_created += 1;
                    store.create_org(&ctx, owner_id, &m.org).await?.id
                }
            };
            orgs.insert(&m.org, id);
        }
    }
    for p in personas {
        let Some(&user) = users.get(p.sub.as_str()) else {
            continue;
        };
        for m in &p.memberships {
            let (Some(&org), Ok(role)) = (orgs.get(m.org.as_str()), m.role.parse::<Role>()) else {
                continue;
            };
            let written = match store.get_membership(org, user).await? {
                None => store
                    .add_member(&ctx, MemberManager::PlatformAdmin, org, user, role)
                    .await
                    .map(|_| true),
                Some(current) if current.role != role => store
                    .set_member_role(&ctx, MemberManager::PlatformAdmin, org, user, role)
                    .await
                    .map(|_| true),
                Some(_) => Ok(false),
            };
            match written {
                Ok(w) => seeded.memberships_written += usize::from(w),
                // A role the org's own rules refuse (its last owner demoted by hand, say) is
                // left as the org has it.
                Err(error) => {
                    tracing::warn!(%error, sub = %p.sub, org = %m.org, "dev seed left a membership as it is");
                }
            }
        }
    }
    Ok(seeded)
}
