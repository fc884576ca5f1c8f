//! Fuzz target: sanitize::escape_bytes and the other escapers: clean, consistent output.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kafkaterm_fuzz::check_escape(data);
});
