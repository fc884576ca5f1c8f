//! Pane 1: the topic list, a topic's partitions and configuration, create
//! and delete.

use kafkaterm::model::Configs;
use kafkaterm::worker::protocol::Command;
use ratatui::crossterm::event::KeyCode;

use crate::snap::H;
use crate::snap::fixtures::{
    cluster, configs, empty_cluster, hostile_cluster, orders_detail, wide_detail,
};

/// Filter the list by `filter` (applied, not editing) and move down `down` rows.
fn pick(h: &mut H, filter: &str, down: usize) {
    h.ch('/');
    h.typ(filter);
    h.enter();
    for _ in 0..down {
        h.ch('j');
    }
}

/// Open the detail of `orders` (second of the three topics matching it).
fn open_orders(h: &mut H) {
    pick(h, "orders", 1);
    h.enter();
}

scenario!(
    topics_loading,
    "first start: still connecting, the topic list not answered yet",
    |size| H::fresh(size)
);

scenario!(
    topics_error,
    "the first topic refresh failed: no list, the error in the pane and the status bar",
    |size| {
        let mut h = H::fresh(size);
        h.conn(kafkaterm::worker::protocol::ConnState::Connected);
        h.at(10_000);
        h.answer_topics(Err(
            "timed out after 10 s waiting for metadata from kafka-1:9092, kafka-2:9092".into(),
        ));
        h
    }
);

scenario!(topics_empty_cluster, "a cluster without topics", |size| {
    let mut h = H::fresh(size);
    h.conn(kafkaterm::worker::protocol::ConnState::Connected);
    h.answer_topics(Ok(empty_cluster()));
    h.at(3_000);
    h
});

scenario!(
    topics_list_many,
    "36 topics with internal ones shown: URP, OFFLINE and ERR flags, unknown sizes, a long name cut",
    |size| {
        let mut h = H::new(size);
        h.ch('i');
        h.at(4_000);
        h
    }
);

scenario!(
    topics_count_unknown_reason,
    "a topic whose watermarks timed out on one leader: `?` in the list and, selected, the reason on the bottom border",
    |size| {
        let mut h = H::fresh(size);
        h.conn(kafkaterm::worker::protocol::ConnState::Connected);
        let mut c = cluster();
        for t in &mut c.topics {
            if t.name == "inventory.v2" {
                t.messages_error =
                    Some("watermarks timed out (leader 2) on 2 of 6 partitions".into());
            }
        }
        h.answer_topics(Ok(c));
        pick(&mut h, "inv", 1);
        h.at(4_000);
        h
    }
);

scenario!(
    topics_list_scrolled,
    "the selection moved to the last topic: the list scrolls",
    |size| {
        let mut h = H::new(size);
        h.ch('G');
        h.ch('k');
        h.at(4_000);
        h
    }
);

scenario!(
    topics_list_filter_editing,
    "typing a filter: matching topics only, the cursor in the filter",
    |size| {
        let mut h = H::new(size);
        h.ch('/');
        h.typ("orders");
        h
    }
);

scenario!(
    topics_list_filter_no_match,
    "a filter that matches nothing, applied",
    |size| {
        let mut h = H::new(size);
        h.ch('/');
        h.typ("nothing-like-this");
        h.enter();
        h
    }
);

scenario!(
    topics_list_sorted,
    "sorted by messages, reversed (smallest first)",
    |size| {
        let mut h = H::new(size);
        h.ch('s');
        h.ch('S');
        h
    }
);

scenario!(
    topics_list_sorted_urp,
    "sorted by under-replicated partitions, internal topics shown",
    |size| {
        let mut h = H::new(size);
        h.ch('i');
        h.ch('s');
        h.ch('s');
        h.ch('s');
        h
    }
);

scenario!(
    topics_refreshing,
    "a manual refresh in flight while the old list stays on screen",
    |size| {
        let mut h = H::new(size);
        h.at(7_000);
        h.ch('r');
        h
    }
);

scenario!(
    topics_refresh_failed_keeps_list,
    "a later refresh failed: the list stays, the status bar shows the error",
    |size| {
        let mut h = H::new(size);
        h.at(12_000);
        h.ch('r');
        h.at(22_000);
        h.answer_topics(Err("Broker: Not coordinator / all brokers down".into()));
        h
    }
);

scenario!(
    topics_hostile_names,
    "topic names with escapes, bidi controls, C1 and wide characters from the broker",
    |size| {
        let mut h = H::fresh(size);
        h.conn(kafkaterm::worker::protocol::ConnState::Connected);
        h.answer_topics(Ok(hostile_cluster()));
        h
    }
);

scenario!(
    topic_detail_loading,
    "the detail of orders opened, its description not answered yet",
    |size| {
        let mut h = H::new(size);
        open_orders(&mut h);
        h
    }
);

scenario!(
    topic_detail_partitions,
    "12 partitions: an out-of-sync replica (p3), no leader (p5), unknown watermarks (p9)",
    |size| {
        let mut h = H::new(size);
        open_orders(&mut h);
        h.at(1_000);
        h.answer_detail(Ok(orders_detail(Configs::Loaded(configs()))));
        h.at(3_000);
        h
    }
);

