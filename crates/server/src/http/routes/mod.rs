//! One module per resource; handlers stay thin and fail only through `ApiError`.

pub mod audit;
pub mod flags;
pub mod health;
pub mod identities;
pub mod links;
pub mod me;
pub mod members;
pub mod orgs;
pub mod resource_metadata;
pub mod resources;
pub mod sessions;
pub mod ws;
