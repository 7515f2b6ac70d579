//! Keeping every instance's security decisions equal to the database's: the change feed read
//! back from the audit log and applied here ([`sync`]), and the cluster key that authenticates
//! everything instances share through Redis ([`key`]). See docs/sessions.md, "What Redis can
//! and cannot do".

pub mod bus;
pub mod change;
pub mod key;
pub mod sync;
pub mod view;

pub use sync::ClusterSync;
