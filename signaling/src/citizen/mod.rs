//! `/ws/citizen`: joining, waiting, resuming and leaving, as the citizen's browser sees it,
//! one method per message. The test call is its own session type (`test_call`), and the
//! call's transitions are `calls::Lifecycle`'s.

mod joining;

use axum::Router;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use store::TicketStatus;
use tokio::sync::mpsc;

use crate::calls::Ending;
use crate::calls::media_route::{Sender, route};
use crate::deliver;
use crate::liveness;
use crate::presence::conn_id;
use crate::protocol::{CitizenMessage, ToCitizen};
use crate::protocol::{IceCandidate, SessionDescription};
use crate::socket::{self, Flow, Session, origin_allowed};
use crate::test_call::{BrowserReport, TestCall};
use crate::{Error, SignalingState};

/// How often a closed socket's bookkeeping (a citizen's or an agent's) is tried while the
/// database is out of reach, and how long apart (about a minute in all, each try waiting up
/// to the acquire timeout).
pub(crate) const CLOSE_ATTEMPTS: u32 = 30;
pub(crate) const CLOSE_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// The citizen routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    SignalingState: FromRef<S>,
{
    Router::new().route("/ws/citizen", get(upgrade))
}

async fn upgrade(
    State(state): State<SignalingState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let addr = crate::client_addr::client_ip(&headers, Some(peer), state.trust_forwarded_for);
    if !origin_allowed(&headers, &state.allowed_origins) {
        tracing::warn!(origin = ?headers.get("origin"), "citizen socket refused: foreign origin");
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    if state.hub.is_draining() {
        return socket::draining_refusal();
    }
    // Held for the connection's life: one address may keep only so many sockets open.
    let Some(slot) = state.citizen_sockets.try_take(&addr) else {
        tracing::warn!("citizen socket refused: too many open from one address");
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "10")],
            "Demasiadas conexiones desde su dirección. / Too many connections from your address.",
        )
            .into_response();
    };
    socket::configure(ws, &state.limits).on_upgrade(move |socket| async move {
        serve(socket, state, addr).await;
        drop(slot);
    })
}

async fn serve(socket: WebSocket, state: SignalingState, addr: String) {
    let (tx, rx) = mpsc::channel(64);
    let conditions = socket::Conditions::of(&state);
    let session = CitizenSession {
        id: state.hub.connection_id(),
        test_call: TestCall::new(state.clone(), tx.clone(), addr),
        state,
        tx: tx.clone(),
        ticket: None,
    };
    socket::run(socket, conditions, session, tx, rx).await;
}

struct CitizenSession {
    state: SignalingState,
    id: u64,
    tx: mpsc::Sender<ToCitizen>,
    /// The ticket this connection follows, once joined or resumed.
    ticket: Option<String>,
    /// This connection's test call.
    test_call: TestCall,
}

fn error(code: &str, message: &str) -> ToCitizen {
    ToCitizen::Error {
        code: code.to_owned(),
        message: message.to_owned(),
    }
}

impl CitizenSession {
    async fn send(&self, m: ToCitizen) {
        let _ = self.tx.send(m).await;
    }

    async fn echo_start(&mut self) -> Result<Flow, Error> {
        if self.ticket.is_some() {
            self.send(error(
                "already_joined",
                "Ya está en la cola. / You are already in the queue.",
            ))
            .await;
            return Ok(Flow::Continue);
        }
        self.test_call.start().await?;
        Ok(Flow::Continue)
    }

    async fn offer(&mut self, description: SessionDescription) -> Result<Flow, Error> {
        if self.test_call.is_running() {
            self.test_call.offer(description).await?;
            return Ok(Flow::Continue);
        }
        let ticket = self.ticket.clone().ok_or(Error::NoCall)?;
        // The call may run on another node (where the agent accepted): then the answer
        // comes back through the bus.
        let message = CitizenMessage::Offer { description };
        if let Some(description) = route(&self.state, &ticket, Sender::Citizen, message).await? {
            self.send(ToCitizen::Answer { description }).await;
        }
        Ok(Flow::Continue)
    }

    async fn ice(&mut self, candidate: IceCandidate) -> Result<Flow, Error> {
        if self.test_call.is_running() {
            self.test_call.ice(candidate).await?;
            return Ok(Flow::Continue);
        }
        let ticket = self.ticket.clone().ok_or(Error::NoCall)?;
        let message = CitizenMessage::Ice { candidate };
        route(&self.state, &ticket, Sender::Citizen, message).await?;
        Ok(Flow::Continue)
    }

    /// The citizen ends the call: the ticket ends without a decision, the agent is told and
    /// goes to wrap-up.
    async fn hang_up(&mut self) -> Result<Flow, Error> {
        let held = match &self.ticket {
            Some(t) => self.state.store.ticket(t).await?,
            None => None,
        };
        let Some(t) = held.filter(|t| t.status == TicketStatus::InCall) else {
            self.send(error(
                "no_call",
                "No hay ninguna llamada en curso. / No call is in progress.",
            ))
            .await;
            return Ok(Flow::Continue);
        };
        self.state
            .lifecycle()
            .end(&t, Ending::CitizenHungUp)
            .await?;
        Ok(Flow::Continue)
    }

