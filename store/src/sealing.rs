//! The secrets key: TOTP secrets sealed at rest, and keyed hashes that link audit events
//! about one ID number without storing it.
//!
//! One 256-bit master key (from `--secrets-key-file`) yields two subkeys by HMAC-SHA256 over
//! fixed labels, so that neither use can stand in for the other: one seals with
//! ChaCha20-Poly1305 (random 96-bit nonce per value, the row it belongs to as associated
//! data, so a sealed value copied to another row does not open), the other keys the
//! HMAC-SHA256 of ID numbers. The key is never logged: its `Debug` prints nothing of it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Error;

/// What a sealed value starts with (the scheme's version).
pub const SEALED_PREFIX: &str = "v1:";

const NONCE_LEN: usize = 12;

/// The subkeys derived from the master secrets key.
#[derive(Clone)]
pub struct SecretsKey {
    seal: [u8; 32],
    link: [u8; 32],
}

impl std::fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretsKey(…)")
    }
}

impl SecretsKey {
    /// The subkeys of a 32-byte master key.
    pub fn from_master(master: &[u8; 32]) -> Self {
        Self {
            seal: derive(master, b"videoreg/seal/totp/v1"),
            link: derive(master, b"videoreg/link/id-number/v1"),
        }
    }

    /// A key file's text: 64 hexadecimal digits (surrounding white space ignored).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let t = text.trim();
        let bad = || Error::Key("a secrets key is 64 hexadecimal digits (32 random bytes)".into());
        if t.len() != 64 || !t.is_ascii() {
            return Err(bad());
        }
        let mut master = [0u8; 32];
        for (i, byte) in master.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&t[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Self::from_master(&master))
    }

    /// A fresh random key and the text of its key file.
    pub fn generate() -> Result<(Self, String), Error> {
        let mut master = [0u8; 32];
        getrandom::fill(&mut master).map_err(|e| Error::Random(e.to_string()))?;
        Ok((Self::from_master(&master), crate::secrets::hex(&master)))
    }

    /// The keyed hash (HMAC-SHA256, first 128 bits, hex) that links events about one ID
    /// number: equal for the same number, and useless without the key.
    pub fn link(&self, id_number: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.link).expect("HMAC takes any key");
        mac.update(id_number.as_bytes());
        crate::secrets::hex(&mac.finalize().into_bytes()[..16])
    }

    /// Seals `plain` for the row named by `context`: `v1:` and base64 of nonce + ciphertext.
    pub fn seal(&self, plain: &str, context: &str) -> Result<String, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| Error::Random(e.to_string()))?;
        let sealed = self
            .cipher()
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| Error::Key("sealing failed".into()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!("{SEALED_PREFIX}{}", STANDARD_NO_PAD.encode(bytes)))
    }

    /// Opens a value sealed for `context`; `what` names the column in the error.
    pub fn open(&self, stored: &str, context: &str, what: &'static str) -> Result<String, Error> {
        let corrupt = || Error::Corrupt {
            what,
            value: "(sealed value that does not open with this key)".into(),
        };
        let body = stored.strip_prefix(SEALED_PREFIX).ok_or_else(corrupt)?;
        let bytes = STANDARD_NO_PAD.decode(body).map_err(|_| corrupt())?;
        if bytes.len() <= NONCE_LEN {
            return Err(corrupt());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| corrupt())?;
        let plain = self
            .cipher()
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| corrupt())?;
        String::from_utf8(plain).map_err(|_| corrupt())
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(&Key::from(self.seal))
    }
}

/// Whether a stored value is sealed (not clear text).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master).expect("HMAC takes any key");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_for_its_row_and_key() {
        let (key, text) = SecretsKey::generate().unwrap();
        let sealed = key.seal("JBSWY3DPEHPK3PXP", "staff_users:u1").unwrap();
        assert!(is_sealed(&sealed) && !sealed.contains("JBSWY3DP"));
        assert_ne!(
            sealed,
            key.seal("JBSWY3DPEHPK3PXP", "staff_users:u1").unwrap()
        );
        assert_eq!(
            key.open(&sealed, "staff_users:u1", "t").unwrap(),
            "JBSWY3DPEHPK3PXP"
        );
        assert!(key.open(&sealed, "staff_users:u2", "t").is_err());
        let (other, _) = SecretsKey::generate().unwrap();
        assert!(other.open(&sealed, "staff_users:u1", "t").is_err());
        let again = SecretsKey::parse(&format!("  {text}\n")).unwrap();
        assert_eq!(
            again.open(&sealed, "staff_users:u1", "t").unwrap(),
            "JBSWY3DPEHPK3PXP"
        );
    }

    #[test]
    fn links_are_keyed_and_stable() {
        let (a, _) = SecretsKey::generate().unwrap();
        let (b, _) = SecretsKey::generate().unwrap();
        assert_eq!(a.link("12345678Z"), a.link("12345678Z"));
        assert_ne!(a.link("12345678Z"), a.link("87654321X"));
        assert_ne!(a.link("12345678Z"), b.link("12345678Z"));
        assert_eq!(a.link("12345678Z").len(), 32);
    }

    #[test]
    fn only_64_hex_digits_make_a_key() {
        assert!(SecretsKey::parse("abc").is_err());
        assert!(SecretsKey::parse(&"g".repeat(64)).is_err());
        assert!(SecretsKey::parse(&"é".repeat(32)).is_err());
        assert!(SecretsKey::parse(&"0a".repeat(32)).is_ok());
    }
}
