//! `--demo`: librdkafka's in-process mock cluster, seeded with topics,
//! continuous traffic (keys, headers, JSON, binary and hostile values) and
//! consumer groups whose members come and go, so every pane has something
//! to show with nothing installed.
//!
//! The mock implements no ListGroups, DescribeGroups, CreateTopics,
//! DeleteTopics or DescribeConfigs: the demo's profile says so, names its
//! groups in `watch_groups`, and the panes say plainly what is unavailable.
//! Group membership comes from the demo's own consumers ([`membership`]).

pub mod membership;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use rand::Rng;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header as RdHeader, OwnedHeaders};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord};

use crate::config::{ClusterProfile, Unsupported};

pub const TOPICS: [(&str, i32); 5] = [
    ("orders", 6),
    ("payments", 3),
    ("users", 3),
    ("telemetry", 2),
    ("audit", 1),
];
pub const GROUPS: [&str; 3] = ["orders-service", "payments-audit", "analytics-batch"];

/// Start the mock cluster and its traffic; returns the demo profile. The
/// cluster lives as long as the process (it must outlive every client).
pub fn start() -> Result<ClusterProfile> {
    let mock = MockCluster::new(3).map_err(|e| anyhow!("cannot start the mock cluster: {e}"))?;
    for (t, p) in TOPICS {
        mock.create_topic(t, p, 3)
            .map_err(|e| anyhow!("cannot create demo topic {t}: {e}"))?;
    }
    let brokers = mock.bootstrap_servers();
    Box::leak(Box::new(mock));
    let mut p = ClusterProfile::adhoc(&brokers);
    p.name = "demo".into();
    p.unsupported = Unsupported::mock();
    p.watch_groups = GROUPS.iter().map(|g| (*g).to_string()).collect();
    p.topics_refresh_secs = 5.0;
    p.groups_refresh_secs = 2.0;
    let running = Arc::new(AtomicBool::new(true));
    spawn_traffic(&brokers, Arc::clone(&running))?;
    spawn_groups(&brokers, &running);
    Ok(p)
}

fn order_value(n: u64, rng: &mut impl Rng) -> String {
    let items = rng.gen_range(1..4);
    let lines: Vec<String> = (0..items)
        .map(|i| {
            format!(
                r#"{{"sku":"SKU-{}","qty":{}}}"#,
                (n + i) % 97,
                rng.gen_range(1..5)
            )
        })
        .collect();
    format!(
        r#"{{"order_id":{n},"user":{{"id":"u{}","tier":"{}"}},"amount":{:.2},"currency":"EUR","items":[{}],"status":"{}"}}"#,
        n % 50,
        ["free", "plus", "pro"][usize::try_from(n % 3).unwrap_or(0)],
        rng.gen_range(5.0..500.0),
        lines.join(","),
        ["created", "paid", "shipped"][usize::try_from(n % 3).unwrap_or(0)]
    )
}

/// A schema-less protobuf payload: 1: device id (varint), 2: name (string),
/// 3: temperature ×100 (fixed32).
fn telemetry_value(n: u64, rng: &mut impl Rng) -> Vec<u8> {
    let mut v = vec![0x08];
    let mut id = n % 20 + 1;
    loop {
        let b = (id & 0x7f) as u8;
        id >>= 7;
        if id == 0 {
            v.push(b);
            break;
        }
        v.push(b | 0x80);
    }
    let name = format!("sensor-{}", n % 20);
    v.push(0x12);
    v.push(u8::try_from(name.len()).unwrap_or(0));
    v.extend_from_slice(name.as_bytes());
    v.push(0x1d);
    v.extend_from_slice(&rng.gen_range(1500u32..3500).to_le_bytes());
    v
}

