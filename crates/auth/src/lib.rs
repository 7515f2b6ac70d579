//! `portcullis-auth`: access-token verification for AWS Cognito and OpenID Connect issuers.
#![forbid(unsafe_code)]

pub mod clock;
