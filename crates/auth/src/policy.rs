//! Time rules every token must meet, whatever its issuer.

use crate::jwt::Claims;
use crate::rejection::Rejection;
use std::time::Duration;

#[derive(Debug, Clone)]
/// The time rules and cache limits that hold for every issuer.
pub struct Policy {
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
    /// Longest lifetime (`exp - iat`) accepted: a stolen token minted to live for a year is
    /// refused even though its signature is good.
    pub max_lifetime: Duration,
    /// Longest time a verification result is reused without re-checking the signature.
    pub cache_ttl: Duration,
    /// Entries in the verified-token cache at most; 0 turns the cache off.
    pub cache_capacity: u64,
    /// Memory the verified-token cache may hold, in bytes; 0 turns the cache off. Each entry
    /// weighs its slot (144 bytes: the token's times and ids, the cache's bookkeeping) and,
    /// for the token that first brings it, the part its user's tokens share (about 550 bytes
    /// for a Cognito access token).
    pub cache_max_bytes: u64,
}

/// 32 MiB.
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 32 * 1024 * 1024;

impl Default for Policy {
    fn default() -> Self {
        Self {
            leeway: Duration::from_secs(30),
            max_lifetime: Duration::from_secs(24 * 60 * 60),
            cache_ttl: Duration::from_secs(5 * 60),
            cache_capacity: 100_000,
            cache_max_bytes: DEFAULT_CACHE_MAX_BYTES,
        }
    }
}

impl Policy {
    /// Checks `exp`, `nbf`, `iat` and the lifetime cap at `now` (seconds since the epoch).
    pub fn check_times(&self, claims: &Claims, now: i64) -> Result<(), Rejection> {
        self.check_time_values(claims.exp, claims.nbf, claims.iat, now)
    }

    /// [`check_times`](Self::check_times) on the three dates it reads.
    pub fn check_time_values(
        &self,
        exp: i64,
        nbf: Option<i64>,
        iat: Option<i64>,
        now: i64,
    ) -> Result<(), Rejection> {
        let leeway = self.leeway.as_secs() as i64;
        let max = self.max_lifetime.as_secs() as i64;
        if now >= exp.saturating_add(leeway) {
            return Err(Rejection::Expired);
        }
        if nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
            return Err(Rejection::NotYetValid);
        }
        if iat.is_some_and(|iat| iat > now.saturating_add(leeway)) {
            return Err(Rejection::IssuedInFuture);
        }
        // Without `iat` the lifetime cannot be measured, so what is left of it is capped.
        let start = iat.unwrap_or(now);
        if exp.saturating_sub(start) > max {
            return Err(Rejection::LifetimeTooLong);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::Payload;

    fn claims(extra: &str) -> Claims {
        let json = format!(r#"{{"iss":"i","sub":"s",{extra}}}"#);
        Claims::from_payload(Payload::parse(json.as_bytes()).expect("json")).expect("claims")
    }

    const NOW: i64 = 1_900_000_000;

    #[test]
    fn expiry_honours_leeway() {
        let p = Policy::default();
        assert_eq!(
            p.check_times(&claims(&format!(r#""exp":{}"#, NOW + 60)), NOW),
            Ok(())
        );
        assert_eq!(
            p.check_times(&claims(&format!(r#""exp":{}"#, NOW - 29)), NOW),
            Ok(())
        );
        assert_eq!(
            p.check_times(&claims(&format!(r#""exp":{}"#, NOW - 30)), NOW),
            Err(Rejection::Expired)
        );
    }

    #[test]
    fn future_nbf_and_iat_are_refused() {
        let p = Policy::default();
        let exp = NOW + 3600;
        assert_eq!(
            p.check_times(&claims(&format!(r#""exp":{exp},"nbf":{}"#, NOW + 31)), NOW),
            Err(Rejection::NotYetValid)
        );
        assert_eq!(
            p.check_times(&claims(&format!(r#""exp":{exp},"nbf":{}"#, NOW + 30)), NOW),
            Ok(())
        );
        assert_eq!(
            p.check_times(&claims(&format!(r#""exp":{exp},"iat":{}"#, NOW + 31)), NOW),
            Err(Rejection::IssuedInFuture)
        );
    }

    #[test]
    fn lifetime_is_capped() {
        let p = Policy::default();
        let day = 24 * 3600;
        assert_eq!(
            p.check_times(
                &claims(&format!(r#""exp":{},"iat":{}"#, NOW + day, NOW)),
                NOW
            ),
            Ok(())
        );
        assert_eq!(
            p.check_times(
                &claims(&format!(r#""exp":{},"iat":{}"#, NOW + day + 1, NOW)),
                NOW
            ),
            Err(Rejection::LifetimeTooLong)
        );
        assert_eq!(
            p.check_times(&claims(&format!(r#""exp":{}"#, NOW + day + 1)), NOW),
            Err(Rejection::LifetimeTooLong)
        );
    }
}
