//! Lag in time and group health against the real test broker, with real
//! consumers (rdkafka consumers of the test's own, not kafkaterm's) driving
//! each status: OK, LAGGING, STALLED, STOPPED, EMPTY, REBALANCING.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::{Msg, Sandbox, brokers, commit, create_topic, now_ms, produce, stderr, unique};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde_json::Value;

const SETTLE: Duration = Duration::from_secs(60);

fn lag(sb: &Sandbox, b: &str, group: &str, window: &str) -> Value {
    sb.run_json(&["-b", b, "lag", group, "--json", "--window", window])
}

fn listed(sb: &Sandbox, b: &str, group: &str) -> Value {
    let all = sb.run_json(&["-b", b, "groups", "--json"]);
    all.as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == group)
        .cloned()
        .unwrap_or_else(|| panic!("{group} not listed in {all:#}"))
}

/// `lag --json` again and again until `done` holds for it.
fn lag_until(
    sb: &Sandbox,
    b: &str,
    group: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + SETTLE;
    loop {
        let v = lag(sb, b, group, "0");
        if done(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "never {what}; last: {v:#}");
        thread::sleep(Duration::from_millis(300));
    }
}

/// What a member does on each turn of its poll loop.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Poll, never commit.
    NoCommits,
    /// Commit every record it reads.
    CommitAll,
    /// Commit the offset in `target` whenever it changes.
    CommitTarget,
}

/// A real group member on its own thread: subscribed, polling until
/// `held` is set (then it keeps its membership through librdkafka's
/// heartbeats but serves no rebalance) or until dropped.
struct Member {
    stop: Arc<AtomicBool>,
    held: Arc<AtomicBool>,
    assigned: Arc<AtomicBool>,
    target: Arc<AtomicI64>,
    thread: Option<JoinHandle<()>>,
}

impl Member {
    fn start(b: &str, group: &str, topic: &str, mode: Mode) -> Self {
        let c: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", b)
            .set("group.id", group)
            .set("client.id", format!("{group}-member"))
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("partition.assignment.strategy", "range")
            .create()
            .unwrap();
        c.subscribe(&[topic]).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let held = Arc::new(AtomicBool::new(false));
        let assigned = Arc::new(AtomicBool::new(false));
        let target = Arc::new(AtomicI64::new(-1));
        let (s, h, a, t) = (stop.clone(), held.clone(), assigned.clone(), target.clone());
        let topic = topic.to_string();
        let thread = thread::spawn(move || {
            let mut committed = -1;
            while !s.load(Ordering::SeqCst) {
                if h.load(Ordering::SeqCst) {
                    thread::sleep(Duration::from_millis(20));
                    continue;
                }
                let m = c.poll(Duration::from_millis(50));
                if c.assignment().is_ok_and(|a| a.count() > 0) {
                    a.store(true, Ordering::SeqCst);
                }
                match mode {
                    Mode::NoCommits => {}
                    Mode::CommitAll => {
                        if let Some(Ok(m)) = m {
                            let mut tpl = TopicPartitionList::new();
                            tpl.add_partition_offset(
                                m.topic(),
                                m.partition(),
                                Offset::Offset(m.offset() + 1),
                            )
                            .unwrap();
                            let _ = c.commit(&tpl, CommitMode::Sync);
                        }
                    }
                    Mode::CommitTarget => {
                        let want = t.load(Ordering::SeqCst);
                        if want >= 0 && want != committed {
                            let mut tpl = TopicPartitionList::new();
                            tpl.add_partition_offset(&topic, 0, Offset::Offset(want))
                                .unwrap();
                            if c.commit(&tpl, CommitMode::Sync).is_ok() {
                                committed = want;
                            }
                        }
                    }
                }
            }
            c.unsubscribe();
        });
        Self {
            stop,
            held,
            assigned,
            target,
            thread: Some(thread),
        }
    }

