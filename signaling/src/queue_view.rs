//! The queue as citizens are told it: positions and expected waits, computed in one place
//! from the stored tickets, the working agents and recent handle times.

use chrono::{DateTime, Utc};
use scheduler::{QueueFacts, estimate_wait, mean_handle_time};
use store::Ticket;

use crate::{Error, SignalingState};

/// A snapshot of the queue.
#[derive(Debug, Clone)]
pub struct QueueView {
    /// Waiting tickets in service order.
    pub waiting: Vec<Ticket>,
    /// Agents working.
    pub agents: u32,
    /// Mean handle time used for estimates.
    pub mean_handle_time: chrono::TimeDelta,
}

impl QueueView {
    /// Reads the queue now.
    pub async fn load(state: &SignalingState) -> Result<Self, Error> {
        let waiting = state.store.waiting_queue().await?;
        let agents = state.store.working_agents().await?;
        let sample = u32::try_from(state.queue.handle_time_sample).unwrap_or(u32::MAX);
        let recent = state.store.recent_handle_times(sample).await?;
        Ok(Self {
            waiting,
            agents,
            mean_handle_time: mean_handle_time(&state.queue, &recent),
        })
    }

    /// The expected wait, in seconds, of someone with `ahead` people before them.
    pub fn estimate_secs(&self, ahead: usize) -> Option<i64> {
        estimate_wait(QueueFacts {
            ahead: u32::try_from(ahead).unwrap_or(u32::MAX),
            agents: self.agents,
            mean_handle_time: self.mean_handle_time,
        })
        .map(|d| d.num_seconds())
    }

    /// A ticket's 1-based position and estimate, if it is waiting.
    pub fn position_of(&self, ticket: &str) -> Option<(u32, Option<i64>)> {
        let i = self.waiting.iter().position(|t| t.id == ticket)?;
        Some((
            u32::try_from(i + 1).unwrap_or(u32::MAX),
            self.estimate_secs(i),
        ))
    }

    /// The longest current wait, in seconds.
    pub fn longest_wait_secs(&self, now: DateTime<Utc>) -> i64 {
        self.waiting
            .iter()
            .map(|t| (now - t.joined_at).num_seconds())
            .max()
            .unwrap_or(0)
            .max(0)
    }
}
