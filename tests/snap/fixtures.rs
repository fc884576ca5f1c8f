//! Literal data for the snapshot scenarios: a cluster, topic details and
//! records, plain and hostile (groups are in `group_fixtures`).

use std::sync::Arc;

use kafkaterm::model::{
    BrokerInfo, ClusterSnapshot, ConfigEntry, Configs, Header, PartitionInfo, Record,
    TimestampType, TopicDetail, TopicSummary,
};
use kafkaterm::worker::protocol::PartitionStart;

use super::NOW;

// ---- topics ----

pub fn topic(name: &str, partitions: usize, messages: Option<i64>) -> TopicSummary {
    TopicSummary {
        messages_error: None,
        name: name.into(),
        partitions,
        replication_factor: 3,
        messages,
        internal: false,
        under_replicated: 0,
        offline: 0,
        error: None,
        end_offsets: None,
    }
}

pub fn brokers() -> Vec<BrokerInfo> {
    (1..=3)
        .map(|id| BrokerInfo {
            id,
            host: format!("kafka-{id}"),
            port: 9092,
        })
        .collect()
}

/// A cluster of 36 topics: internal ones, under-replicated, offline, a
/// metadata error, unknown sizes, an empty topic and long names.
pub fn cluster() -> ClusterSnapshot {
    let mut topics = vec![
        TopicSummary {
            internal: true,
            ..topic("__consumer_offsets", 50, Some(1_204_331))
        },
        TopicSummary {
            internal: true,
            ..topic("__transaction_state", 50, Some(0))
        },
        topic("_schemas", 1, Some(212)),
        topic("orders", 12, Some(1_234_567)),
        topic("orders.dlq", 3, Some(42)),
        TopicSummary {
            under_replicated: 2,
            ..topic("payments", 6, Some(88_120))
        },
        TopicSummary {
            offline: 1,
            under_replicated: 1,
            ..topic("inventory.v2", 6, None)
        },
        TopicSummary {
            error: Some("Broker: Leader not available".into()),
            ..topic("audit-log", 0, None)
        },
        topic("clickstream.raw.eu-west-1.2026", 64, Some(98_765_432_109)),
        topic(
            "com.example.platform.customer-profile.events.v3.compacted-changelog-with-a-long-name",
            24,
            Some(5_000_001),
        ),
        topic("users", 3, Some(7)),
        topic("shipments", 6, Some(310_044)),
        topic("notifications.email", 3, Some(9_921)),
        topic("notifications.sms", 3, Some(1_204)),
        topic("metrics.host", 12, Some(45_000_000)),
        topic("metrics.app", 12, Some(12_500_300)),
        topic("logs.nginx", 24, Some(870_220_114)),
        topic("logs.app", 24, Some(120_004_512)),
        topic("billing.invoices", 6, Some(55_101)),
        topic("billing.refunds", 6, Some(311)),
        topic("search.index-requests", 8, Some(2_100_000)),
        topic("cdc.public.accounts", 1, Some(19_455)),
        topic("cdc.public.orders", 1, Some(1_100_999)),
        topic("cdc.public.customers", 1, Some(8_870)),
        topic("sessions", 12, Some(4_410_000)),
        topic("alerts", 1, Some(3)),
        topic("empty-topic", 3, Some(0)),
        topic("unknown-size", 3, None),
        topic("fraud.scores", 6, Some(600_600)),
        topic("recommendations.v1", 6, Some(75_000)),
        topic("ml.features", 16, Some(33_000_000)),
        topic("connect-configs", 1, Some(88)),
        topic("connect-offsets", 25, Some(1_420)),
        topic("connect-status", 5, Some(260)),
        TopicSummary {
            under_replicated: 1,
            ..topic("tmp.load-test-1", 1, Some(1_000_000))
        },
        topic("tmp.load-test-2", 1, Some(999_999)),
    ];
    // The broker's order, not ours: the pane sorts.
    topics.reverse();
    ClusterSnapshot {
        brokers: brokers(),
        topics,
        watermark_error: None,
    }
}

