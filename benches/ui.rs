//! UI benchmarks for scripts/bench.sh (a `harness = false` bench: it prints
//! figures, never asserts times). Everything runs on the pure app state
//! machine (`App::update`) and the pure drawing (`ui::draw`), fed synthetic
//! worker events, so no broker is needed.
//!
//!   cargo bench --bench ui -- render    frame time per pane, 200x50, 100k buffered
//!   cargo bench --bench ui -- keys      keypress-to-frame latency while ingesting 50k msgs/s
//!   cargo bench --bench ui -- memory    peak RSS after tailing 1,000,000 messages
//!   cargo bench --bench ui -- topics    first frame with 10,000 topics / 100,000 partitions
//!   cargo bench --bench ui -- filter    applying a browser filter to a full buffer (200k), key to frame
//!   cargo bench --bench ui              all of them (memory last)
//!
//! Output is Markdown table rows, so the suite can paste it into a report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kafkaterm::app::{App, Env, Msg, PaneId};
use kafkaterm::config::theme::Theme;
use kafkaterm::model::{
    BrokerInfo, ClusterSnapshot, GroupDescription, GroupMember, GroupSnapshot, Header,
    PartitionInfo, PartitionLag, Record, TimestampType, TopicDetail, TopicPartition, TopicSummary,
};
use kafkaterm::tui::{Probe, WorkerIo};
use kafkaterm::worker::protocol::{
    BrowseEvent, Command, GroupsSnapshot, PartitionStart, WorkerEvent,
};
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

const W: u16 = 200;
const H: u16 = 50;
const PARTITIONS: i32 = 8;
/// The browse worker's batch size (src/worker/browse.rs BATCH_MAX).
const BATCH: usize = 2000;
/// A fixed "now" so runs are comparable: 2026-01-01T00:00:00Z.
const NOW_MS: i64 = 1_767_225_600_000;

// ------------------------------------------------------------------ data

/// Synthetic records like the suite's broker data: a key, a ~100-byte JSON
/// value and one header.
struct Gen {
    topic: Arc<str>,
    n: u64,
}

impl Gen {
    fn new(topic: &str) -> Self {
        Self {
            topic: Arc::from(topic),
            n: 0,
        }
    }

    fn value(i: u64) -> Vec<u8> {
        let mut s = format!(
            r#"{{"id":{i},"user":"u{}","amount":{}.{:02},"status":"paid","pad":""#,
            i % 1000,
            i % 500,
            i % 100
        );
        while s.len() < 98 {
            s.push('x');
        }
        s.push_str("\"}");
        s.into_bytes()
    }

    fn record(&mut self) -> Record {
        let i = self.n;
        self.n += 1;
        Record {
            topic: Arc::clone(&self.topic),
            partition: i32::try_from(i % 8).unwrap_or(0),
            offset: i64::try_from(i / 8).unwrap_or(0),
            timestamp: Some(NOW_MS - 3_600_000 + i64::try_from(i).unwrap_or(0)),
            timestamp_type: TimestampType::CreateTime,
            key: Some(format!("key-{i}").into_bytes()),
            value: Some(Self::value(i)),
            headers: vec![Header {
                name: "source".into(),
                value: Some(b"bench".to_vec()),
            }],
        }
    }

