//! One conformance suite, written once and run against every backend. A backend's test file
//! builds a [`Harness`] and invokes [`conformance_suite!`](crate::conformance_suite), which
//! expands to one `#[tokio::test]` per case, so a failure names the behaviour that diverged.
//!
//! The cases assert exact results (orders, counts, timestamps, versions), not just "no error":
//! a backend that returns rows in another order, loses microseconds, or forgets an audit row
//! fails here.

mod audit;
mod changes;
mod flags;
mod links;
mod members;
mod orgs;
mod resources;
mod revocations;
mod support;
mod users;

pub use audit::*;
pub use changes::*;
pub use flags::*;
pub use links::*;
pub use members::*;
pub use orgs::*;
pub use resources::*;
pub use revocations::*;
pub use support::Harness;
pub use users::*;

/// Expands to one test per conformance case. `$harness` is an async fn returning
/// `Option<Harness<_>>`; `None` means the backend is not configured here and the case is skipped.
#[macro_export]
macro_rules! conformance_suite {
    ($harness:path) => {
        $crate::conformance_suite!(@cases $harness;
            upsert_creates_once_then_updates,
            operators_find_users_by_name_email_or_sub,
            users_are_looked_up_many_at_once,
            every_live_org_is_listed_by_id,
            concurrent_first_upserts_share_one_row,
            preprovisioned_user_has_no_last_seen,
            user_fields_are_bounded,
            disabling_a_user_is_audited,
            creating_an_org_makes_the_creator_owner,
            soft_deleted_orgs_are_hidden_until_restored,
            orgs_of_a_user_page_in_id_order,
            purging_orgs_removes_their_rows_but_keeps_audit,
            memberships_add_change_remove,
            members_page_in_user_id_order,
            the_last_owner_cannot_leave_or_be_demoted,
            member_changes_are_decided_on_locked_rows,
            resources_round_trip_exactly,
            resource_versions_guard_concurrent_edits,
            resource_audit_rows_keep_a_diff_not_copies,
            resources_are_isolated_per_org,
            resource_pages_are_ordered_without_gaps_or_duplicates,
            resource_paging_is_stable_under_concurrent_inserts,
            pages_stop_at_a_byte_budget,
            resource_filters_select_kind_and_owner,
            soft_delete_restore_and_purge_of_resources,
            invalid_input_is_refused_before_sql,
            audit_log_is_append_only_in_the_database,
            audit_chain_verifies_and_names_a_tampered_row,
            audit_listing_filters_and_pages_newest_first,
            token_revocations_expire_and_purge,
            user_revocation_only_moves_forward,
            flags_global_and_per_org,
            change_feed_lists_security_changes_in_order,
            linked_identities_resolve_to_one_user,
            a_taken_identity_is_not_linked_again,
            org_links_are_upserted_per_claim_value,
            links_make_and_take_away_only_their_memberships,
            concurrent_first_requests_link_once,
        );
    };
    (@cases $harness:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let Some(harness) = $harness().await else {
                    return;
                };
                $crate::conformance::$case(&harness).await;
            }
        )*
    };
}
