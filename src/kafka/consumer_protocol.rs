//! The consumer protocol's embedded structures, as a group member's
//! DescribeGroups entry carries them:
//!
//! * `ConsumerProtocolAssignment` (member assignment, versions 0–3):
//!   `version: int16, assigned_partitions: [topic: string, partitions: [int32]],
//!   user_data: nullable bytes`. All versions share this layout.
//! * `ConsumerProtocolSubscription` (member metadata, versions 0–3):
//!   `version: int16, topics: [string], user_data: nullable bytes`,
//!   v1+ `owned_partitions: [topic, [int32]]`, v2+ `generation_id: int32`,
//!   v3+ `rack_id: nullable string`.
//!
//! Encoding is the classic (non-flexible) one: big-endian integers, int16
//! length strings, int32 length arrays and bytes, −1 for null.

use crate::model::TopicPartition;

/// Why an embedded consumer-protocol structure could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("truncated at byte {at} reading {what} ({needed} bytes needed, {left} left)")]
    Truncated {
        at: usize,
        what: &'static str,
        needed: usize,
        left: usize,
    },
    #[error("negative length for {0}")]
    NegativeLength(&'static str),
    #[error("bad length for {0}")]
    BadLength(&'static str),
    #[error("bad count for {0}")]
    BadCount(&'static str),
    #[error("{what} claims {count} entries, more than the {left} bytes left")]
    TooManyEntries {
        what: &'static str,
        count: usize,
        left: usize,
    },
    #[error("{0} is not UTF-8")]
    NotUtf8(&'static str),
    #[error("invalid {what} version {version}")]
    Version { what: &'static str, version: i16 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub version: i16,
    pub partitions: Vec<TopicPartition>,
    pub user_data: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub version: i16,
    pub topics: Vec<String>,
    pub user_data: Option<Vec<u8>>,
    pub owned_partitions: Vec<TopicPartition>,
    pub generation_id: Option<i32>,
    pub rack_id: Option<String>,
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ProtocolError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or(ProtocolError::Truncated {
                at: self.pos,
                what,
                needed: n,
                left: self.b.len() - self.pos,
            })?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn i16(&mut self, what: &'static str) -> Result<i16, ProtocolError> {
        let s = self.take(2, what)?;
        Ok(i16::from_be_bytes([s[0], s[1]]))
    }
    fn i32(&mut self, what: &'static str) -> Result<i32, ProtocolError> {
        let s = self.take(4, what)?;
        Ok(i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn string(&mut self, what: &'static str) -> Result<String, ProtocolError> {
        let n = self.i16(what)?;
        let n = usize::try_from(n).map_err(|_| ProtocolError::NegativeLength(what))?;
        let s = self.take(n, what)?;
        String::from_utf8(s.to_vec()).map_err(|_| ProtocolError::NotUtf8(what))
    }
    fn nullable_string(&mut self, what: &'static str) -> Result<Option<String>, ProtocolError> {
        let n = self.i16(what)?;
        if n < 0 {
            return Ok(None);
        }
        self.pos -= 2;
        self.string(what).map(Some)
    }
    fn nullable_bytes(&mut self, what: &'static str) -> Result<Option<Vec<u8>>, ProtocolError> {
        let n = self.i32(what)?;
        if n < 0 {
            return Ok(None);
        }
        let n = usize::try_from(n).map_err(|_| ProtocolError::BadLength(what))?;
        Ok(Some(self.take(n, what)?.to_vec()))
    }
    fn count(&mut self, what: &'static str, min_item: usize) -> Result<usize, ProtocolError> {
        let n = self.i32(what)?;
        if n < 0 {
            return Ok(0);
        }
        let n = usize::try_from(n).map_err(|_| ProtocolError::BadCount(what))?;
        // Each item takes at least `min_item` bytes: refuse absurd counts early.
        if n.saturating_mul(min_item) > self.b.len() - self.pos {
            return Err(ProtocolError::TooManyEntries {
                what,
                count: n,
                left: self.b.len() - self.pos,
            });
        }
        Ok(n)
    }
    fn topic_partitions(
        &mut self,
        what: &'static str,
    ) -> Result<Vec<TopicPartition>, ProtocolError> {
        let mut out = Vec::new();
        for _ in 0..self.count(what, 6)? {
            let topic = self.string("topic name")?;
            for _ in 0..self.count("partitions", 4)? {
                out.push(TopicPartition {
                    topic: topic.clone(),
                    partition: self.i32("partition")?,
                });
            }
        }
        Ok(out)
    }
    fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }
}

/// Decode a member assignment (any version).
pub fn decode_assignment(b: &[u8]) -> Result<Assignment, ProtocolError> {
    let mut r = Reader { b, pos: 0 };
    let version = r.i16("version")?;
    if version < 0 {
        return Err(ProtocolError::Version {
            what: "assignment",
            version,
        });
    }
    let partitions = r.topic_partitions("assigned partitions")?;
    // Assignments from very old clients may end before user data.
    let user_data = if r.at_end() {
        None
    } else {
        r.nullable_bytes("user data")?
    };
    Ok(Assignment {
        version,
        partitions,
        user_data,
    })
}

/// Decode a member's subscription metadata (any version).
pub fn decode_subscription(b: &[u8]) -> Result<Subscription, ProtocolError> {
    let mut r = Reader { b, pos: 0 };
    let version = r.i16("version")?;
    if version < 0 {
        return Err(ProtocolError::Version {
            what: "subscription",
            version,
        });
    }
    let mut topics = Vec::new();
    for _ in 0..r.count("topics", 2)? {
        topics.push(r.string("topic")?);
    }
    let user_data = if r.at_end() {
        None
    } else {
        r.nullable_bytes("user data")?
    };
    let mut s = Subscription {
        version,
        topics,
        user_data,
        owned_partitions: Vec::new(),
        generation_id: None,
        rack_id: None,
    };
    if version >= 1 && !r.at_end() {
        s.owned_partitions = r.topic_partitions("owned partitions")?;
    }
    if version >= 2 && !r.at_end() {
        s.generation_id = Some(r.i32("generation id")?);
    }
    if version >= 3 && !r.at_end() {
        s.rack_id = r.nullable_string("rack id")?;
    }
    Ok(s)
}

/// Encoders, used by tests and fixtures to build bytes exactly as the
/// protocol specification lays them out.
pub mod encode {
    use crate::model::TopicPartition;

    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&i16::try_from(s.len()).unwrap_or(i16::MAX).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    fn bytes(out: &mut Vec<u8>, b: Option<&[u8]>) {
        match b {
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(b) => {
                out.extend_from_slice(&i32::try_from(b.len()).unwrap_or(i32::MAX).to_be_bytes());
                out.extend_from_slice(b);
            }
        }
    }
    fn topic_partitions(out: &mut Vec<u8>, tps: &[TopicPartition]) {
        let mut topics: Vec<(&str, Vec<i32>)> = Vec::new();
        for tp in tps {
            match topics.iter_mut().find(|(t, _)| *t == tp.topic) {
                Some((_, ps)) => ps.push(tp.partition),
                None => topics.push((&tp.topic, vec![tp.partition])),
            }
        }
        out.extend_from_slice(&i32::try_from(topics.len()).unwrap_or(0).to_be_bytes());
        for (t, ps) in topics {
            string(out, t);
            out.extend_from_slice(&i32::try_from(ps.len()).unwrap_or(0).to_be_bytes());
            for p in ps {
                out.extend_from_slice(&p.to_be_bytes());
            }
        }
    }

    #[must_use]
    pub fn assignment(version: i16, tps: &[TopicPartition], user_data: Option<&[u8]>) -> Vec<u8> {
        let mut out = version.to_be_bytes().to_vec();
        topic_partitions(&mut out, tps);
        bytes(&mut out, user_data);
        out
    }

    #[must_use]
    pub fn subscription(
        version: i16,
        topics: &[&str],
        user_data: Option<&[u8]>,
        owned: &[TopicPartition],
        generation: i32,
        rack: Option<&str>,
    ) -> Vec<u8> {
        let mut out = version.to_be_bytes().to_vec();
        out.extend_from_slice(&i32::try_from(topics.len()).unwrap_or(0).to_be_bytes());
        for t in topics {
            string(&mut out, t);
        }
        bytes(&mut out, user_data);
        if version >= 1 {
            topic_partitions(&mut out, owned);
        }
        if version >= 2 {
            out.extend_from_slice(&generation.to_be_bytes());
        }
        if version >= 3 {
            match rack {
                None => out.extend_from_slice(&(-1i16).to_be_bytes()),
                Some(r) => string(&mut out, r),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tps() -> Vec<TopicPartition> {
        vec![
            TopicPartition::new("orders", 0),
            TopicPartition::new("orders", 2),
            TopicPartition::new("payments", 1),
        ]
    }

    #[test]
    fn assignment_all_versions_with_and_without_user_data() {
        for v in 0..=3 {
            for ud in [None, Some(&b"\x00\x01sticky"[..]), Some(&b""[..])] {
                let bytes = encode::assignment(v, &tps(), ud);
                let a = decode_assignment(&bytes).unwrap();
                assert_eq!(a.version, v);
                assert_eq!(a.partitions, tps());
                assert_eq!(a.user_data.as_deref(), ud);
            }
        }
    }

    #[test]
    fn assignment_hand_built_bytes() {
        // version 1, one topic "t" with partitions [0, 5], null user data.
        let b = [
            0, 1, 0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 5, 0xff, 0xff, 0xff,
            0xff,
        ];
        let a = decode_assignment(&b).unwrap();
        assert_eq!(
            a.partitions,
            vec![TopicPartition::new("t", 0), TopicPartition::new("t", 5)]
        );
        assert_eq!(a.user_data, None);
    }

    #[test]
    fn subscription_all_versions() {
        for v in 0..=3 {
            let b = encode::subscription(
                v,
                &["orders", "payments"],
                Some(b"ud"),
                &tps(),
                7,
                Some("rack-a"),
            );
            let s = decode_subscription(&b).unwrap();
            assert_eq!(s.topics, vec!["orders", "payments"]);
            assert_eq!(s.user_data.as_deref(), Some(&b"ud"[..]));
            assert_eq!(s.owned_partitions.len(), if v >= 1 { 3 } else { 0 });
            assert_eq!(s.generation_id, (v >= 2).then_some(7));
            assert_eq!(s.rack_id.as_deref(), (v >= 3).then_some("rack-a"));
        }
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        let b = encode::assignment(0, &tps(), None);
        for cut in 0..b.len() - 4 {
            assert!(decode_assignment(&b[..cut]).is_err(), "cut at {cut}");
        }
        let huge = [0, 0, 0x7f, 0xff, 0xff, 0xff];
        assert!(
            decode_assignment(&huge)
                .unwrap_err()
                .to_string()
                .contains("claims")
        );
    }

    proptest! {
        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_assignment(&b);
            let _ = decode_subscription(&b);
        }
    }
}