    fn batch(&mut self, n: usize) -> Vec<Record> {
        (0..n).map(|_| self.record()).collect()
    }
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn type_text(app: &mut App, s: &str) -> Vec<Command> {
    let mut out = Vec::new();
    for c in s.chars() {
        out.extend(app.update(key(KeyCode::Char(c))));
    }
    out
}

fn topics_req(cmds: &[Command]) -> Option<u64> {
    cmds.iter().find_map(|c| match c {
        Command::RefreshTopics { id } => Some(*id),
        _ => None,
    })
}

fn groups_req(cmds: &[Command]) -> Option<u64> {
    cmds.iter().find_map(|c| match c {
        Command::RefreshGroups { id, .. } => Some(*id),
        _ => None,
    })
}

fn describe_req(cmds: &[Command]) -> Option<u64> {
    cmds.iter().find_map(|c| match c {
        Command::DescribeTopic { id, .. } => Some(*id),
        _ => None,
    })
}

fn snapshot(topics: usize, parts: usize) -> ClusterSnapshot {
    ClusterSnapshot {
        brokers: vec![BrokerInfo {
            id: 1,
            host: "127.0.0.1".into(),
            port: 9092,
        }],
        topics: (0..topics)
            .map(|i| TopicSummary {
                name: format!("service-{:03}.events-{i:05}", i % 97),
                partitions: parts,
                replication_factor: 3,
                messages: Some(i64::try_from(i * 1_234 % 9_999_991).unwrap_or(0)),
                messages_error: None,
                internal: false,
                under_replicated: usize::from(i % 500 == 0),
                offline: 0,
                error: None,
                end_offsets: None,
            })
            .collect(),
        watermark_error: None,
    }
}

fn topic_detail(name: &str, parts: i32) -> TopicDetail {
    TopicDetail {
        name: name.into(),
        internal: false,
        partitions: (0..parts)
            .map(|p| PartitionInfo {
                lso: None,
                partition: p,
                leader: p % 3 + 1,
                replicas: vec![1, 2, 3],
                isr: vec![1, 2, 3],
                low: Some(0),
                high: Some(i64::from(p) * 1000 + 500),
                error: None,
            })
            .collect(),
        configs: kafkaterm::model::Configs::Loaded(Vec::new()),
    }
}

/// `groups` groups, each committed on `parts` partitions of one of 10 topics,
/// with 5 members sharing the partitions.
fn groups_snapshot(groups: usize, parts: i32, at_ms: i64, progress: i64) -> GroupsSnapshot {
    GroupsSnapshot {
        groups: (0..groups)
            .map(|g| {
                let topic = format!("lag-topic-{}", g % 10);
                let members = (0..5)
                    .map(|m| GroupMember {
                        member_id: format!("consumer-{g}-{m}-0b7c5a4e-1f2d-4c3b-9a8e"),
                        client_id: format!("consumer-{g}-{m}"),
                        host: format!("/10.0.{}.{}", g % 250, m + 1),
                        assignment: Some(
                            (0..parts)
                                .filter(|p| p % 5 == m)
                                .map(|p| TopicPartition::new(&topic, p))
                                .collect(),
                        ),
                        assignment_note: None,
                        subscription: vec![topic.clone()],
                        ..Default::default()
                    })
                    .collect::<Vec<_>>();
                let partitions = (0..parts)
                    .map(|p| {
                        let end = 100_000 + i64::from(p) * 10 + progress * 2;
                        let committed = 90_000 + i64::from(p) * 7 + progress;
                        PartitionLag {
                            lso: None,
                            topic: topic.clone(),
                            partition: p,
                            committed: Some(committed),
                            end: Some(end),
                            lag: Some(end - committed),
                            member_id: Some(format!(
                                "consumer-{g}-{}-0b7c5a4e-1f2d-4c3b-9a8e",
                                p % 5
                            )),
                            lag_ms: Some(i64::from(p) * 1_500),
                            lag_ms_estimated: false,
                            lag_ms_note: None,
                            error: None,
                        }
                    })
                    .collect();
                GroupSnapshot {
                    group: format!("group-{g:03}"),
                    description: Some(GroupDescription {
                        group: format!("group-{g:03}"),
                        state: "Stable".into(),
                        protocol_type: "consumer".into(),
                        protocol: "range".into(),
                        members,
                        ..Default::default()
                    }),
                    description_note: None,
                    partitions,
                    offsets_note: None,
                    at_ms,
                }
            })
            .collect(),
        list_note: None,
        at_ms,
    }
}

fn new_app() -> (App, Vec<Command>) {
    let mut env = Env::test();
    env.data_dir = std::env::temp_dir().join("kafkaterm-bench");
    App::new(env, NOW_MS, (W, H))
}

/// Open the browser on a topic through the Open dialog, report the session
/// as started on 8 partitions, and return the session id.
fn open_browser(app: &mut App, topic: &str) -> u64 {
    app.update(key(KeyCode::Char('2')));
    app.update(key(KeyCode::Char('o')));
    type_text(app, topic);
    app.update(key(KeyCode::Enter));
    let session = app.browser.session.expect("the browser opened a session");
    let partitions = (0..PARTITIONS)
        .map(|p| PartitionStart {
            partition: p,
            start: 0,
            low: 0,
            high: 1_000_000,
        })
        .collect();
    app.update(Msg::Worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Started { partitions },
    }));
    session
}

