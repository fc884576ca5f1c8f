//! The line format's types: a borrowed message to write, a parsed line to
//! produce.

use crate::model::{Header, Record, TimestampType};

/// A borrowed view of a message, so the consume fast path can write straight
/// from librdkafka's buffers without building a [`Record`].
pub struct RecordRef<'a, H> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: Option<i64>,
    pub timestamp_type: TimestampType,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub headers: H,
}

/// A borrowed view of an owned record.
pub fn view(r: &Record) -> RecordRef<'_, impl Iterator<Item = (&str, Option<&[u8]>)>> {
    RecordRef {
        topic: &r.topic,
        partition: r.partition,
        offset: r.offset,
        timestamp: r.timestamp,
        timestamp_type: r.timestamp_type,
        key: r.key.as_deref(),
        value: r.value.as_deref(),
        headers: r
            .headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.as_deref())),
    }
}

/// A message read back from a JSON line, for producing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineMessage {
    pub topic: Option<String>,
    pub partition: Option<i32>,
    pub timestamp: Option<i64>,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<Header>,
}
