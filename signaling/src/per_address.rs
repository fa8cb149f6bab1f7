//! How many of something one client address holds at once: anonymous sockets, password
//! checks. A [`PerAddress`] hands out at most its limit of [`AddressSlot`]s per address; a
//! slot is given back when dropped. Counting happens under a short lock and never waits, so
//! a request over the limit is refused at once, before it costs anything.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Slots held per client address, at most `limit` each. Cheap to clone; clones share counts.
#[derive(Debug, Clone)]
pub struct PerAddress {
    limit: usize,
    held: Arc<Mutex<HashMap<String, usize>>>,
}

/// One slot of an address, given back when dropped.
#[derive(Debug)]
pub struct AddressSlot {
    owner: PerAddress,
    addr: String,
}

impl PerAddress {
    /// At most `limit` slots per address (a limit of 0 refuses every request).
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            held: Arc::default(),
        }
    }

    /// The most slots one address may hold.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Takes a slot for `addr`, or `None` when it already holds the limit.
    pub fn try_take(&self, addr: &str) -> Option<AddressSlot> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let count = held.entry(addr.to_owned()).or_default();
        if *count >= self.limit {
            if *count == 0 {
                held.remove(addr);
            }
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            owner: self.clone(),
            addr: addr.to_owned(),
        })
    }

    /// How many slots `addr` holds now.
    pub fn held(&self, addr: &str) -> usize {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.get(addr).copied().unwrap_or(0)
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut held = self
            .owner
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.addr) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                // Only addresses holding something stay in the map.
                held.remove(&self.addr);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_the_limit_and_others_are_unaffected() {
        let slots = PerAddress::new(2);
        let a1 = slots.try_take("10.0.0.1").expect("first");
        let _a2 = slots.try_take("10.0.0.1").expect("second");
        assert!(slots.try_take("10.0.0.1").is_none(), "third refused");
        assert!(slots.try_take("10.0.0.2").is_some(), "another address");
        drop(a1);
        assert_eq!(slots.held("10.0.0.1"), 1);
        assert!(
            slots.try_take("10.0.0.1").is_some(),
            "a dropped slot is free"
        );
    }

    #[test]
    fn the_map_keeps_only_addresses_holding_slots() {
        let slots = PerAddress::new(1);
        drop(slots.try_take("10.0.0.1"));
        assert!(slots.try_take("10.0.0.2").is_some());
        assert_eq!(slots.held.lock().map(|m| m.len()).unwrap_or(9), 0);
        assert!(PerAddress::new(0).try_take("10.0.0.1").is_none());
    }
}
