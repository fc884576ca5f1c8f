//! The console's switching worker against librdkafka's mock cluster: probes
//! of a reachable and an unreachable cluster, and a switch while a browse
//! session streams: the `Switched` marker comes after every event of the
//! old cluster, and nothing of the old session follows it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kafkaterm::config::{ClusterProfile, Unsupported};
use kafkaterm::timeutil::StartAt;
use kafkaterm::worker::protocol::{BrowseEvent, BrowseSpec, Command, WorkerEvent};
use kafkaterm::worker::switch::{self, ClusterSource};
use kafkaterm::worker::{self, WorkerHandle};
use rdkafka::ClientConfig;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

struct Two {
    mock: String,
}

impl ClusterSource for Two {
    fn runs_commands(&self, name: &str) -> bool {
        name == "cmd"
    }

    fn profile(&self, name: &str) -> anyhow::Result<ClusterProfile> {
        assert_ne!(name, "cmd", "a probe ran a cluster's secret command");
        let mut p = match name {
            "mock" => {
                let mut p = ClusterProfile::adhoc(&self.mock);
                p.unsupported = Unsupported::mock();
                p
            }
            "nowhere" => ClusterProfile::adhoc("127.0.0.1:1"),
            other => anyhow::bail!("no cluster `{other}`"),
        };
        p.name = name.into();
        Ok(p)
    }
}

fn next(rt: &tokio::runtime::Runtime, w: &mut WorkerHandle, secs: u64) -> Option<WorkerEvent> {
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(secs), w.events.recv())
            .await
            .ok()
            .flatten()
    })
}

