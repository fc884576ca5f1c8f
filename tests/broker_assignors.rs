//! Group membership, partition owners and partition moves as kafkaterm
//! reports them, checked against what real consumers of another client say.
//! Members are Python confluent-kafka consumers (tests/py/group_members.py)
//! with the `range`, `roundrobin` and `cooperative-sticky` assignors; the test
//! drives them step by step (join, leave, commit) and waits for the group to
//! settle, as both the consumers and the broker see it, before each check:
//!
//! - `lag GROUP --json` names, for every partition, the member that really
//!   owns it (per the consumer's own `assignment()`), lists each member with
//!   its client id, host and partitions, and lists partitions the group owns
//!   but never committed with `committed` and `lag` null;
//!   `groups --json` shows the assignor;
//! - while `watch GROUP --json` runs, a member joins and then one leaves:
//!   it reports `member_joined` / `member_left` for exactly those members and
//!   one `partition_moved` for each partition whose owner really changed,
//!   from its old owner to its new one, and no other.
//!
//! Needs the patched nisshi broker (scripts/install-broker.sh) and the test
//! Python environment (scripts/python-env.sh); scripts/test.sh provides both.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use common::{Msg, Sandbox, brokers, create_topic, produce, stderr, unique};
use serde_json::Value;

const PARTITIONS: i32 = 6;
/// Messages in every partition.
const MESSAGES: i64 = 10;
const SETTLE: Duration = Duration::from_secs(90);
const EVENT: Duration = Duration::from_secs(30);

/// The interpreter of the test Python environment. Missing, the test fails:
/// run the suite with scripts/test.sh.
fn python() -> String {
    std::env::var("KAFKATERM_PYTHON").expect(
        "KAFKATERM_PYTHON is not set: run the suite with scripts/test.sh, which creates the test Python environment (scripts/python-env.sh)",
    )
}

/// Read a child's output: JSON lines into a channel, anything else kept.
fn read_lines(out: impl Read + Send + 'static) -> mpsc::Receiver<Value> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line)
                && tx.send(v).is_err()
            {
                return;
            }
        }
    });
    rx
}

/// Collect a child's stderr, to show when something goes wrong.
fn keep(err: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let kept = Arc::new(Mutex::new(String::new()));
    let k = Arc::clone(&kept);
    thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let mut k = k.lock().unwrap();
            k.push_str(&line);
            k.push('\n');
        }
    });
    kept
}

