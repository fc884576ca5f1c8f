//! Our defaults for librdkafka clients, which the user's own properties
//! override: one place for the settings every reading client shares.

/// Consumer settings of ours the user may override: fetch promptly, and do
/// not idle a second between fetches once behind (librdkafka 2.x waits
/// `fetch.queue.backoff.ms`, default 1000 ms, when its queue is full).
pub const CONSUMER_DEFAULTS: [(&str, &str); 2] = [
    ("fetch.wait.max.ms", "100"),
    ("fetch.queue.backoff.ms", "50"),
];