scenario!(
    topic_detail_partitions_scrolled,
    "64 partitions, the selection paged down",
    |size| {
        let mut h = H::new(size);
        pick(&mut h, "clickstream", 0);
        h.enter();
        h.answer_detail(Ok(wide_detail()));
        h.key(KeyCode::PageDown);
        h.ch('j');
        h
    }
);

scenario!(
    topic_detail_describe_failed,
    "the description failed: no data, the error beside the tabs",
    |size| {
        let mut h = H::new(size);
        open_orders(&mut h);
        h.answer_detail(Err("Broker: Unknown topic or partition".into()));
        h
    }
);

scenario!(
    topic_detail_config,
    "the configuration tab: overrides marked *, defaults muted, a sensitive value hidden, a null value",
    |size| {
        let mut h = H::new(size);
        open_orders(&mut h);
        h.answer_detail(Ok(orders_detail(Configs::Loaded(configs()))));
        h.tab();
        h
    }
);

scenario!(
    topic_detail_config_empty,
    "the broker returned no configuration entries",
    |size| {
        let mut h = H::new(size);
        pick(&mut h, "clickstream", 0);
        h.enter();
        h.answer_detail(Ok(wide_detail()));
        h.tab();
        h
    }
);

scenario!(
    topic_detail_config_unsupported,
    "the cluster does not implement DescribeConfigs",
    |size| {
        let mut h = H::new(size);
        open_orders(&mut h);
        h.answer_detail(Ok(orders_detail(Configs::Unsupported(
            "DescribeConfigs is not supported by this cluster (librdkafka mock)".into(),
        ))));
        h.tab();
        h
    }
);

scenario!(
    topic_detail_config_failed,
    "DescribeConfigs failed",
    |size| {
        let mut h = H::new(size);
        open_orders(&mut h);
        h.answer_detail(Ok(orders_detail(Configs::Failed(
            "Broker: Topic authorization failed".into(),
        ))));
        h.tab();
        h
    }
);

scenario!(
    topic_create_dialog,
    "the create-topic dialog with a name and configs typed",
    |size| {
        let mut h = H::new(size);
        h.ch('c');
        h.typ("orders.v2");
        h.tab();
        h.key(KeyCode::Backspace);
        h.typ("12");
        h.tab();
        h.tab();
        h.typ("cleanup.policy=compact, retention.ms=86400000");
        h
    }
);

scenario!(
    topic_create_invalid,
    "create refused before sending: the name has a space and a slash",
    |size| {
        let mut h = H::new(size);
        h.ch('c');
        h.typ("bad name/x");
        h.enter();
        h
    }
);

scenario!(
    topic_create_in_flight,
    "create sent, waiting for the broker",
    |size| {
        let mut h = H::new(size);
        h.ch('c');
        h.typ("orders.v2");
        h.enter();
        h
    }
);

scenario!(
    topic_create_broker_error,
    "the broker refused the topic: the error stays in the dialog",
    |size| {
        let mut h = H::new(size);
        h.ch('c');
        h.typ("orders");
        h.enter();
        let id = h.last_id(|c| match c {
            Command::CreateTopic { id, .. } => Some(*id),
            _ => None,
        });
        h.worker(kafkaterm::worker::protocol::WorkerEvent::TopicCreated {
            id,
            topic: "orders".into(),
            result: Err(kafkaterm::worker::protocol::WorkerError::internal(
                "Broker: Topic already exists",
            )),
        });
        h
    }
);

scenario!(
    topic_delete_confirm,
    "the typed delete confirmation, half the name typed",
    |size| {
        let mut h = H::new(size);
        pick(&mut h, "orders", 1);
        h.ch('D');
        h.typ("ord");
        h
    }
);

scenario!(
    topic_delete_internal_refused,
    "D on an internal topic: refused with a message, no dialog",
    |size| {
        let mut h = H::new(size);
        h.ch('i');
        h.ch('g');
        h.ch('D');
        h
    }
);

scenario!(
    topic_create_read_only,
    "c on a read-only cluster: refused with a message, no dialog",
    |size| {
        let mut e = crate::snap::env();
        e.read_only = true;
        let mut h = H::with(size, e);
        h.ch('c');
        h
    }
);

/// `orders` with open transactions: p2's LSO held 37 below its high
/// watermark since the first description, p7's 5 below after moving.
fn orders_with_lso(p2_lso: i64, p7_lso: i64) -> kafkaterm::model::TopicDetail {
    let mut d = orders_detail(Configs::Loaded(configs()));
    for (p, lso) in [(2, p2_lso), (7, p7_lso)] {
        d.partitions[p].lso = Some(lso);
    }
    d
}

scenario!(
    topic_detail_lso_stuck,
    "last stable offsets: p2 held below HIGH for 75 s (past the 60 s threshold: a likely stuck transaction, flagged with its age), p7 held 15 s (open), the others = HIGH",
    |size| {
        let mut h = H::new(size);
        open_orders(&mut h);
        h.answer_detail(Ok(orders_with_lso(105_705, 120_000)));
        h.at(60_000);
        h.tick();
        h.answer_detail(Ok(orders_with_lso(105_705, 120_092)));
        h.at(75_000);
        h.tick();
        h.answer_detail(Ok(orders_with_lso(105_705, 120_092)));
        h
    }
);