fn feed(app: &mut App, session: u64, g: &mut Gen, n: usize) {
    let mut left = n;
    while left > 0 {
        let k = left.min(BATCH);
        app.update(Msg::Worker(WorkerEvent::Browse {
            session,
            event: BrowseEvent::Records(g.batch(k)),
        }));
        left -= k;
    }
}

// ------------------------------------------------------------------ stats

struct Stats {
    v: Vec<f64>,
}

impl Stats {
    fn new(mut v: Vec<f64>) -> Self {
        v.sort_by(f64::total_cmp);
        Self { v }
    }
    fn pct(&self, p: f64) -> f64 {
        if self.v.is_empty() {
            return f64::NAN;
        }
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let i = ((self.v.len() - 1) as f64 * p).round() as usize;
        self.v[i]
    }
    #[allow(clippy::cast_precision_loss)]
    fn mean(&self) -> f64 {
        self.v.iter().sum::<f64>() / self.v.len().max(1) as f64
    }
    fn max(&self) -> f64 {
        self.v.last().copied().unwrap_or(f64::NAN)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

// ------------------------------------------------------------------ render

fn time_frames(app: &mut App, theme: &Theme, frames: usize) -> Stats {
    let mut term = Terminal::new(TestBackend::new(W, H)).expect("test terminal");
    for _ in 0..10 {
        term.draw(|f| kafkaterm::ui::draw(app, theme, f)).unwrap();
    }
    let mut v = Vec::with_capacity(frames);
    for _ in 0..frames {
        // The clock moves as in the real loop (spinners, "ago" labels).
        app.now_ms += 16;
        let t = Instant::now();
        term.draw(|f| kafkaterm::ui::draw(app, theme, f)).unwrap();
        v.push(ms(t.elapsed()));
    }
    Stats::new(v)
}

fn render() {
    let theme = Theme::dark();
    let frames = 300;
    println!("### Render time per frame, {W}x{H}, TestBackend ({frames} frames each)\n");
    println!("| pane / state | mean ms | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|");
    let row = |name: &str, s: &Stats| {
        println!(
            "| {name} | {:.3} | {:.3} | {:.3} | {:.3} |",
            s.mean(),
            s.pct(0.5),
            s.pct(0.99),
            s.max()
        );
    };

    // One app holding everything: 1,000 topics, 200 groups, 100k messages.
    let (mut app, first) = new_app();
    let tid = topics_req(&first).expect("initial topics refresh");
    let gid = groups_req(&first).expect("initial groups refresh");
    app.update(Msg::Worker(WorkerEvent::Topics {
        id: tid,
        result: Ok(snapshot(1000, 12)),
    }));
    app.update(Msg::Worker(WorkerEvent::Groups {
        id: gid,
        result: Ok(groups_snapshot(200, 50, NOW_MS, 0)),
    }));
    // A second groups refresh, so histories have a trend.
    app.now_ms += 5_000;
    let cmds = app.update(Msg::Tick);
    if let Some(gid) = groups_req(&cmds) {
        app.update(Msg::Worker(WorkerEvent::Groups {
            id: gid,
            result: Ok(groups_snapshot(200, 50, app.now_ms, 100)),
        }));
    }
    row(
        "Topics: list, 1,000 topics",
        &time_frames(&mut app, &theme, frames),
    );
    let cmds = app.update(key(KeyCode::Enter));
    if let Some(id) = describe_req(&cmds) {
        let name = app
            .topics
            .detail
            .as_ref()
            .map(|d| d.topic.clone())
            .unwrap_or_default();
        app.update(Msg::Worker(WorkerEvent::TopicDetail {
            id,
            topic: name.clone(),
            result: Ok(topic_detail(&name, 50)),
        }));
    }
    row(
        "Topics: detail, 50 partitions",
        &time_frames(&mut app, &theme, frames),
    );
    app.update(key(KeyCode::Esc));

    let session = open_browser(&mut app, "bench");
    let mut g = Gen::new("bench");
    feed(&mut app, session, &mut g, 100_000);
    assert_eq!(app.browser.ring.records.len(), 100_000);
    row(
        "Browser: list, 100k buffered, following (newest first)",
        &time_frames(&mut app, &theme, frames),
    );
    app.update(key(KeyCode::Char('r')));
    for _ in 0..1000 {
        app.update(key(KeyCode::PageDown));
    }
    row(
        "Browser: list, oldest first, scrolled into the middle",
        &time_frames(&mut app, &theme, frames),
    );
    app.update(key(KeyCode::Char('r')));
    app.update(key(KeyCode::End));
    app.update(key(KeyCode::Char('/')));
    type_text(&mut app, "value.amount > 100 and key ~ \"7\"");
    app.update(key(KeyCode::Enter));
    row(
        &format!(
            "Browser: list, filter on ({} of 100k match)",
            app.browser.matches.len()
        ),
        &time_frames(&mut app, &theme, frames),
    );
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Enter));
    row(
        "Browser: message detail (JSON value)",
        &time_frames(&mut app, &theme, frames),
    );
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Char('?')));
    row(
        "Browser: help overlay",
        &time_frames(&mut app, &theme, frames),
    );
    app.update(key(KeyCode::Esc));

    app.update(key(KeyCode::Char('3')));
    assert_eq!(app.focus, PaneId::Composer);
    row(
        "Producer (composer)",
        &time_frames(&mut app, &theme, frames),
    );
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Char('4')));
    assert_eq!(app.focus, PaneId::Groups);
    row(
        "Groups: list, 200 groups",
        &time_frames(&mut app, &theme, frames),
    );
    app.update(key(KeyCode::Enter));
    row(
        "Groups: detail, 50 partitions",
        &time_frames(&mut app, &theme, frames),
    );
    for _ in 0..2 {
        app.update(key(KeyCode::Tab));
    }
    row(
        "Groups: detail, lag chart tab",
        &time_frames(&mut app, &theme, frames),
    );
    println!();
}

