//! Why a token was refused. The code goes to logs and metrics; clients only ever see one
//! generic 401, whatever the reason, so that the response is no oracle for an attacker.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
/// Why a token was refused.
pub enum Rejection {
    /// No token was presented.
    Missing,
    /// Larger than the size cap.
    Oversized,
    /// Not three base64url parts, bad base64, whitespace, padding, or not JSON.
    Malformed,
    /// The header breaks a rule: unknown `typ`, `kid` missing or odd, forbidden members.
    BadHeader,
    /// `alg` is not one the issuer's provider allows (this includes `none` and HMAC).
    AlgNotAllowed,
    /// `jku`, `x5u`, `jwk`, `x5c` or `crit` in the header.
    ForbiddenHeader,
    /// `iss` names no configured provider (no key fetch is made for it).
    UnknownIssuer,
    /// No key with this `kid`, even after a refetch.
    UnknownKid,
    /// The JWK's own `alg` or `use` disagrees with the token.
    KeyMismatch,
    /// The issuer's keys could not be loaded, or are older than the maximum staleness.
    KeysUnavailable,
    /// The signature does not verify.
    BadSignature,
    /// A claim has the wrong JSON type, or a required claim is missing.
    BadClaims,
    /// No `exp` claim.
    MissingExp,
    /// `exp` has passed (beyond the leeway).
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    IssuedInFuture,
    /// `exp - iat` is longer than the lifetime cap.
    LifetimeTooLong,
    /// A Cognito ID token (or any `token_use` but `access`) where an access token is required.
    WrongTokenUse,
    /// `client_id` (Cognito) is not an accepted app client.
    WrongClient,
    /// `aud` (OIDC) names none of the accepted audiences.
    WrongAudience,
    /// The token's tenant (Entra `tid`, Google `hd`) is not one of the allowed ones, or
    /// disagrees with the tenant its issuer names.
    WrongTenant,
    /// A Google ID token whose `email_verified` is not `true`.
    EmailUnverified,
    /// A token with a `nonce` in its header: Microsoft Graph's own format, whose signature
    /// nobody but Graph can check, and which is meant for Graph, not for us.
    GraphToken,
    /// The route needs a scope the token does not carry (a 403, not a 401).
    InsufficientScope,
    /// The token, its session or its user's earlier tokens were revoked.
    Revoked,
    /// The user is disabled.
    UserDisabled,
    /// The token was sent somewhere tokens must never travel (the query string).
    TokenInQuery,
    /// The issuer's introspection endpoint answered `active: false` for this opaque token.
    Inactive,
    /// The introspection endpoint could not be asked (timeout, connection failure, an error
    /// status, an answer that is none): the token is neither accepted nor refused, and the
    /// request fails as unavailable (503), never as accepted.
    IntrospectionUnavailable,
    /// A `DPoP`-scheme request without exactly one `DPoP` proof header (none).
    DpopProofMissing,
    /// The proof is malformed, has the wrong `typ`, an algorithm not allowed, a private or unusable `jwk`, a bad signature, or several `DPoP` headers.
    DpopProofInvalid,
    /// The proof's `htm` is not the request method.
    DpopWrongMethod,
    /// The proof's `htu` is not the request URL behind the public resource URL.
    DpopWrongUrl,
    /// The proof's `iat` is outside the accepted window.
    DpopStale,
    /// The proof's `jti` was seen before.
    DpopReplayed,
    /// The proof's `ath` is not the hash of the access token.
    DpopWrongTokenHash,
    /// The proof's key is not the one the token is bound to (`cnf.jkt`).
    DpopWrongKey,
    /// Server nonces are on and the proof has no valid one.
    DpopNonceRequired,
    /// A DPoP-bound token sent with the `Bearer` scheme.
    DpopBoundAsBearer,
    /// An unbound token from an issuer whose tokens must be DPoP-bound.
    DpopRequired,
    /// The `DPoP` scheme with a token that is not bound to a key.
    DpopUnbound,
    /// The `DPoP` scheme for an issuer without DPoP.
    DpopNotEnabled,
    /// The replay cache could not answer; the proof is refused.
    DpopReplayUnavailable,
}

