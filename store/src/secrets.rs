//! Random tokens and identifiers, and the hashes under which tokens are stored.
//!
//! Tokens carry 256 random bits, so a fast hash (SHA-256) is the right way to store them:
//! password hashing (argon2) exists to slow down guessing of low-entropy secrets, which
//! these are not.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::Error;

/// A fresh token and the hex SHA-256 hash to store for it.
pub fn new_token() -> Result<(String, String), Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Random(e.to_string()))?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    Ok((token, hash))
}

/// A fresh random identifier (128 bits, hex).
pub fn new_id() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| Error::Random(e.to_string()))?;
    Ok(hex(&bytes))
}

/// A uniformly random number below `n` (`n` > 0; 0 for `n` = 0), from the operating system:
/// draws above the largest multiple of `n` are thrown away, so no value is likelier.
pub fn random_below(n: u32) -> Result<u32, Error> {
    if n == 0 {
        return Ok(0);
    }
    let zone = u32::MAX - u32::MAX % n;
    loop {
        let mut b = [0u8; 4];
        getrandom::fill(&mut b).map_err(|e| Error::Random(e.to_string()))?;
        let v = u32::from_le_bytes(b);
        if v < zone {
            return Ok(v % n);
        }
    }
}

/// The hash under which a token is stored and looked up.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The hex SHA-256 of some bytes (stills are named by it in the audit trail).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hash_deterministically() {
        let (a, ha) = new_token().unwrap();
        let (b, _) = new_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(ha, hash_token(&a));
        assert_eq!(ha.len(), 64);
        assert_ne!(ha, a);
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"2031-02-03", b"2031-02-03"));
        assert!(!constant_time_eq(b"2031-02-03", b"2031-02-04"));
        assert!(!constant_time_eq(b"2031", b"2031-02-03"));
    }
}
