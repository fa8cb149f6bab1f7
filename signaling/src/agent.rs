//! The agent's side of the protocol: states, taking the next citizen, accepting, requeueing
//! and hanging up. The staff crate authenticates the connection and hands it here.

use axum::extract::ws::WebSocket;
use scheduler::REQUEUE_PRIORITY;
use store::{AgentStatus, Ticket, TicketStatus};
use tokio::sync::mpsc;

use crate::media::Side;
use crate::protocol::{AgentMessage, AgentSettableState, ToAgent, ToCitizen};
use crate::queue_view::QueueView;
use crate::socket::{self, Flow, Session};
use crate::{Error, SignalingState};
use crate::{agent_state, calls, deliver};

/// Who is on the other end, as the staff crate established.
#[derive(Debug, Clone)]
pub struct AgentIdentity {
    /// Staff user id.
    pub user_id: String,
    /// Whether the connection may only watch (supervisors).
    pub read_only: bool,
}

/// Serves an authenticated agent (or watching supervisor) connection until it closes.
pub async fn serve(socket: WebSocket, state: SignalingState, who: AgentIdentity) {
    let (tx, rx) = mpsc::channel(64);
    let id = state.hub.connection_id();
    state.hub.add_agent(&who.user_id, id, tx.clone());
    let limits = (*state.limits).clone();
    let mut session = AgentSession {
        state,
        id,
        who,
        tx: tx.clone(),
    };
    if let Err(e) = session.greet().await {
        tracing::error!(error = %e, "agent socket greeting");
    }
    let telemetry = session.state.telemetry.clone();
    socket::run(socket, limits, telemetry, session, tx, rx).await;
}

struct AgentSession {
    state: SignalingState,
    id: u64,
    who: AgentIdentity,
    tx: mpsc::Sender<ToAgent>,
}

fn error(code: &str, message: &str) -> ToAgent {
    ToAgent::Error {
        code: code.to_owned(),
        message: message.to_owned(),
    }
}

impl AgentSession {
    async fn send(&self, m: ToAgent) {
        let _ = self.tx.send(m).await;
    }

    async fn current_status(&self) -> Result<(AgentStatus, Option<String>), Error> {
        Ok(self
            .state
            .store
            .agent_state(&self.who.user_id)
            .await?
            .map(|s| (s.status, s.reason))
            .unwrap_or((AgentStatus::Offline, None)))
    }

    async fn send_state(&self) -> Result<(), Error> {
        let (status, reason) = self.current_status().await?;
        self.send(ToAgent::State {
            state: status.as_str().to_owned(),
            reason,
            read_only: self.who.read_only,
        })
        .await;
        Ok(())
    }

    async fn greet(&mut self) -> Result<(), Error> {
        self.send_state().await?;
        let view = QueueView::load(&self.state).await?;
        let waiting = u32::try_from(view.waiting.len()).unwrap_or(u32::MAX);
        self.send(ToAgent::Queue {
            waiting,
            longest_wait_secs: view.longest_wait_secs(self.state.clock.now()),
        })
        .await;
        Ok(())
    }

    async fn set_status(&self, status: AgentStatus, reason: Option<&str>) -> Result<(), Error> {
        let me = &self.who.user_id;
        agent_state::set(&self.state, me, status, reason, me).await
    }

    /// The ticket this agent holds (offered or in a call), from the database: a decision
    /// made over HTTP, a lapsed offer or another node may have changed it.
    async fn held(&self) -> Result<Option<Ticket>, Error> {
        Ok(self
            .state
            .store
            .current_ticket_for_agent(&self.who.user_id)
            .await?)
    }

    async fn audit(&self, action: &str, ticket: &str) -> Result<(), Error> {
        let now = self.state.clock.now();
        let detail = serde_json::json!({});
        agent_state::audit(&self.state, &self.who.user_id, action, ticket, detail, now).await
    }

