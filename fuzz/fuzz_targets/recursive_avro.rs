//! Fuzz target: registry-framed Avro for a recursive schema (decode, preview, detail view).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kafkaterm_fuzz::check_recursive_avro(data);
});
