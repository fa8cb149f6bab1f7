//! Joining the queue, resuming a place, and being told where one stands.

use chrono::SecondsFormat;
use scheduler::booking::{Arrival, arrival};
use scheduler::{NORMAL_PRIORITY, Refusal, admit};
use store::{ConnectionKind, NewAuditEvent, NewTicket, Ticket, TicketStatus, secrets};

use super::{CitizenSession, error};
use crate::Error;
use crate::deliver;
use crate::protocol::{RefusalReason, ToCitizen};
use crate::queue_view::{QueueView, Told};
use crate::socket::Flow;

impl CitizenSession {
    pub(super) async fn join(&mut self, application: &str, consent: bool) -> Result<Flow, Error> {
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
        // Read once: the live ticket and, for a newcomer, their live booking and the queue
        // (admission, the wait told, and the position).
        let already = s.store.live_ticket_for(&app.id_number).await?;
        let booking = match already {
            Some(_) => None,
            None => s.store.live_booking_for(&app.id_number).await?,
        };
        let appointment = booking.as_ref().and_then(|b| {
            let rules = &s.booking.rules;
            match arrival(rules, b.slot_at, now) {
                // An appointment keeps its place only while the calendar still opens at
                // its time (a closed date added after booking makes it a walk-in).
                Arrival::InTime => Some((b, s.calendar.current_window(b.slot_at).is_some())),
                Arrival::Late => Some((b, false)),
                // Before the check-in time the booking stays for its day; this is a walk-in.
                Arrival::TooEarly { .. } => None,
            }
        });
        let appointment_at = appointment.and_then(|(b, kept)| kept.then_some(b.slot_at));
        let view = match already {
            Some(_) => None,
            None => {
                let view = QueueView::load(s).await?;
                let expected = view.newcomer().map(|e| e.point);
                // An appointment was booked against the slot's capacity: no admission.
                if appointment_at.is_none()
                    && let Err(refusal) = admit(&s.calendar, now, expected)
                {
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
            appointment_at,
            told_range_secs: view
                .as_ref()
                .and_then(|v| v.raw_newcomer)
                .map(|e| (e.low.num_seconds(), e.high.num_seconds())),
        };
        let (ticket, new) = s.store.join_queue(&new_ticket, already).await?;
        if new && let Some((b, kept)) = appointment {
            let status = if kept { "kept" } else { "late" };
            let detail = serde_json::json!({ "ticket": ticket.id, "slot_at": rfc3339(b.slot_at) })
                .to_string();
            let event = NewAuditEvent {
                at: now,
                actor: "citizen",
                action: if kept { "booking.kept" } else { "booking.late" },
                subject: &b.id,
                detail: &detail,
            };
            s.store
                .settle_booking(&b.id, status, &ticket.id, now, &event)
                .await?;
            self.send(ToCitizen::Appointment {
                slot: rfc3339(b.slot_at),
                kept,
            })
            .await;
        }
        // An appointment is served at its time, not at the end of the queue as read: its
        // place is read again below.
        let place = match (new, view, appointment_at) {
            // Last in the queue as it was read, told the newcomer's estimate.
            (true, Some(view), None) => Some((
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

    pub(super) async fn resume(&mut self, resume_token: &str) -> Result<Flow, Error> {
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
    pub(super) async fn follow(
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
        crate::presence::opened(&self.state, self.id, ConnectionKind::Citizen, &ticket.id).await?;
        match ticket.status {
            TicketStatus::Offered => self.send(ToCitizen::AgentFound).await,
            TicketStatus::InCall => {
                let ice_servers = self
                    .state
                    .media
                    .ice_servers_for(&ticket.id, self.state.clock.now());
                self.send(ToCitizen::CallStarted { ice_servers }).await;
                if crate::calls::recording_on(&self.state, &ticket.id) {
                    self.send(ToCitizen::Recording {
                        state: crate::protocol::RecordingState::On,
                    })
                    .await;
                }
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
                let offer_booking = ticket.appointment_at.is_none()
                    && estimate.is_some_and(|e| e.point > self.state.booking.offer_above);
                self.send(ToCitizen::Queued {
                    ticket: ticket.id.clone(),
                    resume_token,
                    position,
                    estimate_secs: told.estimate_secs,
                    estimate_low_secs: told.low_secs,
                    estimate_high_secs: told.high_secs,
                    grace_secs: self.state.grace.num_seconds(),
                    offer_booking,
                })
                .await;
            }
        }
        deliver::queue_changed(&self.state).await?;
        Ok(())
    }
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
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
