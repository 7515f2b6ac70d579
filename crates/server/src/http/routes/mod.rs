//! One module per resource; handlers stay thin and fail only through `ApiError`.

pub mod health;
pub mod me;
