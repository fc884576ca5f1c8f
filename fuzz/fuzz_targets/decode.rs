//! Fuzz target: decode::decode in every DecodeMode (with and without schemas), the shown content, preview, and the detail view.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kafkaterm_fuzz::check_decode(data);
});