/// Three topics whose names carry escapes, bidi controls and wide text.
pub fn hostile_cluster() -> ClusterSnapshot {
    ClusterSnapshot {
        brokers: brokers(),
        topics: vec![
            topic("orders\x1b]0;PWNED-TOPIC\x07\u{202e}\u{200b}", 3, Some(10)),
            topic("\x1b[2J\x1b[Hclear-screen", 1, Some(1)),
            topic("注文-イベント-📦", 2, Some(20)),
            topic("rtl\u{202e}cod.exe", 1, Some(0)),
            topic("bell\x07\u{9b}31mc1", 1, Some(0)),
            topic("plain", 1, Some(5)),
        ],
        watermark_error: None,
    }
}

pub fn empty_cluster() -> ClusterSnapshot {
    ClusterSnapshot {
        brokers: brokers(),
        topics: vec![],
        watermark_error: None,
    }
}

fn partition(
    p: i32,
    leader: i32,
    replicas: &[i32],
    isr: &[i32],
    low: i64,
    high: i64,
) -> PartitionInfo {
    PartitionInfo {
        // No transaction open: the last stable offset is the high watermark.
        lso: Some(high),
        partition: p,
        leader,
        replicas: replicas.to_vec(),
        isr: isr.to_vec(),
        low: Some(low),
        high: Some(high),
        error: None,
    }
}

fn config(name: &str, value: Option<&str>, default: bool, source: &str) -> ConfigEntry {
    ConfigEntry {
        name: name.into(),
        value: value.map(str::to_string),
        is_default: default,
        is_sensitive: false,
        source: source.into(),
    }
}

pub fn configs() -> Vec<ConfigEntry> {
    let mut v = vec![
        config(
            "cleanup.policy",
            Some("compact,delete"),
            false,
            "DYNAMIC_TOPIC_CONFIG",
        ),
        config("compression.type", Some("producer"), true, "DEFAULT_CONFIG"),
        config(
            "delete.retention.ms",
            Some("86400000"),
            true,
            "DEFAULT_CONFIG",
        ),
        config(
            "file.delete.delay.ms",
            Some("60000"),
            true,
            "DEFAULT_CONFIG",
        ),
        config(
            "flush.messages",
            Some("9223372036854775807"),
            true,
            "DEFAULT_CONFIG",
        ),
        config(
            "leader.replication.throttled.replicas",
            Some("0:1,1:2,2:3,3:1,4:2,5:3,6:1,7:2,8:3,9:1,10:2,11:3"),
            false,
            "DYNAMIC_TOPIC_CONFIG",
        ),
        config(
            "max.message.bytes",
            Some("10485760"),
            false,
            "DYNAMIC_TOPIC_CONFIG",
        ),
        config(
            "message.timestamp.type",
            Some("CreateTime"),
            true,
            "DEFAULT_CONFIG",
        ),
        config(
            "min.insync.replicas",
            Some("2"),
            false,
            "STATIC_BROKER_CONFIG",
        ),
        config("retention.bytes", Some("-1"), true, "DEFAULT_CONFIG"),
        config(
            "retention.ms",
            Some("604800000"),
            false,
            "DYNAMIC_TOPIC_CONFIG",
        ),
        config("segment.bytes", Some("1073741824"), true, "DEFAULT_CONFIG"),
        config("segment.ms", Some("604800000"), true, "DEFAULT_CONFIG"),
        config(
            "unclean.leader.election.enable",
            Some("false"),
            true,
            "DEFAULT_CONFIG",
        ),
        config(
            "message.downconversion.enable",
            None,
            true,
            "DEFAULT_CONFIG",
        ),
    ];
    v.push(ConfigEntry {
        is_sensitive: true,
        ..config(
            "sasl.jaas.config",
            Some("must never show"),
            false,
            "DYNAMIC_TOPIC_CONFIG",
        )
    });
    v
}

