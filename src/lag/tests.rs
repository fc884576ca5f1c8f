//! Tests of a group's history: events, moves, rates and ETA.

use super::*;
use crate::model::{GroupDescription, GroupMember, PartitionLag};

fn member(id: &str, tps: &[(&str, i32)]) -> GroupMember {
    GroupMember {
        member_id: id.into(),
        client_id: format!("client-{id}"),
        host: "/10.0.0.1".into(),
        assignment: Some(
            tps.iter()
                .map(|(t, p)| TopicPartition::new(t, *p))
                .collect(),
        ),
        assignment_note: None,
        subscription: vec![],
        ..Default::default()
    }
}

fn snap(
    at: i64,
    state: &str,
    members: Vec<GroupMember>,
    lag: i64,
    committed: i64,
) -> GroupSnapshot {
    GroupSnapshot {
        group: "g".into(),
        description: Some(GroupDescription {
            group: "g".into(),
            state: state.into(),
            protocol_type: "consumer".into(),
            protocol: "range".into(),
            members,
            ..Default::default()
        }),
        description_note: None,
        partitions: vec![PartitionLag {
            lso: None,
            topic: "t".into(),
            partition: 0,
            committed: Some(committed),
            end: Some(committed + lag),
            lag: Some(lag),
            member_id: None,
            lag_ms: None,
            lag_ms_estimated: false,
            lag_ms_note: None,
            error: None,
        }],
        offsets_note: None,
        at_ms: at,
    }
}

