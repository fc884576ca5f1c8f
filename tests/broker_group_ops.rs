//! `kafkaterm reset` and `kafkaterm delete-group` against the test broker.
//! Every check of what was committed goes through a plain rdkafka consumer's
//! `committed_offsets` (not kafkaterm's code), so a dry run that wrote, or an
//! execute that wrote something other than its plan, fails here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod common;

use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use common::{Msg, Sandbox, brokers, commit, create_topic, produce, stderr, stdout, unique};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::Value;

/// The group's committed offsets on `topic`'s partitions `0..n`, asked by an
/// independent client (`None`: no commit).
fn committed(b: &str, group: &str, topic: &str, n: i32) -> Vec<Option<i64>> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", b)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..n {
        tpl.add_partition(topic, p);
    }
    let got = c.committed_offsets(tpl, Duration::from_secs(10)).unwrap();
    (0..n)
        .map(|p| match got.find_partition(topic, p).unwrap().offset() {
            Offset::Offset(o) => Some(o),
            _ => None,
        })
        .collect()
}

fn run(sb: &Sandbox, args: &[&str]) -> Output {
    sb.run(args, None)
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed")
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

/// `(partition, current, new, new_lag)` of a plan.
fn plan_rows(v: &Value) -> Vec<(i64, Option<i64>, i64, i64)> {
    v["partitions"]
        .as_array()
        .unwrap_or_else(|| panic!("no partitions in {v}"))
        .iter()
        .map(|r| {
            (
                r["partition"].as_i64().unwrap(),
                r["current"].as_i64(),
                r["new"].as_i64().unwrap(),
                r["new_lag"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// One line on stderr (the error), nothing else.
fn one_line_error(o: &Output) -> String {
    let e = stderr(o);
    assert_eq!(e.trim_end().lines().count(), 1, "not one line: {e:?}");
    e
}

/// A consumer that joins the group (without committing) until dropped.
struct Member {
    stop: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<()>>,
}

impl Member {
    fn join(b: &str, group: &str, topic: &str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let (b, group, topic, s) = (
            b.to_string(),
            group.to_string(),
            topic.to_string(),
            Arc::clone(&stop),
        );
        let handle = thread::spawn(move || {
            let c: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", &b)
                .set("group.id", &group)
                .set("client.id", "test-member")
                .set("session.timeout.ms", "6000")
                .set("enable.auto.commit", "false")
                .create()
                .unwrap();
            c.subscribe(&[&topic]).unwrap();
            let mut told = false;
            while !s.load(Ordering::Relaxed) {
                let _ = c.poll(Duration::from_millis(100));
                if !told && c.assignment().is_ok_and(|a| a.count() > 0) {
                    told = true;
                    let _ = tx.send(());
                }
            }
            c.unsubscribe();
        });
        rx.recv_timeout(Duration::from_secs(30))
            .expect("member got an assignment");
        Self {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

const MINUTE: i64 = 60_000;
const HALF: i64 = 30_000;

/// A topic with 10 records on partition 0 and 6 on partition 1, one a minute
/// from 30 minutes ago (half a minute past each `base + i` minutes, so a
/// relative time a few seconds late still finds the same record), and a
/// group committed at 4 and 3.
fn seeded(b: &str) -> (String, String, i64) {
    let topic = unique("reset");
    let group = unique("g-reset");
    create_topic(b, &topic, 2);
    let base = kafkaterm::timeutil::now_ms() - 30 * MINUTE;
    let mut msgs: Vec<Msg> = (0..10)
        .map(|i| Msg::kv("k", "v").to(0).at(base + i * MINUTE + HALF))
        .collect();
    msgs.extend((0..6).map(|i| Msg::kv("k", "v").to(1).at(base + i * MINUTE + HALF)));
    produce(b, &topic, &msgs);
    commit(b, &group, &topic, &[(0, 4), (1, 3)]);
    (topic, group, base)
}

#[test]
fn every_target_as_dry_run_changes_nothing_and_executed_commits_the_plan() {
    let b = brokers();
    let (topic, group, base) = seeded(&b);
    let sb = Sandbox::new();
    // Between record 2 (base + 2m30s) and record 3 (base + 3m30s).
    let at = (base + 2 * MINUTE + 45_000).to_string();
    let at_arg = format!("@{at}");
    // (arguments after --to, new offsets of p0 and p1); ends are 10 and 6.
    let cases: Vec<(Vec<&str>, [i64; 2])> = vec![
        (vec!["earliest"], [0, 0]),
        (vec!["latest"], [10, 6]),
        (vec!["offset", "5"], [5, 5]),
        (vec!["shift", "-2"], [2, 1]),
        (vec!["shift", "+3"], [7, 6]),
        (vec![&at_arg], [3, 3]),
        (vec!["-25m"], [5, 5]),
    ];
    for (to, want) in &cases {
        commit(&b, &group, &topic, &[(0, 4), (1, 3)]);
        let mut args = vec!["-b", &b, "reset", &group, "--json", "--to"];
        args.extend(to.iter().copied());
        let o = run(&sb, &args);
        assert_eq!(code(&o), 0, "{to:?}: {}", stderr(&o));
        let v = json(&o);
        assert_eq!(v["group"], group.as_str());
        assert_eq!(v["state"], "Empty", "{v}");
        assert_eq!(v["applied"], false);
        assert_eq!(
            plan_rows(&v),
            vec![
                (0, Some(4), want[0], 10 - want[0]),
                (1, Some(3), want[1], 6 - want[1])
            ],
            "{to:?}"
        );
        assert!(stderr(&o).contains("dry run"), "{}", stderr(&o));
        assert_eq!(
            committed(&b, &group, &topic, 2),
            vec![Some(4), Some(3)],
            "{to:?}: a dry run changed the offsets"
        );
        args.push("--execute");
        let o = run(&sb, &args);
        assert_eq!(code(&o), 0, "{to:?}: {}", stderr(&o));
        let v = json(&o);
        assert_eq!(v["applied"], true);
        assert_eq!(plan_rows(&v)[0].2, want[0]);
        assert_eq!(
            committed(&b, &group, &topic, 2),
            vec![Some(want[0]), Some(want[1])],
            "{to:?}: executed is not the plan"
        );
    }
    // The text form: a table with the plan and the dry-run status.
    let o = run(&sb, &["-b", &b, "reset", &group, "--to", "earliest"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("dry run: nothing committed"), "{out}");
    assert!(out.contains("NEW LAG"), "{out}");
    // `--to offset N GROUP` is read as the operator meant it.
    let o = run(
        &sb,
        &["-b", &b, "reset", "--to", "offset", "1", &group, "--json"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(plan_rows(&json(&o))[0].2, 1);
}

#[test]
fn a_live_group_is_refused_and_unchanged() {
    let b = brokers();
    let (topic, group, _) = seeded(&b);
    let member = Member::join(&b, &group, &topic);
    let sb = Sandbox::new();
    for args in [
        vec!["-b", &b, "reset", &group, "--to", "earliest", "--execute"],
        vec!["-b", &b, "reset", &group, "--to", "earliest"],
        vec!["-b", &b, "delete-group", &group, "--execute"],
        vec!["-b", &b, "delete-group", &group],
    ] {
        let o = run(&sb, &args);
        assert_eq!(code(&o), 3, "{args:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains("refused"), "{e}");
        assert!(e.contains("member(s)"), "{e}");
        assert!(e.contains("only") && e.contains("while it is Empty"), "{e}");
        assert_eq!(committed(&b, &group, &topic, 2), vec![Some(4), Some(3)]);
    }
    let o = run(
        &sb,
        &[
            "-b",
            &b,
            "reset",
            &group,
            "--to",
            "latest",
            "--execute",
            "--json",
        ],
    );
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["applied"], false);
    assert!(
        v["refused"].as_str().is_some_and(|r| r.contains("Empty")),
        "{v}"
    );
    drop(member);
    // Once the member left the group is Empty and the same reset applies.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let o = run(
            &sb,
            &["-b", &b, "reset", &group, "--to", "latest", "--execute"],
        );
        if code(&o) == 0 {
            break;
        }
        assert_eq!(code(&o), 3, "{}", stderr(&o));
        assert!(
            std::time::Instant::now() < deadline,
            "still refused: {}",
            stderr(&o)
        );
        thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(committed(&b, &group, &topic, 2), vec![Some(10), Some(6)]);
}

#[test]
fn partition_and_topic_limit_the_scope() {
    let b = brokers();
    let (topic, group, _) = seeded(&b);
    let other = unique("reset-other");
    create_topic(&b, &other, 2);
    produce(
        &b,
        &other,
        &[Msg::kv("a", "b").to(0), Msg::kv("a", "b").to(1)],
    );
    commit(&b, &group, &other, &[(0, 1), (1, 1)]);
    let sb = Sandbox::new();
    let p1 = format!("{topic}:1");
    let o = run(
        &sb,
        &[
            "-b",
            &b,
            "reset",
            &group,
            "--to",
            "earliest",
            "--partition",
            &p1,
            "--execute",
            "--json",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(plan_rows(&json(&o)), vec![(1, Some(3), 0, 6)]);
    assert_eq!(committed(&b, &group, &topic, 2), vec![Some(4), Some(0)]);
    assert_eq!(committed(&b, &group, &other, 2), vec![Some(1), Some(1)]);
    // --topic: every partition of that topic, none of the others.
    let o = run(
        &sb,
        &[
            "-b",
            &b,
            "reset",
            &group,
            "--to",
            "earliest",
            "--topic",
            &other,
            "--execute",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(committed(&b, &group, &other, 2), vec![Some(0), Some(0)]);
    assert_eq!(committed(&b, &group, &topic, 2), vec![Some(4), Some(0)]);
    // Without a scope: every partition the group committed on.
    let o = run(
        &sb,
        &["-b", &b, "reset", &group, "--to", "latest", "--json"],
    );
    assert_eq!(json(&o)["partitions"].as_array().unwrap().len(), 4);
}

#[test]
fn bad_input_is_one_line_nonzero_and_commits_nothing() {
    let b = brokers();
    let (topic, group, base) = seeded(&b);
    let sb = Sandbox::new();
    let before = (base - 10 * MINUTE).to_string();
    let before = format!("@{before}");
    let missing_group = unique("never-existed");
    let p9 = format!("{topic}:9");
    let nope = unique("no-such-topic");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["reset", &missing_group, "--to", "earliest"],
            "does not exist",
        ),
        (
            vec!["reset", &group, "--to", "earliest", "--topic", &nope],
            "unknown topic",
        ),
        (
            vec!["reset", &group, "--to", "earliest", "--partition", &p9],
            "unknown partition",
        ),
        (
            vec!["reset", &group, "--to", "earliest", "--partition", "bad"],
            "TOPIC:N",
        ),
        (
            vec!["reset", &group, "--to", "sideways"],
            "malformed target",
        ),
        (vec!["reset", &group, "--to", "offset"], "needs a number"),
        (
            vec!["reset", &group, "--to", "@not-a-time"],
            "malformed target",
        ),
        (
            vec!["reset", &group, "--to", &before, "--execute"],
            "before the log start",
        ),
        (
            vec!["delete-group", &missing_group, "--execute"],
            "does not exist",
        ),
    ];
    for (args, says) in cases {
        let mut all = vec!["-b", b.as_str()];
        all.extend(args.iter().copied());
        let o = run(&sb, &all);
        assert_eq!(code(&o), 1, "{args:?}: {}", stderr(&o));
        let e = one_line_error(&o);
        assert!(e.contains(says), "{args:?}: {e}");
        assert!(stdout(&o).is_empty(), "{args:?}: {}", stdout(&o));
        assert_eq!(
            committed(&b, &group, &topic, 2),
            vec![Some(4), Some(3)],
            "{args:?}"
        );
    }
    // A shift past either end is clamped, and said.
    let o = run(
        &sb,
        &["-b", &b, "reset", &group, "--to", "shift", "-100", "--json"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        plan_rows(&json(&o)),
        vec![(0, Some(4), 0, 10), (1, Some(3), 0, 6)]
    );
    assert!(
        stderr(&o).contains("clamped to the log start 0"),
        "{}",
        stderr(&o)
    );
    assert_eq!(json(&o)["notes"].as_array().unwrap().len(), 2);
    let o = run(
        &sb,
        &[
            "-b",
            &b,
            "reset",
            &group,
            "--to",
            "shift",
            "100",
            "--execute",
            "--json",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("clamped to the log end 10"),
        "{}",
        stderr(&o)
    );
    assert_eq!(committed(&b, &group, &topic, 2), vec![Some(10), Some(6)]);
    // A command line clap cannot read: its own exit code.
    let o = run(&sb, &["-b", &b, "reset", &group]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

#[test]
fn delete_group_dry_run_then_execute() {
    let b = brokers();
    let (topic, group, _) = seeded(&b);
    let sb = Sandbox::new();
    let o = run(&sb, &["-b", &b, "delete-group", &group, "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["deleted"], false);
    assert_eq!(v["state"], "Empty");
    assert_eq!(v["partitions"].as_array().unwrap().len(), 2);
    assert_eq!(committed(&b, &group, &topic, 2), vec![Some(4), Some(3)]);
    let o = run(&sb, &["-b", &b, "delete-group", &group]);
    assert!(stdout(&o).contains("would delete"), "{}", stdout(&o));
    let o = run(&sb, &["-b", &b, "delete-group", &group, "--execute"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("deleted the group"), "{}", stdout(&o));
    assert_eq!(committed(&b, &group, &topic, 2), vec![None, None]);
    let o = run(&sb, &["-b", &b, "delete-group", &group, "--execute"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
}

#[test]
fn read_only_refuses_both() {
    let b = brokers();
    let (topic, group, _) = seeded(&b);
    let sb = Sandbox::new();
    for args in [
        vec![
            "-b",
            &b,
            "--read-only",
            "reset",
            &group,
            "--to",
            "earliest",
            "--execute",
        ],
        vec!["-b", &b, "--read-only", "reset", &group, "--to", "earliest"],
        vec!["-b", &b, "--read-only", "delete-group", &group, "--execute"],
        vec!["-b", &b, "--read-only", "delete-group", &group],
    ] {
        let o = run(&sb, &args);
        assert_eq!(code(&o), 4, "{args:?}: {}", stderr(&o));
        let e = one_line_error(&o);
        assert!(e.contains("read-only"), "{e}");
        assert_eq!(committed(&b, &group, &topic, 2), vec![Some(4), Some(3)]);
    }
}

/// `watch` on an Empty group with lag and no traffic: one `idle` event
/// naming no members and the time since the group was first seen (or its
/// last commit); never "falling behind" or a rebalance.
#[test]
fn watch_says_an_idle_group_is_idle() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let b = brokers();
    let (_topic, group, _) = seeded(&b);
    let sb = Sandbox::new();
    let mut child = sb
        .cmd()
        .args(["-b", &b, "watch", &group, "--interval", "0.5", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    let idle = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no idle event; saw {seen:?}"));
        let v: Value = serde_json::from_str(&line).unwrap();
        if v["kind"] == "idle" {
            break v;
        }
        seen.push(v);
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(idle["members"], 0, "{idle}");
    assert_eq!(idle["since_first_seen"], true, "{idle}");
    // Besides being seen, the only news is its status: stopped, with lag left.
    assert!(
        seen.iter()
            .all(|v| v["kind"] == "seen" || (v["kind"] == "status_changed" && v["to"] == "STOPPED")),
        "an idle Empty group had other events: {seen:?}"
    );
}
