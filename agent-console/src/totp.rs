//! The TOTP second factor (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps, one step of
//! clock skew either way), enrolment QR codes, and single use of each step.

use chrono::{DateTime, Utc};
use qrcode::QrCode;
use qrcode::render::svg;
use totp_rs::{Builder, Secret, Totp};

use crate::Error;

/// The issuer shown in authenticator apps.
const ISSUER: &str = "videoreg";

/// A fresh 160-bit secret, base32-encoded for storage and manual entry.
pub fn new_secret() -> Result<String, Error> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| Error::Totp(e.to_string()))?;
    Ok(Secret::new_stack(bytes).to_base32())
}

fn totp(secret_b32: &str, account: &str) -> Result<Totp, Error> {
    let secret = Secret::try_from_base32(secret_b32).map_err(|e| Error::Totp(format!("{e:?}")))?;
    Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| Error::Totp(format!("{e:?}")))
}

/// The time step a code is valid for, if `code` is right for `secret` at `now` (allowing one
/// step of skew). The caller must accept each step only once.
pub fn check(secret_b32: &str, code: &str, now: DateTime<Utc>) -> Result<Option<i64>, Error> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let t = totp(secret_b32, "check")?;
    let Ok(secs) = u64::try_from(now.timestamp()) else {
        return Ok(None);
    };
    Ok(t.check(&code, secs)
        .and_then(|step| i64::try_from(step).ok()))
}

/// The code for `secret` at `now` (used by tests and by the demo's instructions).
pub fn code_at(secret_b32: &str, now: DateTime<Utc>) -> Result<String, Error> {
    let secs =
        u64::try_from(now.timestamp()).map_err(|_| Error::Totp("time before 1970".into()))?;
    Ok(totp(secret_b32, "code")?.generate(secs).to_string())
}

/// The `otpauth://` URL an authenticator app reads from the QR code.
pub fn otpauth_url(secret_b32: &str, account: &str) -> Result<String, Error> {
    totp(secret_b32, account)?
        .to_url()
        .map_err(|e| Error::Totp(format!("{e:?}")))
}

/// The enrolment QR code as an SVG image.
pub fn qr_svg(url: &str) -> Result<String, Error> {
    let code = QrCode::new(url.as_bytes()).map_err(|e| Error::Totp(e.to_string()))?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn rfc_6238_sha1_vector_is_reproduced() {
        // RFC 6238 appendix B, SHA1 key "12345678901234567890", T = 59 s: 94287082 (8 digits);
        // its last 6 digits are the 6-digit code.
        let secret = Secret::new(b"12345678901234567890".to_vec().into_boxed_slice()).to_base32();
        assert_eq!(
            code_at(&secret, at("1970-01-01T00:00:59Z")).unwrap(),
            "287082"
        );
        assert_eq!(
            code_at(&secret, at("2009-02-13T23:31:30Z")).unwrap(),
            "005924"
        );
    }

    #[test]
    fn a_code_is_good_for_its_step_and_one_either_side() {
        let secret = new_secret().unwrap();
        let now = at("2026-11-26T09:00:10Z");
        let code = code_at(&secret, now).unwrap();
        let step = check(&secret, &code, now).unwrap().expect("right now");
        assert_eq!(step, now.timestamp() / 30);
        assert!(
            check(&secret, &code, now + chrono::TimeDelta::seconds(30))
                .unwrap()
                .is_some(),
            "skew"
        );
        assert!(
            check(&secret, &code, now + chrono::TimeDelta::seconds(90))
                .unwrap()
                .is_none(),
            "too late"
        );
        assert!(check(&secret, "12345", now).unwrap().is_none());
        assert!(check(&secret, "abcdef", now).unwrap().is_none());
    }

    #[test]
    fn enrolment_produces_a_url_and_a_qr_image() {
        let secret = new_secret().unwrap();
        let url = otpauth_url(&secret, "marta").unwrap();
        assert!(url.starts_with("otpauth://totp/videoreg:marta?"), "{url}");
        assert!(url.contains(&format!("secret={secret}")));
        let svg = qr_svg(&url).unwrap();
        assert!(svg.contains("<svg"));
    }
}