// ------------------------------------------------------------------ keys

struct KeyRun {
    latencies: Vec<f64>,
    /// Latencies of the keys sent while a save's temporary file existed.
    during_save: Vec<f64>,
    /// Saves the key thread started (`w`, Enter).
    saves: u64,
    /// Lines in the files of the saves that finished during the run.
    saved_lines: u64,
    key_update: Vec<f64>,
    draws: Vec<f64>,
    ingested: u64,
    offered: u64,
    seconds: f64,
}

/// The console's own event loop (`tui::event_loop`), drawing to a crossterm
/// backend that writes into a sink. A feeder thread offers `rate` records/s
/// in 2,000-record batches through the worker's bounded channel; a key
/// thread presses ↓/↑ every ~50 ms. Latency: key sent → the first frame
/// drawn after the key was handled (reported by the loop's probe).
/// With `saves` (the App's data directory), the key thread also keeps a
/// save of all buffered records running: whenever no save's temporary file
/// is in the directory it presses `w` and Enter (the default path).
fn key_run(
    app: &mut App,
    session: u64,
    g: Gen,
    rate: u64,
    secs: f64,
    saves: Option<std::path::PathBuf>,
) -> KeyRun {
    let theme = Theme::dark();
    let backend = CrosstermBackend::new(std::io::sink());
    let mut term = Terminal::with_options(
        backend,
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, W, H)),
        },
    )
    .expect("sink terminal");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (wtx, mut wrx) =
        tokio::sync::mpsc::channel::<WorkerEvent>(kafkaterm::worker::EVENT_CAPACITY);
    let (ktx, krx) = tokio::sync::mpsc::unbounded_channel::<KeyEvent>();
    // When each key was sent (and whether a save was running then), in
    // order; the loop handles keys in order.
    let sent_at: Arc<std::sync::Mutex<std::collections::VecDeque<(Instant, bool)>>> =
        Arc::default();
    let saves_started = Arc::new(AtomicU64::new(0));
    let lines_saved = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let offered = Arc::new(AtomicU64::new(0));
    let feeder = {
        let stop = Arc::clone(&stop);
        let offered = Arc::clone(&offered);
        let mut g = g;
        std::thread::spawn(move || {
            let per_batch = BATCH as u64;
            let interval = Duration::from_secs_f64(per_batch as f64 / rate as f64);
            let start = Instant::now();
            let mut next = start;
            while !stop.load(Ordering::Relaxed) {
                let batch = g.batch(BATCH);
                if wtx
                    .blocking_send(WorkerEvent::Browse {
                        session,
                        event: BrowseEvent::Records(batch),
                    })
                    .is_err()
                {
                    break;
                }
                offered.fetch_add(per_batch, Ordering::Relaxed);
                next += interval;
                let now = Instant::now();
                if next > now {
                    std::thread::sleep(next - now);
                } else {
                    // Behind schedule (back-pressure): do not burst to catch up.
                    next = now;
                }
            }
        })
    };
    let keys_sent = Arc::clone(&sent_at);
    let started_saves = Arc::clone(&saves_started);
    let saved_lines = Arc::clone(&lines_saved);
    let keys = std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs_f64(secs);
        let mut i = 0u64;
        // A fixed jitter pattern so runs are comparable.
        let jitter = [0u64, 7, 13, 3, 17, 9, 1, 15, 5, 11];
        let mut last_save: Option<Instant> = None;
        let send = |code: KeyCode, saving: bool| {
            keys_sent
                .lock()
                .expect("key times")
                .push_back((Instant::now(), saving));
            ktx.send(KeyEvent::new(code, KeyModifiers::NONE)).is_ok()
        };
        while Instant::now() < end {
            std::thread::sleep(Duration::from_millis(
                43 + jitter[usize::try_from(i % 10).unwrap_or(0)],
            ));
            let saving = saves.as_deref().is_some_and(save_running);
            if let Some(dir) = &saves {
                // A new save once the last one is done (its file renamed),
                // giving the last `w` time to reach the loop.
                if !saving && last_save.is_none_or(|t| t.elapsed() > Duration::from_millis(300)) {
                    saved_lines.fetch_add(remove_saved(dir), Ordering::Relaxed);
                    last_save = Some(Instant::now());
                    started_saves.fetch_add(1, Ordering::Relaxed);
                    if !send(KeyCode::Char('w'), false) || !send(KeyCode::Enter, false) {
                        break;
                    }
                    continue;
                }
            }
            let code = if i.is_multiple_of(2) {
                KeyCode::Down
            } else {
                KeyCode::Up
            };
            if !send(code, saving) {
                break;
            }
            i += 1;
        }
    });
    let before = app.browser.received;
    let started = Instant::now();
    let mut out = KeyRun {
        latencies: Vec::new(),
        during_save: Vec::new(),
        saves: 0,
        saved_lines: 0,
        key_update: Vec::new(),
        draws: Vec::new(),
        ingested: 0,
        offered: 0,
        seconds: 0.0,
    };
    let input = Box::pin(futures::stream::unfold(krx, |mut rx| async move {
        rx.recv()
            .await
            .map(|k| (Ok(ratatui::crossterm::event::Event::Key(k)), rx))
    }));
    let (_stop_tx, stops) = tokio::sync::mpsc::unbounded_channel();
    let (cmd_tx, _cmd_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut handled: Vec<(Instant, bool)> = Vec::new();
    let mut probe = |p: Probe| match p {
        Probe::KeyHandled(update) => {
            out.key_update.push(ms(update));
            if let Some(t) = sent_at.lock().expect("key times").pop_front() {
                handled.push(t);
            }
        }
        Probe::Drawn(draw) => {
            let done = Instant::now();
            out.draws.push(ms(draw));
            for (sent, saving) in handled.drain(..) {
                out.latencies.push(ms(done - sent));
                if saving {
                    out.during_save.push(ms(done - sent));
                }
            }
        }
    };
    let mut files = kafkaterm::files::FileWriter::default();
    rt.block_on(kafkaterm::tui::event_loop(
        app,
        &theme,
        &mut term,
        input,
        stops,
        WorkerIo {
            commands: &cmd_tx,
            events: &mut wrx,
        },
        &mut files,
        &mut |_, _| {},
        &mut probe,
    ))
    .expect("event loop");
    out.seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    // Unblock a feeder waiting on a full channel.
    drop(wrx);
    let _ = feeder.join();
    let _ = keys.join();
    out.ingested = app.browser.received - before;
    out.saves = saves_started.load(Ordering::Relaxed);
    out.saved_lines = lines_saved.load(Ordering::Relaxed);
    out.offered = offered.load(Ordering::Relaxed);
    out
}

