//! Transactions on the patched test broker, written by an independent
//! client (Python confluent-kafka, tests/py/txn_console.py) and read by
//! kafkaterm: `consume --isolation read_committed -e` ends at the last
//! stable offset of an open transaction and skips aborted records; `lag
//! --json` says how much lag an open transaction holds; the browser's
//! isolation toggle, the topic detail's LSO and stuck-transaction flag and
//! the group detail's note, in the console at 80x24; the composer's
//! transaction fenced by a newer producer with the same transactional.id.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Sandbox, TestBroker, Tmux, commit, create_topic, stderr, unique};
use serde_json::Value;

const T: Duration = Duration::from_secs(30);

fn python() -> String {
    std::env::var("KAFKATERM_PYTHON").expect(
        "KAFKATERM_PYTHON is not set: run the suite with scripts/test.sh, which creates the test Python environment (scripts/python-env.sh)",
    )
}

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/txn_console.py")
}

fn py_cmd(mode: &str, b: &str, topic: &str, txn_id: &str, timeout_ms: u64) -> Command {
    let mut c = Command::new(python());
    c.arg(script())
        .args([mode, "--brokers", b, "--topic", topic, "--txn-id", txn_id])
        .args(["--timeout-ms", &timeout_ms.to_string()]);
    c
}

/// Run a mode that ends and prints one JSON line.
fn py(mode: &str, b: &str, topic: &str, txn_id: &str) -> Value {
    let o = py_cmd(mode, b, topic, txn_id, 60_000).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "txn_console.py {mode} failed: {out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{mode}: not JSON ({e}): {out}"))
}

/// A transaction held open by a Python producer over `o1 o2`; the producer
/// is killed on drop (the transaction then waits for the broker's abort).
struct OpenTxn(Child);

impl OpenTxn {
    fn start(b: &str, topic: &str, txn_id: &str, timeout_ms: u64) -> Self {
        let mut child = py_cmd("open", b, topic, txn_id, timeout_ms)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.contains("\"open\""),
            "the transaction did not open: {line:?}"
        );
        Self(child)
    }
}

