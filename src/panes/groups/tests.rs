use super::*;
use crate::model::{GroupDescription, GroupSnapshot, PartitionLag};

fn snap(group: &str, state: &str, lag: i64, at_ms: i64) -> GroupSnapshot {
    GroupSnapshot {
        group: group.into(),
        description: Some(GroupDescription {
            group: group.into(),
            state: state.into(),
            protocol_type: "consumer".into(),
            protocol: "range".into(),
            members: vec![],
            ..Default::default()
        }),
        description_note: None,
        partitions: vec![PartitionLag {
            lso: None,
            topic: format!("{group}.events"),
            partition: 0,
            committed: Some(0),
            end: Some(lag),
            lag: Some(lag),
            member_id: None,
            lag_ms: None,
            lag_ms_estimated: false,
            lag_ms_note: None,
            error: None,
        }],
        offsets_note: None,
        at_ms,
    }
}

#[test]
fn help_explains_every_group_state() {
    let p = pane(&[("g", "Stable", 0)]);
    let notes = p.help_notes();
    let states: Vec<&str> = notes.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        states,
        [
            "Stable",
            "PreparingRebalance",
            "CompletingRebalance",
            "Empty",
            "Dead",
            "Assigning",
            "Reconciling",
            "NotReady",
            "cl (classic)",
            "co (consumer)",
            "sh (share)",
            "st (streams)",
            "OK",
            "LAGGING",
            "STALLED",
            "STOPPED",
            "EMPTY",
            "REBALANCING",
            "TIME"
        ]
    );
    assert!(notes[3].1.contains("no members"), "{notes:?}");
}

fn pane(groups: &[(&str, &str, i64)]) -> GroupsPane {
    let mut p = GroupsPane::default();
    for (g, state, lag) in groups {
        let t = p.tracked.entry((*g).to_string()).or_default();
        t.history.observe(snap(g, state, *lag, 0));
        t.history.observe(snap(g, state, *lag * 2, 10_000));
        t.update_row();
    }
    p.tracked.insert("watched".into(), Tracked::default());
    p.recompute();
    p
}

#[test]
fn rows_are_computed_from_the_history() {
    let p = pane(&[("a", "Stable", 100)]);
    let r = &p.tracked["a"].row;
    assert_eq!(r.state, Some(GroupState::Stable));
    assert_eq!(r.members, Some(0));
    assert_eq!(r.assignor, "consumer/range");
    assert_eq!(r.topics, "a.events");
    assert_eq!(r.lag, Some(200));
    assert!(r.growing);
    assert_eq!(r.trend, "▄█");
    let w = &p.tracked["watched"].row;
    assert_eq!((w.state.as_ref(), w.lag), (None, None));
}

#[test]
fn sorting_by_lag_lag_time_status_name_and_state() {
    let mut p = pane(&[
        ("b", "Stable", 5),
        ("a", "PreparingRebalance", 50),
        ("c", "Empty", 500),
        ("d", "Weird", 0),
    ]);
    assert_eq!(p.list.view, ["c", "a", "b", "d", "watched"]);
    // Lag in time: unknown everywhere here, so by name, unknown last.
    if let Some(t) = p.tracked.get_mut("d") {
        t.row.lag_ms = Some(90_000);
    }
    p.sort = p.sort.next();
    p.recompute();
    assert_eq!(p.list.view, ["d", "a", "b", "c", "watched"]);
    // Status: the ones that need a look first (no members with lag
    // left: stopped, by lag), then rebalancing, empty, not known.
    p.sort = p.sort.next();
    p.recompute();
    assert_eq!(p.list.view, ["c", "b", "a", "d", "watched"]);
    p.sort = p.sort.next();
    p.recompute();
    assert_eq!(p.list.view, ["a", "b", "c", "d", "watched"]);
    p.sort = p.sort.next();
    p.recompute();
    // Not seen yet first, then as Kafka spells the states; an invented
    // state sorts by its own name.
    assert_eq!(p.list.view, ["watched", "c", "a", "b", "d"]);
    p.list.filter.input.insert_str("A");
    p.recompute();
    assert_eq!(p.list.view, ["watched", "a"]);
}

#[test]
fn the_open_groups_chart_follows_its_samples() {
    let mut p = pane(&[("a", "Stable", 100), ("b", "Stable", 7)]);
    p.open_group("a".into());
    assert!(
        p.chart
            .as_ref()
            .is_some_and(|c| c.group == "a" && c.lag.len() == 2)
    );
    p.tracked
        .get_mut("a")
        .map(|t| t.history.observe(snap("a", "Stable", 300, 20_000)));
    p.sync_chart();
    assert_eq!(p.chart.as_ref().map(|c| c.lag.len()), Some(3));
    p.close_group();
    assert!(p.chart.is_none());
    p.open_group("b".into());
    assert_eq!(p.chart.as_ref().map(|c| c.group.as_str()), Some("b"));
}

#[test]
fn tabs_cycle_both_ways() {
    assert_eq!(Tab::Partitions.step(true), Tab::Members);
    assert_eq!(Tab::Partitions.step(false), Tab::Events);
    assert_eq!(Tab::Events.step(true), Tab::Partitions);
}
