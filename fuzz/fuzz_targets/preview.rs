//! Fuzz target: decode::preview at several widths, every mode.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kafkaterm_fuzz::check_preview(data);
});
