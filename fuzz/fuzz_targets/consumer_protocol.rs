//! Fuzz target: consumer_protocol::decode_assignment and decode_subscription; accepted input re-encodes to the same structure.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kafkaterm_fuzz::check_consumer_protocol(data);
});
