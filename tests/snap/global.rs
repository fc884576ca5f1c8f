//! What every pane shares: the status bar, the help overlay, the quitting
//! overlay and the too-small notice.

use kafkaterm::worker::protocol::{ConnState, ProduceProgress};
use ratatui::crossterm::event::KeyCode;

use crate::snap::fixtures::{records, starts};
use crate::snap::group_fixtures::groups_round;
use crate::snap::{H, env};

scenario!(
    status_degraded,
    "connection degraded: some brokers unreachable, the reason in the status bar",
    |size| {
        let mut h = H::new(size);
        h.at(30_000);
        h.conn(ConnState::Degraded(
            "1/3 brokers down: kafka-2:9092: Connect to ipv4#10.0.0.12:9092 failed: Connection refused".into(),
        ));
        h.at(35_000);
        h
    }
);

scenario!(
    status_disconnected,
    "every broker down: disconnected, with the time and text of the last error",
    |size| {
        let mut h = H::new(size);
        h.at(61_000);
        h.conn(ConnState::Down(
            "all brokers down: 3/3 brokers are down (Connection refused)".into(),
        ));
        h.at(95_000);
        h
    }
);

scenario!(
    status_reconnected_recent_error,
    "connected again: the last error stays visible for a minute",
    |size| {
        let mut h = H::new(size);
        h.conn(ConnState::Down("all brokers down".into()));
        h.at(20_000);
        h.conn(ConnState::Connected);
        h.at(40_000);
        h
    }
);

scenario!(
    status_production_read_only,
    "a production cluster opened read-only: PROD and READ-ONLY badges, a refused write's message",
    |size| {
        let mut e = env();
        e.cluster = "payments-prod-eu".into();
        e.production = true;
        e.read_only = true;
        let mut h = H::with(size, e);
        h.ch('D');
        h
    }
);

scenario!(
    status_production_writable,
    "a production cluster, writable: the PROD badge only",
    |size| {
        let mut e = env();
        e.cluster = "payments-prod-eu".into();
        e.production = true;
        H::with(size, e)
    }
);

scenario!(
    status_hostile_cluster_name,
    "a cluster name and a connection error holding escapes and bidi controls",
    |size| {
        let mut e = env();
        e.cluster = "evil\x1b]0;PWNED\x07\u{202e}name".into();
        let mut h = H::with(size, e);
        h.conn(ConnState::Degraded(
            "broker said \x1b[2J\x1b[H\u{9b}31m\u{200b}hello".into(),
        ));
        h
    }
);

scenario!(
    help_topics,
    "the help overlay over the topic list",
    |size| {
        let mut h = H::new(size);
        h.ch('?');
        h
    }
);

scenario!(
    help_topic_detail,
    "the help overlay over a topic's detail",
    |size| {
        let mut h = H::new(size);
        h.ch('/');
        h.typ("users");
        h.enter();
        h.enter();
        h.ch('?');
        h
    }
);

scenario!(help_browser, "the help overlay over the browser", |size| {
    let mut h = H::new(size);
    h.ch('2');
    h.ch('?');
    h
});

scenario!(
    help_message_detail,
    "the help overlay over the message detail",
    |size| {
        let mut h = H::new(size);
        h.ch('b');
        h.browse(kafkaterm::worker::protocol::BrowseEvent::Started {
            partitions: starts(6),
        });
        h.browse(kafkaterm::worker::protocol::BrowseEvent::Records(records()));
        h.enter();
        h.ch('?');
        h
    }
);

scenario!(
    help_producer,
    "the help overlay over the producer (from the options row, where ? is not typed)",
    |size| {
        let mut h = H::new(size);
        h.ch('3');
        h.esc();
        h.ch('?');
        h
    }
);

scenario!(
    help_groups,
    "the help overlay over the group list",
    |size| {
        let mut h = H::new(size);
        h.ch('4');
        h.answer_groups(Ok(groups_round(0)));
        h.ch('?');
        h
    }
);

scenario!(
    help_group_detail,
    "the help overlay over a group's detail",
    |size| {
        let mut h = H::new(size);
        h.ch('4');
        h.answer_groups(Ok(groups_round(0)));
        h.enter();
        h.ch('?');
        h
    }
);

scenario!(
    quitting,
    "Ctrl-C with 250 of 1,000 messages unconfirmed: the quitting overlay waits for the flush",
    |size| {
        let mut h = H::new(size);
        h.ch('3');
        h.typ("orders");
        h.tab();
        h.tab();
        h.key(KeyCode::Backspace);
        h.typ("1000");
        h.ctrl('n'); // a tombstone: the value needs no typing
        h.ctrl('s');
        h.produce(ProduceProgress {
            queued: 1000,
            delivered: 750,
            failed: 0,
            first_error: None,
            last: None,
            elapsed_ms: 400,
            done: false,
        });
        h.ctrl('c');
        h.at(2_500);
        h
    }
);

scenario!(
    too_small,
    "a terminal below 60x15: the notice instead of the panes",
    [at_59x24 => (59, 24), at_80x14 => (80, 14), at_20x5 => (20, 5)],
    |size| H::new(size)
);

scenario!(
    minimum_size,
    "the smallest usable terminal, 60x15, on the topic list",
    [at_60x15 => (60, 15)],
    |size| H::new(size)
);

scenario!(
    resized_after_start,
    "started at 80x24, then the terminal grew to 200x50 (and the other way round)",
    [at_80x24 => (80, 24), at_200x50 => (200, 50)],
    |size| {
        let other = if size.0 == 80 { (200, 50) } else { (80, 24) };
        let mut h = H::new(other);
        h.ch('G');
        h.resize(size.0, size.1);
        h
    }
);