    async fn challenge_shown(&mut self, challenge: &str) -> Result<Flow, Error> {
        let ticket = self.ticket.clone().ok_or(Error::NoCall)?;
        liveness::shown(&self.state, &ticket, challenge).await?;
        Ok(Flow::Continue)
    }

    async fn challenge_answer(&mut self, challenge: &str, code: &str) -> Result<Flow, Error> {
        let ticket = self.ticket.clone().ok_or(Error::NoCall)?;
        if code.chars().count() > liveness::MAX_TYPED {
            self.send(error(
                "too_long",
                "El código es demasiado largo. / The code is too long.",
            ))
            .await;
            return Ok(Flow::Continue);
        }
        liveness::typed(&self.state, &ticket, challenge, code).await?;
        Ok(Flow::Continue)
    }

    async fn leave(&mut self) -> Result<Flow, Error> {
        let Some(ticket) = self.ticket.clone() else {
            self.send(error(
                "not_joined",
                "No está en la cola. / You are not in the queue.",
            ))
            .await;
            return Ok(Flow::Continue);
        };
        let now = self.state.clock.now();
        if self.state.store.leave_ticket(&ticket, now, "left").await? {
            self.state.telemetry.abandoned("left", 1);
            self.state.hub.to_citizen(&ticket, &ToCitizen::Left);
            deliver::queue_changed(&self.state).await?;
            return Ok(Flow::Close);
        }
        self.send(error(
            "not_waiting",
            "Ya no está esperando. / You are no longer waiting.",
        ))
        .await;
        Ok(Flow::Continue)
    }
}

impl Session for CitizenSession {
    const ENDPOINT: &'static str = "citizen";
    type In = CitizenMessage;
    type Out = ToCitizen;

    async fn on_message(&mut self, message: CitizenMessage) -> Flow {
        let result = match message {
            CitizenMessage::Join {
                application,
                consent,
            } if self.ticket.is_none() => self.join(&application, consent).await,
            CitizenMessage::Resume { resume_token } if self.ticket.is_none() => {
                self.resume(&resume_token).await
            }
            CitizenMessage::Join { .. } | CitizenMessage::Resume { .. } => {
                self.send(error(
                    "already_joined",
                    "Ya está en la cola. / You are already in the queue.",
                ))
                .await;
                Ok(Flow::Continue)
            }
            CitizenMessage::Leave => self.leave().await,
            CitizenMessage::HangUp => self.hang_up().await,
            CitizenMessage::EchoStart => self.echo_start().await,
            CitizenMessage::EchoStop => self.test_call.stop().await.map(|()| Flow::Continue),
            CitizenMessage::EchoResult {
                verdict,
                rtt_ms,
                loss_pct,
                jitter_ms,
                kbps,
                path,
                connect_ms,
            } => {
                let report = BrowserReport {
                    verdict,
                    rtt_ms,
                    loss_pct,
                    jitter_ms,
                    kbps,
                    path,
                    connect_ms,
                };
                self.test_call.result(report).await.map(|()| Flow::Continue)
            }
            CitizenMessage::Offer { description } => self.offer(description).await,
            CitizenMessage::Ice { candidate } => self.ice(candidate).await,
            CitizenMessage::ChallengeShown { challenge } => self.challenge_shown(&challenge).await,
            CitizenMessage::ChallengeAnswer { challenge, code } => {
                self.challenge_answer(&challenge, &code).await
            }
        };
        result.unwrap_or_else(|e| {
            socket::report::<Self>(&self.tx, &e);
            Flow::Continue
        })
    }

    fn error(code: &str, message: &str) -> ToCitizen {
        error(code, message)
    }

    fn reconnect(retry_after_ms: u64) -> ToCitizen {
        ToCitizen::Reconnect { retry_after_ms }
    }

    async fn on_close(&mut self) {
        self.test_call.close().await;
        let Some(ticket) = self.ticket.take() else {
            return;
        };
        self.state.hub.remove_citizen(&ticket, self.id);
        // Keep the place for the grace period (unless the citizen is connected elsewhere);
        // the publisher lets it go afterwards. The step is idempotent: while the database is
        // out of reach it is asked again, or the connection's row would outlive the socket and
        // the place would be held for nobody (the soak test found it, the pool exhausted).
        let now = self.state.clock.now();
        let node = &self.state.node_id;
        for attempt in 1.. {
            let Err(e) = self
                .state
                .store
                .close_citizen_connection(node, conn_id(self.id), now)
                .await
            else {
                return;
            };
            if !e.is_unavailable() || attempt == CLOSE_ATTEMPTS {
                tracing::error!(error = %e, attempt, "marking a ticket disconnected");
                return;
            }
            tracing::warn!(error = %e, attempt, "marking a ticket disconnected: database unavailable; retrying");
            tokio::time::sleep(CLOSE_RETRY_AFTER).await;
        }
    }
}