impl Rejection {
    /// The stable reason code used in logs and in the `reason` label of metrics.
    pub fn code(self) -> &'static str {
        match self {
            Rejection::Missing => "missing",
            Rejection::Oversized => "oversized",
            Rejection::Malformed => "malformed",
            Rejection::BadHeader => "bad_header",
            Rejection::AlgNotAllowed => "alg_not_allowed",
            Rejection::ForbiddenHeader => "forbidden_header",
            Rejection::UnknownIssuer => "unknown_issuer",
            Rejection::UnknownKid => "unknown_kid",
            Rejection::KeyMismatch => "key_mismatch",
            Rejection::KeysUnavailable => "keys_unavailable",
            Rejection::BadSignature => "bad_signature",
            Rejection::BadClaims => "bad_claims",
            Rejection::MissingExp => "missing_exp",
            Rejection::Expired => "expired",
            Rejection::NotYetValid => "not_yet_valid",
            Rejection::IssuedInFuture => "issued_in_future",
            Rejection::LifetimeTooLong => "lifetime_too_long",
            Rejection::WrongTokenUse => "wrong_token_use",
            Rejection::WrongClient => "wrong_client",
            Rejection::WrongAudience => "wrong_audience",
            Rejection::WrongTenant => "wrong_tenant",
            Rejection::EmailUnverified => "email_unverified",
            Rejection::GraphToken => "graph_token",
            Rejection::InsufficientScope => "insufficient_scope",
            Rejection::Revoked => "revoked",
            Rejection::UserDisabled => "user_disabled",
            Rejection::TokenInQuery => "token_in_query",
            Rejection::Inactive => "inactive",
            Rejection::IntrospectionUnavailable => "introspection_unavailable",
            Rejection::DpopProofMissing => "dpop_proof_missing",
            Rejection::DpopProofInvalid => "dpop_proof_invalid",
            Rejection::DpopWrongMethod => "dpop_wrong_method",
            Rejection::DpopWrongUrl => "dpop_wrong_url",
            Rejection::DpopStale => "dpop_stale",
            Rejection::DpopReplayed => "dpop_replayed",
            Rejection::DpopWrongTokenHash => "dpop_wrong_token_hash",
            Rejection::DpopWrongKey => "dpop_wrong_key",
            Rejection::DpopNonceRequired => "dpop_nonce_required",
            Rejection::DpopBoundAsBearer => "dpop_bound_as_bearer",
            Rejection::DpopRequired => "dpop_required",
            Rejection::DpopUnbound => "dpop_unbound",
            Rejection::DpopNotEnabled => "dpop_not_enabled",
            Rejection::DpopReplayUnavailable => "dpop_replay_unavailable",
        }
    }

    /// Every rejection, for registering metric series.
    pub const ALL: [Rejection; 43] = [
        Rejection::Missing,
        Rejection::Oversized,
        Rejection::Malformed,
        Rejection::BadHeader,
        Rejection::AlgNotAllowed,
        Rejection::ForbiddenHeader,
        Rejection::UnknownIssuer,
        Rejection::UnknownKid,
        Rejection::KeyMismatch,
        Rejection::KeysUnavailable,
        Rejection::BadSignature,
        Rejection::BadClaims,
        Rejection::MissingExp,
        Rejection::Expired,
        Rejection::NotYetValid,
        Rejection::IssuedInFuture,
        Rejection::LifetimeTooLong,
        Rejection::WrongTokenUse,
        Rejection::WrongClient,
        Rejection::WrongAudience,
        Rejection::WrongTenant,
        Rejection::EmailUnverified,
        Rejection::GraphToken,
        Rejection::InsufficientScope,
        Rejection::Revoked,
        Rejection::UserDisabled,
        Rejection::TokenInQuery,
        Rejection::Inactive,
        Rejection::IntrospectionUnavailable,
        Rejection::DpopProofMissing,
        Rejection::DpopProofInvalid,
        Rejection::DpopWrongMethod,
        Rejection::DpopWrongUrl,
        Rejection::DpopStale,
        Rejection::DpopReplayed,
        Rejection::DpopWrongTokenHash,
        Rejection::DpopWrongKey,
        Rejection::DpopNonceRequired,
        Rejection::DpopBoundAsBearer,
        Rejection::DpopRequired,
        Rejection::DpopUnbound,
        Rejection::DpopNotEnabled,
        Rejection::DpopReplayUnavailable,
    ];
}

impl Rejection {
    /// Whether the proof, not the token, is at fault (`invalid_dpop_proof`, RFC 9449 7.1).
    pub fn is_dpop_proof(self) -> bool {
        matches!(
            self,
            Rejection::DpopProofMissing
                | Rejection::DpopProofInvalid
                | Rejection::DpopWrongMethod
                | Rejection::DpopWrongUrl
                | Rejection::DpopStale
                | Rejection::DpopReplayed
                | Rejection::DpopWrongTokenHash
                | Rejection::DpopWrongKey
                | Rejection::DpopReplayUnavailable
        )
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::error::Error for Rejection {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case() {
        let codes: HashSet<&str> = Rejection::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), Rejection::ALL.len());
        assert!(
            codes
                .iter()
                .all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        );
    }
}