fn spawn_traffic(brokers: &str, running: Arc<AtomicBool>) -> Result<()> {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "5")
        .create()
        .map_err(|e| anyhow!("demo producer: {e}"))?;
    thread::Builder::new()
        .name("kt-demo-traffic".into())
        .spawn(move || {
            let mut rng = rand::thread_rng();
            let mut n: u64 = 0;
            let started = Instant::now();
            while running.load(Ordering::Relaxed) {
                n += 1;
                let trace = uuid::Uuid::new_v4().to_string();
                let headers = OwnedHeaders::new()
                    .insert(RdHeader {
                        key: "trace-id",
                        value: Some(trace.as_str()),
                    })
                    .insert(RdHeader {
                        key: "source",
                        value: Some(
                            ["web", "mobile", "batch"][usize::try_from(n % 3).unwrap_or(0)],
                        ),
                    })
                    .insert(RdHeader {
                        key: "schema-version",
                        value: Some("2"),
                    });
                let key = format!("order-{n}");
                let value = order_value(n, &mut rng);
                let _ = producer.send(
                    BaseRecord::<str, str>::to("orders")
                        .key(&key)
                        .payload(&value)
                        .headers(headers),
                );
                if n.is_multiple_of(3) {
                    let key = format!("pay-{n}");
                    let value = format!(
                        r#"{{"payment_id":"{}","order_id":{n},"amount":{:.2},"method":"{}"}}"#,
                        uuid::Uuid::new_v4(),
                        rng.gen_range(5.0..500.0),
                        ["card", "sepa", "paypal"][usize::try_from(n % 3).unwrap_or(0)]
                    );
                    let _ = producer.send(
                        BaseRecord::<str, str>::to("payments")
                            .key(&key)
                            .payload(&value),
                    );
                }
                if n.is_multiple_of(5) {
                    let key = format!("u{}", n % 50);
                    let value = format!(
                        r#"{{"id":"{key}","name":"User {}","email":"user{}@example.com"}}"#,
                        n % 50,
                        n % 50
                    );
                    let rec = BaseRecord::<str, str>::to("users").key(&key);
                    // Every seventh user update is a tombstone (null value).
                    let _ = if n.is_multiple_of(35) {
                        producer.send(rec)
                    } else {
                        producer.send(rec.payload(&value))
                    };
                }
                if n.is_multiple_of(2) {
                    let value = telemetry_value(n, &mut rng);
                    let key = (n % 20).to_be_bytes();
                    let _ = producer.send(
                        BaseRecord::<[u8], [u8]>::to("telemetry")
                            .key(&key[..])
                            .payload(&value[..]),
                    );
                }
                if n.is_multiple_of(40) {
                    // Hostile input, shown safely: an escape sequence, a bidi
                    // override and a binary header.
                    let value = format!(
                        "login ok for \x1b[31mmallory\x1b[0m \u{202e}gnp.exe from 10.0.0.{}",
                        n % 255
                    );
                    let headers = OwnedHeaders::new().insert(RdHeader {
                        key: "raw",
                        value: Some(&[0u8, 159, 146, 150][..]),
                    });
                    let _ = producer.send(
                        BaseRecord::<str, str>::to("audit")
                            .key("auth")
                            .payload(&value)
                            .headers(headers),
                    );
                }
                producer.poll(Duration::ZERO);
                // About 10 orders a second, a little faster for the first seconds.
                let pause = if started.elapsed() < Duration::from_secs(3) {
                    5
                } else {
                    100
                };
                thread::sleep(Duration::from_millis(pause));
            }
        })?;
    Ok(())
}

/// A member of a demo group, known to [`membership`] until it is dropped
/// (which leaves the group). Client ids are numbered per process.
fn consumer(brokers: &str, group: &str, topic: &str) -> Option<BaseConsumer<membership::Tracked>> {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let client_id = format!("{group}-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let c: BaseConsumer<membership::Tracked> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "1000")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .set("client.id", &client_id)
        .set("partition.assignment.strategy", membership::ASSIGNOR)
        .create_with_context(membership::Tracked::join(group, &client_id, &[topic]))
        .ok()?;
    c.subscribe(&[topic]).ok()?;
    Some(c)
}

/// Poll at most `per_sec` messages a second for `dur`.
fn consume_for(c: &BaseConsumer<membership::Tracked>, per_sec: u32, dur: Duration) {
    let start = Instant::now();
    let gap = Duration::from_millis(1000 / u64::from(per_sec.max(1)));
    while start.elapsed() < dur {
        let _ = c.poll(Duration::from_millis(100));
        thread::sleep(gap);
    }
}

fn spawn_groups(brokers: &str, running: &Arc<AtomicBool>) {
    // orders-service: one member always, a second one joins for 30 s of
    // every minute (a rebalance each time). One member falls behind, two
    // catch up.
    let b = brokers.to_string();
    let r = Arc::clone(running);
    let _ = thread::Builder::new()
        .name("kt-demo-orders-1".into())
        .spawn(move || {
            if let Some(c) = consumer(&b, "orders-service", "orders") {
                while r.load(Ordering::Relaxed) {
                    consume_for(&c, 7, Duration::from_secs(1));
                }
            }
        });
    let b = brokers.to_string();
    let r = Arc::clone(running);
    let _ = thread::Builder::new()
        .name("kt-demo-orders-2".into())
        .spawn(move || {
            while r.load(Ordering::Relaxed) {
                thread::sleep(Duration::from_secs(20));
                if let Some(c) = consumer(&b, "orders-service", "orders") {
                    consume_for(&c, 7, Duration::from_secs(30));
                    drop(c); // leaves the group
                }
                thread::sleep(Duration::from_secs(10));
            }
        });
    // payments-audit: keeps up.
    let b = brokers.to_string();
    let r = Arc::clone(running);
    let _ = thread::Builder::new()
        .name("kt-demo-payments".into())
        .spawn(move || {
            if let Some(c) = consumer(&b, "payments-audit", "payments") {
                while r.load(Ordering::Relaxed) {
                    consume_for(&c, 50, Duration::from_secs(1));
                }
            }
        });
    // analytics-batch: ran once, committed, left: an Empty group whose lag grows.
    let b = brokers.to_string();
    let _ = thread::Builder::new()
        .name("kt-demo-analytics".into())
        .spawn(move || {
            thread::sleep(Duration::from_secs(2));
            if let Some(c) = consumer(&b, "analytics-batch", "users") {
                consume_for(&c, 100, Duration::from_secs(6));
                let _ = c.commit_consumer_state(rdkafka::consumer::CommitMode::Sync);
            }
        });
}
