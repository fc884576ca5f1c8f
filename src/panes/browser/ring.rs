//! The browser's buffer: a ring of records capped in messages and bytes.
//! Records are shared (`Arc`), so an export can take a snapshot of
//! thousands of them without copying their bytes on the UI thread.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::model::Record;

/// What the `Arc` around a record adds to its footprint.
const ARC_OVERHEAD: usize = 2 * std::mem::size_of::<usize>();

/// A ring buffer capped in messages and bytes. Records are numbered by an
/// absolute sequence number that survives eviction.
#[derive(Debug, Clone, Default)]
pub struct Ring {
    pub records: VecDeque<Arc<Record>>,
    /// Sequence number of `records[0]`.
    pub base: u64,
    pub bytes: usize,
    pub max_messages: usize,
    pub max_bytes: usize,
    pub evicted: u64,
}

impl Ring {
    #[must_use]
    pub fn new(max_messages: usize, max_bytes: usize) -> Self {
        Self {
            max_messages: max_messages.max(1),
            max_bytes: max_bytes.max(1),
            ..Default::default()
        }
    }

    /// Sequence number the next record will get.
    #[must_use]
    pub fn end(&self) -> u64 {
        self.base + self.records.len() as u64
    }

    #[must_use]
    pub fn get(&self, seq: u64) -> Option<&Record> {
        self.get_arc(seq).map(AsRef::as_ref)
    }

    /// The shared record, for snapshots that outlive the borrow.
    #[must_use]
    pub fn get_arc(&self, seq: u64) -> Option<&Arc<Record>> {
        seq.checked_sub(self.base)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.records.get(i))
    }

    fn cost(r: &Record) -> usize {
        r.footprint() + ARC_OVERHEAD
    }

    /// Add a record, evicting the oldest ones past the caps; returns its
    /// sequence number.
    pub fn push(&mut self, r: Record) -> u64 {
        let seq = self.end();
        self.bytes += Self::cost(&r);
        self.records.push_back(Arc::new(r));
        while self.records.len() > self.max_messages
            || (self.bytes > self.max_bytes && self.records.len() > 1)
        {
            if let Some(old) = self.records.pop_front() {
                self.bytes = self.bytes.saturating_sub(Self::cost(&old));
                self.base += 1;
                self.evicted += 1;
            }
        }
        seq
    }

    pub fn clear(&mut self) {
        self.base = self.end();
        self.records.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TimestampType;

    fn rec(p: i32, o: i64, size: usize) -> Record {
        Record {
            topic: "t".into(),
            partition: p,
            offset: o,
            timestamp: Some(0),
            timestamp_type: TimestampType::CreateTime,
            key: None,
            value: Some(vec![b'x'; size]),
            headers: vec![],
        }
    }

    #[test]
    fn ring_caps_messages_and_bytes() {
        let mut r = Ring::new(3, usize::MAX);
        for i in 0..5 {
            assert_eq!(r.push(rec(0, i, 10)), u64::try_from(i).unwrap());
        }
        assert_eq!(r.records.len(), 3);
        assert_eq!(r.base, 2);
        assert_eq!(r.get(2).unwrap().offset, 2);
        assert!(r.get(1).is_none());
        let one = Ring::cost(&rec(0, 0, 1000));
        let mut r = Ring::new(1000, one * 2 + 10);
        for i in 0..10 {
            r.push(rec(0, i, 1000));
        }
        assert_eq!(r.records.len(), 2);
        assert!(r.bytes <= one * 2 + 10);
        assert_eq!(r.evicted, 8);
        r.clear();
        assert_eq!((r.records.len(), r.bytes, r.base), (0, 0, 10));
    }
}