/// Is a save writing in `dir` (its temporary file, `.NAME.UUID.part`, exists)?
fn save_running(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(".part"))
    })
}

/// Remove the finished saves (JSON Lines files) from `dir`; returns the
/// lines they held.
fn remove_saved(dir: &std::path::Path) -> u64 {
    let mut lines = 0;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_name().to_string_lossy().ends_with(".jsonl") {
            if let Ok(b) = std::fs::read(e.path()) {
                lines += b.iter().filter(|&&c| c == b'\n').count() as u64;
            }
            let _ = std::fs::remove_file(e.path());
        }
    }
    lines
}

fn keys() {
    let secs = 10.0;
    let rate = 50_000;
    println!(
        "### Keypress-to-frame latency while ingesting {rate} msgs/s ({secs:.0} s per scenario, ~20 keys/s)\n"
    );
    println!(
        "| scenario | keys | p50 ms | p95 ms | p99 ms | max ms | key update p50 ms | frames | frame mean ms | ingested msgs/s |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let scenarios: [(&str, Option<&str>, bool); 3] = [
        ("browser at the 200k cap, not following", None, false),
        (
            "same, with a filter (`value.amount > 100`)",
            Some("value.amount > 100"),
            false,
        ),
        (
            "same as the first, while saving all 200k buffered records (a new save as each ends)",
            None,
            true,
        ),
    ];
    let mut save_note = None;
    for (name, filter, save) in scenarios {
        let (mut app, _) = new_app();
        let session = open_browser(&mut app, "bench");
        let mut g = Gen::new("bench");
        // Start at the default cap, as after a long tail.
        feed(&mut app, session, &mut g, 200_000);
        if let Some(f) = filter {
            app.update(key(KeyCode::Char('/')));
            type_text(&mut app, f);
            app.update(key(KeyCode::Enter));
        }
        app.update(key(KeyCode::Down)); // stop following
        let dir = app.env.data_dir.clone();
        let _ = std::fs::create_dir_all(&dir);
        let r = key_run(&mut app, session, g, rate, secs, save.then(|| dir.clone()));
        if save {
            let last = remove_saved(&dir);
            let during = Stats::new(r.during_save.clone());
            save_note = Some(format!(
                "While saving: {} saves of 200,000 records started in {:.1} s, {} lines written in the finished ones; of the keys, {} were sent while a save was writing: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms.",
                r.saves,
                r.seconds,
                r.saved_lines + last,
                during.v.len(),
                during.pct(0.5),
                during.pct(0.99),
                during.max()
            ));
        }
        let lat = Stats::new(r.latencies);
        let upd = Stats::new(r.key_update);
        let draws = Stats::new(r.draws);
        #[allow(clippy::cast_precision_loss)]
        let ingest = r.ingested as f64 / r.seconds;
        println!(
            "| {name} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.3} | {} | {:.2} | {:.0} (offered {:.0}) |",
            lat.v.len(),
            lat.pct(0.5),
            lat.pct(0.95),
            lat.pct(0.99),
            lat.max(),
            upd.pct(0.5),
            draws.v.len(),
            draws.mean(),
            ingest,
            r.offered as f64 / r.seconds,
        );
    }
    if let Some(n) = save_note {
        println!("\n{n}");
    }
    println!();
}

