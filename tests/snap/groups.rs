//! Pane 4: consumer groups, a group's detail tabs, the offset-reset wizard,
//! group deletion and the timeline export.

use kafkaterm::model::TopicPartition;
use kafkaterm::worker::protocol::{GroupsSnapshot, ResetRow, WorkerEvent};

use crate::snap::group_fixtures::{group, groups_round, member, plag};
use crate::snap::{H, NOW, env};

/// The groups pane after `rounds` refreshes five seconds apart.
fn groups(size: (u16, u16), rounds: i64) -> H {
    let mut h = H::new(size);
    h.ch('4');
    h.group_rounds((0..rounds).map(groups_round).collect());
    h
}

/// The detail of `orders-service` (the group with the most lag) after
/// `rounds` refreshes: a rebalance happened at rounds 3 to 5.
fn orders_service(size: (u16, u16), rounds: i64) -> H {
    let mut h = groups(size, rounds);
    h.ch('/');
    h.typ("orders-service");
    h.enter();
    h.enter();
    h
}

/// An Empty group with committed offsets, as the reset wizard needs.
fn empty_group(at_ms: i64) -> GroupsSnapshot {
    GroupsSnapshot {
        groups: vec![group(
            "analytics-etl",
            "Empty",
            "",
            vec![],
            (0..4)
                .map(|p| {
                    plag(
                        "clickstream.raw.eu-west-1.2026",
                        p,
                        Some(5_000 + i64::from(p)),
                        60_000,
                        None,
                    )
                })
                .collect(),
            at_ms,
        )],
        list_note: None,
        at_ms,
    }
}

/// `analytics-etl` caught up, then reset to 5,000 behind the end of each
/// partition 19 s before the last refresh, then left alone (no members, no
/// traffic).
fn idle_after_reset(size: (u16, u16)) -> H {
    let mut h = H::new(size);
    h.ch('4');
    let round = |at_ms: i64, committed: i64| GroupsSnapshot {
        groups: vec![group(
            "analytics-etl",
            "Empty",
            "",
            vec![],
            (0..4)
                .map(|p| {
                    plag(
                        "clickstream.raw.eu-west-1.2026",
                        p,
                        Some(committed),
                        60_000,
                        None,
                    )
                })
                .collect(),
            at_ms,
        )],
        list_note: None,
        at_ms,
    };
    h.group_rounds(vec![
        round(NOW, 60_000),
        round(NOW + 5_000, 55_000),
        round(NOW + 14_000, 55_000),
        round(NOW + 24_000, 55_000),
    ]);
    h.enter();
    h
}

fn reset_rows() -> Vec<ResetRow> {
    (0..4)
        .map(|p| ResetRow {
            tp: TopicPartition::new("clickstream.raw.eu-west-1.2026", p),
            current: if p == 3 {
                None
            } else {
                Some(5_000 + i64::from(p))
            },
            new: 0,
            low: 0,
            end: 60_000,
        })
        .collect()
}

/// The reset wizard on the Empty group, at the target stage.
fn reset_wizard(size: (u16, u16)) -> H {
    let mut h = H::new(size);
    h.ch('4');
    h.answer_groups(Ok(empty_group(NOW)));
    h.enter();
    h.ch('R');
    h
}

fn plan(h: &mut H) {
    let id = h.last_id(|c| match c {
        kafkaterm::worker::protocol::Command::PlanOffsetReset { id, .. } => Some(*id),
        _ => None,
    });
    h.worker(WorkerEvent::ResetPlan {
        id,
        group: "analytics-etl".into(),
        result: Ok(reset_rows()),
    });
}

scenario!(
    groups_loading,
    "the groups pane before the first refresh answered",
    |size| {
        let mut h = H::new(size);
        h.ch('4');
        h
    }
);

scenario!(groups_error, "the group refresh failed", |size| {
    let mut h = H::new(size);
    h.ch('4');
    h.at(5_000);
    h.answer_groups(Err(
        "ListGroups failed: Broker: Cluster authorization failed".into(),
    ));
    h
});

scenario!(
    groups_none,
    "a cluster without consumer groups, ListGroups unsupported noted",
    |size| {
        let mut h = H::new(size);
        h.ch('4');
        h.answer_groups(Ok(GroupsSnapshot {
            groups: vec![],
            list_note: Some(
                "ListGroups is not supported by this cluster: only watched groups are shown".into(),
            ),
            at_ms: NOW,
        }));
        h
    }
);

scenario!(
    groups_many,
    "22 groups after eight refreshes: every state, lag trends growing and shrinking, sorted by lag",
    |size| groups(size, 8)
);

scenario!(
    groups_sorted_by_state_filtered,
    "sorted by state, filtered by \"-s\"",
    |size| {
        let mut h = groups(size, 8);
        h.ch('s');
        h.ch('s');
        h.ch('/');
        h.typ("-s");
        h
    }
);

