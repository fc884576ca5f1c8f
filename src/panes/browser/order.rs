//! The order the list shows records in: by timestamp, then partition, then
//! offset, then arrival. "Newest first" therefore means newest by time, also
//! after opening at "last 100 per partition", where the partitions'
//! records arrive one partition after another.
//!
//! A record without a timestamp (the pre-0.10 message format) sorts as
//! Kafka reports it, with timestamp −1: the oldest.
//!
//! The order is kept incrementally: a batch is sorted on its own and merged
//! into the tail it overlaps (records mostly arrive in time order, so that
//! tail is short), and eviction drops the evicted sequence numbers in one
//! pass. Nothing is re-sorted per frame or per key.

use crate::model::Record;

/// Where a record sorts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct OrderKey {
    pub ts: i64,
    pub partition: i32,
    pub offset: i64,
    pub seq: u64,
}

impl OrderKey {
    #[must_use]
    pub fn of(r: &Record, seq: u64) -> Self {
        Self {
            ts: r.timestamp.unwrap_or(-1),
            partition: r.partition,
            offset: r.offset,
            seq,
        }
    }
}

/// Sequence numbers in time order, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeOrder {
    keys: Vec<OrderKey>,
}

impl TimeOrder {
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn clear(&mut self) {
        self.keys.clear();
    }

    /// The sequence number at `idx` (0 = oldest).
    #[must_use]
    pub fn get(&self, idx: usize) -> Option<u64> {
        self.keys.get(idx).map(|k| k.seq)
    }

    /// Sequence numbers, oldest first.
    pub fn seqs(&self) -> impl DoubleEndedIterator<Item = u64> + ExactSizeIterator + '_ {
        self.keys.iter().map(|k| k.seq)
    }

    /// Where `key` is (`Ok`) or would be (`Err`).
    pub fn index_of(&self, key: &OrderKey) -> Result<usize, usize> {
        self.keys.binary_search(key)
    }

    /// Build from unsorted keys.
    #[must_use]
    pub fn from_keys(mut keys: Vec<OrderKey>) -> Self {
        keys.sort_unstable();
        Self { keys }
    }

    /// Add a batch: sorted on its own, then merged with the part of the
    /// order it overlaps.
    pub fn insert(&mut self, mut batch: Vec<OrderKey>) {
        let Some(first) = batch.iter().min().copied() else {
            return;
        };
        let split = self.keys.partition_point(|k| *k < first);
        batch.sort_unstable();
        if split == self.keys.len() {
            self.keys.extend(batch);
            return;
        }
        let tail = self.keys.split_off(split);
        self.keys.reserve(tail.len() + batch.len());
        let (mut a, mut b) = (tail.into_iter().peekable(), batch.into_iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x <= y => a.next(),
                (Some(_), Some(_)) | (None, Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, None) => break,
            };
            self.keys.extend(next);
        }
    }

    /// Forget the records evicted from the ring (sequence numbers < `base`).
    pub fn evict_before(&mut self, base: u64) {
        self.keys.retain(|k| k.seq >= base);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(ts: i64, partition: i32, offset: i64, seq: u64) -> OrderKey {
        OrderKey {
            ts,
            partition,
            offset,
            seq,
        }
    }

    #[test]
    fn batches_merge_into_time_order() {
        let mut o = TimeOrder::default();
        // "Last 100 per partition": partition 0's records arrive, then 1's,
        // whose times interleave with them.
        o.insert(vec![k(10, 0, 1, 0), k(30, 0, 2, 1), k(50, 0, 3, 2)]);
        o.insert(vec![k(20, 1, 1, 3), k(40, 1, 2, 4), k(60, 1, 3, 5)]);
        assert_eq!(o.seqs().collect::<Vec<_>>(), vec![0, 3, 1, 4, 2, 5]);
        // Appending newer records keeps the order; equal times go by
        // partition, then offset.
        o.insert(vec![k(60, 0, 4, 6), k(70, 2, 0, 7)]);
        assert_eq!(o.seqs().collect::<Vec<_>>(), vec![0, 3, 1, 4, 2, 6, 5, 7]);
        assert_eq!(o.index_of(&k(40, 1, 2, 4)), Ok(3));
        // Eviction drops by arrival, wherever the records sort.
        o.evict_before(4);
        assert_eq!(o.seqs().collect::<Vec<_>>(), vec![4, 6, 5, 7]);
        assert_eq!(o.get(0), Some(4));
        assert_eq!(o.len(), 4);
    }

    #[test]
    fn a_record_without_a_timestamp_is_the_oldest() {
        let r = |ts: Option<i64>| Record {
            topic: "t".into(),
            partition: 0,
            offset: 0,
            timestamp: ts,
            timestamp_type: crate::model::TimestampType::NotAvailable,
            key: None,
            value: None,
            headers: vec![],
        };
        assert!(OrderKey::of(&r(None), 1) < OrderKey::of(&r(Some(0)), 0));
    }

    #[test]
    fn merging_matches_sorting() {
        // A pseudo-random sequence of batches: the incremental order equals
        // a full sort of everything inserted.
        let mut o = TimeOrder::default();
        let mut all = Vec::new();
        let mut x: u64 = 12345;
        let mut seq = 0;
        for _ in 0..50 {
            let mut batch = Vec::new();
            for _ in 0..(x % 17) {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let ts = i64::try_from(x >> 54).unwrap();
                batch.push(k(ts, i32::try_from(x % 3).unwrap(), 0, seq));
                seq += 1;
            }
            all.extend(batch.iter().copied());
            o.insert(batch);
        }
        all.sort_unstable();
        assert_eq!(o, TimeOrder::from_keys(all));
    }
}
