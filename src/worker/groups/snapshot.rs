//! A group's snapshot built from its parts (pure): its description, its
//! committed and end offsets, the lag per partition and the notes on what
//! could not be fetched.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::{GroupDescription, GroupSnapshot, PartitionLag, TopicPartition, lag};
use crate::worker::error::WorkerError;
use crate::worker::offsets;

/// The note on the offsets that could not be fetched: all committed
/// offsets, some partitions' (the first few named), or the end offsets.
fn offsets_note(
    committed: &Result<offsets::Committed, WorkerError>,
    mut failed: Vec<String>,
    ends_error: Option<&str>,
) -> Option<String> {
    let mut notes = Vec::new();
    if let Err(e) = committed {
        notes.push(format!("committed offsets unavailable: {e}"));
    }
    if !failed.is_empty() {
        const SHOWN: usize = 3;
        let more = failed.len().saturating_sub(SHOWN);
        failed.truncate(SHOWN);
        let mut note = format!("committed offsets unavailable for {}", failed.join(", "));
        if more > 0 {
            note.push_str(&format!(" and {more} more partition(s)"));
        }
        notes.push(note);
    }
    if let Some(e) = ends_error {
        notes.push(format!("end offsets unavailable: {e}"));
    }
    (!notes.is_empty()).then(|| notes.join("; "))
}

/// Build a group's snapshot from its parts (pure).
#[must_use]
pub fn build_snapshot(
    group: &str,
    description: Option<GroupDescription>,
    description_note: Option<String>,
    committed: &Result<offsets::Committed, WorkerError>,
    ends: &HashMap<TopicPartition, Result<i64, WorkerError>>,
    ends_error: Option<&str>,
    at_ms: i64,
) -> GroupSnapshot {
    let mut owners: BTreeMap<TopicPartition, String> = BTreeMap::new();
    if let Some(d) = &description {
        for m in &d.members {
            for tp in m.assignment.iter().flatten() {
                owners.insert(tp.clone(), m.member_id.clone());
            }
        }
    }
    let mut committed_map: BTreeMap<TopicPartition, &Result<Option<i64>, WorkerError>> =
        BTreeMap::new();
    if let Ok(c) = committed {
        for (tp, off) in c {
            committed_map.insert(tp.clone(), off);
        }
    }
    // Partitions with a commit, or an error where one may be, or an owner.
    let all: BTreeSet<TopicPartition> = committed_map
        .iter()
        .filter(|(_, o)| !matches!(o, Ok(None)))
        .map(|(tp, _)| tp.clone())
        .chain(owners.keys().cloned())
        .collect();
    let mut failed = Vec::new();
    let partitions: Vec<PartitionLag> = all
        .into_iter()
        .map(|tp| {
            let mut errors = Vec::new();
            let committed = match committed_map.get(&tp) {
                Some(Ok(o)) => *o,
                Some(Err(e)) => {
                    failed.push(format!("{}/{}: {e}", tp.topic, tp.partition));
                    errors.push(format!("committed offset: {e}"));
                    None
                }
                None => None,
            };
            let end = match ends.get(&tp) {
                Some(Ok(e)) => Some(*e).filter(|e| *e >= 0),
                Some(Err(e)) => {
                    errors.push(format!("end offset: {e}"));
                    None
                }
                None => None,
            };
            PartitionLag {
                lag: lag(committed, end),
                member_id: owners.get(&tp).cloned(),
                lag_ms: None,
                lag_ms_estimated: false,
                lag_ms_note: None,
                topic: tp.topic,
                partition: tp.partition,
                committed,
                end,
                lso: None,
                error: (!errors.is_empty()).then(|| errors.join("; ")),
            }
        })
        .collect();
    GroupSnapshot {
        group: group.to_string(),
        description,
        description_note,
        partitions,
        offsets_note: offsets_note(committed, failed, ends_error),
        at_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GroupMember, GroupState};

    #[test]
    fn snapshot_lag_and_owners() {
        let desc = GroupDescription {
            group: "g".into(),
            state: GroupState::Stable,
            protocol_type: "consumer".into(),
            protocol: "range".into(),
            members: vec![GroupMember {
                member_id: "m1".into(),
                client_id: "c".into(),
                host: "/h".into(),
                assignment: Some(vec![
                    TopicPartition::new("t", 0),
                    TopicPartition::new("t", 1),
                ]),
                assignment_note: None,
                subscription: vec!["t".into()],
                ..Default::default()
            }],
            ..Default::default()
        };
        let committed = Ok(vec![
            (TopicPartition::new("t", 0), Ok(Some(5))),
            (TopicPartition::new("t", 1), Ok(None)),
        ]);
        let ends: HashMap<_, _> = [
            (TopicPartition::new("t", 0), Ok(12)),
            (TopicPartition::new("t", 1), Ok(3)),
        ]
        .into();
        let s = build_snapshot("g", Some(desc), None, &committed, &ends, None, 0);
        assert_eq!(s.partitions.len(), 2);
        assert_eq!(s.partitions[0].lag, Some(7));
        assert_eq!(s.partitions[0].member_id.as_deref(), Some("m1"));
        assert_eq!(s.partitions[1].committed, None);
        assert_eq!(s.partitions[1].lag, None);
        assert_eq!(s.total_lag(), 7);
    }

    #[test]
    fn partition_errors_show_in_the_row_and_the_note() {
        let committed = Ok(vec![
            (TopicPartition::new("t", 0), Ok(Some(5))),
            (
                TopicPartition::new("t", 1),
                Err(WorkerError::internal("not authorized for this topic")),
            ),
            (TopicPartition::new("t", 2), Ok(None)),
        ]);
        let ends: HashMap<_, _> = [
            (
                TopicPartition::new("t", 0),
                Err(WorkerError::internal("leader not available")),
            ),
            (TopicPartition::new("t", 1), Ok(9)),
        ]
        .into();
        let s = build_snapshot("g", None, None, &committed, &ends, None, 0);
        let rows: Vec<_> = s
            .partitions
            .iter()
            .map(|p| (p.partition, p.committed, p.end, p.error.as_deref()))
            .collect();
        assert_eq!(
            rows,
            vec![
                (0, Some(5), None, Some("end offset: leader not available")),
                (
                    1,
                    None,
                    Some(9),
                    Some("committed offset: not authorized for this topic")
                ),
            ],
            "t/2 has no commit and no owner: no row"
        );
        assert_eq!(
            s.offsets_note.as_deref(),
            Some("committed offsets unavailable for t/1: not authorized for this topic")
        );
    }
}
