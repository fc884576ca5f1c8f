//! End to end, many clusters: the real binary in tmux at 80x24 with two
//! clusters configured (the test broker and an address nothing listens
//! on), started without a cluster: the picker comes first, and switching
//! between the clusters lists each one's topics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Sandbox, Tmux, brokers, create_topic, unique};

const T: Duration = Duration::from_secs(30);

/// Pick `name` in the open picker: filter to it, then connect.
fn pick(tm: &Tmux, name: &str) {
    tm.wait_for("Clusters ", T);
    tm.keys(&["/"]);
    tm.type_text(name);
    tm.keys(&["Enter"]);
    tm.wait_for("Clusters 1/2", T);
    tm.keys(&["Enter"]);
}

/// Filter the topic list to `topic` and wait for it.
fn find_topic(tm: &Tmux, topic: &str) {
    tm.wait_for("refreshed", T);
    tm.keys(&["/"]);
    tm.type_text(topic);
    tm.keys(&["Enter"]);
    tm.wait_for("Topics 1/", T);
    tm.wait_for(topic, T);
}

#[test]
fn picker_at_start_then_switching_between_two_clusters() {
    let b = brokers();
    let topic = unique("e2e-clusters");
    create_topic(&b, &topic, 1);
    let sandbox = Sandbox::new();
    let config = sandbox.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.toml"),
        format!(
            "[clusters.local]\nbrokers = \"{b}\"\n\n[clusters.nowhere]\nbrokers = \"127.0.0.1:1\"\nproduction = true\n"
        ),
    )
    .unwrap();
    let tm = Tmux::start_in(sandbox, &[], 80, 24, &[]);
    // The picker, with the background checks' results: the test broker
    // reachable with its counts, the other one with the reason.
    let s = tm.wait_for("Clusters 2/2", T);
    assert!(s.contains("no cluster"), "{s}");
    let s = tm.wait_for("✓ 1 broker", T);
    assert!(s.contains("PROD"), "the production mark: {s}");
    tm.wait_for("✗", T);

    pick(&tm, "local");
    find_topic(&tm, &topic);
    let s = tm.screen();
    assert!(s.lines().last().unwrap().contains(" local "), "{s}");

    // To the unreachable cluster: listing its topics fails with a reason,
    // and nothing of the first cluster's list stays.
    tm.keys(&["Escape", "C"]);
    pick(&tm, "nowhere");
    let s = tm.wait_for("cannot list topics", T);
    assert!(!s.contains(&topic), "{s}");
    assert!(s.contains("PROD nowhere"), "{s}");

    // And back: the topics are listed again.
    tm.keys(&["C"]);
    pick(&tm, "local");
    find_topic(&tm, &topic);
    let s = tm.screen();
    assert!(s.lines().last().unwrap().contains(" local "), "{s}");
    tm.keys(&["q"]);
    tm.wait_for("KT-EXITED-0", T);
}

/// No cluster configured: the console says how to add one and opens the
/// built-in demo on Enter, instead of exiting.
#[test]
fn no_cluster_configured_offers_the_demo() {
    let tm = Tmux::start(&[], 80, 24);
    let s = tm.wait_for("No cluster is configured", T);
    assert!(s.contains("[clusters.local]"), "{s}");
    assert!(!s.contains("KT-EXITED"), "{s}");
    tm.keys(&["Enter"]);
    tm.wait_for("orders", T);
    tm.wait_for(" demo ", T);
    tm.keys(&["q"]);
    tm.wait_for("KT-EXITED-0", T);
}

/// `-b ''` says that no broker address was given, in the console and in a
/// headless command, before anything connects.
#[test]
fn empty_broker_list_is_a_clear_error() {
    let sandbox = Sandbox::new();
    for args in [&["-b", ""][..], &["-b", "", "topics"][..]] {
        let out = sandbox.run(args, None);
        assert!(!out.status.success(), "{args:?}");
        let err = common::stderr(&out);
        assert!(err.contains("no broker address given"), "{args:?}: {err}");
    }
}
