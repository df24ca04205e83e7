//! Token secrets and the records stored for them: only a SHA-256 hash of the secret is kept.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Scope;

/// Random bytes in a secret: 192 bits, far beyond guessing, so a fast hash suffices.
const SECRET_BYTES: usize = 24;
/// Random bytes in a token id.
const ID_BYTES: usize = 6;
const HASH_PREFIX: &str = "sha256:";

/// One token as stored in `tokens.json`: never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Short public id, used to list and revoke.
    pub id: String,
    pub name: String,
    pub scope: Scope,
    /// `sha256:<hex>` of the secret.
    pub hash: String,
    /// RFC 3339, UTC.
    pub created: String,
    /// For browser tokens: the origins (`https://shop.example.com`) it may send from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<String>,
}

/// A freshly created token: the secret is shown once and never stored.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub record: TokenRecord,
    pub secret: String,
}

/// What `create` needs besides the scope.
#[derive(Debug, Clone, Default)]
pub struct TokenSpec {
    pub name: Option<String>,
    pub origins: Vec<String>,
}

impl NewToken {
    pub(crate) fn generate(scope: Scope, spec: TokenSpec) -> NewToken {
        let id = random_hex(ID_BYTES);
        let secret = format!("rs_{scope}_{}", random_hex(SECRET_BYTES));
        let record = TokenRecord {
            name: spec.name.unwrap_or_else(|| format!("{scope}-{id}")),
            id,
            scope,
            hash: hash_secret(&secret),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            origins: spec.origins,
        };
        NewToken { record, secret }
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // ThreadRng is a CSPRNG seeded from the operating system.
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// The stored form of a secret.
pub fn hash_secret(secret: &str) -> String {
    format!("{HASH_PREFIX}{}", hex::encode(digest(secret)))
}

pub(crate) fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// The digest a stored hash names, if it is well formed.
pub(crate) fn stored_digest(hash: &str) -> Option<[u8; 32]> {
    let hex_part = hash.strip_prefix(HASH_PREFIX)?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut out).ok()?;
    Some(out)
}

/// Equality whose time does not depend on where the inputs differ.
pub(crate) fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b.iter()) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secrets_are_random_prefixed_and_only_their_hash_is_kept() {
        let a = NewToken::generate(Scope::Ingest, TokenSpec::default());
        let b = NewToken::generate(Scope::Ingest, TokenSpec::default());
        assert!(a.secret.starts_with("rs_ingest_"), "{}", a.secret);
        assert_eq!(a.secret.len(), "rs_ingest_".len() + 2 * SECRET_BYTES);
        assert_ne!(a.secret, b.secret);
        assert_ne!(a.record.id, b.record.id);
        assert!(!a.record.hash.contains(&a.secret));
        let json = serde_json::to_string(&a.record).unwrap();
        assert!(!json.contains(&a.secret));
        assert_eq!(stored_digest(&a.record.hash).unwrap(), digest(&a.secret));
        assert_eq!(a.record.name, format!("ingest-{}", a.record.id));
    }

    #[test]
    fn malformed_hashes_match_nothing() {
        assert!(stored_digest("md5:abc").is_none());
        assert!(stored_digest("sha256:zz").is_none());
        assert!(stored_digest("sha256:abcd").is_none());
    }

    #[test]
    fn constant_time_eq_compares_every_byte() {
        let a = digest("x");
        let mut b = a;
        assert!(constant_time_eq(&a, &b));
        b[31] ^= 1;
        assert!(!constant_time_eq(&a, &b));
    }
}
