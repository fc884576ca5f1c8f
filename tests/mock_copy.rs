//! The copy engine (`worker::copy`) through an outage, on librdkafka's mock
//! cluster: the destination's broker goes down mid-copy, the report gives
//! exactly the messages confirmed, and the resume it names copies the rest
//! without copying a confirmed message twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use kafkaterm::config::{ClusterProfile, Secret};
use kafkaterm::timeutil::StartAt;
use kafkaterm::worker::copy::{
    self, CopyOutcome, CopyProgress, CopySelection, CopySpec, CopyStart, SOURCE_HEADER,
};
use kafkaterm::worker::protocol::{Command, WorkerEvent};
use rdkafka::ClientConfig;
use rdkafka::Message;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

const N: i64 = 40_000;

fn seed(brokers: &str) {
    seed_n(brokers, N);
}

fn seed_n(brokers: &str, n: i64) {
    let p: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "20")
        .create()
        .unwrap();
    for i in 0..n {
        let k = format!("k{i}");
        let v = format!("value {i}");
        loop {
            match p.send(BaseRecord::to("src").key(&k).payload(&v).partition(0)) {
                Ok(()) => break,
                Err(_) => {
                    p.poll(Duration::from_millis(10));
                }
            }
        }
    }
    p.flush(Duration::from_secs(30)).unwrap();
}

/// Source offsets named by the source header of every message in `dst`.
fn copied_offsets(brokers: &str) -> Vec<i64> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "mock-copy-reader")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let (_, high) = c
        .fetch_watermarks("dst", 0, Duration::from_secs(10))
        .unwrap();
    let mut tpl = rdkafka::TopicPartitionList::new();
    tpl.add_partition_offset("dst", 0, rdkafka::Offset::Beginning)
        .unwrap();
    c.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut next = 0;
    while next < high {
        assert!(Instant::now() < deadline, "dst not read to its end");
        let Some(m) = c.poll(Duration::from_millis(200)) else {
            continue;
        };
        let m = m.unwrap();
        next = m.offset() + 1;
        let h = m.headers().expect("headers");
        let src = h
            .iter()
            .find(|h| h.key == SOURCE_HEADER)
            .and_then(|h| h.value)
            .map(|v| String::from_utf8(v.to_vec()).unwrap())
            .expect("a source header");
        let off: i64 = src.strip_prefix("src/0@").unwrap().parse().unwrap();
        assert_eq!(m.key(), Some(format!("k{off}").as_bytes()), "key of {src}");
        out.push(off);
    }
    out
}

fn profile(brokers: &str) -> ClusterProfile {
    let mut p = ClusterProfile::adhoc(brokers);
    for (k, v) in [
        ("message.timeout.ms", "3000"),
        ("batch.num.messages", "200"),
        ("reconnect.backoff.max.ms", "200"),
    ] {
        p.properties.push((k.into(), Secret::new(v)));
    }
    p
}

