//! End to end: the real binary in tmux at 80x24, driven with send-keys and
//! read with capture-pane. Uses the embedded demo or the test broker.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod common;

use std::time::Duration;

use common::{Msg, Sandbox, Tmux, brokers, create_topic, produce, unique};

const T: Duration = Duration::from_secs(20);

/// Filter the topic list to one topic and open the browser on it.
fn browse(tm: &Tmux, topic: &str) {
    tm.wait_for("refreshed", T);
    tm.keys(&["/"]);
    tm.type_text(topic);
    tm.keys(&["Enter"]);
    tm.wait_for("Topics 1/", T);
    tm.keys(&["b"]);
}

#[test]
fn demo_shows_its_topics_within_seconds() {
    let tm = Tmux::start(&["--demo"], 80, 24);
    let s = tm.wait_for("orders", Duration::from_secs(15));
    assert!(s.contains("payments") && s.contains("telemetry"), "{s}");
    tm.wait_for("connected", T);
    // Every pane works on the demo.
    tm.keys(&["4"]);
    let s = tm.wait_for("orders-service", T);
    assert!(
        s.contains("ListGroups"),
        "the demo says what the mock cannot do: {s}"
    );
    tm.keys(&["2", "o"]);
    tm.type_text("audit");
    tm.keys(&["Tab", "Tab", "C-u"]);
    tm.type_text("beginning");
    tm.keys(&["Enter"]);
    let s = tm.wait_for("login ok for", Duration::from_secs(30));
    assert!(
        s.contains("\\x1b[31m"),
        "the demo's escape sequence is shown escaped: {s}"
    );
    tm.keys(&["q"]);
    tm.wait_for("KT-EXITED-0", T);
}

#[test]
fn detail_view_shows_headers_pretty_json_and_escaped_sequences() {
    let b = brokers();
    let topic = unique("e2e-browse");
    create_topic(&b, &topic, 1);
    produce(
        &b,
        &topic,
        &[
            Msg::kv(
                "user-42",
                r#"{"user":{"id":"u42","name":"Ada"},"amount":150}"#,
            )
            .header("trace-id", Some(b"t-123")),
            Msg::kv("evil", "before \x1b]0;pwned\x07 \x1b[2J after"),
        ],
    );
    let tm = Tmux::start(&["-b", &b], 80, 24);
    browse(&tm, &topic);
    let s = tm.wait_for("user-42", T);
    assert!(s.contains("\\x1b]0;pwned\\x07"), "{s}");
    // The title was not changed and the screen was not cleared by the data.
    let title = std::process::Command::new("tmux")
        .args(["display-message", "-p", "-t", &tm.session, "#{pane_title}"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&title.stdout).contains("pwned"));
    // Oldest first, then the detail of the JSON message.
    tm.keys(&["r", "g", "Enter"]);
    let s = tm.wait_for("trace-id", T);
    assert!(s.contains("trace-id [text]: t-123"), "{s}");
    assert!(s.contains("\"user\": {"), "{s}");
    assert!(s.contains("\"name\": \"Ada\""), "{s}");
    tm.keys(&["Escape", "q"]);
    tm.wait_for("KT-EXITED-0", T);
}

