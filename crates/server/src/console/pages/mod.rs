//! One module per console page.

pub mod assets;
pub mod audit;
pub mod chart;
pub mod flags;
pub mod health;
pub mod home;
pub mod orgs;
pub mod users;