    async fn handle(&mut self, message: AgentMessage) -> Result<(), Error> {
        if self.who.read_only {
            self.send(error(
                "read_only",
                "Esta conexión solo puede observar. / This connection may only watch.",
            ))
            .await;
            return Ok(());
        }
        let needs_citizen = matches!(
            message,
            AgentMessage::Accept
                | AgentMessage::Requeue
                | AgentMessage::HangUp
                | AgentMessage::Offer { .. }
                | AgentMessage::Ice { .. }
        );
        let held = self.held().await?;
        if needs_citizen && held.is_none() {
            self.send(error(
                "no_citizen",
                "No tiene ningún ciudadano. / You have no citizen.",
            ))
            .await;
            return Ok(());
        }
        let now = self.state.clock.now();
        match message {
            AgentMessage::SetState { state, reason } => {
                if held.is_some() {
                    self.send(error(
                        "busy",
                        "Termine la llamada primero. / Finish the call first.",
                    ))
                    .await;
                    return Ok(());
                }
                let reason = reason.map(|r| r.chars().take(100).collect::<String>());
                let status = match state {
                    AgentSettableState::Available => AgentStatus::Available,
                    AgentSettableState::Break => AgentStatus::Break,
                    AgentSettableState::Offline => AgentStatus::Offline,
                };
                self.set_status(
                    status,
                    reason.as_deref().filter(|_| status == AgentStatus::Break),
                )
                .await?;
            }
            AgentMessage::TakeNext => {
                if held.is_some() {
                    self.send(error(
                        "busy",
                        "Ya tiene un ciudadano. / You already have a citizen.",
                    ))
                    .await;
                    return Ok(());
                }
                match self.state.store.claim_next(&self.who.user_id, now).await? {
                    None => self.send(ToAgent::QueueEmpty).await,
                    Some(t) => {
                        self.audit("ticket.offered", &t.id).await?;
                        self.set_status(AgentStatus::InCall, None).await?;
                        agent_state::wake_after(&self.state, self.state.agent_policy.offer_timeout);
                        let masked = format!(
                            "*****{}",
                            t.id_number
                                .get(t.id_number.len().saturating_sub(4)..)
                                .unwrap_or("")
                        );
                        self.send(ToAgent::Offered {
                            ticket: t.id.clone(),
                            id_number: masked,
                            waited_secs: (now - t.joined_at).num_seconds(),
                        })
                        .await;
                        deliver::to_citizen(&self.state, &t.id, &ToCitizen::AgentFound).await?;
                    }
                }
            }
            AgentMessage::Accept => {
                let Some(offered) = held else {
                    return Ok(());
                };
                let ticket = offered.id;
                if self.state.store.answer_ticket(&ticket, now).await? {
                    self.state.telemetry.answered(
                        offered.joined_at,
                        offered.told_estimate_secs,
                        now,
                    );
                    self.audit("ticket.answered", &ticket).await?;
                    calls::start(&self.state, &ticket, &self.who.user_id).await?;
                    let ice_servers = self.state.media.ice_servers_for(&ticket, now);
                    self.send(ToAgent::CallStarted {
                        ice_servers: ice_servers.clone(),
                    })
                    .await;
                    deliver::to_citizen(
                        &self.state,
                        &ticket,
                        &ToCitizen::CallStarted { ice_servers },
                    )
                    .await?;
                } else {
                    self.send(error("not_offered", "La llamada ya ha empezado o terminado. / The call already started or ended.")).await;
                }
            }
            AgentMessage::Requeue => {
                let Some(ticket) = held.map(|t| t.id) else {
                    return Ok(());
                };
                self.audit("ticket.requeued", &ticket).await?;
                self.requeue(&ticket).await?;
                self.send(ToAgent::CallEnded {
                    reason: "requeued".into(),
                })
                .await;
                self.set_status(AgentStatus::Available, None).await?;
            }
            AgentMessage::Offer { description } => {
                let Some(ticket) = held.map(|t| t.id) else {
                    return Ok(());
                };
                let answer = calls::offer(&self.state, &ticket, Side::Agent, description).await?;
                self.send(ToAgent::Answer {
                    description: answer,
                })
                .await;
            }
            AgentMessage::Ice { candidate } => {
                let Some(ticket) = held.map(|t| t.id) else {
                    return Ok(());
                };
                calls::ice(&self.state, &ticket, Side::Agent, candidate).await?;
            }
            AgentMessage::HangUp => {
                let Some(held) = held else {
                    return Ok(());
                };
                let ticket = held.id;
                calls::end(&self.state, &ticket).await;
                self.audit("ticket.hung_up", &ticket).await?;
                let ended = match held.status {
                    TicketStatus::InCall => {
                        self.state.store.end_ticket(&ticket, now, "hung_up").await?
                    }
                    // Hanging up before accepting puts the citizen back rather than losing them.
                    TicketStatus::Offered => {
                        self.requeue(&ticket).await?;
                        false
                    }
                    _ => false,
                };
                if ended {
                    if let Some(answered) = held.answered_at {
                        self.state.telemetry.call_ended(answered, now);
                    }
                    let m = ToCitizen::CallEnded {
                        reason: "hang_up".into(),
                    };
                    deliver::to_citizen(&self.state, &ticket, &m).await?;
                }
                self.send(ToAgent::CallEnded {
                    reason: "hang_up".into(),
                })
                .await;
                let next = if ended {
                    AgentStatus::WrapUp
                } else {
                    AgentStatus::Available
                };
                self.set_status(next, None).await?;
            }
        }
        Ok(())
    }

    /// Puts a ticket back at the head of the queue and tells the citizen.
    async fn requeue(&self, ticket: &str) -> Result<(), Error> {
        if self
            .state
            .store
            .requeue_ticket(ticket, REQUEUE_PRIORITY)
            .await?
        {
            calls::end(&self.state, ticket).await;
            agent_state::tell_requeued(&self.state, ticket, None).await?;
        }
        Ok(())
    }
}

impl Session for AgentSession {
    const ENDPOINT: &'static str = "agent";
    type In = AgentMessage;
    type Out = ToAgent;

    async fn on_message(&mut self, message: AgentMessage) -> Flow {
        if let Err(e) = self.handle(message).await {
            match e.for_peer() {
                Some((code, message)) => {
                    let _ = self.tx.try_send(error(code, message));
                }
                None => {
                    tracing::error!(error = %e, "agent socket");
                    let _ = self.tx.try_send(error(
                        "internal",
                        "Error interno; inténtelo de nuevo. / Internal error; please try again.",
                    ));
                }
            }
        }
        Flow::Continue
    }

    fn error(code: &str, message: &str) -> ToAgent {
        error(code, message)
    }

    async fn on_close(&mut self) {
        self.state.hub.remove_agent(&self.who.user_id, self.id);
        if self.who.read_only {
            return;
        }
        let result = async {
            // The last console of this agent is gone: a citizen it held goes back to the
            // head of the queue and the agent goes offline. (Another open console of the
            // same agent keeps both.)
            if self.state.hub.has_agent(&self.who.user_id) {
                return Ok::<(), Error>(());
            }
            if let Some(t) = self.held().await? {
                self.requeue(&t.id).await?;
            }
            let me = &self.who.user_id;
            agent_state::set(&self.state, me, AgentStatus::Offline, None, "system").await
        }
        .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "closing an agent connection");
        }
    }
}
