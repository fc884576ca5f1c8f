//! The interactive event loop: one `select!` over terminal events, worker
//! events, a 4 Hz tick, signals and effect results. State changes only in
//! `App::update`; the screen is redrawn when something changed, at most
//! about 60 times a second, with worker events drained in batches.

use std::io;
use std::time::{Duration, Instant};

use anyhow::Result;
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::{Event, EventStream, KeyEventKind};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::app::clock::clock_key;
use crate::app::{App, Effect, IoResult, Msg, WriteError};
use crate::config::theme::Theme;
use crate::files::FileWriter;
use crate::term::{self, TerminalGuard};
use crate::timeutil::now_ms;
use crate::worker::WorkerHandle;
use crate::worker::protocol::{Command, WorkerEvent};

const FRAME: Duration = Duration::from_millis(16);
/// How long quitting waits for files still being written.
const FILES_GRACE: Duration = Duration::from_secs(10);
/// Worker events handled before the loop looks at the keyboard again.
const DRAIN_MAX: usize = 256;

fn send_all(tx: &mpsc::UnboundedSender<Command>, cmds: Vec<Command>) {
    for c in cmds {
        // Unbounded: never blocks the UI.
        let _ = tx.send(c);
    }
}

fn perform(
    effects: Vec<Effect>,
    io_tx: &mpsc::UnboundedSender<IoResult>,
    osc: &mut Vec<String>,
    files: &mut FileWriter,
    mouse: &mut Option<bool>,
) {
    for e in effects {
        match e {
            Effect::Osc52(text) => osc.push(text),
            Effect::MouseCapture(on) => *mouse = Some(on),
            Effect::Export(job) => {
                let tx = io_tx.clone();
                crate::export::spawn(job, move |ev| {
                    let _ = tx.send(IoResult::Export(ev));
                });
            }
            Effect::WriteFile {
                path,
                contents,
                what,
            } => {
                let tx = io_tx.clone();
                let p = path.clone();
                files.submit(path, contents, move |result| {
                    let result = result.map_err(WriteError::from);
                    let _ = tx.send(IoResult::Written {
                        what,
                        path: p,
                        result,
                    });
                });
            }
        }
    }
}

/// How the console ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// Printed after the terminal is restored.
    pub message: Option<String>,
    /// 0, or 128 + the signal number when a signal ended it.
    pub code: u8,
}

/// A request to stop from outside the app (a signal): the note printed
/// after the terminal is restored and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    pub note: String,
    pub code: u8,
}

/// What the loop reports to an observer (the UI benchmark measures
/// keypress-to-frame latency with it; the console passes a no-op).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// A key was handled by `App::update`, which took this long.
    KeyHandled(Duration),
    /// A frame was drawn, in this long.
    Drawn(Duration),
}

/// The channels to the worker as the loop sees them.
pub struct WorkerIo<'a> {
    pub commands: &'a mpsc::UnboundedSender<Command>,
    pub events: &'a mut mpsc::Receiver<WorkerEvent>,
}

/// The console's event loop, generic over the terminal backend and the
/// input stream so tests and the benchmark drive this very loop: one
/// `select!` over terminal input, worker events, a 4 Hz tick, stop
/// requests and effect results; a redraw when something changed, at most
/// every 16 ms; worker events drained in batches of at most 256 so keys stay
/// responsive. Returns when the app quits, the input ends or fails, or a
/// stop request arrives.
#[allow(clippy::too_many_arguments)]
pub async fn event_loop<B, S>(
    app: &mut App,
    theme: &Theme,
    terminal: &mut Terminal<B>,
    input: S,
    stops: mpsc::UnboundedReceiver<Stop>,
    worker: WorkerIo<'_>,
    files: &mut FileWriter,
    osc_out: &mut dyn FnMut(&mut B, &str),
    probe: &mut dyn FnMut(Probe),
) -> Result<Option<Stop>>
where
    B: Backend,
    B::Error: std::error::Error + Send + Sync + 'static,
    S: Stream<Item = io::Result<Event>> + Unpin,
{
    event_loop_mouse(
        app,
        theme,
        terminal,
        input,
        stops,
        worker,
        files,
        Outputs {
            osc52: osc_out,
            mouse: &mut |_, _| {},
        },
        probe,
    )
    .await
}

/// What the loop writes to the terminal besides frames.
pub struct Outputs<'a, B> {
    /// An OSC 52 clipboard request.
    pub osc52: &'a mut dyn FnMut(&mut B, &str),
    /// Mouse reporting on or off.
    pub mouse: &'a mut dyn FnMut(&mut B, bool),
}

