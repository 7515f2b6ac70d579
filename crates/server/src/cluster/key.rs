//! The cluster key: an HMAC-SHA256 tag on everything one instance hands another through Redis,
//! so that a copy or a message counts only if an instance of this deployment wrote it.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// What a tag is for. The purpose is part of the signed bytes, so a tag made for one kind of
/// message never verifies as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// An issuer's key set, shared so that N instances make one fetch.
    KeySet,
    /// A pub/sub envelope.
    Event,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::KeySet => b"portcullis/jwks/v1",
            Purpose::Event => b"portcullis/event/v1",
        }
    }
}

#[derive(Clone)]
pub struct ClusterKey(hmac::Key);

impl std::fmt::Debug for ClusterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterKey(***)")
    }
}

impl ClusterKey {
    pub fn new(secret: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// The key of `cluster_secret`, which the configuration requires whenever Redis is used.
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<Self> {
        match &config.cluster_secret {
            Some(secret) => Ok(Self::new(secret.expose())),
            None => anyhow::bail!("cluster_secret is required with redis_url"),
        }
    }

    /// The tag over `parts`, base64url. Each part is length-prefixed, so moving bytes from one
    /// part to the next changes the tag.
    pub fn sign(&self, purpose: Purpose, parts: &[&[u8]]) -> String {
        URL_SAFE_NO_PAD.encode(self.context(purpose, parts).sign().as_ref())
    }

    /// Whether `tag` is this key's tag over `parts` (compared in constant time).
    pub fn verify(&self, purpose: Purpose, parts: &[&[u8]], tag: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
            return false;
        };
        let expected = self.context(purpose, parts).sign();
        aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_ref(), &tag).is_ok()
    }

    fn context(&self, purpose: Purpose, parts: &[&[u8]]) -> hmac::Context {
        let mut ctx = hmac::Context::with_key(&self.0);
        for part in std::iter::once(purpose.label()).chain(parts.iter().copied()) {
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part);
        }
        ctx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(secret: &str) -> ClusterKey {
        ClusterKey::new(secret.as_bytes())
    }

    #[test]
    fn a_tag_verifies_only_for_its_key_purpose_and_parts() {
        let k = key("one secret that is long enough for the test");
        let tag = k.sign(Purpose::Event, &[b"ab", b"c"]);
        assert!(k.verify(Purpose::Event, &[b"ab", b"c"], &tag));
        assert!(!k.verify(Purpose::KeySet, &[b"ab", b"c"], &tag), "purpose");
        assert!(!k.verify(Purpose::Event, &[b"a", b"bc"], &tag), "framing");
        assert!(!k.verify(Purpose::Event, &[b"ab", b"d"], &tag), "content");
        let other = key("another secret that is long enough too");
        assert!(!other.verify(Purpose::Event, &[b"ab", b"c"], &tag), "key");
        assert!(!k.verify(Purpose::Event, &[b"ab", b"c"], "not base64!"));
        assert!(!k.verify(Purpose::Event, &[b"ab", b"c"], ""));
        assert_eq!(format!("{k:?}"), "ClusterKey(***)");
    }
}