fn tail(s: &Arc<Mutex<String>>) -> String {
    let s = s.lock().unwrap();
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// One consumer as it sees itself.
#[derive(Debug, Clone)]
struct Consumer {
    index: u64,
    client_id: String,
    member_id: String,
    /// Partitions of the test topic it owns.
    assignment: Vec<i64>,
}

/// The group once it settled: every consumer's own view.
#[derive(Debug, Clone)]
struct Settled {
    consumers: Vec<Consumer>,
    raw: Value,
}

impl Settled {
    fn owners(&self) -> BTreeMap<i64, String> {
        self.consumers
            .iter()
            .flat_map(|c| c.assignment.iter().map(|p| (*p, c.member_id.clone())))
            .collect()
    }
    fn by_index(&self, index: u64) -> &Consumer {
        self.consumers
            .iter()
            .find(|c| c.index == index)
            .unwrap_or_else(|| panic!("no consumer {index} in {:#}", self.raw))
    }
}

/// The Python consumers, driven line by line.
struct Members {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<Value>,
    err: Arc<Mutex<String>>,
    topic: String,
    /// Commands carried out so far.
    commands: u64,
}

impl Members {
    fn start(b: &str, topic: &str, group: &str, assignor: &str, members: usize) -> Self {
        let python = python();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/group_members.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .args(["--brokers", b, "--topic", topic, "--group", group])
            .args(["--assignor", assignor, "--members", &members.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python} {}: {e}", script.display()));
        let lines = read_lines(child.stdout.take().unwrap());
        let err = keep(child.stderr.take().unwrap());
        Self {
            stdin: child.stdin.take(),
            child,
            lines,
            err,
            topic: topic.to_string(),
            commands: 0,
        }
    }

    fn next(&self, deadline: Instant, waiting_for: &str) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        self.lines.recv_timeout(left).unwrap_or_else(|_| {
            panic!(
                "the consumers gave no {waiting_for} in time; their stderr:\n{}",
                tail(&self.err)
            )
        })
    }

    /// Send one command and wait until it was carried out.
    fn send(&mut self, command: &str) -> Value {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{command}").unwrap();
        stdin.flush().unwrap();
        let deadline = Instant::now() + SETTLE;
        loop {
            let v = self.next(deadline, &format!("answer to {command:?}"));
            match v["kind"].as_str() {
                Some("ack") => {
                    self.commands = v["commands"].as_u64().unwrap();
                    return v;
                }
                Some("error") => panic!("the consumers could not {command:?}: {v}"),
                _ => {}
            }
        }
    }

    /// While consumers are held: wait until the broker shows a Stable group
    /// of `members` members in which some partitions have no owner (the
    /// first round of a cooperative rebalance); returns each member's
    /// partitions as the broker reports them.
    fn stable_partial(&self, members: usize) -> BTreeMap<String, Vec<i64>> {
        let deadline = Instant::now() + SETTLE;
        loop {
            let v = self.next(
                deadline,
                &format!("Stable first round with {members} members"),
            );
            if v["kind"] != "stable" || v["commands"].as_u64() != Some(self.commands) {
                continue;
            }
            let listed = v["broker"]["members"].as_array().unwrap();
            let by_member: BTreeMap<String, Vec<i64>> = listed
                .iter()
                .map(|m| {
                    let parts = m["assignment"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|tp| tp[1].as_i64().unwrap())
                        .collect();
                    (m["member_id"].as_str().unwrap().to_string(), parts)
                })
                .collect();
            let owned: usize = by_member.values().map(Vec::len).sum();
            if by_member.len() == members && owned < PARTITIONS as usize {
                return by_member;
            }
        }
    }

    /// Wait until the group settled with `members` consumers after the last command.
    fn settled(&self, members: usize) -> Settled {
        let deadline = Instant::now() + SETTLE;
        loop {
            let v = self.next(deadline, &format!("settled group of {members}"));
            if v["kind"] != "settled" || v["commands"].as_u64() != Some(self.commands) {
                continue;
            }
            let consumers: Vec<Consumer> = v["consumers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| Consumer {
                    index: c["index"].as_u64().unwrap(),
                    client_id: c["client_id"].as_str().unwrap().to_string(),
                    member_id: c["member_id"].as_str().unwrap().to_string(),
                    assignment: c["assignment"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|tp| {
                            assert_eq!(tp[0], self.topic.as_str());
                            tp[1].as_i64().unwrap()
                        })
                        .collect(),
                })
                .collect();
            if consumers.len() == members {
                return Settled { consumers, raw: v };
            }
        }
    }
}

impl Drop for Members {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = writeln!(stdin, "quit");
        }
        // Closing consumers sends LeaveGroup; give them the time it takes.
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A topic with `MESSAGES` messages in each of its partitions.
fn topic_with_messages(b: &str, prefix: &str) -> String {
    let topic = unique(prefix);
    create_topic(b, &topic, PARTITIONS);
    let msgs: Vec<Msg> = (0..PARTITIONS)
        .flat_map(|p| (0..MESSAGES).map(move |i| Msg::kv(&format!("k{p}-{i}"), "v").to(p)))
        .collect();
    produce(b, &topic, &msgs);
    topic
}

fn expected_host(b: &str) -> Option<&'static str> {
    b.starts_with("127.0.0.1:").then_some("/127.0.0.1")
}

