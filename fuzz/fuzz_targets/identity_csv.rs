//! Any bytes as an identity registry file (`videoreg identities import`): parsed into records
//! or refused line by line, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = web::import::parse_csv(data);
});
