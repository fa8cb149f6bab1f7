//! TURN credentials as coturn's `use-auth-secret` (the "TURN REST API") expects: user name
//! `expiry:tag`, password base64(HMAC-SHA1(shared secret, user name)).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::IceServer;

/// The shared secret and how long handed-out credentials last.
#[derive(Clone)]
pub struct TurnSecret {
    secret: String,
    /// Lifetime of a credential.
    pub ttl: TimeDelta,
}

impl std::fmt::Debug for TurnSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnSecret")
            .field("secret", &"…")
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl TurnSecret {
    /// A secret shared with the TURN server.
    pub fn new(secret: impl Into<String>, ttl: TimeDelta) -> Self {
        Self {
            secret: secret.into(),
            ttl,
        }
    }

    /// The user name and password for `tag`, valid until `now + ttl`.
    pub fn credentials(&self, tag: &str, now: DateTime<Utc>) -> (String, String) {
        let expiry = (now + self.ttl).timestamp();
        let username = format!("{expiry}:{tag}");
        (username.clone(), password(&self.secret, &username))
    }
}

/// base64(HMAC-SHA1(secret, username)).
pub fn password(secret: &str, username: &str) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(username.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The ICE servers to hand a browser: `turn:` URLs get fresh credentials when a secret is
/// configured; `stun:` URLs go as they are.
pub fn for_browser(
    servers: &[IceServer],
    secret: Option<&TurnSecret>,
    tag: &str,
    now: DateTime<Utc>,
) -> Vec<IceServer> {
    servers
        .iter()
        .map(|s| {
            let is_turn = s
                .urls
                .iter()
                .any(|u| u.starts_with("turn:") || u.starts_with("turns:"));
            match (is_turn, secret) {
                (true, Some(secret)) => {
                    let (username, credential) = secret.credentials(tag, now);
                    IceServer {
                        urls: s.urls.clone(),
                        username: Some(username),
                        credential: Some(credential),
                    }
                }
                _ => s.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_match_coturns_rest_scheme() {
        // Reference computed independently: printf '%s' '1700000000:videoreg' |
        //   openssl dgst -sha1 -hmac 'north' -binary | base64
        assert_eq!(
            password("north", "1700000000:videoreg"),
            "52z7TNC5jn3nk4O4BMaO8x9EAcc="
        );
    }

    #[test]
    fn credentials_expire_after_the_ttl_and_only_turn_urls_get_them() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .unwrap()
            .to_utc();
        let secret = TurnSecret::new("north", TimeDelta::minutes(10));
        let (user, pass) = secret.credentials("t1", now);
        assert_eq!(user, format!("{}:t1", now.timestamp() + 600));
        assert_eq!(pass, password("north", &user));
        let servers = vec![
            IceServer {
                urls: vec!["stun:stun.example:3478".into()],
                username: None,
                credential: None,
            },
            IceServer {
                urls: vec!["turn:turn.example:3478".into()],
                username: None,
                credential: None,
            },
        ];
        let handed = for_browser(&servers, Some(&secret), "t1", now);
        assert_eq!(handed[0], servers[0]);
        assert_eq!(handed[1].username.as_deref(), Some(user.as_str()));
        assert_eq!(
            for_browser(&servers, None, "t1", now),
            servers,
            "no secret: as configured"
        );
    }
}