/// `orders`: 12 partitions, one with an out-of-sync replica, one without a
/// leader, one whose watermarks are unknown.
pub fn orders_detail(configs: Configs) -> TopicDetail {
    let mut partitions: Vec<PartitionInfo> = (0..12)
        .map(|p| {
            let l = p % 3 + 1;
            let r = [l, l % 3 + 1, (l + 1) % 3 + 1];
            partition(
                p,
                l,
                &r,
                &r,
                i64::from(p) * 1_000,
                100_000 + i64::from(p) * 2_871,
            )
        })
        .collect();
    partitions[3].isr = vec![1, 3];
    partitions[5].leader = -1;
    partitions[5].isr = vec![];
    partitions[5].error = Some("Broker: Leader not available".into());
    partitions[9].low = None;
    partitions[9].high = None;
    partitions[9].error = Some("watermarks timed out".into());
    partitions[9].lso = None;
    TopicDetail {
        name: "orders".into(),
        internal: false,
        partitions,
        configs,
    }
}

/// A topic with many partitions (scrolling).
pub fn wide_detail() -> TopicDetail {
    TopicDetail {
        name: "clickstream.raw.eu-west-1.2026".into(),
        internal: false,
        partitions: (0..64)
            .map(|p| {
                let l = p % 3 + 1;
                let r = [l, l % 3 + 1, (l + 1) % 3 + 1];
                partition(p, l, &r, &r, 0, 1_543_210_000 + i64::from(p))
            })
            .collect(),
        configs: Configs::Loaded(vec![]),
    }
}

// ---- records ----

pub fn rec(
    p: i32,
    o: i64,
    age_ms: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[(&str, Option<&[u8]>)],
) -> Record {
    Record {
        topic: Arc::from("orders"),
        partition: p,
        offset: o,
        timestamp: Some(NOW - age_ms),
        timestamp_type: TimestampType::CreateTime,
        key: key.map(<[u8]>::to_vec),
        value: value.map(<[u8]>::to_vec),
        headers: headers
            .iter()
            .map(|(n, v)| Header {
                name: (*n).to_string(),
                value: v.map(<[u8]>::to_vec),
            })
            .collect(),
    }
}

pub fn order_json(i: i64) -> Vec<u8> {
    format!(
        r#"{{"id":"o-{}","user":{{"id":"u{}","name":"Ada Lovelace"}},"amount":{}.5,"currency":"EUR","items":[{{"sku":"A-1","qty":2}},{{"sku":"B-7","qty":1}}],"paid":{},"note":null}}"#,
        1000 + i,
        40 + i % 7,
        i * 37 % 250,
        i % 2 == 0
    )
    .into_bytes()
}

/// Where each partition of `orders` starts, for `BrowseEvent::Started`.
pub fn starts(n: i32) -> Vec<PartitionStart> {
    (0..n)
        .map(|p| PartitionStart {
            partition: p,
            start: 100,
            low: 0,
            high: 200,
        })
        .collect()
}