scenario!(
    groups_refresh_slow,
    "a refresh in flight for 6 s: the wait and how to cancel it",
    |size| {
        let mut h = groups(size, 2);
        h.at(10_000);
        h.ch('r');
        h.at(16_000);
        h
    }
);

scenario!(
    groups_hostile_names,
    "group, member and topic names with escapes, bidi controls and wide text",
    |size| {
        let mut h = H::new(size);
        h.ch('4');
        let evil = "evil\x1b]0;PWNED\x07\u{202e}group";
        h.answer_groups(Ok(GroupsSnapshot {
            groups: vec![
                group(
                    evil,
                    "Stable\x1b[5m",
                    "range\u{200b}",
                    vec![member(
                        "m\x1b[2J-1",
                        "client\u{9b}1",
                        "/10.0.0.1\u{202e}",
                        &[("t\x1b[31m", 0)],
                    )],
                    vec![plag("t\x1b[31m", 0, Some(1), 5, Some("m\x1b[2J-1"))],
                    NOW,
                ),
                group(
                    "消費者グループ-📦",
                    "Stable",
                    "range",
                    vec![],
                    vec![plag("注文", 0, Some(0), 3, None)],
                    NOW,
                ),
            ],
            list_note: Some("note \x1b[2J\u{202e}from the broker".into()),
            at_ms: NOW,
        }));
        h
    }
);

scenario!(
    group_detail_partitions,
    "orders-service partitions: committed, end, lag, owners, a partition never committed, two marked",
    |size| {
        let mut h = orders_service(size, 8);
        h.ch(' ');
        h.ch(' ');
        h
    }
);

scenario!(
    group_detail_idle_after_reset,
    "an Empty group reset 19 s ago, no traffic: idle since the last commit, neither falling behind nor 'not stable'",
    |size| idle_after_reset(size)
);

scenario!(
    group_detail_rebalancing,
    "orders-service in the middle of a rebalance: not stable, no owners",
    |size| orders_service(size, 5)
);

scenario!(
    group_detail_members,
    "members: client ids, hosts and assignments, one member reporting neither",
    |size| {
        let mut h = orders_service(size, 8);
        h.tab();
        h
    }
);

scenario!(
    group_detail_members_unknown,
    "a group whose description was refused: membership not reported",
    |size| {
        let mut h = groups(size, 1);
        h.ch('/');
        h.typ("connect");
        h.enter();
        h.enter();
        h.tab();
        h
    }
);

scenario!(
    group_detail_members_empty,
    "an Empty group's members tab",
    |size| {
        let mut h = reset_wizard(size);
        h.esc();
        h.tab();
        h
    }
);

scenario!(
    group_detail_lag_chart,
    "the lag chart after eight samples",
    |size| {
        let mut h = orders_service(size, 8);
        h.tab();
        h.tab();
        h
    }
);

scenario!(
    group_detail_lag_chart_seconds,
    "the lag chart in time (u) after eight samples",
    |size| {
        let mut h = orders_service(size, 8);
        h.tab();
        h.tab();
        h.ch('u');
        h
    }
);

scenario!(
    group_detail_lag_collecting,
    "the lag chart with a single sample",
    |size| {
        let mut h = orders_service(size, 1);
        h.backtab();
        h.backtab();
        h
    }
);

scenario!(
    group_detail_rebalances,
    "the rebalance timeline: seen, state changes, member joined, partitions moved, stable again",
    |size| {
        let mut h = orders_service(size, 8);
        h.backtab();
        h
    }
);

scenario!(
    group_reset_target,
    "the offset-reset wizard: choosing the target",
    |size| reset_wizard(size)
);

scenario!(
    group_reset_target_invalid,
    "an unparsable reset target",
    |size| {
        let mut h = reset_wizard(size);
        h.ctrl('u');
        h.typ("sideways");
        h.enter();
        h
    }
);

scenario!(group_reset_planning, "the dry run being computed", |size| {
    let mut h = reset_wizard(size);
    h.enter();
    h
});

scenario!(
    group_reset_plan,
    "the dry run: current and new offsets, the group name half typed",
    |size| {
        let mut h = reset_wizard(size);
        h.enter();
        plan(&mut h);
        h.typ("analytics");
        h
    }
);

scenario!(
    group_reset_marked_shift,
    "a reset of two marked partitions by a shift: scope and target",
    |size| {
        let mut h = H::new(size);
        h.ch('4');
        h.answer_groups(Ok(empty_group(NOW)));
        h.enter();
        h.ch(' ');
        h.ch(' ');
        h.ch('R');
        h.ctrl('u');
        h.typ("shift -100");
        h
    }
);

