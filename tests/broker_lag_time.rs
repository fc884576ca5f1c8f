//! Lag in time when several groups read the same partitions at different
//! offsets, on a private test broker (so its groups are only these): one
//! `groups --json` call must give every group its lag in seconds, the same
//! as `lag GROUP --json`, and the console's TIME column after one refresh.
//! Also: a committed offset whose record was deleted (DeleteRecords) has no
//! lag in time and says why; a group at the log end and one on an empty
//! partition are caught up.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

mod common;

use std::time::Duration;

use common::{Msg, Sandbox, TestBroker, Tmux, commit, create_topic, now_ms, produce};
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::Value;

const TOPIC: &str = "lagtime";
/// Seconds ago each record of partition 0 was written, by offset.
const P0_AGES: [i64; 8] = [835, 735, 635, 535, 435, 335, 235, 135];

/// Partition 0: 8 records of known ages; partition 1: 4 records, the
/// first two deleted; partition 2: empty. Returns when it was written.
fn seed(b: &str) -> i64 {
    create_topic(b, TOPIC, 3);
    let now = now_ms();
    let mut all: Vec<Msg> = P0_AGES
        .iter()
        .enumerate()
        .map(|(i, age)| Msg::kv(&format!("k{i}"), "v").to(0).at(now - age * 1000))
        .collect();
    all.extend((0..4).map(|i| Msg::kv(&format!("p1-{i}"), "v").to(1).at(now - 60_000)));
    produce(b, TOPIC, &all);
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", b)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(TOPIC, 1, Offset::Offset(2))
        .unwrap();
    let done = common::rt()
        .block_on(admin.delete_records(&tpl, &AdminOptions::new()))
        .unwrap();
    assert_eq!(
        done.find_partition(TOPIC, 1).unwrap().offset(),
        Offset::Offset(2),
        "DeleteRecords did not move the log start"
    );
    now
}

/// A group: its name, its commits (partition, offset), and the lag in
/// seconds expected per partition (`None`: unknown).
type Case = (&'static str, Vec<(i32, i64)>, Vec<(i32, Option<i64>)>);

fn groups() -> Vec<Case> {
    let age = |o: usize| Some(P0_AGES[o]);
    vec![
        ("lt-one", vec![(0, 1)], vec![(0, age(1))]),
        ("lt-five", vec![(0, 5)], vec![(0, age(5))]),
        ("lt-seven", vec![(0, 7)], vec![(0, age(7))]),
        ("lt-end", vec![(0, 8)], vec![(0, Some(0))]),
        ("lt-del", vec![(0, 3), (1, 1)], vec![(0, age(3)), (1, None)]),
        ("lt-empty", vec![(2, 0)], vec![(2, Some(0))]),
    ]
}

fn close(got: &Value, want: i64, slack: f64, what: &str) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: no lag in seconds ({got})"));
    let want = want as f64;
    assert!(
        (want - 2.0..=want + slack).contains(&got),
        "{what}: {got} s, expected {want} s (+ up to {slack} s of test time)"
    );
}

/// A TIME as the console shows it (`12m 45s`, `9s`) in seconds; `None`
/// for `-`, an estimate (`~…`) or anything else.
fn shown_seconds(words: &[String]) -> Option<f64> {
    let unit = |w: &str, u: char| w.strip_suffix(u).and_then(|n| n.parse::<f64>().ok());
    match words {
        [m, s, ..] if unit(m, 'm').is_some() => Some(unit(m, 'm')? * 60.0 + unit(s, 's')?),
        [s, ..] => unit(s, 's'),
        [] => None,
    }
}

