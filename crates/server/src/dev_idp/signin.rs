//! A completed sign-in: who, when, and how (with or without the TOTP second factor). Codes,
//! refresh families and tokens are all made from it.

#[derive(Debug, Clone)]
pub struct SignIn {
    pub sub: String,
    pub username: String,
    pub email: String,
    pub groups: Vec<String>,
    /// Unix seconds.
    pub auth_time: i64,
    /// The TOTP code was checked.
    pub mfa: bool,
    /// The `acr` value the request asked for and the sign-in satisfied.
    pub acr: Option<String>,
    /// The browser session (cookie) the sign-in belongs to, ended by `/logout`.
    pub browser: Option<String>,
}

impl SignIn {
    /// RFC 8176 method references.
    pub fn amr(&self) -> Vec<&'static str> {
        if self.mfa {
            vec!["pwd", "mfa", "otp"]
        } else {
            vec!["pwd"]
        }
    }
}
