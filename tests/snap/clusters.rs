//! The cluster picker (at start and for switching) and the switch's
//! dialogs: clusters reachable, unreachable, production and read-only, a
//! filter, no cluster configured, sends in flight, and the composer asking
//! before it sends text written for another cluster.

use kafkaterm::app::picker::{Check, ClusterEntry};
use kafkaterm::worker::protocol::{
    ClusterInfo, Command, ProbeReport, ProduceProgress, WorkerError, WorkerEvent,
};
use ratatui::crossterm::event::KeyCode;

use crate::snap::{H, env};

fn entry(name: &str, brokers: &str, production: bool, read_only: bool) -> ClusterEntry {
    ClusterEntry {
        name: name.into(),
        brokers: brokers.into(),
        production,
        read_only,
        check: Check::Unchecked,
    }
}

fn entries() -> Vec<ClusterEntry> {
    vec![
        entry("dev", "localhost:9092", false, false),
        entry(
            "payments-prod-eu",
            "kafka-1.prod:9093,kafka-2.prod:9093,kafka-3.prod:9093",
            true,
            true,
        ),
        entry("staging", "kafka.staging.internal:9092", false, false),
        entry("dr-site", "10.20.0.5:9092", true, false),
    ]
}

fn probed(h: &mut H, cluster: &str, result: Result<ProbeReport, &str>) {
    h.worker(WorkerEvent::Probed {
        cluster: cluster.into(),
        result: result.map_err(WorkerError::timeout),
    });
}

/// Every check answered: two reachable, one unreachable, one still checking.
fn checked(size: (u16, u16)) -> H {
    let mut h = H::picking(size, entries());
    probed(
        &mut h,
        "dev",
        Ok(ProbeReport {
            brokers: 1,
            topics: 12,
            groups: Some(3),
        }),
    );
    probed(
        &mut h,
        "payments-prod-eu",
        Ok(ProbeReport {
            brokers: 3,
            topics: 248,
            groups: Some(41),
        }),
    );
    probed(
        &mut h,
        "staging",
        Err("all brokers down: kafka.staging.internal:9092: Connect failed: Connection refused"),
    );
    h
}

scenario!(
    picker_at_start_checking,
    "the picker at start: no cluster in use, every cluster being checked in the background",
    |size| H::picking(size, entries())
);

scenario!(
    picker_at_start_checked,
    "the picker at start: reachable clusters with counts, an unreachable one with the reason, production and read-only marks",
    |size| {
        let mut h = checked(size);
        h.key(KeyCode::Down);
        h
    }
);

scenario!(
    picker_filtered,
    "the picker filtered by name as you type",
    |size| {
        let mut h = checked(size);
        h.typ("/prod");
        h
    }
);

scenario!(
    picker_connect_failed,
    "a cluster that could not be connected to: the reason above the list, the picker stays",
    |size| {
        let mut h = checked(size);
        h.keys(&[KeyCode::Down, KeyCode::Down, KeyCode::Enter]);
        h.worker(WorkerEvent::Switched {
            generation: 1,
            result: Err(WorkerError::internal(
                "sasl password_env PROD_PASSWORD is not set",
            )),
        });
        h
    }
);

scenario!(
    picker_no_cluster_configured,
    "no cluster in the config: how to add one, and the built-in demo to open",
    |size| H::picking(size, vec![ClusterEntry::demo()])
);

fn info(name: &str, production: bool, read_only: bool) -> ClusterInfo {
    let mut p = kafkaterm::config::ClusterProfile::adhoc("kafka-1.prod:9093");
    p.name = name.into();
    p.production = production;
    p.read_only = read_only;
    ClusterInfo::of(&p)
}

/// Connected to `dev` through the picker.
fn on_dev(size: (u16, u16)) -> H {
    let mut h = checked(size);
    h.enter();
    h.worker(WorkerEvent::Switched {
        generation: 1,
        result: Ok(info("dev", false, false)),
    });
    h.worker(WorkerEvent::Connection(
        kafkaterm::worker::protocol::ConnState::Connected,
    ));
    h.answer_topics(Ok(crate::snap::fixtures::cluster()));
    h
}

scenario!(
    picker_switching,
    "the picker opened from the console: the cluster in use marked",
    |size| {
        let mut h = on_dev(size);
        h.ch('C');
        h
    }
);

scenario!(
    switched_to_production,
    "switched to a production, read-only cluster: the status bar follows",
    |size| {
        let mut h = on_dev(size);
        h.ch('C');
        h.key(KeyCode::Down);
        h.enter();
        h.worker(WorkerEvent::Switched {
            generation: 2,
            result: Ok(info("payments-prod-eu", true, true)),
        });
        h
    }
);

/// On `dev` with one message of a batch of five still in flight.
fn sending(size: (u16, u16)) -> H {
    let mut h = on_dev(size);
    h.ch('3');
    h.typ("orders");
    h.key(KeyCode::Tab);
    h.key(KeyCode::Tab);
    h.key(KeyCode::Backspace);
    h.typ("5");
    h.ctrl('s');
    h.produce(ProduceProgress {
        queued: 5,
        delivered: 4,
        failed: 0,
        first_error: None,
        last: None,
        elapsed_ms: 40,
        done: false,
    });
    h
}

scenario!(
    switch_with_sends_in_flight,
    "switching while a send is in flight: wait, cancel or stay",
    |size| {
        let mut h = sending(size);
        h.key_mod(KeyCode::F(2), ratatui::crossterm::event::KeyModifiers::NONE);
        h.key(KeyCode::Down);
        h.enter();
        // Only the first connection: this one waits for the user's choice.
        let connects = h
            .cmds
            .iter()
            .filter(|c| matches!(c, Command::Connect { .. }))
            .count();
        assert_eq!(connects, 1);
        h
    }
);

scenario!(
    composer_asks_before_sending_to_the_new_cluster,
    "the composer kept its text across a switch and asks before sending it to the new cluster",
    |size| {
        let mut h = on_dev(size);
        h.ch('3');
        h.typ("orders");
        h.esc();
        h.ch('C');
        h.key(KeyCode::Down);
        h.enter();
        h.worker(WorkerEvent::Switched {
            generation: 2,
            result: Ok(info("payments-prod-eu", true, false)),
        });
        h.ch('3');
        h.ctrl('s');
        h
    }
);

#[test]
fn the_snapshot_env_is_the_dev_cluster() {
    assert_eq!(env().cluster, "dev");
}

scenario!(
    picker_help,
    "the help over the picker: the picker's keys, the switch and mouse keys",
    |size| {
        let mut h = checked(size);
        h.ch('?');
        h
    }
);