fn check_owners_and_members(assignor: &str) {
    let b = brokers();
    let topic = topic_with_messages(&b, &format!("owners-{assignor}"));
    let group = unique(&format!("g-owners-{assignor}"));
    let mut members = Members::start(&b, &topic, &group, assignor, 3);
    let settled = members.settled(3);
    let owners = settled.owners();
    assert_eq!(owners.len(), PARTITIONS as usize, "{:#}", settled.raw);
    let sb = Sandbox::new();

    let v = sb.run_json(&["-b", &b, "lag", &group, "--json"]);
    println!("{assignor}: consumers {:#}", settled.raw["consumers"]);
    println!("{assignor}: kafkaterm lag --json {v:#}");
    assert_eq!(v["group"], group.as_str());
    assert_eq!(v["state"], "Stable", "{v:#}");
    assert_eq!(v["protocol_type"], "consumer", "{v:#}");
    assert_eq!(v["assignor"], assignor, "{v:#}");

    // Every member, as the consumer itself reports it.
    let listed = v["members"].as_array().unwrap();
    assert_eq!(listed.len(), 3, "{v:#}");
    for c in &settled.consumers {
        let m = listed
            .iter()
            .find(|m| m["member_id"] == c.member_id.as_str())
            .unwrap_or_else(|| panic!("{assignor}: member {} not listed: {v:#}", c.member_id));
        assert_eq!(m["client_id"], c.client_id.as_str(), "{m}");
        let host = m["host"].as_str().unwrap();
        match expected_host(&b) {
            Some(h) => assert_eq!(host, h, "{m}"),
            None => assert!(host.starts_with('/') && host.len() > 1, "{m}"),
        }
        let mut assignments: Vec<i64> = m["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                assert_eq!(a["topic"], topic.as_str(), "{m}");
                a["partition"].as_i64().unwrap()
            })
            .collect();
        assignments.sort_unstable();
        assert_eq!(
            assignments, c.assignment,
            "{assignor}: partitions of {} ({})",
            c.member_id, c.client_id
        );
        assert_eq!(m["assignment_note"], Value::Null, "{m}");
    }

    // Every partition with its real owner. Nothing was committed: each is
    // listed all the same, with no committed offset and no lag, as
    // kafka-consumer-groups.sh shows "-" for both.
    let rows = v["partitions"].as_array().unwrap();
    let mut seen: Vec<i64> = rows
        .iter()
        .map(|r| r["partition"].as_i64().unwrap())
        .collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (0..i64::from(PARTITIONS)).collect::<Vec<_>>(),
        "{v:#}"
    );
    for r in rows {
        let p = r["partition"].as_i64().unwrap();
        assert_eq!(r["topic"], topic.as_str());
        assert_eq!(
            r["member_id"],
            owners[&p].as_str(),
            "{assignor}: owner of partition {p}"
        );
        assert_eq!(r["committed"], Value::Null, "{r}");
        assert_eq!(r["lag"], Value::Null, "{r}");
        assert_eq!(r["end"], MESSAGES, "{r}");
        assert_eq!(r["error"], Value::Null, "{r}");
    }
    assert_eq!(v["total_lag"], 0, "{v:#}");

    let all = sb.run_json(&["-b", &b, "groups", "--json"]);
    let g = all
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == group.as_str())
        .unwrap_or_else(|| panic!("{group} not in groups --json: {all:#}"));
    assert_eq!(g["assignor"], assignor, "{g}");
    assert_eq!(g["protocol_type"], "consumer", "{g}");
    assert_eq!(g["members"], 3, "{g}");
    assert_eq!(g["state"], "Stable", "{g}");
    assert_eq!(g["topics"], serde_json::json!([topic]), "{g}");

    // One partition committed by its owner: that one has a lag, the others
    // are still listed without.
    let ack = members.send("commit 4 3");
    let v = sb.run_json(&["-b", &b, "lag", &group, "--json"]);
    for r in v["partitions"].as_array().unwrap() {
        let p = r["partition"].as_i64().unwrap();
        assert_eq!(r["member_id"], owners[&p].as_str(), "{r}");
        if p == 4 {
            assert_eq!(
                (r["committed"].as_i64(), r["lag"].as_i64()),
                (Some(3), Some(MESSAGES - 3)),
                "{r} after {ack}"
            );
        } else {
            assert_eq!(
                (&r["committed"], &r["lag"]),
                (&Value::Null, &Value::Null),
                "{r}"
            );
        }
    }
    assert_eq!(
        v["partitions"].as_array().unwrap().len(),
        PARTITIONS as usize,
        "{v:#}"
    );
    assert_eq!(v["total_lag"], MESSAGES - 3, "{v:#}");

    // The text view names each owner as well.
    let o = sb.run(&["-b", &b, "lag", &group], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = common::stdout(&o);
    for (p, owner) in &owners {
        assert!(
            text.lines().any(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                w.first() == Some(&topic.as_str())
                    && w.get(1) == Some(&p.to_string().as_str())
                    && w.last() == Some(&owner.as_str())
            }),
            "partition {p} owned by {owner}:\n{text}"
        );
    }
}

/// `kafkaterm watch GROUP --json`, its events as they come.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<Value>,
    err: Arc<Mutex<String>>,
}