/// [`event_loop`], also turning the terminal's mouse reporting on and off
/// as the app asks.
// Over 80 lines on purpose: one `select!` whose arms borrow the loop's
// locals (the input, the channels, the frame's state) mutably at once; its
// steps are functions already (`input_msg`, `handle`, `drain_worker`,
// `perform`), and cutting the select itself would pass all of them around.
#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
pub async fn event_loop_mouse<B, S>(
    app: &mut App,
    theme: &Theme,
    terminal: &mut Terminal<B>,
    mut input: S,
    mut stops: mpsc::UnboundedReceiver<Stop>,
    worker: WorkerIo<'_>,
    files: &mut FileWriter,
    outputs: Outputs<'_, B>,
    probe: &mut dyn FnMut(Probe),
) -> Result<Option<Stop>>
where
    B: Backend,
    B::Error: std::error::Error + Send + Sync + 'static,
    S: Stream<Item = io::Result<Event>> + Unpin,
{
    let Outputs {
        osc52: osc_out,
        mouse: mouse_out,
    } = outputs;
    let mut mouse: Option<bool> = None;
    let cmd_tx = worker.commands;
    let events = worker.events;
    let (io_tx, mut io_rx) = mpsc::unbounded_channel::<IoResult>();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut dirty = true;
    // The clock step of the frame on screen (see `App::tick_needs_frame`).
    let mut drawn_clock: Option<i64> = None;
    let mut last_draw = Instant::now()
        .checked_sub(FRAME)
        .unwrap_or_else(Instant::now);
    let mut osc: Vec<String> = Vec::new();
    let mut worker_alive = true;
    let mut stops_open = true;
    let mut stop: Option<Stop> = None;
    // Test hook for the terminal-restore tests (built only with the
    // `test-hooks` feature): panic on the UI thread after the first frame.
    #[cfg(feature = "test-hooks")]
    let panic_after_draw = std::env::var_os("KAFKATERM_TEST_PANIC").is_some();
    loop {
        if dirty && last_draw.elapsed() >= FRAME {
            let t = Instant::now();
            terminal.draw(|f| crate::ui::draw(app, theme, f))?;
            drawn_clock = clock_key(app);
            last_draw = Instant::now();
            probe(Probe::Drawn(last_draw - t));
            dirty = false;
            #[cfg(feature = "test-hooks")]
            assert!(
                !panic_after_draw,
                "KAFKATERM_TEST_PANIC is set: panicking on purpose"
            );
            for text in osc.drain(..) {
                osc_out(terminal.backend_mut(), &text);
            }
        }
        let wait = if dirty {
            FRAME.saturating_sub(last_draw.elapsed())
        } else {
            Duration::from_secs(3600)
        };
        let msg = tokio::select! {
            ev = input.next() => match input_msg(ev) {
                Ok(msg) => msg,
                Err(s) => {
                    stop = s;
                    break;
                }
            },
            ev = events.recv(), if worker_alive => match ev {
                Some(ev) => Some(Msg::Worker(ev)),
                None => {
                    worker_alive = false;
                    app.toast(crate::app::Level::Error, "the Kafka worker stopped; see the log");
                    dirty = true;
                    None
                }
            },
            Some(r) = io_rx.recv() => Some(Msg::Io(r)),
            _ = tick.tick() => Some(Msg::Tick),
            () = tokio::time::sleep(wait), if dirty => None,
            s = stops.recv(), if stops_open => match s {
                Some(s) => { stop = Some(s); break; }
                None => { stops_open = false; None }
            },
        };
        app.now_ms = now_ms();
        if let Some(msg) = msg {
            dirty |= handle(app, msg, cmd_tx, drawn_clock, probe);
        }
        dirty |= drain_worker(app, events, cmd_tx);
        let effects = std::mem::take(&mut app.effects);
        perform(effects, &io_tx, &mut osc, files, &mut mouse);
        if let Some(on) = mouse.take() {
            mouse_out(terminal.backend_mut(), on);
        }
        if app.quit {
            break;
        }
    }
    Ok(stop)
}

