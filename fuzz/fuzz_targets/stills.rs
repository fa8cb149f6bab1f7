//! Any bytes as an uploaded still: decoded and re-encoded within the limits, or refused,
//! never a panic and never an allocation beyond the limits.
#![no_main]

use agent_console::stills::{StillLimits, process};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = process(data, &StillLimits::default());
});