#[test]
fn an_outage_mid_copy_reports_the_confirmed_count_and_the_resume_never_duplicates() {
    let mock = MockCluster::new(3).unwrap();
    mock.create_topic("src", 1, 1).unwrap();
    mock.create_topic("dst", 1, 1).unwrap();
    mock.partition_leader("src", 0, Some(1)).unwrap();
    mock.partition_leader("dst", 0, Some(2)).unwrap();
    let brokers = mock.bootstrap_servers();
    seed(&brokers);
    // A slow destination, so that the copy is still running when it goes down.
    mock.broker_round_trip_time(2, Duration::from_millis(100))
        .unwrap();

    let spec = CopySpec {
        source_header: true,
        keep_partitions: true,
        ..CopySpec::new(
            "src",
            "dst",
            CopySelection::Range {
                partitions: None,
                start: CopyStart::At(StartAt::Beginning),
                end: None,
            },
        )
    };
    let (tx, rx) = mpsc::channel::<CopyProgress>();
    let (p, s) = (profile(&brokers), spec.clone());
    let copier = std::thread::spawn(move || {
        copy::run(&p, &s, 0, &|| false, &mut |pr| {
            let _ = tx.send(*pr);
        })
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let pr = rx.recv_timeout(Duration::from_secs(60)).expect("progress");
        if pr.confirmed > 0 {
            assert!(
                pr.confirmed < u64::try_from(N).unwrap(),
                "the copy outran the outage"
            );
            mock.broker_down(2).unwrap();
            break;
        }
        assert!(Instant::now() < deadline);
    }
    let report = copier.join().unwrap().expect("a report");
    assert!(
        matches!(report.outcome, CopyOutcome::Failed(_)),
        "{report:?}"
    );
    eprintln!("first run: {report:?}");
    let confirmed = report.progress.confirmed;
    assert!(confirmed > 0 && report.progress.failed > 0, "{report:?}");
    let resume = report.resume.clone().expect("a resume point");
    assert_eq!(resume.from.keys().copied().collect::<Vec<_>>(), vec![0]);

    mock.broker_up(2).unwrap();
    mock.broker_round_trip_time(2, Duration::ZERO).unwrap();
    let first = copied_offsets(&brokers);
    let written = u64::try_from(first.len()).unwrap();
    assert!(
        written >= confirmed && written <= confirmed + report.uncertain,
        "{written} written, {confirmed} confirmed, {} uncertain",
        report.uncertain
    );
    let mut distinct = first.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), first.len(), "no message copied twice");
    // Every confirmed message is before the resume point or skipped by it.
    let from = resume.from[&0];
    let skipped = |o: i64| {
        resume
            .skip
            .get(&0)
            .is_some_and(|r| r.iter().any(|(a, b)| (*a..=*b).contains(&o)))
    };
    let confirmed_past = first.iter().filter(|o| **o >= from && skipped(**o)).count();
    assert!(
        first.iter().filter(|o| **o < from).count() + confirmed_past
            >= usize::try_from(confirmed).unwrap(),
        "the resume point leaves a confirmed message to be copied again"
    );

    // Resume as the report says.
    let resumed = CopySpec {
        selection: CopySelection::Range {
            partitions: None,
            start: CopyStart::Offsets(resume.from.clone()),
            end: None,
        },
        skip: resume.skip.clone(),
        ..spec
    };
    let r2 = copy::run(&profile(&brokers), &resumed, 0, &|| false, &mut |_| {}).unwrap();
    assert_eq!(r2.outcome, CopyOutcome::Complete, "{r2:?}");
    let all = copied_offsets(&brokers);
    let mut counts: BTreeMap<i64, u32> = BTreeMap::new();
    for o in &all {
        *counts.entry(*o).or_default() += 1;
    }
    assert_eq!(
        counts.keys().copied().collect::<Vec<_>>(),
        (0..N).collect::<Vec<_>>(),
        "every message copied"
    );
    let twice = counts.values().filter(|c| **c > 1).count();
    assert!(
        u64::try_from(twice).unwrap() <= report.uncertain,
        "{twice} message(s) copied twice, only {} were uncertain",
        report.uncertain
    );
    assert!(counts.values().all(|c| *c <= 2));
}

/// The next event `pick` accepts, within `timeout`.
fn wait_for<T>(
    rt: &tokio::runtime::Runtime,
    w: &mut kafkaterm::worker::WorkerHandle,
    pick: impl Fn(WorkerEvent) -> Option<T>,
) -> T {
    rt.block_on(async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let ev = tokio::time::timeout_at(deadline, w.events.recv())
                .await
                .expect("no answer in time")
                .expect("the worker stopped");
            if let Some(t) = pick(ev) {
                return t;
            }
        }
    })
}

/// The browser's path: `StartCopy` through the worker, a dry run and then
/// the copy of exactly the marked offsets; a read-only worker refuses the
/// copy but not the dry run.
#[test]
fn the_worker_counts_then_copies_exactly_the_marked_messages() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("src", 1, 1).unwrap();
    mock.create_topic("dst", 1, 1).unwrap();
    let brokers = mock.bootstrap_servers();
    seed_n(&brokers, 50);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let marked = vec![(0, 3), (0, 17), (0, 42)];
    let spec = CopySpec {
        source_header: true,
        ..CopySpec::new("src", "dst", CopySelection::Messages(marked.clone()))
    };

    let mut ro = profile(&brokers);
    ro.read_only = true;
    let mut w = rt.block_on(async { kafkaterm::worker::spawn(ro).unwrap() });
    w.commands
        .send(Command::StartCopy {
            id: 1,
            spec: spec.clone(),
        })
        .unwrap();
    let reason = wait_for(&rt, &mut w, |ev| match ev {
        WorkerEvent::Refused {
            id: Some(1),
            reason,
        } => Some(reason),
        WorkerEvent::Copied { id: 1, result } => panic!("copied in read-only mode: {result:?}"),
        _ => None,
    });
    assert!(reason.contains("read-only"), "{reason}");
    let dry = CopySpec {
        dry_run: true,
        ..spec.clone()
    };
    w.commands
        .send(Command::StartCopy {
            id: 2,
            spec: dry.clone(),
        })
        .unwrap();
    let r = wait_for(&rt, &mut w, |ev| match ev {
        WorkerEvent::Copied { id: 2, result } => Some(result),
        _ => None,
    })
    .unwrap();
    assert_eq!((r.progress.selected, r.progress.confirmed), (3, 0));
    drop(w);

    let mut w = rt.block_on(async { kafkaterm::worker::spawn(profile(&brokers)).unwrap() });
    w.commands
        .send(Command::StartCopy { id: 3, spec: dry })
        .unwrap();
    let r = wait_for(&rt, &mut w, |ev| match ev {
        WorkerEvent::Copied { id: 3, result } => Some(result),
        _ => None,
    })
    .unwrap();
    assert_eq!(r.progress.selected, 3);
    assert!(
        copied_offsets(&brokers).is_empty(),
        "a dry run sends nothing"
    );
    w.commands.send(Command::StartCopy { id: 4, spec }).unwrap();
    let r = wait_for(&rt, &mut w, |ev| match ev {
        WorkerEvent::Copied { id: 4, result } => Some(result),
        _ => None,
    })
    .unwrap();
    assert_eq!(r.outcome, CopyOutcome::Complete, "{r:?}");
    assert_eq!(r.progress.confirmed, 3);
    assert_eq!(copied_offsets(&brokers), vec![3, 17, 42]);
    drop(w);
    drop(rt);
}