// ------------------------------------------------------------------ filter

/// The browser's filter scan: Enter on a filter rescans every buffered
/// record on the UI thread. Key to frame (update + draw) for filters of
/// different cost over the default cap of 200,000 records.
fn filter_scan() {
    let theme = Theme::dark();
    let runs = 10;
    let records = 200_000;
    println!(
        "### Applying a browser filter over a full buffer ({records} records, {W}x{H}, {runs} runs each)\n"
    );
    println!("| filter | matches | p50 ms | max ms | of which the scan (update) p50 ms |");
    println!("|---|---:|---:|---:|---:|");
    let (mut app, _) = new_app();
    let session = open_browser(&mut app, "bench");
    let mut g = Gen::new("bench");
    feed(&mut app, session, &mut g, records);
    assert_eq!(
        app.browser.ring.records.len(),
        records,
        "the buffer is full"
    );
    app.update(key(KeyCode::Down)); // stop following
    let mut term = Terminal::new(TestBackend::new(W, H)).expect("test terminal");
    let filters = [
        "partition = 3",
        "key ~ \"7\"",
        "value.amount > 100",
        "value.amount > 100 and key ~ \"7\"",
        "value ~ \"no such text\"",
    ];
    for f in filters {
        let mut total = Vec::with_capacity(runs);
        let mut scan = Vec::with_capacity(runs);
        let mut matches = 0;
        for _ in 0..runs {
            app.update(key(KeyCode::Char('/')));
            type_text(&mut app, f);
            let t = Instant::now();
            app.update(key(KeyCode::Enter));
            let u = t.elapsed();
            term.draw(|fr| kafkaterm::ui::draw(&app, &theme, fr))
                .unwrap();
            total.push(ms(t.elapsed()));
            scan.push(ms(u));
            matches = app.browser.matches.len();
            // Clear it for the next run (Esc in the list clears the filter).
            app.update(key(KeyCode::Esc));
            assert!(app.browser.filter.is_none(), "the filter was cleared");
        }
        let total = Stats::new(total);
        let scan = Stats::new(scan);
        println!(
            "| `{f}` | {matches} | {:.1} | {:.1} | {:.1} |",
            total.pct(0.5),
            total.max(),
            scan.pct(0.5)
        );
    }
    println!();
}

