//! Consumer groups for the snapshot scenarios: a rebalancing group whose
//! lag grows, and a list of groups in every state.

use kafkaterm::model::{
    GroupDescription, GroupMember, GroupSnapshot, PartitionLag, TopicPartition, lag,
};
use kafkaterm::worker::protocol::GroupsSnapshot;

use super::NOW;

pub fn member(id: &str, client: &str, host: &str, assignment: &[(&str, i32)]) -> GroupMember {
    GroupMember {
        member_id: id.into(),
        client_id: client.into(),
        host: host.into(),
        assignment: Some(
            assignment
                .iter()
                .map(|(t, p)| TopicPartition::new(t, *p))
                .collect(),
        ),
        assignment_note: None,
        subscription: vec![],
        ..Default::default()
    }
}

pub fn plag(
    topic: &str,
    p: i32,
    committed: Option<i64>,
    end: i64,
    member: Option<&str>,
) -> PartitionLag {
    PartitionLag {
        lso: None,
        topic: topic.into(),
        partition: p,
        committed,
        end: Some(end),
        lag: lag(committed, Some(end)),
        member_id: member.map(str::to_string),
        // About 40 ms of production per message behind, as a busy topic;
        // every fifth partition's reading is an older one (an estimate).
        lag_ms: lag(committed, Some(end)).map(|l| l * 40),
        lag_ms_estimated: p % 5 == 4 && lag(committed, Some(end)).is_some_and(|l| l > 0),
        lag_ms_note: None,
        error: None,
    }
}

pub fn group(
    name: &str,
    state: &str,
    protocol: &str,
    members: Vec<GroupMember>,
    partitions: Vec<PartitionLag>,
    at_ms: i64,
) -> GroupSnapshot {
    GroupSnapshot {
        group: name.into(),
        description: Some(GroupDescription {
            group: name.into(),
            state: state.into(),
            protocol_type: "consumer".into(),
            protocol: protocol.into(),
            members,
            ..Default::default()
        }),
        description_note: None,
        partitions,
        offsets_note: None,
        at_ms,
    }
}

const A: &str = "consumer-orders-1-6f1c2a4e-8d3b-4f7a-9c1e-2b5d7a9e0f11";
const B: &str = "consumer-orders-2-0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d";
const C: &str = "consumer-orders-3-11223344-5566-4778-899a-abbccddeeff0";

/// `orders-service` at round `r`: Stable with members A and B, a rebalance
/// at round 3 (C joins: PreparingRebalance, CompletingRebalance, then Stable
/// with partitions moved), lag growing by 400 per round.
pub fn orders_service(r: i64, at_ms: i64) -> GroupSnapshot {
    let (state, members): (&str, Vec<GroupMember>) = match r {
        0..=2 => (
            "Stable",
            vec![
                member(
                    A,
                    "orders-1",
                    "/10.0.1.11",
                    &[
                        ("orders", 0),
                        ("orders", 1),
                        ("orders", 2),
                        ("orders", 3),
                        ("orders", 4),
                        ("orders", 5),
                        ("orders.dlq", 0),
                    ],
                ),
                member(
                    B,
                    "orders-2",
                    "/10.0.1.12",
                    &[
                        ("orders", 6),
                        ("orders", 7),
                        ("orders", 8),
                        ("orders", 9),
                        ("orders", 10),
                        ("orders", 11),
                        ("orders.dlq", 1),
                        ("orders.dlq", 2),
                    ],
                ),
            ],
        ),
        3 => ("PreparingRebalance", vec![]),
        4 => ("CompletingRebalance", vec![]),
        _ => (
            "Stable",
            vec![
                member(
                    A,
                    "orders-1",
                    "/10.0.1.11",
                    &[
                        ("orders", 0),
                        ("orders", 1),
                        ("orders", 2),
                        ("orders", 3),
                        ("orders.dlq", 0),
                    ],
                ),
                member(
                    B,
                    "orders-2",
                    "/10.0.1.12",
                    &[
                        ("orders", 4),
                        ("orders", 5),
                        ("orders", 6),
                        ("orders", 7),
                        ("orders.dlq", 1),
                    ],
                ),
                member(
                    C,
                    "",
                    "",
                    &[
                        ("orders", 8),
                        ("orders", 9),
                        ("orders", 10),
                        ("orders", 11),
                        ("orders.dlq", 2),
                    ],
                ),
            ],
        ),
    };
    let owner = |t: &str, p: i32| -> Option<String> {
        members
            .iter()
            .find(|m| {
                m.assignment
                    .iter()
                    .flatten()
                    .any(|tp| tp.topic == t && tp.partition == p)
            })
            .map(|m| m.member_id.clone())
    };
    let mut parts = Vec::new();
    for p in 0..12 {
        let end = 100_000 + i64::from(p) * 2_871 + r * 900;
        let committed = if p == 7 {
            None
        } else {
            Some(end - 120 - i64::from(p) * 31 - r * 400 / 12)
        };
        parts.push(plag(
            "orders",
            p,
            committed,
            end,
            owner("orders", p).as_deref(),
        ));
    }
    for p in 0..3 {
        parts.push(plag(
            "orders.dlq",
            p,
            Some(14),
            14,
            owner("orders.dlq", p).as_deref(),
        ));
    }
    group("orders-service", state, "range", members, parts, at_ms)
}

