//! The console's own event loop (`tui::event_loop`) driven with a
//! TestBackend, a scripted input stream and in-process channels: the loop
//! that runs in the terminal, not a copy of it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt;
use kafkaterm::app::{App, Env};
use kafkaterm::config::theme::Theme;
use kafkaterm::files::FileWriter;
use kafkaterm::model::{BrokerInfo, ClusterSnapshot, TopicSummary};
use kafkaterm::tui::{Probe, Stop, WorkerIo, event_loop};
use kafkaterm::worker::protocol::{Command, WorkerEvent};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc;

fn key(c: char) -> std::io::Result<Event> {
    Ok(Event::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )))
}

fn screen(t: &Terminal<TestBackend>) -> String {
    let b = t.backend().buffer();
    (0..b.area.height)
        .map(|y| {
            (0..b.area.width)
                .map(|x| b[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Keys go through the keymap and the app; the app quitting ends the loop
/// with no stop request; the first frame is drawn through the backend.
#[test]
fn keys_drive_the_loop_until_the_app_quits() {
    let (mut app, _first) = App::new(Env::test(), kafkaterm::timeutil::now_ms(), (80, 24));
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let (cmd_tx, _cmd_rx) = mpsc::unbounded_channel::<Command>();
    let (_ev_tx, mut ev_rx) = mpsc::channel::<WorkerEvent>(16);
    let (_stop_tx, stops) = mpsc::unbounded_channel::<Stop>();
    // Help opened and closed, pane 4, then quit; then the input would end.
    let input = futures::stream::iter(vec![
        key('?'),
        Ok(Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE))),
        key('4'),
        key('q'),
    ]);
    let mut keys = 0;
    let mut draws = 0;
    let mut files = FileWriter::default();
    let stop = rt()
        .block_on(event_loop(
            &mut app,
            &Theme::dark(),
            &mut term,
            input,
            stops,
            WorkerIo {
                commands: &cmd_tx,
                events: &mut ev_rx,
            },
            &mut files,
            &mut |_, _| {},
            &mut |p| match p {
                Probe::KeyHandled(_) => keys += 1,
                Probe::Drawn(_) => draws += 1,
            },
        ))
        .unwrap();
    assert_eq!(stop, None);
    assert!(app.quit);
    assert_eq!(keys, 4);
    assert!(draws >= 1);
    assert!(screen(&term).contains("Topics"), "{}", screen(&term));
    assert_eq!(app.focus, kafkaterm::app::PaneId::Groups);
}

/// A worker answer is handled and drawn; a stop request (what a signal
/// becomes) ends the loop and is returned with its exit code.
#[test]
fn worker_events_are_drawn_and_a_stop_request_ends_the_loop() {
    let (mut app, first) = App::new(Env::test(), kafkaterm::timeutil::now_ms(), (80, 24));
    let id = first
        .iter()
        .find_map(|c| match c {
            Command::RefreshTopics { id } => Some(*id),
            _ => None,
        })
        .unwrap();
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let (cmd_tx, _cmd_rx) = mpsc::unbounded_channel::<Command>();
    let (ev_tx, mut ev_rx) = mpsc::channel::<WorkerEvent>(16);
    let (stop_tx, stops) = mpsc::unbounded_channel::<Stop>();
    ev_tx
        .try_send(WorkerEvent::Topics {
            id,
            result: Ok(ClusterSnapshot {
                brokers: vec![BrokerInfo {
                    id: 1,
                    host: "localhost".into(),
                    port: 9092,
                }],
                topics: vec![TopicSummary {
                    messages_error: None,
                    name: "invoices-eu".into(),
                    partitions: 12,
                    replication_factor: 3,
                    messages: Some(4_200),
                    internal: false,
                    under_replicated: 0,
                    offline: 0,
                    error: None,
                    end_offsets: None,
                }],
                watermark_error: None,
            }),
        })
        .unwrap();
    let mut files = FileWriter::default();
    let stop = rt()
        .block_on(async {
            // Ask the loop to stop once a frame shows the answer: the probe
            // sees each frame; the stop goes in through the channel.
            let mut stop_tx = Some(stop_tx);
            let mut saw_event = false;
            let mut probe = |p: Probe| {
                if let Probe::Drawn(_) = p {
                    // The channel is drained before the frame after it.
                    if ev_tx.capacity() == ev_tx.max_capacity() {
                        if saw_event && let Some(tx) = stop_tx.take() {
                            let _ = tx.send(Stop {
                                note: "terminated (SIGTERM)".into(),
                                code: 143,
                            });
                        }
                        saw_event = true;
                    }
                }
            };
            event_loop(
                &mut app,
                &Theme::dark(),
                &mut term,
                futures::stream::pending::<std::io::Result<Event>>().boxed(),
                stops,
                WorkerIo {
                    commands: &cmd_tx,
                    events: &mut ev_rx,
                },
                &mut files,
                &mut |_, _| {},
                &mut probe,
            )
            .await
        })
        .unwrap();
    assert_eq!(
        stop,
        Some(Stop {
            note: "terminated (SIGTERM)".into(),
            code: 143
        })
    );
    let s = screen(&term);
    assert!(s.contains("invoices-eu"), "{s}");
}