#[test]
fn detects_join_rebalance_and_moves() {
    let mut h = GroupHistory::default();
    let e = h.observe(snap(
        0,
        "Stable",
        vec![member("a", &[("t", 0), ("t", 1)])],
        10,
        100,
    ));
    assert!(matches!(e[0].kind, EventKind::Seen { .. }));
    let e = h.observe(snap(
        2000,
        "PreparingRebalance",
        vec![member("a", &[]), member("b", &[])],
        10,
        100,
    ));
    assert!(e.iter().any(
        |e| matches!(&e.kind, EventKind::StateChanged { to, .. } if *to == GroupState::PreparingRebalance)
    ));
    assert!(
        e.iter().any(
            |e| matches!(&e.kind, EventKind::MemberJoined { member_id, .. } if member_id == "b")
        )
    );
    let e = h.observe(snap(
        5000,
        "Stable",
        vec![member("a", &[("t", 0)]), member("b", &[("t", 1)])],
        10,
        100,
    ));
    assert!(
        e.iter()
            .any(|e| matches!(&e.kind, EventKind::StableAgain { after_ms } if *after_ms == 3000)),
        "{e:?}"
    );
    let moved: Vec<_> = e
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PartitionMoved {
                partition,
                from,
                to,
                ..
            } => Some((*partition, from.clone(), to.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(moved, vec![(1, Some("a".into()), Some("b".into()))]);
    let e = h.observe(snap(
        7000,
        "Stable",
        vec![member("b", &[("t", 0), ("t", 1)])],
        10,
        100,
    ));
    assert!(
        e.iter().any(
            |e| matches!(&e.kind, EventKind::MemberLeft { member_id, .. } if member_id == "a")
        )
    );
}

#[test]
fn rates_and_eta() {
    let mut h = GroupHistory::default();
    // Production 10/s, consumption 20/s: lag shrinks by 10/s.
    h.observe(snap(0, "Stable", vec![], 100, 0));
    h.observe(snap(10_000, "Stable", vec![], 0, 200));
    let r = h.rates(60_000).unwrap();
    assert!((r.consume - 20.0).abs() < 1e-9);
    assert!((r.produce - 10.0).abs() < 1e-9, "{r:?}");
    assert_eq!(h.eta(60_000), Eta::CaughtUp);
    let mut h = GroupHistory::default();
    h.observe(snap(0, "Stable", vec![], 100, 0));
    h.observe(snap(10_000, "Stable", vec![], 200, 0));
    assert_eq!(h.eta(60_000), Eta::FallingBehind);
    assert!(h.growing(60_000));
    let mut h = GroupHistory::default();
    h.observe(snap(0, "Stable", vec![], 100, 0));
    h.observe(snap(10_000, "Stable", vec![], 50, 100));
    match h.eta(60_000) {
        Eta::Seconds(s) => assert!((s - 10.0).abs() < 1e-9, "{s}"),
        other => panic!("{other:?}"),
    }
}

fn empty(at: i64, lag: i64, committed: i64) -> GroupSnapshot {
    snap(at, "Empty", vec![], lag, committed)
}

#[test]
fn a_reset_is_not_falling_behind_and_an_idle_group_says_since_when() {
    let mut h = GroupHistory::default();
    // Caught up, then reset to earliest: committed 150 → 0, end stays 150.
    h.observe(empty(0, 0, 150));
    h.observe(empty(2_000, 150, 0));
    h.observe(empty(21_000, 150, 0));
    assert!(!h.growing(60_000), "a reset is not growth from production");
    assert_eq!(
        h.eta(60_000),
        Eta::Idle(Idle {
            since_ms: 2_000,
            since_first_seen: false
        })
    );
    assert_eq!(
        Idle {
            since_ms: 2_000,
            since_first_seen: false
        }
        .describe(21_000),
        "last commit 19s ago"
    );
    assert_eq!(h.unstable_since, None, "Empty is not a rebalance");
    // Never committed while watched: since first seen.
    let mut h = GroupHistory::default();
    h.observe(empty(5_000, 40, 10));
    h.observe(empty(65_000, 40, 10));
    let Eta::Idle(i) = h.eta(120_000) else {
        panic!("{:?}", h.eta(120_000));
    };
    assert!(i.since_first_seen);
    assert_eq!(i.describe(65_000), "no commit since first seen 1m 0s ago");
    // Production into an Empty group: lag grows because nobody consumes.
    let mut h = GroupHistory::default();
    h.observe(empty(0, 10, 10));
    h.observe(empty(10_000, 60, 10));
    assert_eq!(h.eta(60_000), Eta::FallingBehind);
    assert!(h.growing(60_000));
}

#[test]
fn not_stable_only_while_rebalancing() {
    let mut h = GroupHistory::default();
    h.observe(snap(0, "Stable", vec![member("a", &[("t", 0)])], 0, 10));
    h.observe(empty(1_000, 0, 10));
    assert_eq!(
        h.unstable_since, None,
        "Empty after Stable is not a rebalance"
    );
    h.observe(snap(
        2_000,
        "PreparingRebalance",
        vec![member("a", &[])],
        0,
        10,
    ));
    assert_eq!(h.unstable_since, Some(2_000));
    h.observe(snap(
        3_000,
        "CompletingRebalance",
        vec![member("a", &[])],
        0,
        10,
    ));
    assert_eq!(h.unstable_since, Some(2_000));
    // Everybody left during the rebalance: the group is Empty, not unstable.
    h.observe(empty(4_000, 0, 10));
    assert_eq!(h.unstable_since, None);
    let e = h.observe(snap(5_000, "Stable", vec![member("b", &[("t", 0)])], 0, 10));
    assert!(
        !e.iter()
            .any(|e| matches!(e.kind, EventKind::StableAgain { .. })),
        "Empty → Stable is no 'stable again after … not stable': {e:?}"
    );
}

fn subscribed(id: &str, tps: &[(&str, i32)]) -> GroupMember {
    GroupMember {
        subscription: vec!["t".into()],
        ..member(id, tps)
    }
}

fn moves(e: &[GroupEvent]) -> Vec<(i32, Option<String>, Option<String>)> {
    e.iter()
        .filter_map(|e| match &e.kind {
            EventKind::PartitionMoved {
                partition,
                from,
                to,
                ..
            } => Some((*partition, from.clone(), to.clone())),
            _ => None,
        })
        .collect()
}

fn some(s: &str) -> Option<String> {
    Some(s.to_string())
}

#[test]
fn a_cooperative_move_is_one_event_from_the_old_owner_to_the_new() {
    let four = [("t", 0), ("t", 1), ("t", 2), ("t", 3)];
    let mut h = GroupHistory::default();
    h.observe(snap(0, "Stable", vec![subscribed("a", &four)], 0, 0));
    // First round: a gives up t/2 and t/3; b joined with nothing yet.
    let e = h.observe(snap(
        1000,
        "Stable",
        vec![subscribed("a", &[("t", 0), ("t", 1)]), subscribed("b", &[])],
        0,
        0,
    ));
    assert_eq!(moves(&e), vec![], "released, not yet moved: {e:?}");
    let e = h.observe(snap(
        2000,
        "PreparingRebalance",
        vec![subscribed("a", &[("t", 0), ("t", 1)]), subscribed("b", &[])],
        0,
        0,
    ));
    assert_eq!(moves(&e), vec![]);
    // Second round: b takes them.
    let e = h.observe(snap(
        3000,
        "Stable",
        vec![
            subscribed("a", &[("t", 0), ("t", 1)]),
            subscribed("b", &[("t", 2), ("t", 3)]),
        ],
        0,
        0,
    ));
    assert_eq!(
        moves(&e),
        vec![(2, some("a"), some("b")), (3, some("a"), some("b"))]
    );
    // Nothing more to report once settled.
    let e = h.observe(snap(
        4000,
        "Stable",
        vec![
            subscribed("a", &[("t", 0), ("t", 1)]),
            subscribed("b", &[("t", 2), ("t", 3)]),
        ],
        0,
        0,
    ));
    assert_eq!(moves(&e), vec![]);
}

#[test]
fn a_released_partition_returned_to_its_owner_did_not_move() {
    let mut h = GroupHistory::default();
    h.observe(snap(0, "Stable", vec![subscribed("a", &[("t", 0)])], 0, 0));
    assert_eq!(
        moves(&h.observe(snap(1000, "Stable", vec![subscribed("a", &[])], 0, 0))),
        vec![]
    );
    assert_eq!(
        moves(&h.observe(snap(
            2000,
            "Stable",
            vec![subscribed("a", &[("t", 0)])],
            0,
            0
        ))),
        vec![]
    );
}

#[test]
fn a_partition_nobody_takes_after_the_next_rebalance_is_unassigned() {
    let mut h = GroupHistory::default();
    let two = [("t", 0), ("t", 1)];
    h.observe(snap(0, "Stable", vec![subscribed("a", &two)], 0, 0));
    let one = vec![subscribed("a", &[("t", 0)])];
    assert_eq!(
        moves(&h.observe(snap(1000, "Stable", one.clone(), 0, 0))),
        vec![]
    );
    assert_eq!(
        moves(&h.observe(snap(2000, "Stable", one.clone(), 0, 0))),
        vec![],
        "no rebalance seen yet"
    );
    h.observe(snap(3000, "CompletingRebalance", one.clone(), 0, 0));
    assert_eq!(
        moves(&h.observe(snap(4000, "Stable", one, 0, 0))),
        vec![(1, some("a"), None)]
    );
}

#[test]
fn a_partition_of_a_topic_no_longer_subscribed_is_unassigned_at_once() {
    let mut h = GroupHistory::default();
    h.observe(snap(
        0,
        "Stable",
        vec![member("a", &[("t", 0), ("u", 0)])],
        0,
        0,
    ));
    let a = GroupMember {
        subscription: vec!["u".into()],
        ..member("a", &[("u", 0)])
    };
    assert_eq!(
        moves(&h.observe(snap(1000, "Stable", vec![a], 0, 0))),
        vec![(0, some("a"), None)]
    );
}

#[test]
fn a_refresh_without_description_does_not_make_members_new() {
    let mut h = GroupHistory::default();
    h.observe(snap(0, "Stable", vec![member("a", &[("t", 0)])], 0, 0));
    let mut blind = snap(1000, "Stable", vec![], 0, 0);
    blind.description = None;
    blind.description_note = Some("DescribeGroups failed".into());
    assert_eq!(h.observe(blind), vec![]);
    let e = h.observe(snap(
        2000,
        "Stable",
        vec![member("a", &[("t", 0)]), member("b", &[])],
        0,
        0,
    ));
    let kinds: Vec<_> = e.iter().map(|e| &e.kind).collect();
    assert_eq!(
        kinds,
        vec![&EventKind::MemberJoined {
            member_id: "b".into(),
            client_id: "client-b".into(),
            host: "/10.0.0.1".into(),
        }],
        "only b is new, and the state did not change"
    );
}

/// A KIP-848 snapshot: `members` as (id, current, target), both of `t`.
fn kip848(at: i64, state: &str, epoch: i32, members: &[(&str, &[i32], &[i32])]) -> GroupSnapshot {
    let tps = |ps: &[i32]| ps.iter().map(|p| TopicPartition::new("t", *p)).collect();
    let mut s = snap(at, state, vec![], 0, 10);
    let d = s.description.as_mut().unwrap();
    d.group_type = crate::model::GroupType::Consumer;
    d.group_epoch = Some(epoch);
    d.assignment_epoch = Some(epoch);
    d.protocol = "uniform".into();
    d.members = members
        .iter()
        .map(|(id, cur, target)| GroupMember {
            member_id: (*id).into(),
            assignment: Some(tps(cur)),
            target_assignment: Some(tps(target)),
            member_epoch: Some(epoch),
            subscription: vec!["t".into()],
            ..Default::default()
        })
        .collect();
    s
}

#[test]
fn a_kip848_rebalance_conversion_epochs_one_move_and_time_to_reconciled() {
    let mut h = GroupHistory::default();
    // Classic, then converted when m2 joins with the consumer protocol.
    let mut classic = snap(
        0,
        "Stable",
        vec![member("m1", &[("t", 0), ("t", 1)])],
        0,
        10,
    );
    classic.description.as_mut().unwrap().group_type = crate::model::GroupType::Classic;
    h.observe(classic);
    let kinds = |ev: Vec<GroupEvent>| ev.into_iter().map(|e| e.kind).collect::<Vec<_>>();
    let ev = kinds(h.observe(kip848(1_000, "Stable", 1, &[("m1", &[0, 1], &[0, 1])])));
    assert!(
        ev.contains(&EventKind::ProtocolChanged {
            from: "classic".into(),
            to: "consumer".into()
        }),
        "{ev:?}"
    );
    // m2 joins: epoch bump; m1 revokes t/1 first (Reconciling), then m2 takes it.
    let ev = kinds(h.observe(kip848(
        2_000,
        "Reconciling",
        2,
        &[("m1", &[0, 1], &[0]), ("m2", &[], &[1])],
    )));
    assert!(
        ev.contains(&EventKind::EpochChanged { from: 1, to: 2 }),
        "{ev:?}"
    );
    let ev = kinds(h.observe(kip848(
        3_000,
        "Reconciling",
        2,
        &[("m1", &[0], &[0]), ("m2", &[], &[1])],
    )));
    assert!(
        !ev.iter()
            .any(|e| matches!(e, EventKind::PartitionMoved { .. })),
        "a revocation alone is no move: {ev:?}"
    );
    let ev = kinds(h.observe(kip848(
        4_500,
        "Stable",
        2,
        &[("m1", &[0], &[0]), ("m2", &[1], &[1])],
    )));
    let moves: Vec<&EventKind> = ev
        .iter()
        .filter(|e| matches!(e, EventKind::PartitionMoved { .. }))
        .collect();
    assert_eq!(
        moves,
        [&EventKind::PartitionMoved {
            topic: "t".into(),
            partition: 1,
            from: Some("m1".into()),
            to: Some("m2".into())
        }]
    );
    assert!(
        ev.contains(&EventKind::Reconciled { after_ms: 2_500 }),
        "{ev:?}"
    );
    // Steady: nothing more.
    let ev = kinds(h.observe(kip848(
        5_000,
        "Stable",
        2,
        &[("m1", &[0], &[0]), ("m2", &[1], &[1])],
    )));
    assert!(ev.is_empty(), "{ev:?}");
    let json = serde_json::to_value(GroupEvent {
        at_ms: 0,
        group: "g".into(),
        kind: EventKind::EpochChanged { from: 1, to: 2 },
    })
    .unwrap();
    assert_eq!(json["kind"], "epoch_changed");
    assert_eq!(
        (json["from"].clone(), json["to"].clone()),
        (1.into(), 2.into())
    );
}
