//! The address a request comes from, for limits and the audit trail: [`client_ip`] for a
//! handler that has the headers and the peer, and the [`ClientAddr`] extractor for routes.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::SignalingState;

/// The client's IP address: the peer's, or the last `X-Forwarded-For` entry when a trusted
/// proxy sets it (entries before the last are the client's own claims).
pub fn client_ip(
    headers: &HeaderMap,
    peer: Option<std::net::SocketAddr>,
    trust_forwarded_for: bool,
) -> String {
    if trust_forwarded_for {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|s| !s.is_empty() && s.len() <= 64);
        if let Some(addr) = forwarded {
            return addr.to_owned();
        }
    }
    peer.map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The client's IP address as [`client_ip`] reads it, for any route whose state yields a
/// [`SignalingState`] (which says whether to trust `X-Forwarded-For`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr(pub String);

impl<S> FromRequestParts<S> for ClientAddr
where
    S: Send + Sync,
    SignalingState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = SignalingState::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| *a);
        Ok(Self(client_ip(
            &parts.headers,
            peer,
            state.trust_forwarded_for,
        )))
    }
}
