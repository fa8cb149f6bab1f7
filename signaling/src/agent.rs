//! The agent's side of the protocol: one method per message (states, taking the next
//! citizen, accepting, requeueing, media, hanging up). The call's transitions themselves are
//! `calls::Lifecycle`'s. The staff crate authenticates the connection and hands it here.

use axum::extract::ws::WebSocket;
use store::{AgentStatus, ConnectionKind, Ticket, TicketStatus};
use tokio::sync::mpsc;

use crate::calls::media_route::{Sender, route};
use crate::calls::{Ending, Requeue, Taken};
use crate::protocol::{
    AgentMessage, AgentSettableState, CitizenMessage, IceCandidate, SessionDescription, ToAgent,
};
use crate::queue_view::QueueView;
use crate::socket::{self, Flow, Session};
use crate::{Error, SignalingState};
use crate::{agent_state, presence};

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
    let conditions = socket::Conditions::of(&state);
    let mut session = AgentSession {
        state,
        id,
        who,
        tx: tx.clone(),
    };
    if let Err(e) = session.greet().await {
        tracing::error!(error = %e, "agent socket greeting");
    }
    socket::run(socket, conditions, session, tx, rx).await;
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

    /// Records the connection (an agent's, not a watching supervisor's), tells the agent its
    /// state, the citizen it holds (a console that reconnected, after a deploy say, finds
    /// its offer or call again) and the queue.
    async fn greet(&mut self) -> Result<(), Error> {
        if !self.who.read_only {
            let me = &self.who.user_id;
            presence::opened(&self.state, self.id, ConnectionKind::Agent, me).await?;
        }
        self.send_state().await?;
        self.tell_held().await?;
        let view = QueueView::load(&self.state).await?;
        let waiting = u32::try_from(view.waiting.len()).unwrap_or(u32::MAX);
        self.send(ToAgent::Queue {
            waiting,
            longest_wait_secs: view.longest_wait_secs(self.state.clock.now()),
        })
        .await;
        Ok(())
    }

    /// Tells a console that connects while its agent holds a citizen: the offer again (with
    /// the time waited), or that the call goes on.
    async fn tell_held(&self) -> Result<(), Error> {
        if self.who.read_only {
            return Ok(());
        }
        let Some(held) = self.held().await? else {
            return Ok(());
        };
        let now = self.state.clock.now();
        let m = match held.status {
            TicketStatus::Offered => self.state.lifecycle().offered(&held),
            _ => ToAgent::CallStarted {
                ice_servers: self.state.media.ice_servers_for(&held.id, now),
            },
        };
        self.send(m).await;
        if held.status == TicketStatus::InCall && crate::calls::recording_on(&self.state, &held.id)
        {
            self.send(ToAgent::Recording {
                state: crate::protocol::RecordingState::On,
                message: None,
            })
            .await;
        }
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

    /// The ticket this agent holds, or `None` after telling the agent it holds none.
    async fn held_or_tell(&self) -> Result<Option<Ticket>, Error> {
        let held = self.held().await?;
        if held.is_none() {
            self.send(error(
                "no_citizen",
                "No tiene ningún ciudadano. / You have no citizen.",
            ))
            .await;
        }
        Ok(held)
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
        match message {
            AgentMessage::SetState { state, reason } => self.set_state(state, reason).await,
            AgentMessage::TakeNext => self.take_next().await,
            AgentMessage::Accept => self.accept().await,
            AgentMessage::Requeue => self.requeue().await,
            AgentMessage::Offer { description } => self.offer(description).await,
            AgentMessage::Ice { candidate } => self.ice(candidate).await,
            AgentMessage::HangUp => self.hang_up().await,
        }
    }

    async fn set_state(
        &mut self,
        state: AgentSettableState,
        reason: Option<String>,
    ) -> Result<(), Error> {
        if self.held().await?.is_some() {
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
        .await
    }

    /// Offers the head of the queue. An agent that asks while holding an offer it has not
    /// accepted never saw that offer (its answer was lost, or its console reloaded): it is
    /// told it again.
    async fn take_next(&mut self) -> Result<(), Error> {
        let life = self.state.lifecycle();
        let me = &self.who.user_id;
        if let Some(held) = self.held().await? {
            if held.status == TicketStatus::Offered {
                life.tell_offer(me, &held);
            } else {
                self.send(error(
                    "busy",
                    "Ya tiene un ciudadano. / You already have a citizen.",
                ))
                .await;
            }
            return Ok(());
        }
        if life.take(me).await? == Taken::Empty {
            self.send(ToAgent::QueueEmpty).await;
        }
        Ok(())
    }

    async fn accept(&mut self) -> Result<(), Error> {
        let Some(offered) = self.held_or_tell().await? else {
            return Ok(());
        };
        let me = &self.who.user_id;
        if !self.state.lifecycle().accept(me, &offered).await? {
            self.send(error(
                "not_offered",
                "La llamada ya ha empezado o terminado. / The call already started or ended.",
            ))
            .await;
        }
        Ok(())
    }

    async fn requeue(&mut self) -> Result<(), Error> {
        let Some(held) = self.held_or_tell().await? else {
            return Ok(());
        };
        let me = &self.who.user_id;
        self.state
            .lifecycle()
            .requeue(me, &held, Requeue::ByAgent)
            .await
    }

    /// The agent's media for the call it holds, wherever the call runs: a console that
    /// reconnected to another node during a call (a deploy) negotiates with the call's node
    /// through the bus.
    async fn offer(&mut self, description: SessionDescription) -> Result<(), Error> {
        let Some(held) = self.held_or_tell().await? else {
            return Ok(());
        };
        let message = CitizenMessage::Offer { description };
        if let Some(description) = route(&self.state, &held.id, self.from(), message).await? {
            self.send(ToAgent::Answer { description }).await;
        }
        Ok(())
    }

    async fn ice(&mut self, candidate: IceCandidate) -> Result<(), Error> {
        let Some(held) = self.held_or_tell().await? else {
            return Ok(());
        };
        let message = CitizenMessage::Ice { candidate };
        route(&self.state, &held.id, self.from(), message).await?;
        Ok(())
    }

    /// This agent, as the sender of media messages.
    fn from(&self) -> Sender {
        Sender::Agent {
            agent: self.who.user_id.clone(),
        }
    }

    /// Hanging up ends a call in progress; before accepting, it puts the citizen back rather
    /// than losing them.
    async fn hang_up(&mut self) -> Result<(), Error> {
        let Some(held) = self.held_or_tell().await? else {
            return Ok(());
        };
        let life = self.state.lifecycle();
        let me = &self.who.user_id;
        match held.status {
            TicketStatus::InCall => {
                if !life.end(&held, Ending::AgentHungUp).await? {
                    self.send(error(
                        "no_call",
                        "No hay ninguna llamada en curso. / No call is in progress.",
                    ))
                    .await;
                }
                Ok(())
            }
            _ => {
                life.requeue(me, &held, Requeue::HungUpBeforeAccepting)
                    .await
            }
        }
    }
}

impl Session for AgentSession {
    const ENDPOINT: &'static str = "agent";
    type In = AgentMessage;
    type Out = ToAgent;

    async fn on_message(&mut self, message: AgentMessage) -> Flow {
        if let Err(e) = self.handle(message).await {
            socket::report::<Self>(&self.tx, &e);
        }
        Flow::Continue
    }

    fn error(code: &str, message: &str) -> ToAgent {
        error(code, message)
    }

    fn reconnect(retry_after_ms: u64) -> ToAgent {
        ToAgent::Reconnect { retry_after_ms }
    }

    async fn on_close(&mut self) {
        self.state.hub.remove_agent(&self.who.user_id, self.id);
        if self.who.read_only {
            return;
        }
        if self.state.hub.is_draining() {
            // The console reconnects to another node and keeps the agent's state there; the
            // drain's last step looks at this connection's row as presence looks at a lost
            // node's (`drain`).
            return;
        }
        // While the database is out of reach the steps are asked again: each is read back
        // first (the row gone, the citizen no longer held), so a step that was written before
        // its answer was lost is not done twice, and the agent is never left in a call or
        // available with no console (the soak test found it, the pool exhausted).
        for attempt in 1..=crate::citizen::CLOSE_ATTEMPTS {
            let result = async {
                // The last console of this agent is gone: a citizen it held goes back to the
                // head of the queue and the agent goes offline. (Another open console of the
                // same agent, on any node, keeps both.)
                let node = &self.state.node_id;
                let store = &self.state.store;
                if store
                    .close_connection(node, presence::conn_id(self.id))
                    .await?
                {
                    return Ok::<(), Error>(());
                }
                let me = &self.who.user_id;
                match self.held().await? {
                    Some(t) => {
                        let life = self.state.lifecycle();
                        life.requeue(me, &t, Requeue::AgentLeft).await
                    }
                    None => {
                        agent_state::set(&self.state, me, AgentStatus::Offline, None, "system")
                            .await
                    }
                }
            }
            .await;
            let Err(e) = result else { return };
            if !e.is_unavailable() || attempt == crate::citizen::CLOSE_ATTEMPTS {
                tracing::error!(error = %e, attempt, "closing an agent connection");
                return;
            }
            tracing::warn!(error = %e, attempt, "closing an agent connection: database unavailable; retrying");
            tokio::time::sleep(crate::citizen::CLOSE_RETRY_AFTER).await;
        }
    }
}
