//! rdkafka glue: client construction (with OAUTHBEARER tokens from AWS MSK
//! IAM or a command), the consumer protocol's embedded
//! structures, and safe message access.

pub mod ca;
pub mod client;
pub mod consumer_protocol;
pub mod defaults;
pub mod message;
pub mod oauth;