scenario!(
    group_reset_refused_not_empty,
    "apply refused: the group is Stable with members",
    |size| {
        let mut h = orders_service(size, 8);
        h.ch('R');
        h.enter();
        let id = h.last_id(|c| match c {
            kafkaterm::worker::protocol::Command::PlanOffsetReset { id, .. } => Some(*id),
            _ => None,
        });
        h.worker(WorkerEvent::ResetPlan {
            id,
            group: "orders-service".into(),
            result: Ok(vec![ResetRow {
                tp: TopicPartition::new("orders", 0),
                current: Some(99_880),
                new: 0,
                low: 0,
                end: 107_200,
            }]),
        });
        h.typ("orders-service");
        h.enter();
        h
    }
);

scenario!(
    group_reset_plan_failed,
    "the dry run failed: back to the target with the error",
    |size| {
        let mut h = reset_wizard(size);
        h.enter();
        let id = h.last_id(|c| match c {
            kafkaterm::worker::protocol::Command::PlanOffsetReset { id, .. } => Some(*id),
            _ => None,
        });
        h.worker(WorkerEvent::ResetPlan {
            id,
            group: "analytics-etl".into(),
            result: Err(kafkaterm::worker::protocol::WorkerError::internal(
                "ListOffsets failed: Broker: Request timed out",
            )),
        });
        h
    }
);

scenario!(
    group_reset_read_only,
    "R on a read-only cluster: refused",
    |size| {
        let mut e = env();
        e.read_only = true;
        let mut h = H::with(size, e);
        h.ch('4');
        h.answer_groups(Ok(empty_group(NOW)));
        h.enter();
        h.ch('R');
        h
    }
);

scenario!(
    group_delete_confirm,
    "D: the typed confirmation to delete a group",
    |size| {
        let mut h = reset_wizard(size);
        h.esc();
        h.ch('D');
        h.typ("analytics-e");
        h
    }
);

scenario!(
    group_save_timeline,
    "w: save the rebalance timeline",
    |size| {
        let mut h = orders_service(size, 8);
        h.ch('w');
        h
    }
);

scenario!(
    group_detail_waiting,
    "a watched group not seen yet: waiting for the first refresh",
    |size| {
        let mut e = env();
        e.watch_groups = vec!["billing-worker".into()];
        let mut h = H::with(size, e);
        h.ch('4');
        h.answer_groups(Ok(GroupsSnapshot {
            groups: vec![],
            list_note: None,
            at_ms: NOW,
        }));
        h.enter();
        h
    }
);

/// Every group type in one listing: the classic groups of `groups_round(1)`,
/// a KIP-848 group reconciling (m2 waits for orders/2, still m1's), a share
/// and a streams group.
fn every_type(size: (u16, u16)) -> H {
    use kafkaterm::model::{GroupState, GroupType};
    let mut h = H::new(size);
    h.ch('4');
    let mut round = crate::snap::group_fixtures::groups_round(1);
    let at = round.at_ms;
    let tps = |ps: &[i32]| {
        ps.iter()
            .map(|p| TopicPartition::new("orders", *p))
            .collect::<Vec<_>>()
    };
    let mut k = group(
        "payments-kip848",
        "Reconciling",
        "uniform",
        vec![
            member("m1", "pay-1", "/10.0.0.1", &[("orders", 0), ("orders", 2)]),
            member("m2", "pay-2", "/10.0.0.2", &[("orders", 1)]),
            member("m3", "pay-3", "/10.0.0.3", &[]),
        ],
        (0..3)
            .map(|p| plag("orders", p, Some(100), 150, None))
            .collect(),
        at,
    );
    if let Some(d) = k.description.as_mut() {
        d.group_type = GroupType::Consumer;
        d.group_epoch = Some(7);
        d.assignment_epoch = Some(7);
        let targets = [tps(&[0]), tps(&[1, 2]), tps(&[])];
        for (m, (target, epoch)) in d.members.iter_mut().zip(targets.into_iter().zip([7, 6, 7])) {
            m.target_assignment = Some(target);
            m.member_epoch = Some(epoch);
        }
    }
    let mut share = group("jobs-share", "Stable", "simple", vec![], vec![], at);
    let mut streams = group("wordcount-streams", "NotReady", "", vec![], vec![], at);
    for (g, t) in [
        (&mut share, GroupType::Share),
        (&mut streams, GroupType::Streams),
    ] {
        if let Some(d) = g.description.as_mut() {
            d.group_type = t;
            d.state = GroupState::parse(d.state.as_str());
        }
    }
    round.groups.extend([k, share, streams]);
    h.group_rounds(vec![round]);
    h
}

scenario!(
    groups_every_type,
    "classic, consumer (KIP-848), share and streams groups in one list: the TYPE column",
    every_type
);

scenario!(
    group_detail_kip848_members,
    "a KIP-848 group's members: epochs, current and target assignment, who reconciles and why",
    |size| {
        let mut h = every_type(size);
        h.ch('/');
        h.typ("payments-kip848");
        h.enter();
        h.enter();
        h.tab();
        h
    }
);
