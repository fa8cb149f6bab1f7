//! Any text as the configuration file (`--config FILE`): settings, or a configuration error
//! with its reason, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = web::config::Settings::from_file_text(text);
});
