//! Fuzz target: jsonl::parse_line; accepted lines are written back clean and parse to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kafkaterm_fuzz::check_jsonl(data);
});