/// 40 ordinary records: JSON orders over six partitions, plus a null key,
/// a tombstone, an empty value, plain text, binary bytes, headers and each
/// timestamp type. Oldest first, as the worker delivers them.
pub fn records() -> Vec<Record> {
    let mut v = Vec::new();
    for i in 0..34 {
        let p = i32::try_from(i % 6).unwrap_or(0);
        let key = format!("u{}", 40 + i % 7);
        let hdr: &[(&str, Option<&[u8]>)] = if i % 5 == 0 {
            &[
                ("trace-id", Some(b"4bf92f3577b34da6a3ce929d0e0e4736")),
                ("source", Some(b"checkout")),
            ]
        } else {
            &[]
        };
        v.push(rec(
            p,
            100 + i / 6,
            (60 - i) * 1000,
            Some(key.as_bytes()),
            Some(&order_json(i)),
            hdr,
        ));
    }
    v.push(rec(0, 200, 20_000, None, Some(b"no key here"), &[]));
    v.push(rec(
        1,
        200,
        15_000,
        Some(b"u41"),
        None,
        &[("reason", Some(b"gdpr-erase"))],
    ));
    v.push(rec(2, 200, 12_000, Some(b"u42"), Some(b""), &[]));
    let mut r = rec(
        3,
        200,
        9_000,
        Some(b"plain"),
        Some(b"hello world, this is plain text"),
        &[],
    );
    r.timestamp_type = TimestampType::LogAppendTime;
    v.push(r);
    let mut r = rec(
        4,
        200,
        6_000,
        Some(&[0xde, 0xad, 0xbe, 0xef]),
        Some(&[0x00, 0xff, 0x10, 0x80, 0x7f, 0x0a, 0x41, 0x42]),
        &[("null-header", None), ("empty-header", Some(b""))],
    );
    r.timestamp = None;
    r.timestamp_type = TimestampType::NotAvailable;
    v.push(r);
    v.push(rec(
        5,
        200,
        3_000,
        Some(b"u44"),
        Some(br#"{"id":"o-2000","amount":1250.0,"currency":"USD","user":{"id":"u44"}}"#),
        &[
            ("content-type", Some(b"application/json")),
            ("retry", Some(b"3")),
        ],
    ));
    v
}

/// One megabyte of text.
pub fn huge_value() -> Vec<u8> {
    b"lorem ipsum dolor sit amet "
        .iter()
        .copied()
        .cycle()
        .take(1024 * 1024)
        .collect()
}

/// Records whose bytes try to reach the terminal: escapes, C1 controls,
/// bidi overrides, zero-width characters, invalid UTF-8, wide text, a huge
/// value and a thousand headers.
pub fn hostile_records() -> Vec<Record> {
    let many: Vec<(String, Vec<u8>)> = (0..1000)
        .map(|i| (format!("h-{i:03}"), format!("value-{i}").into_bytes()))
        .collect();
    let mut many_rec = rec(5, 306, 1_000, Some(b"many-headers"), Some(b"{}"), &[]);
    many_rec.headers = many
        .into_iter()
        .map(|(name, value)| Header {
            name,
            value: Some(value),
        })
        .collect();
    vec![
        rec(
            0,
            300,
            9_000,
            Some(b"\x1b[31mred\x1b[0m"),
            Some(b"\x1b]0;PWNED\x07title \x1b]52;c;ZXZpbA==\x07clipboard \x1b[2J\x1b[H"),
            &[("x-\x1b[2J", Some(b"a\nb\rc"))],
        ),
        rec(
            1,
            301,
            8_000,
            Some("c1\u{9b}31m".as_bytes()),
            Some("NEL\u{85}next CSI\u{9b}2J OSC\u{9d}0;x\u{9c} DEL\x7f".as_bytes()),
            &[],
        ),
        rec(
            2,
            302,
            7_000,
            Some("user\u{202e}gnp.exe".as_bytes()),
            Some("bidi \u{2066}isolate\u{2069} \u{202d}override\u{202c} \u{200f}rlm".as_bytes()),
            &[],
        ),
        rec(
            3,
            303,
            6_000,
            Some("ze\u{200b}ro".as_bytes()),
            Some("zero\u{200b}width\u{200d}joiner\u{feff}bom\u{2060}wj".as_bytes()),
            &[],
        ),
        rec(
            4,
            304,
            5_000,
            Some(b"bad\xff"),
            Some(b"ok \xff\xfe\xc3\x28 invalid \xe2\x82 utf-8 \xf0\x9f\x92"),
            &[],
        ),
        rec(
            0,
            305,
            4_000,
            Some("ユーザー42".as_bytes()),
            Some("注文 📦 ✅ 👩‍👩‍👧 한국어 テスト 🇯🇵 ok".as_bytes()),
            &[("名前", Some("値".as_bytes()))],
        ),
        many_rec,
        rec(1, 307, 500, Some(b"huge"), Some(&huge_value()), &[]),
        rec(
            2,
            308,
            100,
            Some(b"tabs"),
            Some(b"line one\nline two\ttabbed\r\nwindows line\x00nul\x08bs"),
            &[],
        ),
    ]
}
