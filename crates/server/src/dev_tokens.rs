//! Minting dev-issuer tokens from the command line: `portcullis token`, and the ready-made
//! tokens `portcullis dev` prints.

use portcullis_dev_issuer::{DevIssuer, Shape, TokenSpec, parse_claim_arg};
use std::time::Duration;

/// How long the tokens printed by `portcullis dev` live: a working day, under the 24 h cap.
pub const DEV_TOKEN_TTL: Duration = Duration::from_secs(8 * 60 * 60);

/// `90`, `90s`, `15m`, `8h`, `1d`.
pub fn parse_ttl(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid duration {s:?}: expected a number with s, m, h or d"))?;
    let secs = match unit {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        "d" => n.checked_mul(86_400),
        _ => None,
    };
    match secs {
        Some(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
        _ => Err(format!(
            "invalid duration {s:?}: expected a positive number with s, m, h or d"
        )),
    }
}

/// `--profile`: a shape by its command-line name.
pub fn parse_shape(s: &str) -> Result<Shape, String> {
    s.parse()
        .map_err(|e: portcullis_dev_issuer::UnknownShape| e.to_string())
}

/// Whose claim shape `portcullis token` mints, and the audience and tenant it names.
#[derive(Debug, Clone, Default)]
pub struct Shaping {
    pub shape: Shape,
    pub audience: Option<String>,
    pub tenant: Option<String>,
}

/// Builds the spec for `portcullis token`.
pub fn spec(
    sub: &str,
    groups: &[String],
    ttl: Duration,
    claims: &[String],
    shaping: &Shaping,
) -> Result<TokenSpec, String> {
    let mut spec = TokenSpec::new(sub)
        .username(sub)
        .groups(groups.iter().map(String::as_str))
        .ttl(ttl)
        .shape(shaping.shape);
    if let Some(audience) = &shaping.audience {
        spec = spec.audience(audience);
    }
    if let Some(tenant) = &shaping.tenant {
        spec = spec.tenant(tenant);
    }
    for arg in claims {
        let (k, v) = parse_claim_arg(arg).map_err(|e| e.to_string())?;
        spec = spec.claim(k, v);
    }
    Ok(spec)
}

/// The two tokens `portcullis dev` prints: a platform admin and a plain user.
pub fn ready_made(issuer: &DevIssuer, admin_group: &str) -> (String, String) {
    let admin = issuer.mint_access(
        &TokenSpec::new("dev-admin")
            .username("dev-admin")
            .groups([admin_group])
            .ttl(DEV_TOKEN_TTL),
    );
    let member = issuer.mint_access(
        &TokenSpec::new("dev-member")
            .username("dev-member")
            .ttl(DEV_TOKEN_TTL),
    );
    (admin, member)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls() {
        assert_eq!(parse_ttl("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_ttl("8h"), Ok(Duration::from_secs(28_800)));
        assert_eq!(parse_ttl("1d"), Ok(Duration::from_secs(86_400)));
        for bad in ["", "0", "h", "5x", "-5m", "99999999999999999999d", "1.5h"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