// ------------------------------------------------------------------ memory

fn memory() {
    let total = 1_000_000usize;
    let rss0 = status_kb("VmRSS:");
    let (mut app, _) = new_app();
    let session = open_browser(&mut app, "bench");
    let mut g = Gen::new("bench");
    let t = Instant::now();
    feed(&mut app, session, &mut g, total);
    let secs = t.elapsed().as_secs_f64();
    let theme = Theme::dark();
    let mut term = Terminal::new(TestBackend::new(W, H)).expect("test terminal");
    term.draw(|f| kafkaterm::ui::draw(&app, &theme, f)).unwrap();
    let hwm = status_kb("VmHWM:");
    let rss = status_kb("VmRSS:");
    let ring = &app.browser.ring;
    println!("### Memory after tailing {total} messages into the App (default caps)\n");
    println!("| figure | value |");
    println!("|---|---:|");
    println!(
        "| buffered / evicted by the cap | {} / {} |",
        ring.records.len(),
        ring.evicted
    );
    println!(
        "| bytes the ring accounts (Record::footprint) | {:.1} MiB |",
        ring.bytes as f64 / 1_048_576.0
    );
    println!(
        "| process RSS before the App | {:.1} MiB |",
        rss0 as f64 / 1024.0
    );
    println!("| peak RSS (VmHWM) | {:.1} MiB |", hwm as f64 / 1024.0);
    println!("| RSS at the end | {:.1} MiB |", rss as f64 / 1024.0);
    #[allow(clippy::cast_precision_loss)]
    let rate = total as f64 / secs;
    println!("| App ingest rate (generate + update, 2,000-record batches) | {rate:.0} msgs/s |");
    println!();
}

// ------------------------------------------------------------------ topics