#[test]
fn composer_sends_and_the_message_shows_in_the_browser() {
    let b = brokers();
    let topic = unique("e2e-produce");
    create_topic(&b, &topic, 3);
    let tm = Tmux::start(&["-b", &b], 80, 24);
    tm.wait_for("refreshed", T);
    tm.keys(&["3"]);
    tm.wait_for("Producer", T);
    tm.type_text(&topic);
    for _ in 0..5 {
        tm.keys(&["Tab"]);
    }
    tm.type_text("order-7");
    tm.keys(&["Tab"]);
    tm.type_text("source: e2e");
    tm.keys(&["Tab"]);
    tm.type_text(r#"{"order": 7, "ok": true}"#);
    tm.keys(&["C-s"]);
    let s = tm.wait_for("offset 0", T);
    assert!(s.contains("→ partition"), "{s}");
    // Now read it in the browser.
    tm.keys(&["Escape", "1"]);
    browse(&tm, &topic);
    let s = tm.wait_for("order-7", T);
    assert!(s.contains("{\"order\":7,\"ok\":true}"), "{s}");
    tm.keys(&["Enter"]);
    tm.wait_for("source [text]: e2e", T);
    tm.keys(&["Escape", "q"]);
    tm.wait_for("KT-EXITED-0", T);
}

#[test]
fn group_view_follows_consumers_coming_and_going() {
    use rdkafka::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let b = brokers();
    let topic = unique("e2e-group");
    let group = unique("e2e-g");
    create_topic(&b, &topic, 2);
    produce(&b, &topic, &[Msg::kv("a", "1"), Msg::kv("b", "2")]);
    let member = |stop: Arc<AtomicBool>| {
        let (b, group, topic) = (b.clone(), group.clone(), topic.clone());
        std::thread::spawn(move || {
            let c: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", &b)
                .set("group.id", &group)
                .set("auto.offset.reset", "earliest")
                .create()
                .unwrap();
            c.subscribe(&[&topic]).unwrap();
            while !stop.load(Ordering::Relaxed) {
                let _ = c.poll(Duration::from_millis(100));
            }
        })
    };
    let stop1 = Arc::new(AtomicBool::new(false));
    let m1 = member(Arc::clone(&stop1));
    let tm = Tmux::start(&["-b", &b], 100, 30);
    tm.wait_for("refreshed", T);
    tm.keys(&["4", "/"]);
    tm.type_text(&group);
    tm.keys(&["Enter"]);
    tm.wait_for("Stable", T);
    tm.keys(&["Enter"]);
    tm.wait_for("1 member(s)", T);
    let stop2 = Arc::new(AtomicBool::new(false));
    let m2 = member(Arc::clone(&stop2));
    tm.wait_for("2 member(s)", Duration::from_secs(30));
    stop2.store(true, Ordering::Relaxed);
    m2.join().unwrap();
    tm.wait_for("1 member(s)", Duration::from_secs(30));
    // The rebalance timeline recorded both.
    tm.keys(&["Tab", "Tab", "Tab"]);
    let s = tm.wait_for("member left", T);
    assert!(s.contains("member joined"), "{s}");
    stop1.store(true, Ordering::Relaxed);
    m1.join().unwrap();
    tm.keys(&["Escape", "q"]);
    tm.wait_for("KT-EXITED-0", T);
}

/// After the program ends, the pane's shell runs `stty -a`: the terminal
/// must be back in cooked mode with echo.
fn assert_cooked(tm: &Tmux) {
    let s = tm.wait_for("speed", T);
    assert!(
        s.contains(" icanon") && !s.contains("-icanon"),
        "not in cooked mode:\n{s}"
    );
    assert!(
        s.contains(" echo ") && !s.contains("-echo "),
        "echo is off:\n{s}"
    );
}

#[test]
fn terminal_is_restored_after_signals_and_panics() {
    for (sig, code) in [("TERM", 143), ("HUP", 129), ("INT", 130)] {
        let tm = Tmux::start(&["--demo"], 80, 24);
        tm.wait_for("orders", Duration::from_secs(15));
        let pid = tm.app_pid().expect("kafkaterm is running");
        let st = std::process::Command::new("kill")
            .args([&format!("-{sig}"), &pid.to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        tm.wait_for(&format!("KT-EXITED-{code}"), T);
        assert_cooked(&tm);
        let s = tm.screen();
        assert!(
            !s.contains("telemetry"),
            "the alternate screen was left for {sig}: {s}"
        );
    }
    // KAFKATERM_TEST_PANIC exists only in binaries built with the
    // `test-hooks` feature, which the tests' dev-dependency on this crate
    // turns on for the binary they run (never in a user's build).
    let tm = Tmux::start_env(
        &["--demo"],
        80,
        24,
        &[("KAFKATERM_TEST_PANIC", "1"), ("RUST_BACKTRACE", "0")],
    );
    let s = tm.wait_for("KT-EXITED-101", T);
    assert!(
        s.contains("panicking on purpose"),
        "the panic message is printed after restore: {s}"
    );
    assert_cooked(&tm);
}

/// Does any SGR sequence set a foreground or background colour (other than
/// the defaults 39/49)?
fn sets_colour(raw: &str) -> bool {
    raw.split("\x1b[").skip(1).any(|seq| {
        let Some(end) = seq.find('m') else {
            return false;
        };
        seq[..end].split(';').any(|p| {
            matches!(
                p.parse::<u32>(),
                Ok(30..=38 | 40..=48 | 90..=97 | 100..=107)
            )
        })
    })
}

#[test]
fn resize_small_terminals_and_colourless_themes() {
    let tm = Tmux::start_env(&["--demo"], 80, 24, &[("NO_COLOR", "1")]);
    tm.wait_for("orders", Duration::from_secs(15));
    let raw = tm.screen_raw();
    assert!(!sets_colour(&raw), "NO_COLOR drew colours: {raw:?}");
    std::process::Command::new("tmux")
        .args(["resize-window", "-t", &tm.session, "-x", "50", "-y", "12"])
        .status()
        .unwrap();
    tm.wait_for("terminal too small", T);
    std::process::Command::new("tmux")
        .args(["resize-window", "-t", &tm.session, "-x", "120", "-y", "40"])
        .status()
        .unwrap();
    tm.wait_for("orders", T);
    drop(tm);

    let tm = Tmux::start(&["--demo", "--theme", "ansi16"], 80, 24);
    tm.wait_for("orders", Duration::from_secs(15));
    let raw = tm.screen_raw();
    assert!(
        !raw.contains("38;2;") && !raw.contains("48;2;"),
        "ansi16 used true colour"
    );
}

#[test]
fn console_survives_the_broker_being_killed_and_restarted() {
    let mut broker = common::TestBroker::start();
    let b = broker.addr();
    create_topic(&b, "live", 1);
    produce(
        &b,
        "live",
        &[
            Msg::kv("before-1", "a"),
            Msg::kv("before-2", "b"),
            Msg::kv("before-3", "c"),
        ],
    );
    let tm = Tmux::start(&["-b", &b], 80, 24);
    tm.wait_for("connected", T);
    browse(&tm, "live");
    tm.wait_for("before-3", T);
    broker.down();
    // The browser keeps what it showed and says what is wrong.
    let s = tm.wait_for("retrying", Duration::from_secs(40));
    assert!(s.contains("before-3"), "{s}");
    // The topic list: the refresh fails, the data stays, the state is shown.
    tm.keys(&["1", "r"]);
    let s = tm.wait_for("disconnected", Duration::from_secs(40));
    assert!(s.contains("live"), "{s}");
    // The group view reports its failed refresh.
    tm.keys(&["4"]);
    tm.wait_for("last refresh failed", Duration::from_secs(40));
    // The broker comes back (empty: nisshi keeps data in memory).
    broker.up();
    create_topic(&b, "live", 1);
    produce(
        &b,
        "live",
        &[Msg::kv("after-1", "x"), Msg::kv("after-2", "y")],
    );
    tm.keys(&["1", "r"]);
    let s = tm.wait_for("● connected", Duration::from_secs(60));
    assert!(s.contains("live"), "{s}");
    // The browser recovered by itself and shows the new messages.
    tm.keys(&["2"]);
    tm.wait_for("after-2", Duration::from_secs(60));
    tm.keys(&["4"]);
    tm.wait_for("refreshed", T);
    tm.keys(&["q"]);
    tm.wait_for("KT-EXITED-0", T);
}

/// A user's keymap.toml in the config dir remaps keys in the real console:
/// the remapped quit works and the old key no longer quits, and the help
/// overlay (generated from the keymap) shows the new help key.
#[test]
fn user_keymap_remaps_keys_end_to_end() {
    let sandbox = Sandbox::new();
    let config = sandbox.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("keymap.toml"),
        "[global]\nquit = [\"x\"]\nhelp = [\"F1\", \"?\"]\n",
    )
    .unwrap();
    let tm = Tmux::start_in(sandbox, &["--demo"], 80, 24, &[]);
    tm.wait_for("orders", Duration::from_secs(15));
    tm.keys(&["F1"]);
    let s = tm.wait_for("this help", T);
    assert!(s.contains("F1"), "the overlay lists the remapped key: {s}");
    tm.keys(&["Escape"]);
    // q is no longer quit: the console is still there after it.
    tm.keys(&["q", "1"]);
    let s = tm.wait_for("Topics", T);
    assert!(!s.contains("KT-EXITED"), "{s}");
    tm.keys(&["x"]);
    tm.wait_for("KT-EXITED-0", T);
}

/// A keymap with an unknown action stops the console before it takes over
/// the terminal, naming the file and line.
#[test]
fn bad_user_keymap_is_an_error_with_file_and_line() {
    let sandbox = Sandbox::new();
    let config = sandbox.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("keymap.toml"),
        "[global]\nquit = [\"x\"]\nteleport = [\"t\"]\n",
    )
    .unwrap();
    let out = sandbox.run(&["--demo"], None);
    assert!(!out.status.success());
    let err = common::stderr(&out);
    assert!(err.contains("keymap.toml:3"), "{err}");
    assert!(err.contains("teleport"), "{err}");
}

/// The demo's groups rebalance for real: a second orders-service member
/// joins within a minute, and the Rebalances tab names it and the
/// partitions that moved to it, with client ids in the Members tab.
#[test]
fn demo_group_visibly_rebalances() {
    let tm = Tmux::start(&["--demo"], 80, 24);
    tm.wait_for("orders", Duration::from_secs(15));
    tm.keys(&["4", "/"]);
    tm.type_text("orders-service");
    tm.keys(&["Enter"]);
    tm.wait_for("Consumer groups 1", T);
    tm.keys(&["Enter"]);
    tm.wait_for("Group orders-service", T);
    tm.keys(&["Tab"]);
    let s = tm.wait_for("orders[", T);
    assert!(
        s.contains("orders-service-") && s.contains("/127.0.0.1"),
        "{s}"
    );
    tm.keys(&["Tab", "Tab"]);
    // The first member's join is on the timeline at once; the second one
    // joins about 20 s in, and partitions move to it.
    let s = tm.wait_for(" moved 0x", Duration::from_secs(60));
    assert!(s.contains("member joined"), "{s}");
    assert!(s.contains("orders/"), "{s}");
    tm.keys(&["q"]);
    tm.wait_for("KT-EXITED-0", T);
}