/// The same outage through the command line: `kafkaterm copy` exits 1
/// with the confirmed count and a resume command; that command, run as
/// printed, completes the copy without copying a confirmed message twice.
#[test]
fn the_printed_resume_command_completes_an_interrupted_copy() {
    let mock = MockCluster::new(3).unwrap();
    mock.create_topic("src", 1, 1).unwrap();
    mock.create_topic("dst", 1, 1).unwrap();
    mock.partition_leader("src", 0, Some(1)).unwrap();
    mock.partition_leader("dst", 0, Some(2)).unwrap();
    let brokers = mock.bootstrap_servers();
    seed(&brokers);
    mock.broker_round_trip_time(2, Duration::from_millis(100))
        .unwrap();
    let sb = common::Sandbox::new();
    let settings = [
        "-X",
        "message.timeout.ms=3000",
        "-X",
        "batch.num.messages=200",
        "-X",
        "reconnect.backoff.max.ms=200",
    ];
    let mut cmd = sb.cmd();
    cmd.args(["-b", &brokers])
        .args(settings)
        .args(["copy", "src", "dst", "--keep-partitions", "--source-header"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    // Down with the destination once the first messages are in.
    let watcher: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok((_, high)) = watcher.fetch_watermarks("dst", 0, Duration::from_secs(5))
            && high > 0
        {
            assert!(high < N, "the copy outran the outage");
            break;
        }
        assert!(Instant::now() < deadline, "nothing was copied");
        std::thread::sleep(Duration::from_millis(20));
    }
    mock.broker_down(2).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let confirmed: u64 = stderr
        .split("copy stopped: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no confirmed count in {stderr}"));
    let uncertain: u64 = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("kafkaterm: ")?
                .split(" of the failed message(s) were sent")
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0);
    let resume = stderr
        .lines()
        .find_map(|l| {
            l.split("to resume without copying a confirmed message twice: ")
                .nth(1)
        })
        .unwrap_or_else(|| panic!("no resume command in {stderr}"));
    let words: Vec<&str> = resume.split(' ').collect();
    assert_eq!(&words[..4], ["kafkaterm", "copy", "src", "dst"], "{resume}");

    mock.broker_up(2).unwrap();
    mock.broker_round_trip_time(2, Duration::ZERO).unwrap();
    let first = copied_offsets(&brokers);
    let written = u64::try_from(first.len()).unwrap();
    assert!(
        written >= confirmed && written <= confirmed + uncertain,
        "{written} written, {confirmed} confirmed, {uncertain} uncertain"
    );
    let out = sb.run(
        &[&["-b", brokers.as_str()], &settings[..], &words[1..]].concat(),
        None,
    );
    let stderr = common::stderr(&out);
    assert!(out.status.success(), "the resume failed: {stderr}");
    let all = copied_offsets(&brokers);
    let mut counts: BTreeMap<i64, u32> = BTreeMap::new();
    for o in &all {
        *counts.entry(*o).or_default() += 1;
    }
    assert_eq!(
        counts.keys().copied().collect::<Vec<_>>(),
        (0..N).collect::<Vec<_>>(),
        "every message copied"
    );
    let twice = counts.values().filter(|c| **c > 1).count();
    assert!(
        u64::try_from(twice).unwrap() <= uncertain,
        "{twice} message(s) copied twice, only {uncertain} were uncertain"
    );
}