/// Update the app with one message and send its commands; true when the
/// screen must be drawn again. A tick draws only what it changed (a still
/// screen, nothing); an event for a pane out of sight, nothing.
fn handle(
    app: &mut App,
    msg: Msg,
    cmd_tx: &mpsc::UnboundedSender<Command>,
    drawn_clock: Option<i64>,
    probe: &mut dyn FnMut(Probe),
) -> bool {
    let is_key = matches!(msg, Msg::Key(_));
    let is_tick = matches!(msg, Msg::Tick);
    let t = Instant::now();
    let cmds = app.update(msg);
    if is_key {
        probe(Probe::KeyHandled(t.elapsed()));
    }
    send_all(cmd_tx, cmds);
    if is_tick {
        app.tick_needs_frame(drawn_clock)
    } else {
        !app.unseen()
    }
}

/// A terminal event as a message (`Ok(None)`: one the app ignores);
/// `Err` ends the loop: the input failed (with the stop to report) or ended.
fn input_msg(ev: Option<io::Result<Event>>) -> Result<Option<Msg>, Option<Stop>> {
    match ev {
        Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => Ok(Some(Msg::Key(k))),
        Some(Ok(Event::Paste(s))) => Ok(Some(Msg::Paste(s))),
        Some(Ok(Event::Resize(w, h))) => Ok(Some(Msg::Resize(w, h))),
        Some(Ok(Event::Mouse(m))) => Ok(Some(Msg::Mouse(m))),
        Some(Ok(_)) => Ok(None),
        Some(Err(e)) => {
            tracing::warn!("terminal input error: {e}");
            Err(Some(Stop {
                note: format!("terminal input failed: {e}"),
                code: 0,
            }))
        }
        None => Err(None),
    }
}

/// Handle what the worker has ready, bounded so keys stay responsive;
/// true when any of it shows on screen.
fn drain_worker(
    app: &mut App,
    events: &mut mpsc::Receiver<WorkerEvent>,
    cmd_tx: &mpsc::UnboundedSender<Command>,
) -> bool {
    let mut any = false;
    for _ in 0..DRAIN_MAX {
        match events.try_recv() {
            Ok(ev) => {
                let cmds = app.update(Msg::Worker(ev));
                send_all(cmd_tx, cmds);
                any |= !app.unseen();
            }
            Err(_) => break,
        }
    }
    any
}

/// Stop requests from SIGTERM, SIGHUP and SIGINT.
fn signal_stops() -> Result<mpsc::UnboundedReceiver<Stop>> {
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let stop = tokio::select! {
            _ = sigterm.recv() => Stop { note: "terminated (SIGTERM)".into(), code: 143 },
            _ = sighup.recv() => Stop { note: "hung up (SIGHUP)".into(), code: 129 },
            _ = sigint.recv() => Stop { note: "interrupted (SIGINT)".into(), code: 130 },
        };
        let _ = tx.send(stop);
    });
    Ok(rx)
}

/// Run the console on the real terminal until the user quits or a signal
/// arrives.
pub async fn run(
    mut app: App,
    first: Vec<Command>,
    theme: Theme,
    mut worker: WorkerHandle,
) -> Result<Exit> {
    let mut guard = TerminalGuard::enter()?;
    let size = guard.terminal.size()?;
    app.update(Msg::Resize(size.width, size.height));
    if app.mouse {
        term::mouse_capture(guard.terminal.backend_mut(), true);
    }
    let cmd_tx = worker.commands.clone();
    send_all(&cmd_tx, first);
    let stops = signal_stops()?;
    let mut files = FileWriter::default();
    let stop = event_loop_mouse(
        &mut app,
        &theme,
        &mut guard.terminal,
        EventStream::new(),
        stops,
        WorkerIo {
            commands: &cmd_tx,
            events: &mut worker.events,
        },
        &mut files,
        Outputs {
            osc52: &mut |backend, text| {
                let _ = term::osc52(backend, text);
            },
            mouse: &mut |backend, on| term::mouse_capture(backend, on),
        },
        &mut |_| {},
    )
    .await?;
    let _ = cmd_tx.send(Command::Shutdown);
    drop(guard);
    let mut exit_note = stop.as_ref().map(|s| s.note.clone());
    // Saves asked for before quitting (history, templates) finish first.
    if tokio::time::timeout(FILES_GRACE, files.finish())
        .await
        .is_err()
    {
        tracing::warn!("files were still being written when the console quit");
        exit_note.get_or_insert_with(|| "some files may not have been saved".into());
    }
    let _ = tokio::time::timeout(Duration::from_secs(3), &mut worker.task).await;
    Ok(Exit {
        message: app.exit_message.take().or(exit_note),
        code: stop.map_or(0, |s| s.code),
    })
}