/// Wait (without reading) until the app's event channel is full.
fn wait_channel_full(w: &WorkerHandle, deadline: Instant) {
    while w.events.len() < worker::EVENT_CAPACITY {
        assert!(
            Instant::now() < deadline,
            "the session never filled the event channel ({} of {})",
            w.events.len(),
            worker::EVENT_CAPACITY
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Wait for the event `f` picks, passing the others to `seen`.
fn wait_for<T>(
    rt: &tokio::runtime::Runtime,
    w: &mut WorkerHandle,
    what: &str,
    mut seen: impl FnMut(&WorkerEvent),
    f: impl Fn(&WorkerEvent) -> Option<T>,
) -> T {
    loop {
        let ev = next(rt, w, 30).unwrap_or_else(|| panic!("timed out waiting for {what}"));
        if let Some(t) = f(&ev) {
            return t;
        }
        seen(&ev);
    }
}

#[test]
fn probes_and_a_switch_while_browsing() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("busy", 1, 1).unwrap();
    let bs = mock.bootstrap_servers();
    // A producer that keeps the topic busy for the whole test.
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = {
        let (bs, stop) = (bs.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let p: BaseProducer = ClientConfig::new()
                .set("bootstrap.servers", &bs)
                .set("linger.ms", "5")
                .create()
                .unwrap();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let payload = format!("m{i}");
                let _ = p.send(BaseRecord::<str, str>::to("busy").payload(&payload));
                p.poll(Duration::from_millis(2));
                i += 1;
            }
            let _ = p.flush(Duration::from_secs(5));
        })
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let source = Arc::new(Two { mock: bs.clone() });
    let mut w = rt.block_on(async { switch::spawn(None, source) }).unwrap();

    // Probes: the mock answers with its broker and topic; nothing listens
    // on port 1.
    for c in ["mock", "nowhere", "unknown", "cmd"] {
        w.commands
            .send(Command::Probe { cluster: c.into() })
            .unwrap();
    }
    let mut probes = std::collections::BTreeMap::new();
    while probes.len() < 4 {
        if let Some(WorkerEvent::Probed { cluster, result }) = next(&rt, &mut w, 30) {
            probes.insert(cluster, result);
        }
    }
    let r = probes["mock"].as_ref().unwrap();
    assert_eq!((r.brokers, r.topics, r.groups), (1, 1, None));
    assert!(probes["nowhere"].is_err());
    let e = probes["unknown"].as_ref().unwrap_err();
    assert!(e.message.contains("no cluster `unknown`"), "{e:?}");
    let e = probes["cmd"].as_ref().unwrap_err();
    assert!(
        e.is_unsupported() && e.message.contains("not checked"),
        "{e:?}"
    );

    // Connect and browse.
    w.commands
        .send(Command::Connect {
            generation: 1,
            cluster: "mock".into(),
        })
        .unwrap();
    let info = wait_for(
        &rt,
        &mut w,
        "Switched 1",
        |_| {},
        |ev| match ev {
            WorkerEvent::Switched {
                generation: 1,
                result,
            } => Some(result.clone().unwrap()),
            _ => None,
        },
    );
    assert_eq!(info.name, "mock");
    w.commands
        .send(Command::StartBrowse {
            session: 7,
            spec: BrowseSpec {
                topic: "busy".into(),
                partitions: None,
                start: StartAt::Beginning,
                isolation: kafkaterm::model::Isolation::default(),
                positions: Vec::new(),
            },
        })
        .unwrap();
    wait_for(
        &rt,
        &mut w,
        "records",
        |_| {},
        |ev| match ev {
            WorkerEvent::Browse {
                session: 7,
                event: BrowseEvent::Records(r),
            } if !r.is_empty() => Some(()),
            _ => None,
        },
    );

    // Let the session fill the app's channel (nothing reads it now): the
    // forwarder then waits with an old event in hand while the old worker's
    // own channel fills behind it. Switch away while records stream: the
    // marker ends the old cluster.
    wait_channel_full(&w, Instant::now() + Duration::from_secs(30));
    w.commands
        .send(Command::Connect {
            generation: 2,
            cluster: "nowhere".into(),
        })
        .unwrap();
    wait_for(
        &rt,
        &mut w,
        "Switched 2",
        |_| {},
        |ev| match ev {
            WorkerEvent::Switched {
                generation: 2,
                result,
            } => {
                assert_eq!(result.as_ref().unwrap().name, "nowhere");
                Some(())
            }
            _ => None,
        },
    );
    // The new cluster's requests are its own: listing topics fails.
    w.commands.send(Command::RefreshTopics { id: 100 }).unwrap();
    let mut after = Vec::new();
    let result = wait_for(
        &rt,
        &mut w,
        "the unreachable cluster's topic list",
        |ev| after.push(format!("{ev:?}")),
        |ev| match ev {
            WorkerEvent::Topics { id: 100, result } => Some(result.clone()),
            _ => None,
        },
    );
    assert!(result.is_err());
    // Nothing of the old session came after the marker.
    while let Some(ev) = next(&rt, &mut w, 1) {
        after.push(format!("{ev:?}"));
    }
    assert!(
        after.iter().all(|e| !e.contains("Browse")),
        "old session events after the switch: {after:?}"
    );

    // And back: browsing works again on a new session.
    w.commands
        .send(Command::Connect {
            generation: 3,
            cluster: "mock".into(),
        })
        .unwrap();
    wait_for(
        &rt,
        &mut w,
        "Switched 3",
        |_| {},
        |ev| match ev {
            WorkerEvent::Switched { generation: 3, .. } => Some(()),
            _ => None,
        },
    );
    w.commands
        .send(Command::StartBrowse {
            session: 8,
            spec: BrowseSpec {
                topic: "busy".into(),
                partitions: None,
                start: StartAt::Beginning,
                isolation: kafkaterm::model::Isolation::default(),
                positions: Vec::new(),
            },
        })
        .unwrap();
    wait_for(
        &rt,
        &mut w,
        "records of the new session",
        |ev| {
            assert!(
                !matches!(ev, WorkerEvent::Browse { session: 7, .. }),
                "{ev:?}"
            );
        },
        |ev| match ev {
            WorkerEvent::Browse {
                session: 8,
                event: BrowseEvent::Records(r),
            } if !r.is_empty() => Some(()),
            _ => None,
        },
    );
    w.commands.send(Command::Shutdown).unwrap();
    stop.store(true, Ordering::Relaxed);
    traffic.join().unwrap();
}
