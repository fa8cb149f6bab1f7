//! The appointments day: the burst day's service with half of its citizens coming by
//! appointment. Slots of 10 minutes from 09:00 to 13:50 take at most half of what the
//! agents expected in them can serve (`--booking-share` 50 %); each booked citizen comes in
//! during the 10 minutes before their slot, one in ten comes late (up to 15 minutes after
//! it: past the 10-minute grace they join as walk-ins) and one in twenty does not come.

use rand::Rng;
use rand::rngs::SmallRng;

const MINUTE: f64 = 60.0;
/// A slot's length.
pub const SLOT: f64 = 10.0 * MINUTE;
/// How late a citizen may come and keep the appointment.
pub const GRACE: f64 = 10.0 * MINUTE;

/// One booked citizen: the slot, and when (if ever) they come in.
#[derive(Debug, Clone, Copy)]
pub struct Booked {
    /// The slot's start, seconds from opening.
    pub slot: f64,
    /// When they come in (`None`: a no-show).
    pub comes: Option<f64>,
}

/// The day's bookings: `n` citizens spread over the slots from opening to `close`, at most
/// `per_slot` each, in slot order.
pub fn plan(n: usize, per_slot: usize, close: f64, rng: &mut SmallRng) -> Vec<Booked> {
    let slots = (close / SLOT).floor() as usize;
    let mut taken = vec![0usize; slots];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        // A free slot, uniformly among those not full (none left: the day is fully booked).
        let free: Vec<usize> = (0..slots).filter(|&s| taken[s] < per_slot).collect();
        if free.is_empty() {
            break;
        }
        let s = free[rng.random_range(0..free.len())];
        taken[s] += 1;
        let slot = s as f64 * SLOT;
        let u: f64 = rng.random();
        let comes = if u < 0.05 {
            None
        } else if u < 0.15 {
            Some(slot + rng.random_range(0.0..15.0 * MINUTE))
        } else {
            Some((slot - rng.random_range(0.0..10.0 * MINUTE)).max(0.0))
        };
        out.push(Booked { slot, comes });
    }
    out.sort_by(|a, b| a.slot.total_cmp(&b.slot));
    out
}
