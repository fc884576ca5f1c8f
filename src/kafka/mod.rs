//! rdkafka glue: client construction, the consumer protocol's embedded
//! structures, and safe message access.

pub mod client;
pub mod consumer_protocol;
pub mod message;
