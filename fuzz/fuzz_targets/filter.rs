//! Fuzz target: filter::Filter::parse, then matches_record on a record made of the rest of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kafkaterm_fuzz::check_filter(data);
});