#[test]
fn every_group_on_a_shared_partition_gets_its_lag_in_seconds_from_one_call() {
    let broker = TestBroker::start();
    let b = broker.addr();
    let seeded = seed(&b);
    for (g, commits, _) in groups() {
        commit(&b, g, TOPIC, &commits);
    }
    let sb = Sandbox::new();
    let listed = sb.run_json(&["-b", &b, "groups", "--json"]);
    let slack = |since: i64| (now_ms() - since) as f64 / 1000.0 + 2.0;
    let listed_slack = slack(seeded);
    for (g, _, want) in groups() {
        let row = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["group"] == g)
            .unwrap_or_else(|| panic!("{g} not listed: {listed:#}"));
        let max = want.iter().filter_map(|(_, s)| *s).max().unwrap();
        close(
            &row["max_lag_seconds"],
            max,
            listed_slack,
            &format!("groups --json {g}"),
        );
        let v = sb.run_json(&["-b", &b, "lag", g, "--json"]);
        let lag_slack = slack(seeded);
        close(
            &v["max_lag_seconds"],
            max,
            lag_slack,
            &format!("lag --json {g}"),
        );
        // The two calls agree, up to the time between them.
        let (a, z) = (
            row["max_lag_seconds"].as_f64().unwrap(),
            v["max_lag_seconds"].as_f64().unwrap(),
        );
        assert!(
            z >= a - 1.0 && z - a <= lag_slack,
            "{g}: groups {a} s, lag {z} s"
        );
        for (p, secs) in want {
            let part = v["partitions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["partition"] == p)
                .unwrap_or_else(|| panic!("{g}: no partition {p} in {v:#}"));
            match secs {
                Some(s) => close(&part["lag_seconds"], s, lag_slack, &format!("{g}/{p}")),
                None => {
                    assert_eq!(part["lag_seconds"], Value::Null, "{g}/{p}: {v:#}");
                    let why = part["lag_seconds_note"].as_str().unwrap_or_default();
                    assert!(why.contains("offset 1 was deleted"), "{g}/{p}: {v:#}");
                    let notes = v["notes"].to_string();
                    assert!(
                        notes.contains("lagtime/1: the record at offset 1 was deleted"),
                        "{notes}"
                    );
                }
            }
        }
        // Only the deleted partition lacks it.
        assert_eq!(
            v["partitions"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| x["lag_seconds"].is_null())
                .count(),
            usize::from(g == "lt-del"),
            "{g}: {v:#}"
        );
    }
    let del = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["group"] == "lt-del")
        .unwrap();
    assert!(
        del["note"]
            .as_str()
            .unwrap()
            .contains("lag in time unknown on lagtime/1"),
        "{del:#}"
    );

    // The console, at 80x24: every group's TIME after its first refresh.
    let tm = Tmux::start(&["-b", &b], 80, 24);
    tm.wait_for("refreshed", Duration::from_secs(20));
    tm.keys(&["4"]);
    // (group, LAG, age in s): lag and lag in time come in one snapshot,
    // so the first screen that shows every group's lag must show its time.
    let expect = [
        ("lt-one", "7", P0_AGES[1]),
        ("lt-five", "3", P0_AGES[5]),
        ("lt-seven", "1", P0_AGES[7]),
        ("lt-end", "0", 0),
        ("lt-del", "8", P0_AGES[3]),
        ("lt-empty", "0", 0),
    ];
    // The words of a group's row after its name, frame drawn or not.
    let row = |screen: &str, g: &str| -> Vec<String> {
        screen
            .lines()
            .map(|l| l.replace('│', " "))
            .find(|l| l.split_whitespace().next() == Some(g))
            .map(|l| l.split_whitespace().skip(1).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let screen = loop {
        let s = tm.screen();
        // STATE MEMBERS STATUS LAG, then the time.
        if expect
            .iter()
            .all(|(g, lag, _)| row(&s, g).get(3) == Some(&lag.to_string()))
        {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "lags never shown:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let elapsed = (now_ms() - seeded) as f64 / 1000.0;
    for (g, _, age) in expect {
        let r = row(&screen, g);
        let secs =
            shown_seconds(&r[4..]).unwrap_or_else(|| panic!("{g}: no TIME in {r:?}:\n{screen}"));
        let age = age as f64;
        let hi = if age == 0.0 { 0.0 } else { age + elapsed + 2.0 };
        assert!(
            (age - 2.0..=hi).contains(&secs),
            "{g}: TIME {secs} s, expected {age} s (+ up to {elapsed:.0} s of test time):\n{screen}"
        );
    }
    tm.keys(&["q"]);
    tm.wait_for("KT-EXITED-0", Duration::from_secs(20));
}