    fn wait_assigned(&self) {
        let deadline = Instant::now() + SETTLE;
        while !self.assigned.load(Ordering::SeqCst) {
            assert!(
                Instant::now() < deadline,
                "the member was never assigned a partition"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.held.store(false, Ordering::SeqCst);
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn msgs(n: usize, at: Option<i64>) -> Vec<Msg> {
    (0..n)
        .map(|i| {
            let m = Msg::kv(&format!("k{i}"), "v").to(0);
            match at {
                Some(ts) => m.at(ts),
                None => m,
            }
        })
        .collect()
}

#[test]
fn lag_in_seconds_is_the_age_of_the_next_record() {
    let b = brokers();
    let topic = unique("lagtime");
    let group = unique("g-lagtime");
    create_topic(&b, &topic, 2);
    let now = now_ms();
    // Partition 0: 3 records from 5 minutes ago, then one from 120 s ago
    // (offset 3), then 2 recent ones. Partition 1: 2 records, all read.
    let mut all = msgs(3, Some(now - 300_000));
    all.extend(msgs(1, Some(now - 120_000)));
    all.extend(msgs(2, Some(now - 10_000)));
    all.extend((0..2).map(|i| Msg::kv(&format!("p1-{i}"), "v").to(1).at(now - 60_000)));
    produce(&b, &topic, &all);
    commit(&b, &group, &topic, &[(0, 3), (1, 2)]);
    let sb = Sandbox::new();
    let v = lag(&sb, &b, &group, "0");
    let row = |p: i64| {
        v["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["partition"] == p)
            .cloned()
            .unwrap()
    };
    let secs = row(0)["lag_seconds"]
        .as_f64()
        .unwrap_or_else(|| panic!("no lag_seconds in {v:#}"));
    // The command ran a moment after `now`: 120 s plus that moment.
    let elapsed = (now_ms() - now) as f64 / 1000.0;
    assert!(
        (115.0..=125.0 + elapsed).contains(&secs),
        "lag_seconds {secs}, expected 120 ± 5 (+{elapsed:.1} s of test time)"
    );
    assert_eq!(row(0)["lag_seconds_estimated"], false);
    assert_eq!(row(1)["lag"], 0);
    assert_eq!(row(1)["lag_seconds"], 0.0);
    assert_eq!(v["max_lag_seconds"], row(0)["lag_seconds"]);
    let g = listed(&sb, &b, &group);
    let max = g["max_lag_seconds"].as_f64().unwrap();
    assert!(
        (115.0..=125.0 + (now_ms() - now) as f64 / 1000.0).contains(&max),
        "{g:#}"
    );
    // A group whose committed offset has no record yet: caught up, 0.
    commit(&b, &group, &topic, &[(0, 6)]);
    let v = lag(&sb, &b, &group, "0");
    assert_eq!(v["max_lag_seconds"], 0.0, "{v:#}");
    // Text output says it too.
    commit(&b, &group, &topic, &[(0, 3)]);
    let o = sb.run(&["-b", &b, "lag", &group], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("lag in time: 2m "), "{text}");
}

#[test]
fn statuses_without_members_empty_and_stopped() {
    let b = brokers();
    let topic = unique("health-idle");
    create_topic(&b, &topic, 1);
    produce(&b, &topic, &msgs(10, None));
    let sb = Sandbox::new();
    let empty = unique("g-empty");
    commit(&b, &empty, &topic, &[(0, 10)]);
    let v = lag(&sb, &b, &empty, "0");
    assert_eq!(v["status"], "EMPTY", "{v:#}");
    assert_eq!(listed(&sb, &b, &empty)["status"], "EMPTY");
    let stopped = unique("g-stopped");
    commit(&b, &stopped, &topic, &[(0, 4)]);
    let v = lag(&sb, &b, &stopped, "0");
    assert_eq!(v["status"], "STOPPED", "{v:#}");
    assert_eq!(
        v["status_reason"], "no members while 6 message(s) wait",
        "{v:#}"
    );
    assert_eq!(v["partitions"][0]["status"], "STOPPED");
    assert_eq!(listed(&sb, &b, &stopped)["status"], "STOPPED");
}

#[test]
fn a_member_that_keeps_up_is_ok_and_one_that_never_commits_is_stalled() {
    let b = brokers();
    let topic = unique("health-live");
    create_topic(&b, &topic, 1);
    produce(&b, &topic, &msgs(20, None));
    let sb = Sandbox::new();

    let ok = unique("g-ok");
    let m = Member::start(&b, &ok, &topic, Mode::CommitAll);
    m.wait_assigned();
    let v = lag_until(&sb, &b, &ok, "caught up with a member", |v| {
        v["partitions"][0]["lag"] == 0
            && v["members"].as_array().is_some_and(|m| m.len() == 1)
            && v["state"] == "Stable"
    });
    assert_eq!(v["status"], "OK", "{v:#}");
    assert_eq!(v["partitions"][0]["status"], "OK");
    drop(m);

    // Committed at 5 before it joins; it reads but never commits.
    let stalled = unique("g-stalled");
    commit(&b, &stalled, &topic, &[(0, 5)]);
    let m = Member::start(&b, &stalled, &topic, Mode::NoCommits);
    m.wait_assigned();
    lag_until(&sb, &b, &stalled, "Stable with a member", |v| {
        v["state"] == "Stable" && v["members"].as_array().is_some_and(|m| m.len() == 1)
    });
    // One look cannot tell a lagging group from a stalled one.
    let v = lag(&sb, &b, &stalled, "0");
    assert_eq!(v["status"], Value::Null, "{v:#}");
    let v = lag(&sb, &b, &stalled, "2");
    assert_eq!(v["status"], "STALLED", "{v:#}");
    assert!(
        v["status_reason"]
            .as_str()
            .unwrap()
            .contains("15 message(s) wait"),
        "{v:#}"
    );
    assert_eq!(v["partitions"][0]["status"], "STALLED");
    drop(m);
}

#[test]
fn a_member_slower_than_its_producer_is_lagging() {
    let b = brokers();
    let topic = unique("health-lagging");
    let group = unique("g-lagging");
    create_topic(&b, &topic, 1);
    produce(&b, &topic, &msgs(10, None));
    commit(&b, &group, &topic, &[(0, 1)]);
    let m = Member::start(&b, &group, &topic, Mode::CommitTarget);
    m.wait_assigned();
    let sb = Sandbox::new();
    lag_until(&sb, &b, &group, "Stable with a member", |v| {
        v["state"] == "Stable" && v["members"].as_array().is_some_and(|m| m.len() == 1)
    });
    // While `lag --window 3` looks twice, the producer writes 10 records
    // for every one the member commits.
    let child = sb
        .cmd()
        .args(["-b", &b, "lag", &group, "--json", "--window", "3"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    let (bb, tt) = (b.clone(), topic.clone());
    let target = m.target.clone();
    let driver = thread::spawn(move || {
        let mut next = 2;
        while !d.load(Ordering::SeqCst) {
            produce(&bb, &tt, &msgs(10, None));
            target.store(next, Ordering::SeqCst);
            next += 1;
            thread::sleep(Duration::from_millis(150));
        }
    });
    let o = child.wait_with_output().unwrap();
    done.store(true, Ordering::SeqCst);
    driver.join().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"], "LAGGING", "{v:#}");
    assert!(
        v["status_reason"]
            .as_str()
            .unwrap()
            .contains("producers outpace the group"),
        "{v:#}"
    );
    assert_eq!(v["partitions"][0]["status"], "LAGGING");
    drop(m);
}

#[test]
fn a_rebalance_in_progress_is_rebalancing() {
    let b = brokers();
    let topic = unique("health-rebalance");
    let group = unique("g-rebalance");
    create_topic(&b, &topic, 2);
    produce(&b, &topic, &msgs(4, None));
    let first = Member::start(&b, &group, &topic, Mode::NoCommits);
    first.wait_assigned();
    let sb = Sandbox::new();
    lag_until(&sb, &b, &group, "Stable with a member", |v| {
        v["state"] == "Stable" && v["members"].as_array().is_some_and(|m| m.len() == 1)
    });
    // The first member stops serving rebalances; a second one joins: the
    // group waits in PreparingRebalance for the first to rejoin.
    first.held.store(true, Ordering::SeqCst);
    let second = Member::start(&b, &group, &topic, Mode::NoCommits);
    let v = lag_until(&sb, &b, &group, "rebalancing", |v| {
        v["status"] == "REBALANCING"
    });
    let state = v["state"].as_str().unwrap();
    assert!(
        state == "PreparingRebalance" || state == "CompletingRebalance",
        "{v:#}"
    );
    first.held.store(false, Ordering::SeqCst);
    drop(second);
    drop(first);
}
