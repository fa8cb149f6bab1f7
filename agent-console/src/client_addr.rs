//! The address a request comes from, for limits and the audit trail.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;

use crate::ConsoleState;

/// The client's IP address: the peer's, or the last `X-Forwarded-For` entry when the
/// configuration says a proxy sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr(pub String);

impl<S> FromRequestParts<S> for ClientAddr
where
    S: Send + Sync,
    ConsoleState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = ConsoleState::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| *a);
        Ok(Self(signaling::socket::client_ip(
            &parts.headers,
            peer,
            state.trust_forwarded_for,
        )))
    }
}