impl Drop for OpenTxn {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Run the binary; killed (and the test failed) after `limit`.
fn run_within(sb: &Sandbox, args: &[&str], limit: Duration) -> Output {
    let mut child = sb
        .cmd()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!(
                "{args:?} still running after {limit:?}: stdout {} stderr {}",
                common::stdout(&o),
                stderr(&o)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn values(o: &Output) -> Vec<(i64, String)> {
    assert!(o.status.success(), "consume failed: {}", stderr(o));
    common::json_lines(o)
        .iter()
        .map(|m| {
            (
                m["offset"].as_i64().unwrap(),
                m["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Committed c1 c2 c3 (0-2), aborted a1 a2 a3 (4-6), committed c4 (8),
/// then an open transaction over o1 o2 (10, 11): high watermark 12, LSO 10.
fn seed(b: &str, topic: &str, timeout_ms: u64) -> OpenTxn {
    create_topic(b, topic, 1);
    let id = format!("{topic}-txn");
    assert_eq!(py("history", b, topic, &id)["done"], true);
    OpenTxn::start(b, topic, &id, timeout_ms)
}

/// A sandbox whose config names the cluster `t` at `b`, with short refresh
/// intervals and stuck-transaction threshold.
fn sandbox_for(b: &str, stuck_secs: u32) -> Sandbox {
    let sb = Sandbox::new();
    let dir = sb.path().join("config");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "default_cluster = \"t\"\n[clusters.t]\nbrokers = \"{b}\"\n\
             topics_refresh_secs = 1\ngroups_refresh_secs = 1\n\
             stuck_transaction_secs = {stuck_secs}\n"
        ),
    )
    .unwrap();
    sb
}

#[test]
fn read_committed_consume_ends_at_the_lso_and_lag_says_what_the_open_transaction_holds() {
    let b = common::brokers();
    let topic = unique("txn-lso");
    let open = seed(&b, &topic, 120_000);
    let sb = Sandbox::new();

    // read_committed: the committed records only, and it ends at the LSO
    // (10) although the high watermark (12) is beyond it.
    let o = run_within(
        &sb,
        &[
            "-b",
            &b,
            "consume",
            &topic,
            "-e",
            "--isolation",
            "read_committed",
        ],
        T,
    );
    let got = values(&o);
    let want: Vec<(i64, String)> = [(0, "c1"), (1, "c2"), (2, "c3"), (8, "c4")]
        .iter()
        .map(|(o, v)| (*o, (*v).to_string()))
        .collect();
    assert_eq!(got, want, "read_committed");
    // read_uncommitted: everything but the markers, the open ones included.
    let o = run_within(
        &sb,
        &[
            "-b",
            &b,
            "consume",
            &topic,
            "-e",
            "--isolation",
            "read_uncommitted",
        ],
        T,
    );
    let got: Vec<String> = values(&o).into_iter().map(|(_, v)| v).collect();
    assert_eq!(
        got,
        ["c1", "c2", "c3", "a1", "a2", "a3", "c4", "o1", "o2"],
        "read_uncommitted"
    );

    let d = sb.run_json(&["-b", &b, "describe", &topic, "--json"]);
    let p0 = &d["partitions"][0];
    assert_eq!(
        (p0["high"].as_i64(), p0["lso"].as_i64()),
        (Some(12), Some(10)),
        "{d:#}"
    );

    // A group committed at the LSO: its 2 of lag are all behind the open
    // transaction.
    let group = unique("txn-held");
    commit(&b, &group, &topic, &[(0, 10)]);
    let v = sb.run_json(&["-b", &b, "lag", &group, "--json"]);
    let p = &v["partitions"][0];
    assert_eq!(
        (
            p["committed"].as_i64(),
            p["end"].as_i64(),
            p["lso"].as_i64(),
            p["lag"].as_i64()
        ),
        (Some(10), Some(12), Some(10), Some(2)),
        "{v:#}"
    );
    let notes = v["notes"].to_string();
    assert!(
        notes.contains(&format!(
            "2 of the lag is behind open transactions (LSO < high watermark: {topic}/0)"
        )),
        "{v:#}"
    );
    // A group further back: only the part past the LSO is held.
    let behind = unique("txn-behind");
    commit(&b, &behind, &topic, &[(0, 4)]);
    let v = sb.run_json(&["-b", &b, "lag", &behind, "--json"]);
    assert_eq!(v["total_lag"], 8, "{v:#}");
    assert!(
        v["notes"]
            .to_string()
            .contains("2 of the lag is behind open transactions"),
        "{v:#}"
    );
    drop(open);
}

/// The words of the screen's lines, frame characters dropped.
fn words(screen: &str) -> Vec<Vec<String>> {
    screen
        .lines()
        .map(|l| {
            l.replace(['│', '┃'], " ")
                .split_whitespace()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

/// Values shown in the browser's list: the rows whose second word is an
/// offset of partition 0.
fn shown_values(screen: &str) -> Vec<String> {
    let all = ["c1", "c2", "c3", "a1", "a2", "a3", "c4", "o1", "o2"];
    words(screen)
        .into_iter()
        .filter_map(|w| w.into_iter().find(|x| all.contains(&x.as_str())))
        .collect()
}

fn wait_screen(tm: &Tmux, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + T;
    loop {
        let s = tm.screen();
        if ok(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "never {what}; screen:\n{s}");
        std::thread::sleep(Duration::from_millis(150));
    }
}

/// The console at 80x24 on a private broker: the browser reads the topic at
/// read_uncommitted (every record, the open transaction's too), `i` reopens
/// it at read_committed (the title says so; aborted records gone; it stops
/// at the LSO, before the open transaction), and the group detail of a group
/// committed at the LSO says how much of its lag the transaction holds.
#[test]
fn console_browser_isolation_toggle_and_group_note_on_an_open_transaction() {
    let broker = TestBroker::start();
    let b = broker.addr();
    let open = seed(&b, "txnb", 120_000);
    commit(&b, "held", "txnb", &[(0, 10)]);
    let tm = Tmux::start_in(sandbox_for(&b, 60), &[], 80, 24, &[]);
    tm.wait_for("refreshed", T);
    tm.keys(&["/"]);
    tm.type_text("txnb");
    tm.keys(&["Enter"]);
    tm.wait_for("Topics 1/", T);
    tm.keys(&["b"]);
    let s = wait_screen(&tm, "every record at read_uncommitted", |s| {
        shown_values(s).len() == 9
    });
    assert!(s.contains("read_uncommitted"), "{s}");
    let mut v = shown_values(&s);
    v.sort();
    assert_eq!(
        v,
        ["a1", "a2", "a3", "c1", "c2", "c3", "c4", "o1", "o2"],
        "{s}"
    );

    tm.keys(&["i"]);
    let s = wait_screen(&tm, "the committed records at read_committed", |s| {
        s.contains("read_committed") && s.contains("at end") && {
            let mut v = shown_values(s);
            v.sort();
            v == ["c1", "c2", "c3", "c4"]
        }
    });
    println!("read_committed:\n{s}");
    assert!(!s.contains("read_uncommitted"), "{s}");
    // Stopped at the LSO: still nothing of the open transaction a moment later.
    std::thread::sleep(Duration::from_secs(2));
    let s = tm.screen();
    let mut v = shown_values(&s);
    v.sort();
    assert_eq!(v, ["c1", "c2", "c3", "c4"], "{s}");
    // Back to read_uncommitted: the aborted and open records again.
    tm.keys(&["i"]);
    wait_screen(&tm, "every record again", |s| {
        s.contains("read_uncommitted") && shown_values(s).len() == 9
    });

    // Groups: the held group's detail.
    tm.keys(&["4"]);
    tm.wait_for("held", T);
    tm.keys(&["/"]);
    tm.type_text("held");
    tm.keys(&["Enter", "Enter"]);
    let s = tm.wait_for("2 of the lag is behind open", T);
    println!("group detail:\n{s}");
    let flat = s.replace('\n', " ");
    assert!(flat.contains("txnb/0"), "{s}");
    tm.keys(&["Escape", "q"]);
    tm.wait_for("KT-EXITED-0", T);
    drop(open);
}

/// The topic detail at 80x24 on a private broker: an open transaction holds
/// the LSO at 10 below the high watermark 12; held longer than
/// `stuck_transaction_secs` (2 s here) it is flagged as a likely stuck
/// transaction with its age, and the flag clears when the broker aborts the
/// transaction on its transaction.timeout.ms (12 s here) and the LSO
/// reaches the high watermark.
#[test]
fn console_flags_a_stuck_transaction_until_the_broker_aborts_it() {
    let broker = TestBroker::start();
    let b = broker.addr();
    let opened = Instant::now();
    let open = seed(&b, "txns", 12_000);
    let tm = Tmux::start_in(sandbox_for(&b, 2), &[], 80, 24, &[]);
    tm.wait_for("refreshed", T);
    tm.keys(&["/"]);
    tm.type_text("txns");
    tm.keys(&["Enter"]);
    tm.wait_for("Topics 1/", T);
    tm.keys(&["Enter"]);
    // Partition 0's row: LSO 10 while HIGH is 12.
    let row = |s: &str| {
        words(s)
            .into_iter()
            .find(|w| w.first().map(String::as_str) == Some("0") && w.len() >= 7)
            .unwrap_or_default()
    };
    let s = tm.wait_for("stuck transaction? p0 LSO held", T);
    assert!(
        opened.elapsed() < Duration::from_secs(12),
        "flagged only after the transaction's timeout: the test proves nothing"
    );
    println!("flagged:\n{s}");
    let r = row(&s);
    assert!(
        r.contains(&"12".to_string()) && r.contains(&"10".to_string()),
        "{r:?}\n{s}"
    );
    // Its age: "held 2s" or more, never below the threshold.
    let age = s
        .split("LSO held ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap_or_default()
        .to_string();
    let secs: u64 = age
        .trim_end_matches('s')
        .parse()
        .unwrap_or_else(|_| panic!("age {age:?}:\n{s}"));
    assert!(secs >= 2, "{age}:\n{s}");
    // The producer dies; the broker aborts its transaction on the timeout:
    // the marker at 12, LSO = high watermark 13, no flag.
    drop(open);
    let deadline = Instant::now() + Duration::from_secs(60);
    let s = loop {
        let s = tm.screen();
        let r = row(&s);
        if !s.contains("stuck transaction?")
            && r.contains(&"13".to_string())
            && r.contains(&"=".to_string())
        {
            break s;
        }
        assert!(Instant::now() < deadline, "the flag never cleared:\n{s}");
        std::thread::sleep(Duration::from_millis(200));
    };
    println!("cleared:\n{s}");
    assert!(
        opened.elapsed() >= Duration::from_secs(12),
        "cleared before the transaction's timeout:\n{s}"
    );
    tm.keys(&["Escape", "q"]);
    tm.wait_for("KT-EXITED-0", T);
}

/// Events of one transactional send on the worker, until its final report:
/// its TxnEnded outcome and the final progress.
fn await_send(
    rt: &tokio::runtime::Runtime,
    w: &mut kafkaterm::worker::WorkerHandle,
    id: u64,
) -> (
    kafkaterm::model::TxnOutcome,
    kafkaterm::worker::protocol::ProduceProgress,
) {
    use kafkaterm::worker::protocol::WorkerEvent;
    let mut ended = None;
    rt.block_on(async {
        loop {
            match tokio::time::timeout(Duration::from_secs(60), w.events.recv())
                .await
                .expect("an answer")
                .expect("worker alive")
            {
                WorkerEvent::TxnEnded { id: i, outcome, .. } if i == id => ended = Some(outcome),
                WorkerEvent::Produce { id: i, progress } if i == id && progress.done => {
                    return (ended.expect("TxnEnded before the final report"), progress);
                }
                _ => {}
            }
        }
    })
}

/// High watermark and LSO of partition 0 (ListOffsets at both levels).
fn marks(b: &str, topic: &str) -> (i64, i64) {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let at = |level: &str| {
        let c: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", b)
            .set("isolation.level", level)
            .create()
            .unwrap();
        c.fetch_watermarks(topic, 0, Duration::from_secs(5))
            .unwrap()
            .1
    };
    (at("read_uncommitted"), at("read_committed"))
}

/// The composer's path on the worker, interrupted mid-transaction: a
/// committed transaction of `ok0 ok1` first, then a second one reading a
/// FIFO: more than one chunk of the file reader (256 KiB) first, so those
/// lines are sent, then it waits. Once they are on the broker (the high
/// watermark past 100) `interrupt` runs, then the rest of the file follows.
/// A third send, of `ok2`, commits. Returns the second send's outcome and
/// final progress, after checking that a read_committed reader sees the
/// first and third transactions only.
fn interrupted_composer_send(
    topic: &str,
    profile: kafkaterm::config::ClusterProfile,
    interrupt: impl FnOnce(&str, &str) + Send + 'static,
) -> (
    kafkaterm::model::TxnOutcome,
    kafkaterm::worker::protocol::ProduceProgress,
) {
    use kafkaterm::model::{ProduceRequest, TxnOutcome, TxnSpec};
    use kafkaterm::worker::protocol::{BatchSource, Command as WCommand};
    use std::io::Write;
    let b = profile.brokers.clone();
    let txn_id = format!("{topic}-composer");
    create_topic(&b, topic, 1);
    let rt = common::rt();
    let mut w = rt.block_on(async { kafkaterm::worker::spawn(profile).unwrap() });
    let send_values = |w: &mut kafkaterm::worker::WorkerHandle, id: u64, values: &[&str]| {
        let msgs = values
            .iter()
            .map(|v| ProduceRequest {
                topic: topic.to_string(),
                partition: Some(0),
                value: Some(v.as_bytes().to_vec()),
                ..Default::default()
            })
            .collect();
        w.commands
            .send(WCommand::ProduceTransaction {
                id,
                options: Default::default(),
                source: BatchSource::Messages(msgs),
                txn: TxnSpec::new(&txn_id, true),
            })
            .unwrap();
        let (outcome, p) = await_send(&rt, w, id);
        assert_eq!(outcome, TxnOutcome::Committed, "send {id}: {p:?}");
    };
    send_values(&mut w, 1, &["ok0", "ok1"]);

    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("lines.jsonl");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            let pad = "x".repeat(90);
            for i in 0..4000 {
                writeln!(f, "{{\"value\":\"f{i}-{pad}\"}}").unwrap();
            }
            f.flush().unwrap();
            let _ = go_rx.recv_timeout(Duration::from_secs(90));
            for i in 0..10 {
                writeln!(f, "{{\"value\":\"late{i}\"}}").unwrap();
            }
        })
    };
    w.commands
        .send(WCommand::ProduceTransaction {
            id: 2,
            options: Default::default(),
            source: BatchSource::File {
                path: fifo,
                topic: topic.to_string(),
            },
            txn: TxnSpec::new(&txn_id, true),
        })
        .unwrap();
    let interrupter = {
        let (b, topic, id) = (b.clone(), topic.to_string(), txn_id.clone());
        std::thread::spawn(move || {
            let deadline = Instant::now() + T;
            while marks(&b, &topic).0 <= 100 {
                assert!(
                    Instant::now() < deadline,
                    "the second send never reached the broker"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            interrupt(&topic, &id);
            go_tx.send(()).unwrap();
        })
    };
    let (outcome, p) = await_send(&rt, &mut w, 2);
    interrupter.join().unwrap();
    writer.join().unwrap();
    println!("interrupted send: {outcome:?} {p:?}");
    // The next send with the same transactional.id starts afresh (a new
    // producer, a new epoch) and commits.
    send_values(&mut w, 3, &["ok2"]);
    drop(w);
    let sb = Sandbox::new();
    let o = run_within(
        &sb,
        &[
            "-b",
            &b,
            "consume",
            topic,
            "-e",
            "--isolation",
            "read_committed",
        ],
        T,
    );
    let got: Vec<String> = values(&o).into_iter().map(|(_, v)| v).collect();
    assert_eq!(
        got,
        ["ok0", "ok1", "ok2"],
        "the committed transactions, and nothing else"
    );
    (outcome, p)
}

/// The composer's transactional send, fenced mid-way: a Python producer
/// initialises the same transactional.id while it is sending. The send ends
/// aborted with one plain line saying it was fenced; the first, committed
/// transaction is intact, and nothing of the fenced one is visible to a
/// read_committed reader.
#[test]
fn composer_transaction_fenced_by_a_newer_producer_says_so_and_loses_nothing_committed() {
    let b = common::brokers();
    let topic = unique("txn-fenced");
    let profile = kafkaterm::config::ClusterProfile::adhoc(&b);
    let (outcome, p) = interrupted_composer_send(&topic, profile, move |topic, id| {
        assert_eq!(py("fence", &b, topic, id)["fenced"], true);
    });
    assert_eq!(
        outcome,
        kafkaterm::model::TxnOutcome::AbortedOnFailure,
        "{p:?}"
    );
    let why = p.first_error.clone().unwrap_or_default();
    assert!(
        why.starts_with("fenced: another producer with the same transactional.id took over"),
        "{p:?}"
    );
    assert!(!why.contains('\n'), "one line: {why:?}");
    assert!(p.failed > 0, "{p:?}");
}

/// The composer's transaction outlives its transaction.timeout.ms (3 s,
/// from the cluster's properties): the broker aborts it and bumps the
/// epoch; the rest of the send is refused. It ends aborted, in one plain
/// line that names the timeout as a cause, and loses nothing committed.
#[test]
fn composer_transaction_past_its_timeout_is_aborted_by_the_broker_and_says_so() {
    let b = common::brokers();
    let topic = unique("txn-timeout");
    let mut profile = kafkaterm::config::ClusterProfile::adhoc(&b);
    // librdkafka wants message.timeout.ms <= transaction.timeout.ms.
    for k in ["transaction.timeout.ms", "message.timeout.ms"] {
        profile
            .properties
            .push((k.into(), kafkaterm::config::Secret::new("3000")));
    }
    let started = Instant::now();
    let (outcome, p) = interrupted_composer_send(&topic, profile, move |topic, _| {
        // The broker aborted it: the marker written, the LSO at the end.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (high, lso) = marks(&b, topic);
            if lso == high {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "never aborted: high {high}, LSO {lso}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert_eq!(
        outcome,
        kafkaterm::model::TxnOutcome::AbortedOnFailure,
        "{p:?}"
    );
    let why = p.first_error.clone().unwrap_or_default();
    assert!(why.contains("transaction.timeout.ms"), "{p:?}");
    assert!(!why.contains('\n'), "one line: {why:?}");
}

/// `produce --transactional` with a line the topic refuses (larger than its
/// max.message.bytes) amid good ones: the transaction is aborted, the
/// reason is one plain line, and only the earlier committed transaction is
/// there for a read_committed reader (the aborted lines for none).
#[test]
fn transactional_produce_aborted_mid_batch_says_why_and_keeps_what_was_committed() {
    let b = common::brokers();
    let topic = unique("txn-midbatch");
    common::create_topic_with(&b, &topic, 1, &[("max.message.bytes", "2000")]);
    let sb = Sandbox::new();
    let o = sb.run(
        &["-b", &b, "produce", &topic, "--transactional"],
        Some(b"ok0\nok1\n"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let mut input = b"m0\nm1\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', 5000));
    input.extend_from_slice(b"\nm3\n");
    let o = sb.run(
        &["-b", &b, "produce", &topic, "--transactional"],
        Some(&input),
    );
    assert!(!o.status.success());
    let e = stderr(&o);
    println!("{e}");
    assert!(
        e.lines()
            .any(|l| l.starts_with("kafkaterm: transaction aborted (transactional.id")),
        "{e}"
    );
    assert!(
        e.lines()
            .any(|l| l == "kafkaterm: message too large for the broker (message.max.bytes)"),
        "{e}"
    );
    assert!(!e.contains("committed"), "{e}");
    for level in ["read_committed", "read_uncommitted"] {
        let o = run_within(
            &sb,
            &["-b", &b, "consume", &topic, "-e", "--isolation", level],
            T,
        );
        let got: Vec<String> = values(&o).into_iter().map(|(_, v)| v).collect();
        // The broker refused the whole produce request: nothing of it is in
        // the log at all.
        assert_eq!(got, ["ok0", "ok1"], "{level}");
    }
}

/// A one-node fake broker (tests/common/fake_kafka) with topic `t`, one
/// partition holding offsets 0-4, whose ListOffsets answers the high
/// watermark at read_uncommitted and no offset (-1) at read_committed: a
/// broker that gives no last stable offset. Returns its port.
fn fake_broker_without_lso() -> u16 {
    use common::fake_kafka::{api, read_request, respond};
    use kafka_protocol::messages::list_offsets_response::{
        ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
    };
    use kafka_protocol::messages::metadata_response::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };
    use kafka_protocol::messages::{
        ApiKey, ApiVersionsResponse, BrokerId, ListOffsetsRequest, ListOffsetsResponse,
        MetadataResponse, TopicName,
    };
    use kafka_protocol::protocol::{Decodable, StrBytes};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                while let Some((header, key, mut buf)) = read_request(&mut conn) {
                    let (v, corr) = (header.request_api_version, header.correlation_id);
                    let sent = match key {
                        ApiKey::ApiVersions => {
                            let mut r = ApiVersionsResponse::default();
                            r.api_keys = vec![
                                api(ApiKey::ApiVersions, 0, 3),
                                api(ApiKey::Metadata, 0, 4),
                                api(ApiKey::ListOffsets, 1, 2),
                            ];
                            respond(&mut conn, corr, v, &r)
                        }
                        ApiKey::Metadata => {
                            let mut r = MetadataResponse::default();
                            let mut b = MetadataResponseBroker::default();
                            b.node_id = BrokerId(1);
                            b.host = StrBytes::from_static_str("127.0.0.1");
                            b.port = i32::from(port);
                            r.brokers.push(b);
                            r.controller_id = BrokerId(1);
                            let mut t = MetadataResponseTopic::default();
                            t.name = Some(TopicName(StrBytes::from_static_str("t")));
                            let mut p = MetadataResponsePartition::default();
                            p.leader_id = BrokerId(1);
                            p.replica_nodes = vec![BrokerId(1)];
                            p.isr_nodes = vec![BrokerId(1)];
                            t.partitions.push(p);
                            r.topics.push(t);
                            respond(&mut conn, corr, v, &r)
                        }
                        ApiKey::ListOffsets => {
                            let Ok(req) = ListOffsetsRequest::decode(&mut buf, v) else {
                                return;
                            };
                            let mut r = ListOffsetsResponse::default();
                            for t in req.topics {
                                let mut rt = ListOffsetsTopicResponse::default();
                                rt.name = t.name;
                                for p in t.partitions {
                                    let mut rp = ListOffsetsPartitionResponse::default();
                                    rp.partition_index = p.partition_index;
                                    rp.timestamp = -1;
                                    rp.offset = match (p.timestamp, req.isolation_level) {
                                        (-2, _) => 0,
                                        (_, 1) => -1,
                                        _ => 5,
                                    };
                                    rt.partitions.push(rp);
                                }
                                r.topics.push(rt);
                            }
                            respond(&mut conn, corr, v, &r)
                        }
                        _ => {
                            let _ = conn.shutdown(std::net::Shutdown::Both);
                            return;
                        }
                    };
                    if sent.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// A broker that answers no last stable offset: `describe` says the LSO is
/// unknown (null, `?`) instead of passing the high watermark off as one.
#[test]
fn a_broker_without_an_lso_leaves_it_unknown() {
    let b = format!("127.0.0.1:{}", fake_broker_without_lso());
    let sb = Sandbox::new();
    let o = run_within(&sb, &["-b", &b, "describe", "t", "--json"], T);
    let d: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", common::stdout(&o), stderr(&o)));
    let p0 = &d["partitions"][0];
    assert_eq!(p0["high"], 5, "{d:#}");
    assert_eq!(p0["lso"], Value::Null, "{d:#}");
    let o = run_within(&sb, &["-b", &b, "describe", "t"], T);
    let text = common::stdout(&o);
    println!("{text}");
    let row: Vec<&str> = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some("0"))
        .unwrap_or_else(|| panic!("no partition row: {text}"))
        .split_whitespace()
        .collect();
    // PARTITION LEADER REPLICAS ISR LOW HIGH LSO MESSAGES
    assert_eq!(row.get(5..7), Some(&["5", "?"][..]), "{text}");
}

/// `produce --transactional` fenced while it reads its input: a Python
/// producer initialises the same transactional.id once the first lines are
/// on the broker. The command fails, says in plain words that it was
/// fenced, and nothing of its transaction is read_committed.
#[test]
fn transactional_produce_fenced_mid_input_says_so() {
    use std::io::Write;
    let b = common::brokers();
    let topic = unique("txn-produce-fenced");
    let id = format!("{topic}-cli");
    create_topic(&b, &topic, 1);
    let sb = Sandbox::new();
    let mut child = sb
        .cmd()
        .args(["-b", &b, "produce", &topic, "--transactional"])
        .args(["--transactional-id", &id])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for i in 0..3000 {
        writeln!(stdin, "first-{i}").unwrap();
    }
    stdin.flush().unwrap();
    let deadline = Instant::now() + T;
    while marks(&b, &topic).0 < 100 {
        assert!(
            Instant::now() < deadline,
            "the lines never reached the broker"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(py("fence", &b, &topic, &id)["fenced"], true);
    for i in 0..100 {
        // The command may already have given up on its input.
        if writeln!(stdin, "late-{i}").is_err() {
            break;
        }
    }
    drop(stdin);
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "produce never ended");
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = child.wait_with_output().unwrap();
    let e = stderr(&o);
    println!("{e}");
    assert!(!o.status.success(), "{e}");
    assert!(
        e.contains("fenced: another producer with the same transactional.id took over"),
        "{e}"
    );
    assert!(!e.contains("Erroneous state"), "{e}");
    let o = run_within(
        &sb,
        &[
            "-b",
            &b,
            "consume",
            &topic,
            "-e",
            "--isolation",
            "read_committed",
        ],
        T,
    );
    assert!(values(&o).is_empty(), "{}", common::stdout(&o));
}