impl Watch {
    fn start(sb: &Sandbox, b: &str, group: &str) -> Self {
        let mut child = sb
            .cmd()
            .args(["-b", b, "watch", group, "--interval", "0.3", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = read_lines(child.stdout.take().unwrap());
        let err = keep(child.stderr.take().unwrap());
        Self { child, lines, err }
    }

    /// Every event up to and including the first that `done` accepts.
    fn until(&self, what: &str, done: impl Fn(&Value) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + EVENT;
        let mut out = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self.lines.recv_timeout(left).unwrap_or_else(|_| {
                panic!(
                    "watch: no {what} within {EVENT:?}; events so far: {out:#?}\nstderr:\n{}",
                    tail(&self.err)
                )
            });
            let last = done(&v);
            out.push(v);
            if last {
                return out;
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A point after which watch has reported everything about the group as it
/// stands: the owner of partition 0 commits a new offset and watch reports
/// the lag it makes, twice. The second refresh began after the first had
/// seen the commit, which the group made after it had settled, so it saw the
/// settled group. Returns the events up to there.
fn barrier(members: &mut Members, watch: &Watch, commits: &mut i64) -> Vec<Value> {
    let mut out = Vec::new();
    for _ in 0..2 {
        *commits += 1;
        members.send(&format!("commit 0 {commits}"));
        let lag = MESSAGES - *commits;
        out.extend(watch.until(&format!("lag_changed to {lag}"), |v| {
            v["kind"] == "lag_changed" && v["to"] == lag
        }));
    }
    out
}

fn of_kind<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["kind"] == kind).collect()
}

type Move = (i64, Option<String>, Option<String>);

/// The partitions whose owner changed from `before` to `after`.
fn real_moves(before: &Settled, after: &Settled) -> Vec<Move> {
    let (b, a) = (before.owners(), after.owners());
    (0..i64::from(PARTITIONS))
        .filter(|p| b.get(p) != a.get(p))
        .map(|p| (p, b.get(&p).cloned(), a.get(&p).cloned()))
        .collect()
}

fn reported_moves(events: &[Value], topic: &str) -> Vec<Move> {
    let mut out: Vec<Move> = of_kind(events, "partition_moved")
        .into_iter()
        .map(|e| {
            assert_eq!(e["topic"], topic, "{e}");
            (
                e["partition"].as_i64().unwrap(),
                e["from"].as_str().map(str::to_string),
                e["to"].as_str().map(str::to_string),
            )
        })
        .collect();
    out.sort();
    out
}

fn check_rebalance_events(assignor: &str) {
    let b = brokers();
    let topic = topic_with_messages(&b, &format!("moves-{assignor}"));
    let group = unique(&format!("g-moves-{assignor}"));
    let mut members = Members::start(&b, &topic, &group, assignor, 2);
    let before = members.settled(2);
    let sb = Sandbox::new();
    let watch = Watch::start(&sb, &b, &group);
    let mut commits = 0;

    let seen = watch.until("seen", |v| v["kind"] == "seen");
    let seen = seen.last().unwrap();
    assert_eq!(
        (&seen["state"], &seen["members"]),
        (&Value::from("Stable"), &Value::from(2)),
        "{seen}"
    );
    let quiet = barrier(&mut members, &watch, &mut commits);
    for kind in ["member_joined", "member_left", "partition_moved"] {
        assert!(
            of_kind(&quiet, kind).is_empty(),
            "{assignor}: nothing changed yet: {quiet:#?}"
        );
    }

    // A third member joins.
    let cooperative = assignor == "cooperative-sticky";
    let mut events = Vec::new();
    let ack = if cooperative {
        // Hold the first members in the first round, in which they give up
        // the partitions the newcomer will get, until watch has seen it:
        // those partitions are Stable without an owner for a while, and
        // must not be reported as moved there.
        members.send("hold 0");
        members.send("hold 1");
        let ack = members.send("join");
        let first_round = members.stable_partial(3);
        events = barrier(&mut members, &watch, &mut commits);
        println!("{assignor}: first round {first_round:?}\n  events {events:#?}");
        assert_eq!(
            reported_moves(&events, &topic),
            vec![],
            "{assignor}: nothing has moved yet in the first round {first_round:?}"
        );
        members.send("release 0");
        members.send("release 1");
        ack
    } else {
        members.send("join")
    };
    let joined = members.settled(3);
    let newcomer = joined.by_index(ack["index"].as_u64().unwrap()).clone();
    events.extend(barrier(&mut members, &watch, &mut commits));
    println!(
        "{assignor}: before {:?}\n  after join {:?}\n  events {events:#?}",
        before.owners(),
        joined.owners()
    );
    let j = of_kind(&events, "member_joined");
    assert_eq!(j.len(), 1, "{assignor}: one member joined: {events:#?}");
    assert_eq!(j[0]["member_id"], newcomer.member_id.as_str(), "{}", j[0]);
    assert_eq!(j[0]["client_id"], newcomer.client_id.as_str(), "{}", j[0]);
    if let Some(h) = expected_host(&b) {
        assert_eq!(j[0]["host"], h, "{}", j[0]);
    }
    assert!(of_kind(&events, "member_left").is_empty(), "{events:#?}");
    let real = real_moves(&before, &joined);
    assert!(!real.is_empty(), "{assignor}: a newcomer takes partitions");
    assert_eq!(
        reported_moves(&events, &topic),
        real,
        "{assignor}: partition moves on join, as (partition, from, to)"
    );
    if cooperative {
        // 3 + 3 partitions become 2 + 2 + 2: only the newcomer's two move.
        assert_eq!(real.len(), 2, "{real:?}");
        assert!(
            real.iter()
                .all(|(_, _, to)| to.as_deref() == Some(newcomer.member_id.as_str())),
            "{real:?}"
        );
    }

    // One of the first members leaves.
    let ack = members.send("leave 0");
    let leaver = joined.by_index(0).clone();
    assert_eq!(ack["member_id"], leaver.member_id.as_str());
    let left = members.settled(2);
    let events = barrier(&mut members, &watch, &mut commits);
    println!(
        "{assignor}: after leave {:?}\n  events {events:#?}",
        left.owners()
    );
    let l = of_kind(&events, "member_left");
    assert_eq!(l.len(), 1, "{assignor}: one member left: {events:#?}");
    assert_eq!(l[0]["member_id"], leaver.member_id.as_str(), "{}", l[0]);
    assert_eq!(l[0]["client_id"], leaver.client_id.as_str(), "{}", l[0]);
    assert!(of_kind(&events, "member_joined").is_empty(), "{events:#?}");
    let real = real_moves(&joined, &left);
    assert!(
        real.iter()
            .any(|(_, from, _)| from.as_deref() == Some(leaver.member_id.as_str())),
        "{real:?}"
    );
    assert_eq!(
        reported_moves(&events, &topic),
        real,
        "{assignor}: partition moves on leave, as (partition, from, to)"
    );
    if cooperative {
        // Only the leaver's partitions move.
        let leavers: Vec<i64> = leaver.assignment.clone();
        assert_eq!(
            real.iter().map(|m| m.0).collect::<Vec<_>>(),
            leavers,
            "{real:?}"
        );
    }
}

#[test]
fn range_owners_and_members() {
    check_owners_and_members("range");
}

#[test]
fn roundrobin_owners_and_members() {
    check_owners_and_members("roundrobin");
}

#[test]
fn cooperative_sticky_owners_and_members() {
    check_owners_and_members("cooperative-sticky");
}

#[test]
fn range_rebalance_events() {
    check_rebalance_events("range");
}

#[test]
fn roundrobin_rebalance_events() {
    check_rebalance_events("roundrobin");
}

#[test]
fn cooperative_sticky_rebalance_events() {
    check_rebalance_events("cooperative-sticky");
}

/// The console, as a user sees it over tmux: the Members tab lists each
/// real consumer with its client id, host and the partitions it reports
/// owning; after a third member joins, the Rebalances tab shows the join
/// and exactly the partitions that really moved.
#[test]
fn members_and_rebalances_tabs_end_to_end() {
    let b = brokers();
    let topic = topic_with_messages(&b, "e2e-members");
    let group = unique("g-e2e");
    let mut members = Members::start(&b, &topic, &group, "range", 2);
    let before = members.settled(2);
    let tm = common::Tmux::start(&["-b", &b], 160, 30);
    tm.wait_for("Topics", EVENT);
    tm.keys(&["4", "/"]);
    tm.type_text(&group);
    tm.keys(&["Enter"]);
    tm.wait_for("Consumer groups 1", EVENT);
    tm.keys(&["Enter"]);
    tm.wait_for(&format!("Group {group}"), EVENT);
    tm.keys(&["Tab"]);
    for c in &before.consumers {
        let parts: Vec<String> = c.assignment.iter().map(i64::to_string).collect();
        let owned = format!("{topic}[{}]", parts.join(","));
        let s = tm.wait_for(&owned, EVENT);
        assert!(s.contains(&c.client_id), "{} missing:\n{s}", c.client_id);
    }
    let s = tm.wait_for("/127.0.0.1", EVENT);
    assert!(s.contains(&before.consumers[0].client_id), "{s}");
    members.send("join");
    let after = members.settled(3);
    let moves = real_moves(&before, &after);
    assert!(!moves.is_empty(), "a third range member takes partitions");
    tm.keys(&["Tab", "Tab"]);
    let s = tm.wait_for("member joined", EVENT);
    assert!(s.contains("Rebalances"), "{s}");
    for (p, _, _) in &moves {
        tm.wait_for(&format!("{topic}/{p} moved"), EVENT);
    }
    // Nothing else is said to have moved.
    let s = tm.screen();
    let said = s.matches(" moved ").count();
    assert_eq!(said, moves.len(), "moves on screen vs real {moves:?}:\n{s}");
    tm.keys(&["q"]);
    tm.wait_for("KT-EXITED-0", EVENT);
}
