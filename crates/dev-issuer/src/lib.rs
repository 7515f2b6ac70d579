//! The embedded, Cognito-shaped development issuer.
#![forbid(unsafe_code)]
