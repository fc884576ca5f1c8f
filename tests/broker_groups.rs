//! Consumer groups against the real test broker: lag arithmetic after known
//! produce/commit sequences, rebalance events as members come and go, offset
//! resets that do exactly what the dry run said, group deletion, read-only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use common::{Msg, Sandbox, brokers, commit, create_topic, produce, rt, stderr, unique};
use kafkaterm::config::ClusterProfile;
use kafkaterm::headless::ask;
use kafkaterm::model::TopicPartition;
use kafkaterm::worker::protocol::{Command, ResetRow, ResetTarget, WorkerEvent};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::Value;

fn lag_json(sb: &Sandbox, b: &str, group: &str) -> Value {
    let o = sb.run(&["-b", b, "lag", group, "--json"], None);
    assert!(o.status.success(), "lag failed: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn partition_row(v: &Value, p: i64) -> &Value {
    v["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["partition"] == p)
        .unwrap_or_else(|| panic!("no partition {p} in {v}"))
}

#[test]
fn lag_is_end_offset_minus_committed_offset() {
    let b = brokers();
    let topic = unique("lag");
    let group = unique("g-lag");
    create_topic(&b, &topic, 3);
    let mut msgs: Vec<Msg> = (0..10)
        .map(|i| Msg::kv(&format!("a{i}"), "x").to(0))
        .collect();
    msgs.extend((0..5).map(|i| Msg::kv(&format!("b{i}"), "x").to(1)));
    produce(&b, &topic, &msgs);
    commit(&b, &group, &topic, &[(0, 4), (1, 5)]);
    let sb = Sandbox::new();
    let v = lag_json(&sb, &b, &group);
    assert_eq!(v["group"], group.as_str());
    let p0 = partition_row(&v, 0);
    assert_eq!(
        (
            p0["committed"].as_i64(),
            p0["end"].as_i64(),
            p0["lag"].as_i64()
        ),
        (Some(4), Some(10), Some(6))
    );
    assert_eq!(p0["member_id"], Value::Null);
    let p1 = partition_row(&v, 1);
    assert_eq!(
        (
            p1["committed"].as_i64(),
            p1["end"].as_i64(),
            p1["lag"].as_i64()
        ),
        (Some(5), Some(5), Some(0))
    );
    assert!(
        v["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["partition"] != 2)
    );
    assert_eq!(v["total_lag"], 6);
    assert_eq!(v["members"].as_array().unwrap().len(), 0);

    // More traffic and a new commit: the figures follow.
    produce(
        &b,
        &topic,
        &(0..3)
            .map(|i| Msg::kv(&format!("c{i}"), "x").to(1))
            .collect::<Vec<_>>(),
    );
    commit(&b, &group, &topic, &[(0, 10)]);
    let v = lag_json(&sb, &b, &group);
    assert_eq!(partition_row(&v, 0)["lag"], 0);
    assert_eq!(partition_row(&v, 1)["lag"], 3);
    assert_eq!(partition_row(&v, 1)["end"], 8);
    assert_eq!(v["total_lag"], 3);

    let o = sb.run(&["-b", &b, "groups", "--json"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let all: Value = serde_json::from_slice(&o.stdout).unwrap();
    let g = all
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == group.as_str())
        .expect("group listed");
    assert_eq!(g["total_lag"], 3);
    assert_eq!(g["members"], 0);
    assert!(g["state"].is_string());

    let o = sb.run(&["-b", &b, "lag", &unique("never-existed")], None);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
}

/// A consumer that joins the group and polls until stopped.
struct Member {
    stop: Arc<AtomicBool>,
    assigned: mpsc::Receiver<()>,
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
                .set("auto.offset.reset", "earliest")
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
            // Dropping the consumer sends LeaveGroup.
        });
        Self {
            stop,
            assigned: rx,
            handle: Some(handle),
        }
    }
    fn wait_assigned(&self) {
        self.assigned
            .recv_timeout(Duration::from_secs(30))
            .expect("member got an assignment");
    }
    fn leave(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            h.join().unwrap();
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

/// Lines printed by `kafkaterm watch`, as they come.
struct Watch {
    child: std::process::Child,
    lines: mpsc::Receiver<Value>,
}

impl Watch {
    fn start(sb: &Sandbox, b: &str, group: &str, interval: &str) -> Self {
        let mut child = sb
            .cmd()
            .args(["-b", b, "watch", group, "--interval", interval, "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        Self { child, lines: rx }
    }
    /// The first event of `kind` within `timeout`.
    fn expect(&self, kind: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) if v["kind"] == kind => return v,
                Ok(_) => {}
                Err(_) => panic!("no {kind} event within {timeout:?}"),
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

#[test]
fn members_joining_and_leaving_produce_events_within_two_intervals() {
    let b = brokers();
    let topic = unique("rebalance");
    let group = unique("g-rebalance");
    create_topic(&b, &topic, 4);
    let sb = Sandbox::new();
    let first = Member::join(&b, &group, &topic);
    first.wait_assigned();
    let watch = Watch::start(&sb, &b, &group, "1");
    let seen = watch.expect("seen", Duration::from_secs(15));
    assert_eq!(seen["members"], 1, "{seen}");
    // Two refresh intervals (1 s each) after the change is complete, plus
    // the time one refresh takes.
    let budget = Duration::from_millis(2000 + 1500);
    let second = Member::join(&b, &group, &topic);
    second.wait_assigned();
    let joined = watch.expect("member_joined", budget + Duration::from_secs(3));
    assert!(
        joined["member_id"].as_str().is_some_and(|m| !m.is_empty()),
        "{joined}"
    );
    second.leave();
    let left = watch.expect("member_left", budget + Duration::from_secs(3));
    assert!(left["member_id"].as_str().is_some(), "{left}");
    first.leave();
    watch.expect("member_left", budget + Duration::from_secs(3));
}

fn worker_rt(
    profile: ClusterProfile,
) -> (tokio::runtime::Runtime, kafkaterm::worker::WorkerHandle) {
    let rt = rt();
    let w = rt.block_on(async { kafkaterm::worker::spawn(profile).unwrap() });
    (rt, w)
}

fn plan(
    rt: &tokio::runtime::Runtime,
    w: &mut kafkaterm::worker::WorkerHandle,
    group: &str,
    target: ResetTarget,
    partitions: Option<Vec<TopicPartition>>,
) -> Result<Vec<ResetRow>, String> {
    let cmd = Command::PlanOffsetReset {
        id: 7,
        group: group.to_string(),
        target,
        partitions,
    };
    match rt.block_on(ask(w, cmd)).unwrap() {
        WorkerEvent::ResetPlan { result, .. } => result.map_err(|e| e.to_string()),
        other => panic!("{other:?}"),
    }
}

fn apply(
    rt: &tokio::runtime::Runtime,
    w: &mut kafkaterm::worker::WorkerHandle,
    group: &str,
    rows: Vec<ResetRow>,
) -> Result<usize, String> {
    let cmd = Command::ApplyOffsetReset {
        id: 8,
        group: group.to_string(),
        rows,
    };
    match rt.block_on(ask(w, cmd)).unwrap() {
        WorkerEvent::ResetApplied { result, .. } => result.map_err(|e| e.to_string()),
        WorkerEvent::Refused { reason, .. } => Err(format!("refused: {reason}")),
        other => panic!("{other:?}"),
    }
}

fn committed(sb: &Sandbox, b: &str, group: &str) -> Vec<(i64, i64)> {
    let v = lag_json(sb, b, group);
    v["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["partition"].as_i64().unwrap(),
                p["committed"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn offset_reset_applies_exactly_what_the_dry_run_showed() {
    let b = brokers();
    let topic = unique("reset");
    let group = unique("g-reset");
    create_topic(&b, &topic, 2);
    let now = chrono::Utc::now().timestamp_millis();
    let base = now - 600_000;
    let mut msgs: Vec<Msg> = (0..20)
        .map(|i| Msg::kv(&format!("a{i}"), "x").to(0).at(base + i * 1000))
        .collect();
    msgs.extend((0..10).map(|i| Msg::kv(&format!("b{i}"), "x").to(1).at(base + i * 1000)));
    produce(&b, &topic, &msgs);
    commit(&b, &group, &topic, &[(0, 15), (1, 5)]);
    let sb = Sandbox::new();
    let (rt, mut w) = worker_rt(ClusterProfile::adhoc(&b));

    let rows = plan(&rt, &mut w, &group, ResetTarget::Earliest, None).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0].current, rows[0].new, rows[0].end, rows[0].new_lag()),
        (Some(15), 0, 20, 20)
    );
    assert_eq!(
        (rows[1].current, rows[1].new, rows[1].end),
        (Some(5), 0, 10)
    );
    assert_eq!(apply(&rt, &mut w, &group, rows.clone()), Ok(2));
    assert_eq!(committed(&sb, &b, &group), vec![(0, 0), (1, 0)]);

    for (target, want) in [
        (ResetTarget::Offset(7), vec![(0, 7), (1, 7)]),
        (ResetTarget::Shift(-3), vec![(0, 4), (1, 4)]),
        (ResetTarget::Shift(100), vec![(0, 20), (1, 10)]),
        (
            ResetTarget::Timestamp(base + 12_000),
            vec![(0, 12), (1, 10)],
        ),
        (ResetTarget::Latest, vec![(0, 20), (1, 10)]),
    ] {
        let rows = plan(&rt, &mut w, &group, target, None).unwrap();
        let planned: Vec<(i64, i64)> = rows
            .iter()
            .map(|r| (i64::from(r.tp.partition), r.new))
            .collect();
        assert_eq!(planned, want, "{target:?}");
        assert_eq!(apply(&rt, &mut w, &group, rows), Ok(2));
        assert_eq!(committed(&sb, &b, &group), want, "after {target:?}");
    }

    // Selected partitions only.
    let rows = plan(
        &rt,
        &mut w,
        &group,
        ResetTarget::Earliest,
        Some(vec![TopicPartition::new(&topic, 1)]),
    )
    .unwrap();
    assert_eq!(rows.len(), 1);
    apply(&rt, &mut w, &group, rows).unwrap();
    assert_eq!(committed(&sb, &b, &group), vec![(0, 20), (1, 0)]);

    // With an active member the reset is refused, and nothing moves.
    let member = Member::join(&b, &group, &topic);
    member.wait_assigned();
    let rows = plan(&rt, &mut w, &group, ResetTarget::Earliest, None).unwrap();
    let e = apply(&rt, &mut w, &group, rows).unwrap_err();
    assert!(e.contains("only be reset while it is Empty"), "{e}");
    member.leave();

    // Read-only refuses in the worker itself.
    let mut ro = ClusterProfile::adhoc(&b);
    ro.read_only = true;
    let (rt2, mut w2) = worker_rt(ro);
    let rows = plan(&rt2, &mut w2, &group, ResetTarget::Earliest, None).unwrap();
    let e = apply(&rt2, &mut w2, &group, rows).unwrap_err();
    assert!(e.contains("read-only"), "{e}");
}

#[test]
fn delete_group_only_when_empty_and_never_read_only() {
    let b = brokers();
    let topic = unique("delgroup");
    let group = unique("g-del");
    create_topic(&b, &topic, 1);
    produce(&b, &topic, &[Msg::kv("a", "b")]);
    commit(&b, &group, &topic, &[(0, 1)]);
    let delete = |profile: ClusterProfile| {
        let (rt, mut w) = worker_rt(profile);
        let cmd = Command::DeleteGroup {
            id: 1,
            group: group.clone(),
        };
        match rt.block_on(ask(&mut w, cmd)).unwrap() {
            WorkerEvent::GroupDeleted { result, .. } => result.map_err(|e| e.to_string()),
            WorkerEvent::Refused { reason, .. } => Err(reason),
            other => panic!("{other:?}"),
        }
    };
    let mut ro = ClusterProfile::adhoc(&b);
    ro.read_only = true;
    assert!(delete(ro).unwrap_err().contains("read-only"));
    delete(ClusterProfile::adhoc(&b)).unwrap();
    let sb = Sandbox::new();
    let o = sb.run(&["-b", &b, "groups", "--json"], None);
    let all: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        !all.as_array()
            .unwrap()
            .iter()
            .any(|g| g["group"] == group.as_str())
    );
}

#[test]
fn group_view_shows_each_member_with_client_host_and_assignment() {
    use kafkaterm::app::{App, Env, Msg as AppMsg, PaneId};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    let b = brokers();
    let topic = unique("view");
    let group = unique("g-view");
    create_topic(&b, &topic, 2);
    let member = Member::join(&b, &group, &topic);
    member.wait_assigned();
    let mut profile = ClusterProfile::adhoc(&b);
    profile.watch_groups = vec![group.clone()];
    let (rt, mut w) = worker_rt(profile.clone());
    let ev = rt
        .block_on(ask(
            &mut w,
            Command::RefreshGroups {
                id: 1,
                only: Some(group.clone()),
                first: None,
            },
        ))
        .unwrap();
    let WorkerEvent::Groups { result, .. } = &ev else {
        panic!("{ev:?}")
    };
    let snap = result.as_ref().unwrap();
    let g = &snap.groups[0];
    let d = g.description.as_ref().expect("nisshi describes groups");
    assert_eq!(d.state, kafkaterm::model::GroupState::Stable);
    assert_eq!(d.members.len(), 1);

    // Feed the real answer to the app and look at the members tab.
    let env = Env::from_profile(&profile, std::env::temp_dir());
    let (mut app, _) = App::new(env, kafkaterm::timeutil::now_ms(), (100, 30));
    app.focus = PaneId::Groups;
    let id = app.groups.in_flight.expect("the app asked for groups");
    let WorkerEvent::Groups { result, .. } = ev else {
        unreachable!()
    };
    app.update(AppMsg::Worker(WorkerEvent::Groups { id, result }));
    let key = |c| AppMsg::Key(KeyEvent::new(c, KeyModifiers::NONE));
    app.update(key(KeyCode::Enter));
    app.update(key(KeyCode::Tab));
    let theme = kafkaterm::config::theme::Theme::dark();
    let mut term = Terminal::new(TestBackend::new(100, 30)).unwrap();
    term.draw(|f| kafkaterm::ui::draw(&app, &theme, f)).unwrap();
    let screen: String = term
        .backend()
        .buffer()
        .content
        .iter()
        .map(ratatui::buffer::Cell::symbol)
        .collect();
    // The patched test broker reports what Kafka's DescribeGroups does:
    // client id, host and the partitions the leader assigned to the member.
    assert!(screen.contains("Stable"), "{screen}");
    assert!(screen.contains("test-member"), "{screen}");
    assert!(screen.contains("/127.0.0.1"), "{screen}");
    assert!(screen.contains(&format!("{topic}[0,1]")), "{screen}");
    assert!(!screen.contains("not reported"), "{screen}");
    member.leave();
}

/// A stepped refresh (the console's) on the real broker: the listing of
/// every group comes first, then the offsets of the groups asked for first,
/// then the others; the final answer holds every group once.
#[test]
fn stepped_refresh_lists_first_then_the_groups_asked_for() {
    let b = brokers();
    let topic = unique("steps");
    create_topic(&b, &topic, 2);
    produce(
        &b,
        &topic,
        &[Msg::kv("a", "1").to(0), Msg::kv("b", "2").to(1)],
    );
    let groups: Vec<String> = (0..3).map(|i| unique(&format!("g-steps{i}"))).collect();
    for (i, g) in groups.iter().enumerate() {
        commit(&b, g, &topic, &[(0, i64::try_from(i % 2).unwrap())]);
    }
    let (rt, mut w) = worker_rt(ClusterProfile::adhoc(&b));
    w.commands
        .send(Command::RefreshGroups {
            id: 9,
            only: None,
            first: Some(vec![groups[2].clone()]),
        })
        .unwrap();
    let mut order: Vec<(&'static str, Vec<String>)> = Vec::new();
    let final_groups = rt.block_on(async {
        loop {
            let ev = tokio::time::timeout(Duration::from_secs(60), w.events.recv())
                .await
                .expect("timed out")
                .expect("worker stopped");
            let ours = |gs: &[kafkaterm::model::GroupSnapshot]| -> Vec<String> {
                gs.iter()
                    .map(|g| g.group.clone())
                    .filter(|g| groups.contains(g))
                    .collect()
            };
            match ev {
                WorkerEvent::GroupList {
                    id: 9, groups: gs, ..
                } => {
                    assert!(
                        gs.iter()
                            .all(|g| g.partitions.iter().all(|p| p.committed.is_none()))
                    );
                    order.push(("list", ours(&gs)));
                }
                WorkerEvent::GroupOffsets { id: 9, groups: gs } => {
                    order.push(("offsets", ours(&gs)))
                }
                WorkerEvent::Groups { id: 9, result } => break ours(&result.unwrap().groups),
                _ => {}
            }
        }
    });
    // A broker with ListGroups v5 gives two list steps before any offsets:
    // the typed listing (every group at once), then the described one.
    let lists = order.iter().take_while(|(step, _)| *step == "list").count();
    assert!((1..=2).contains(&lists), "{order:?}");
    let mut all = groups.clone();
    all.sort();
    for (_, listed) in &order[..lists] {
        let mut listed = listed.clone();
        listed.sort();
        assert_eq!(listed, all, "every group listed first: {order:?}");
    }
    assert_eq!(
        order[lists],
        ("offsets", vec![groups[2].clone()]),
        "{order:?}"
    );
    let later: Vec<String> = order[lists + 1..]
        .iter()
        .flat_map(|(_, g)| g.clone())
        .collect();
    assert!(
        later.contains(&groups[0]) && later.contains(&groups[1]) && !later.contains(&groups[2]),
        "{order:?}"
    );
    let mut fin = final_groups;
    fin.sort();
    assert_eq!(fin, all);
}