fn topics() {
    let theme = Theme::dark();
    let topics_n = 10_000;
    let parts = 10;
    let snap = snapshot(topics_n, parts);
    println!(
        "### First frame with {topics_n} topics / {} partitions (App fed a synthetic ClusterSnapshot)\n",
        topics_n * parts
    );
    println!("| step | mean ms | p50 ms | max ms |");
    println!("|---|---:|---:|---:|");
    let reps = 20;
    let (mut upd, mut draw, mut total) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..reps {
        let (mut app, first) = new_app();
        let id = topics_req(&first).expect("topics refresh");
        let mut term = Terminal::new(TestBackend::new(W, H)).expect("test terminal");
        // The loading frame, as the console shows it before the answer.
        term.draw(|f| kafkaterm::ui::draw(&app, &theme, f)).unwrap();
        let ev = Msg::Worker(WorkerEvent::Topics {
            id,
            result: Ok(snap.clone()),
        });
        let t0 = Instant::now();
        app.update(ev);
        let t1 = Instant::now();
        term.draw(|f| kafkaterm::ui::draw(&app, &theme, f)).unwrap();
        let t2 = Instant::now();
        upd.push(ms(t1 - t0));
        draw.push(ms(t2 - t1));
        total.push(ms(t2 - t0));
        assert_eq!(app.topics.list.view.len(), topics_n);
    }
    for (name, v) in [
        ("update(Topics event): store, sort, keep selection", upd),
        ("draw the first frame", draw),
        ("Topics event → frame drawn", total),
    ] {
        let s = Stats::new(v);
        println!(
            "| {name} | {:.3} | {:.3} | {:.3} |",
            s.mean(),
            s.pct(0.5),
            s.max()
        );
    }
    // Keys on the 10k list: filter typing (recompute per key) and moving.
    let (mut app, first) = new_app();
    let id = topics_req(&first).expect("topics refresh");
    app.update(Msg::Worker(WorkerEvent::Topics {
        id,
        result: Ok(snap.clone()),
    }));
    let mut term = Terminal::new(TestBackend::new(W, H)).expect("test terminal");
    let mut timed = |app: &mut App, m: Msg| {
        let t = Instant::now();
        app.update(m);
        term.draw(|f| kafkaterm::ui::draw(app, &theme, f)).unwrap();
        ms(t.elapsed())
    };
    let moves: Vec<f64> = (0..200)
        .map(|i| {
            timed(
                &mut app,
                key(if i % 2 == 0 {
                    KeyCode::Down
                } else {
                    KeyCode::Up
                }),
            )
        })
        .collect();
    let s = Stats::new(moves);
    println!(
        "| key ↓/↑ on the 10k list (update + draw) | {:.3} | {:.3} | {:.3} |",
        s.mean(),
        s.pct(0.5),
        s.max()
    );
    timed(&mut app, key(KeyCode::Char('/')));
    let typing: Vec<f64> = "events-0999"
        .chars()
        .map(|c| timed(&mut app, key(KeyCode::Char(c))))
        .collect();
    let s = Stats::new(typing);
    println!(
        "| filter keystroke on 10k topics (update + draw) | {:.3} | {:.3} | {:.3} |",
        s.mean(),
        s.pct(0.5),
        s.max()
    );
    // A periodic refresh of the same 10k topics with a selection to keep.
    app.update(key(KeyCode::Esc));
    app.now_ms += 60_000;
    let cmds = app.update(Msg::Tick);
    if let Some(id) = topics_req(&cmds) {
        let ev = Msg::Worker(WorkerEvent::Topics {
            id,
            result: Ok(snap.clone()),
        });
        let t = timed(&mut app, ev);
        println!("| periodic refresh of 10k topics (update + draw) | {t:.3} | {t:.3} | {t:.3} |");
    }
    println!();
    tpl_build();
}

/// Building a TopicPartitionList the way src/worker/offsets.rs `tpl_of` does
/// (`add_partition_offset`, which looks the entry up again linearly) versus
/// setting the offset on the element `add_partition` returns.
fn tpl_build() {
    use rdkafka::{Offset, TopicPartitionList};
    println!("### Building a ListOffsets partition list (src/worker/offsets.rs `tpl_of`)\n");
    println!("| partitions | add_partition_offset ms | add_partition + set_offset ms |");
    println!("|---:|---:|---:|");
    for n in [1_000usize, 5_000, 10_000, 20_000] {
        let names: Vec<String> = (0..n / 10).map(|t| format!("many-{t:05}")).collect();
        let t = Instant::now();
        let mut tpl = TopicPartitionList::with_capacity(n);
        for name in &names {
            for p in 0..10 {
                tpl.add_partition_offset(name, p, Offset::End).unwrap();
            }
        }
        let slow = ms(t.elapsed());
        let t = Instant::now();
        let mut tpl2 = TopicPartitionList::with_capacity(n);
        for name in &names {
            for p in 0..10 {
                tpl2.add_partition(name, p).set_offset(Offset::End).unwrap();
            }
        }
        let fast = ms(t.elapsed());
        assert_eq!(tpl.count(), tpl2.count());
        println!("| {n} | {slow:.1} | {fast:.1} |");
    }
    println!();
}

fn main() {
    // `cargo bench` passes `--bench`; only bare words select benchmarks.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let all = args.is_empty();
    let want = |s: &str| all || args.iter().any(|a| a == s);
    if want("render") {
        render();
    }
    if want("topics") {
        topics();
    }
    if want("filter") {
        filter_scan();
    }
    if want("keys") {
        keys();
    }
    if want("memory") {
        memory();
    }
}
