//! `/ws/citizen`: joining, waiting, resuming and leaving, as the citizen's browser sees it.

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

use crate::echo::{self, Busy, RunningEcho};
use crate::media::Side;
use crate::protocol::{CitizenMessage, RefusalReason, ToCitizen};
use crate::protocol::{IceCandidate, SessionDescription};
use crate::queue_view::{QueueView, Told};
use crate::socket::{self, Flow, Session, origin_allowed};
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
    let addr = socket::client_ip(&headers, Some(peer), state.trust_forwarded_for);
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
        state,
        tx: tx.clone(),
        ticket: None,
        addr,
        echo: None,
    };
    socket::run(socket, limits, telemetry, session, tx, rx).await;
}

/// How long a passed test call may be presented with an application.
const TEST_CALL_VALID: chrono::TimeDelta = chrono::TimeDelta::minutes(30);

struct CitizenSession {
    state: SignalingState,
    id: u64,
    tx: mpsc::Sender<ToCitizen>,
    /// The ticket this connection follows, once joined or resumed.
    ticket: Option<String>,
    /// The client's address, for the test-call limit.
    addr: String,
    /// The test call running on this connection, if any.
    echo: Option<RunningEcho>,
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
        let view = QueueView::load(s).await?;
        let already = s.store.live_ticket_for(&app.id_number).await?;
        if already.is_none() {
            let expected = view.newcomer().map(|e| e.point);
            if let Err(refusal) = admit(&s.calendar, now, expected) {
                self.send(refused(refusal)).await;
                return Ok(Flow::Close);
            }
        }
        let (resume_token, resume_hash) = secrets::new_token()?;
        let ticket_id = secrets::new_id()?;
        let told = view.newcomer().map(|e| e.point.num_seconds());
        let (ticket, new) = s
            .store
            .join_queue(&NewTicket {
                id: &ticket_id,
                application_id: &app.id,
                id_number: &app.id_number,
                priority: NORMAL_PRIORITY,
                joined_at: now,
                told_estimate_secs: told,
                resume_token_hash: &resume_hash,
                consent_at: now,
            })
            .await?;
        if new {
            s.telemetry.joined();
        }
        self.follow(ticket, resume_token).await?;
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
        self.follow(ticket, resume_token.to_owned()).await?;
        Ok(Flow::Continue)
    }

    /// Attaches this connection to a ticket and tells the citizen where they stand.
    async fn follow(&mut self, ticket: Ticket, resume_token: String) -> Result<(), Error> {
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
                let view = QueueView::load(&self.state).await?;
                let (position, estimate) = view.position_of(&ticket.id).unwrap_or((1, None));
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
        if let Some(old) = self.echo.take() {
            old.stop().await;
        }
        let limits = self.state.echo_limits.clone();
        let permit = match self.state.echoes.try_start(&self.addr, &limits) {
            Ok(p) => p,
            Err(busy) => {
                let retry_after_secs = match busy {
                    Busy::Full => 5,
                    Busy::TooMany(wait) => wait.as_secs().max(1),
                };
                self.send(ToCitizen::EchoBusy { retry_after_secs }).await;
                return Ok(Flow::Continue);
            }
        };
        let running = echo::start(
            &self.state.media,
            &self.state.media_threads,
            &limits,
            permit,
            self.tx.clone(),
        )
        .await?;
        self.echo = Some(running);
        let ice_servers = self
            .state
            .media
            .ice_servers_for("test-call", self.state.clock.now());
        self.send(ToCitizen::EchoReady {
            ice_servers,
            max_secs: limits.max_duration.as_secs(),
        })
        .await;
        Ok(Flow::Continue)
    }

    /// Keeps a passed test call under a token: the browser's verdict and numbers and what the
    /// server measured. Passed means media reached videoreg and came back.
    async fn echo_result(
        &mut self,
        verdict: &str,
        rtt_ms: Option<f64>,
        loss_pct: f64,
        jitter_ms: f64,
        kbps: f64,
    ) -> Result<Flow, Error> {
        let Some(echo) = &self.echo else {
            return Err(Error::NoCall);
        };
        let numbers_ok = [rtt_ms.unwrap_or(0.0), loss_pct, jitter_ms, kbps]
            .iter()
            .all(|n| n.is_finite() && (0.0..1e7).contains(n));
        if !matches!(verdict, "good" | "fair" | "poor") || !numbers_ok {
            return Err(Error::BadMedia(
                "echo_result: verdict good|fair|poor and non-negative numbers".into(),
            ));
        }
        let server = echo::report(&echo.call).await;
        if server.packets == 0 {
            self.send(error(
                "no_media",
                "Aún no nos llega su imagen. / Your media has not reached us yet.",
            ))
            .await;
            return Ok(Flow::Continue);
        }
        let result = serde_json::json!({
            "verdict": verdict,
            "browser": { "rtt_ms": rtt_ms, "loss_pct": loss_pct, "jitter_ms": jitter_ms, "kbps": kbps },
            "server": server,
        })
        .to_string();
        let (token, hash) = store::secrets::new_token()?;
        let now = self.state.clock.now();
        self.state
            .store
            .insert_test_call(&hash, &result, now, now + TEST_CALL_VALID)
            .await?;
        self.send(ToCitizen::TestPassed {
            test_token: token,
            expires_secs: TEST_CALL_VALID.num_seconds(),
        })
        .await;
        Ok(Flow::Continue)
    }

    async fn echo_stop(&mut self) -> Result<Flow, Error> {
        let running = self.echo.take().ok_or(Error::NoCall)?;
        let report = running.stop().await;
        self.send(ToCitizen::EchoEnded {
            reason: "stopped".into(),
            report,
        })
        .await;
        Ok(Flow::Continue)
    }

    async fn offer(&mut self, description: SessionDescription) -> Result<Flow, Error> {
        if let Some(echo) = &self.echo {
            let answer = calls::answer(&echo.call, Side::Citizen, description).await?;
            self.send(ToCitizen::Answer {
                description: answer,
            })
            .await;
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
        if let Some(echo) = &self.echo {
            calls::add_ice(&echo.call, Side::Citizen, candidate).await?;
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
        let now = self.state.clock.now();
        if self
            .state
            .store
            .end_ticket(&t.id, now, "citizen_hung_up")
            .await?
        {
            crate::calls::end(&self.state, &t.id).await;
            if let Some(answered) = t.answered_at {
                self.state.telemetry.call_ended(answered, now);
            }
            let detail = serde_json::json!({});
            crate::agent_state::audit(
                &self.state,
                "citizen",
                "ticket.citizen_hung_up",
                &t.id,
                detail,
                now,
            )
            .await?;
            self.send(ToCitizen::CallEnded {
                reason: "citizen_hung_up".into(),
            })
            .await;
            if let Some(agent) = t.agent_id {
                let ended = crate::protocol::ToAgent::CallEnded {
                    reason: "citizen_left".into(),
                };
                deliver::to_agent(&self.state, &agent, &ended).await?;
                crate::agent_state::set(
                    &self.state,
                    &agent,
                    store::AgentStatus::WrapUp,
                    None,
                    "system",
                )
                .await?;
            }
        }
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
            CitizenMessage::EchoStop => self.echo_stop().await,
            CitizenMessage::EchoResult {
                verdict,
                rtt_ms,
                loss_pct,
                jitter_ms,
                kbps,
            } => {
                self.echo_result(&verdict, rtt_ms, loss_pct, jitter_ms, kbps)
                    .await
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
        if let Some(echo) = self.echo.take() {
            echo.stop().await;
        }
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
