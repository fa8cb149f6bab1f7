//! `/ws/citizen`: joining, waiting, resuming and leaving, as the citizen's browser sees it,
//! one method per message. The test call is its own session type (`test_call`), and the
//! call's transitions are `calls::Lifecycle`'s.

use axum::Router;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::SecondsFormat;
use scheduler::{NORMAL_PRIORITY, Refusal, admit};
use store::{NewTicket, Ticket, TicketStatus, secrets};
use tokio::sync::mpsc;

use crate::calls::Ending;
use crate::protocol::{CitizenMessage, RefusalReason, ToCitizen};
use crate::protocol::{IceCandidate, SessionDescription};
use crate::queue_view::{QueueView, Told};
use crate::socket::{self, Flow, Session, origin_allowed};
use crate::test_call::{BrowserReport, TestCall};
use crate::{Error, SignalingState};
use crate::{calls, deliver};

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
    socket::configure(ws, &state.limits).on_upgrade(move |socket| serve(socket, state, addr))
}

async fn serve(socket: WebSocket, state: SignalingState, addr: String) {
    let (tx, rx) = mpsc::channel(64);
    let limits = (*state.limits).clone();
    let telemetry = state.telemetry.clone();
    let session = CitizenSession {
        id: state.hub.connection_id(),
        test_call: TestCall::new(state.clone(), tx.clone(), addr),
        state,
        tx: tx.clone(),
        ticket: None,
    };
    socket::run(socket, limits, telemetry, session, tx, rx).await;
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

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl CitizenSession {
    async fn send(&self, m: ToCitizen) {
        let _ = self.tx.send(m).await;
    }

    async fn join(&mut self, application: &str, consent: bool) -> Result<Flow, Error> {
        if !consent {
            self.send(error(
                "consent_required",
                "Para entrar en la cola debe aceptar la videollamada y su grabación. / To join the queue you must accept the video call and its recording.",
            ))
            .await;
            return Ok(Flow::Continue);
        }
        let s = &self.state;
        let now = s.clock.now();
        let Some(app) = s
            .store
            .find_application_by_token(&secrets::hash_token(application), now)
            .await?
        else {
            self.send(error(
                "not_verified",
                "Solicitud no válida o caducada. / Application not valid or expired.",
            ))
            .await;
            return Ok(Flow::Continue);
        };
        // Read once: the live ticket and, for a newcomer, the queue (admission, the wait
        // told, and the position).
        let already = s.store.live_ticket_for(&app.id_number).await?;
        let view = match already {
            Some(_) => None,
            None => {
                let view = QueueView::load(s).await?;
                let expected = view.newcomer().map(|e| e.point);
                if let Err(refusal) = admit(&s.calendar, now, expected) {
                    self.send(refused(refusal)).await;
                    return Ok(Flow::Close);
                }
                Some(view)
            }
        };
        let (resume_token, resume_hash) = secrets::new_token()?;
        let ticket_id = secrets::new_id()?;
        let told = view.as_ref().and_then(QueueView::newcomer);
        let new_ticket = NewTicket {
            id: &ticket_id,
            application_id: &app.id,
            id_number: &app.id_number,
            priority: NORMAL_PRIORITY,
            joined_at: now,
            told_estimate_secs: told.map(|e| e.point.num_seconds()),
            resume_token_hash: &resume_hash,
            consent_at: now,
        };
        let (ticket, new) = s.store.join_queue(&new_ticket, already).await?;
        let place = match (new, view) {
            // Last in the queue as it was read, told the newcomer's estimate.
            (true, Some(view)) => Some((
                u32::try_from(view.waiting.len() + 1).unwrap_or(u32::MAX),
                told,
            )),
            _ => None,
        };
        if new {
            s.telemetry.joined();
        }
        self.follow(ticket, resume_token, place).await?;
        Ok(Flow::Continue)
    }

    async fn resume(&mut self, resume_token: &str) -> Result<Flow, Error> {
        let s = &self.state;
        let hash = secrets::hash_token(resume_token);
        let Some(ticket) = s.store.ticket_by_resume_token(&hash).await? else {
            // Gone from the queue: perhaps decided while this citizen was away.
            if let Some(ended) = s.store.ended_ticket_by_resume_token(&hash).await?
                && let Some(outcome) = crate::outcome::told_again(s, &ended, s.clock.now()).await?
            {
                self.send(outcome).await;
                return Ok(Flow::Continue);
            }
            self.send(error(
                "resume_expired",
                "Su turno ya no está reservado; vuelva a entrar en la cola. / Your place is no longer held; join the queue again.",
            ))
            .await;
            return Ok(Flow::Continue);
        };
        s.store.set_ticket_disconnected(&ticket.id, None).await?;
        self.follow(ticket, resume_token.to_owned(), None).await?;
        Ok(Flow::Continue)
    }

    /// Attaches this connection to a ticket and tells the citizen where they stand: at
    /// `place` (position and estimate) when the caller already knows it, otherwise as the
    /// queue is read now.
    async fn follow(
        &mut self,
        ticket: Ticket,
        resume_token: String,
        place: Option<(u32, Option<scheduler::Estimate>)>,
    ) -> Result<(), Error> {
        if let Some(old) = self.ticket.take() {
            self.state.hub.remove_citizen(&old, self.id);
        }
        self.state
            .hub
            .add_citizen(&ticket.id, self.id, self.tx.clone());
        self.ticket = Some(ticket.id.clone());
        match ticket.status {
            TicketStatus::Offered => self.send(ToCitizen::AgentFound).await,
            TicketStatus::InCall => {
                let ice_servers = self
                    .state
                    .media
                    .ice_servers_for(&ticket.id, self.state.clock.now());
                self.send(ToCitizen::CallStarted { ice_servers }).await;
            }
            _ => {
                let (position, estimate) = match place {
                    Some(place) => place,
                    None => QueueView::load(&self.state)
                        .await?
                        .position_of(&ticket.id)
                        .unwrap_or((1, None)),
                };
                let told = Told::from(estimate);
                self.send(ToCitizen::Queued {
                    ticket: ticket.id.clone(),
                    resume_token,
                    position,
                    estimate_secs: told.estimate_secs,
                    estimate_low_secs: told.low_secs,
                    estimate_high_secs: told.high_secs,
                    grace_secs: self.state.grace.num_seconds(),
                })
                .await;
            }
        }
        deliver::queue_changed(&self.state).await?;
        Ok(())
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
        if let Some(answer) =
            calls::citizen_media(&self.state, &ticket, CitizenMessage::Offer { description })
                .await?
        {
            self.send(answer).await;
        }
        Ok(Flow::Continue)
    }

    async fn ice(&mut self, candidate: IceCandidate) -> Result<Flow, Error> {
        if self.test_call.is_running() {
            self.test_call.ice(candidate).await?;
            return Ok(Flow::Continue);
        }
        let ticket = self.ticket.clone().ok_or(Error::NoCall)?;
        calls::citizen_media(&self.state, &ticket, CitizenMessage::Ice { candidate }).await?;
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

fn refused(r: Refusal) -> ToCitizen {
    match r {
        Refusal::Closed { next_opening } => ToCitizen::Refused {
            reason: RefusalReason::Closed,
            closes: None,
            next_opening: next_opening.map(rfc3339),
        },
        Refusal::TooLateToday {
            closes,
            next_opening,
        } => ToCitizen::Refused {
            reason: RefusalReason::TooLateToday,
            closes: Some(rfc3339(closes)),
            next_opening: next_opening.map(rfc3339),
        },
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
            } => {
                let report = BrowserReport {
                    verdict,
                    rtt_ms,
                    loss_pct,
                    jitter_ms,
                    kbps,
                };
                self.test_call.result(report).await.map(|()| Flow::Continue)
            }
            CitizenMessage::Offer { description } => self.offer(description).await,
            CitizenMessage::Ice { candidate } => self.ice(candidate).await,
        };
        result.unwrap_or_else(|e| {
            match e.for_peer() {
                Some((code, message)) => {
                    let _ = self.tx.try_send(error(code, message));
                }
                None => {
                    tracing::error!(error = %e, "citizen socket");
                    let _ = self.tx.try_send(error(
                        "internal",
                        "Error interno; inténtelo de nuevo. / Internal error; please try again.",
                    ));
                }
            }
            Flow::Continue
        })
    }

    fn error(code: &str, message: &str) -> ToCitizen {
        error(code, message)
    }

    async fn on_close(&mut self) {
        self.test_call.close().await;
        let Some(ticket) = self.ticket.take() else {
            return;
        };
        self.state.hub.remove_citizen(&ticket, self.id);
        let now = self.state.clock.now();
        // Keep the place for the grace period; the publisher lets it go afterwards.
        let still_connected = self.state.hub.has_citizen(&ticket);
        if !still_connected
            && let Err(e) = self
                .state
                .store
                .set_ticket_disconnected(&ticket, Some(now))
                .await
        {
            tracing::error!(error = %e, "marking a ticket disconnected");
        }
    }
}