/// Every group of the list at round `r` (0..8), five seconds apart.
pub fn groups_round(r: i64) -> GroupsSnapshot {
    let at = NOW + r * 5_000;
    let simple = |name: &str, state: &str, n_members: usize, topic: &str, lag_now: i64| {
        let members = (0..n_members)
            .map(|i| {
                member(
                    &format!("{name}-{i}-0000-1111"),
                    &format!("{name}-{i}"),
                    &format!("/10.0.2.{}", 10 + i),
                    &[(topic, i32::try_from(i).unwrap_or(0))],
                )
            })
            .collect();
        let parts = (0..3)
            .map(|p| plag(topic, p, Some(1_000), 1_000 + lag_now / 3, None))
            .collect();
        group(name, state, "range", members, parts, at)
    };
    let mut groups = vec![
        orders_service(r, at),
        simple("payments-consumer", "Stable", 2, "payments", 0),
        simple(
            "analytics-etl",
            "Empty",
            0,
            "clickstream.raw.eu-west-1.2026",
            50_001,
        ),
        simple(
            "billing-worker",
            "PreparingRebalance",
            1,
            "billing.invoices",
            300 + r * 10,
        ),
        simple(
            "search-indexer",
            "CompletingRebalance",
            3,
            "search.index-requests",
            900 - r * 100,
        ),
        simple("legacy-reporting", "Dead", 0, "orders", 0),
        simple("console-consumer-48213", "Empty", 0, "users", 3),
        simple(
            "com.example.platform.customer-profile.projection-builder.blue-green-canary",
            "Stable",
            1,
            "com.example.platform.customer-profile.events.v3.compacted-changelog-with-a-long-name",
            12,
        ),
        simple(
            "notifications-email",
            "Stable",
            1,
            "notifications.email",
            2_000 + r * 500,
        ),
        simple("notifications-sms", "Stable", 1, "notifications.sms", 0),
        simple(
            "fraud-detector",
            "Stable",
            2,
            "fraud.scores",
            30 + (r % 3) * 10,
        ),
        simple("inventory-sync", "Stable", 1, "inventory.v2", 0),
        simple("shipment-tracker", "Stable", 2, "shipments", 6),
        simple(
            "metrics-aggregator",
            "Stable",
            3,
            "metrics.host",
            120_000 - r * 15_000,
        ),
        simple(
            "log-shipper",
            "Stable",
            3,
            "logs.nginx",
            9_000_000 + r * 3_000,
        ),
        simple("audit-archiver", "Empty", 0, "audit-log", 0),
        simple("recommendations", "Stable", 1, "recommendations.v1", 15),
        simple("session-reaper", "Stable", 1, "sessions", 0),
        simple("ml-feature-store", "Stable", 2, "ml.features", 450),
        simple("cdc-sink-accounts", "Stable", 1, "cdc.public.accounts", 0),
        simple("cdc-sink-orders", "Stable", 1, "cdc.public.orders", 3),
    ];
    groups.push(GroupSnapshot {
        group: "connect-s3-sink".into(),
        description: None,
        description_note: Some("DescribeGroups failed: Broker: Group authorization failed".into()),
        partitions: vec![plag("logs.app", 0, Some(500), 900, None)],
        offsets_note: None,
        at_ms: at,
    });
    GroupsSnapshot {
        groups,
        list_note: None,
        at_ms: at,
    }
}
