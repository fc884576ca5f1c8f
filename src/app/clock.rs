//! What on screen moves with the clock, so that a tick redraws only when
//! something shown would change: a spinner (4 frames a second), an age or
//! countdown in seconds, or nothing (a still screen draws nothing on a tick).

pub use super::ctx::Clock;
use super::{App, Switch};
use crate::app::picker::Check;
use crate::worker::protocol::ConnState;

/// The finest clock the current screen shows.
#[must_use]
pub fn clock_visible(app: &App) -> Clock {
    let mut c = Clock::Still;
    if app.quitting.is_some() {
        return Clock::Spinner;
    }
    match &app.switch {
        Some(Switch::Draining { .. } | Switch::Connecting { .. }) => return Clock::Spinner,
        Some(Switch::Ask { .. }) | None => {}
    }
    // The status bar's last error goes after a minute once connected.
    if app.status.toast.is_none()
        && let Some((at, _)) = &app.status.last_error
        && matches!(app.status.conn, ConnState::Connected)
        && app.now_ms - at < 60_000
    {
        c = Clock::Seconds;
    }
    let body = if app.picker.open {
        if app
            .picker
            .entries
            .iter()
            .any(|e| matches!(e.check, Check::Checking))
        {
            Clock::Spinner
        } else {
            Clock::Still
        }
    } else {
        app.pane(app.focus).clock()
    };
    c.max(body)
}

/// Which step of the clock the screen shows at `app.now_ms`: two moments
/// with the same key draw the same frame (given the same state).
#[must_use]
pub fn clock_key(app: &App) -> Option<i64> {
    clock_visible(app)
        .step_ms()
        .map(|step| app.now_ms.div_euclid(step))
}

/// What the app itself shows besides the panes (a tick or an event for a
/// pane out of sight may change these; the panes say so through their
/// commands, or `Ctx::redraw`).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Seen {
    toast: Option<super::Toast>,
    switch: Option<Switch>,
    quit: bool,
    effects: usize,
    focus: super::PaneId,
    picker: bool,
}

impl Seen {
    pub(super) fn of(app: &App) -> Self {
        Self {
            toast: app.status.toast.clone(),
            switch: app.switch.clone(),
            quit: app.quit,
            effects: app.effects.len(),
            focus: app.focus,
            picker: app.picker.open,
        }
    }
}

impl App {
    /// After a tick: whether the screen must be drawn again, given the
    /// [`clock_key`] of the frame last drawn. Yes when the tick changed the
    /// state shown, or moved a clock the screen shows to its next step; no
    /// on a still screen, so an idle console writes nothing to the terminal.
    pub fn tick_needs_frame(&mut self, drawn: Option<i64>) -> bool {
        std::mem::take(&mut self.tick_changed) || clock_key(self) != drawn
    }

    /// The last update (a worker event) changed only a pane out of sight:
    /// the frame on screen is still right.
    #[must_use]
    pub fn unseen(&self) -> bool {
        self.unseen
    }

    /// An event for a pane that is not on screen (another pane has the
    /// focus, or the picker covers them), while no dialog of the app shows
    /// a pane's figures (the switch's and quitting's in-flight counts).
    pub(super) fn out_of_sight(&self, ev: &crate::worker::protocol::WorkerEvent) -> bool {
        self.switch.is_none()
            && self.quitting.is_none()
            && super::route(ev).is_some_and(|id| self.picker.open || id != self.focus)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Level, Msg, PaneId};
    use crate::model::ClusterSnapshot;
    use crate::worker::protocol::{Command, WorkerEvent};

    const T0: i64 = 1_795_000_000_000;

    /// A connected app whose first topics refresh was answered.
    fn app() -> App {
        let (mut app, cmds) = App::new(crate::app::Env::test(), T0, (100, 30));
        let id = cmds
            .iter()
            .find_map(|c| match c {
                Command::RefreshTopics { id } => Some(*id),
                _ => None,
            })
            .expect("a first topics refresh");
        app.update(Msg::Worker(WorkerEvent::Topics {
            id,
            result: Ok(ClusterSnapshot {
                brokers: Vec::new(),
                topics: Vec::new(),
                watermark_error: None,
            }),
        }));
        app
    }

    /// A tick at `now_ms`: whether it asks for a frame after `drawn`.
    fn tick(app: &mut App, now_ms: i64, drawn: Option<i64>) -> bool {
        app.now_ms = now_ms;
        let _ = app.update(Msg::Tick);
        app.tick_needs_frame(drawn)
    }

    #[test]
    fn a_still_screen_asks_for_no_frame_on_ticks() {
        let mut app = app();
        app.focus = PaneId::Composer;
        assert_eq!(clock_visible(&app), Clock::Still);
        let drawn = clock_key(&app);
        assert_eq!(drawn, None);
        for i in 1..=12 {
            assert!(!tick(&mut app, T0 + i * 250, drawn), "tick {i} redrew");
        }
    }

    #[test]
    fn a_live_age_redraws_once_its_second_changes() {
        let mut app = app();
        app.focus = PaneId::Topics;
        // "refreshed 12:00:00 (0 s ago)": ages in seconds.
        assert_eq!(clock_visible(&app), Clock::Seconds);
        app.now_ms = T0 + 100;
        let drawn = clock_key(&app);
        assert!(!tick(&mut app, T0 + 350, drawn));
        assert!(!tick(&mut app, T0 + 600, drawn));
        assert!(tick(&mut app, T0 + 1_100, drawn));
    }

    #[test]
    fn a_spinner_redraws_every_tick() {
        let mut app = app();
        app.focus = PaneId::Topics;
        app.topics.counting = true;
        assert_eq!(clock_visible(&app), Clock::Spinner);
        let drawn = clock_key(&app);
        assert!(tick(&mut app, T0 + 250, drawn));
    }

    #[test]
    fn a_tick_that_changes_the_state_redraws_a_still_screen() {
        let mut app = app();
        app.focus = PaneId::Composer;
        app.toast(Level::Info, "saved");
        let drawn = clock_key(&app);
        assert!(!tick(&mut app, T0 + 250, drawn));
        // The toast expires on a tick: the status bar changes.
        assert!(tick(&mut app, T0 + 60_000, drawn));
        assert!(app.status.toast.is_none());
        assert!(!tick(&mut app, T0 + 60_250, drawn));
    }

    fn refresh_key(app: &mut App) -> u64 {
        let cmds = app.update(Msg::Key(ratatui::crossterm::event::KeyEvent::new(
            ratatui::crossterm::event::KeyCode::Char('r'),
            ratatui::crossterm::event::KeyModifiers::NONE,
        )));
        assert!(!app.unseen(), "a key is always drawn");
        cmds.iter()
            .find_map(|c| match c {
                Command::RefreshTopics { id } => Some(*id),
                _ => None,
            })
            .expect("r refreshes the topics")
    }

    fn answer_topics(app: &mut App, id: u64) {
        app.update(Msg::Worker(WorkerEvent::Topics {
            id,
            result: Ok(ClusterSnapshot {
                brokers: Vec::new(),
                topics: Vec::new(),
                watermark_error: None,
            }),
        }));
    }

    #[test]
    fn an_answer_for_a_pane_out_of_sight_draws_nothing() {
        let mut app = app();
        app.focus = PaneId::Topics;
        let id = refresh_key(&mut app);
        // The answer arrives while another pane is on screen.
        app.focus = PaneId::Composer;
        answer_topics(&mut app, id);
        assert!(app.unseen());
        assert!(app.topics.in_flight.is_none(), "the answer was taken");
        // With its pane on screen, it is drawn.
        app.focus = PaneId::Topics;
        let id = refresh_key(&mut app);
        answer_topics(&mut app, id);
        assert!(!app.unseen());
        // An event that changes what the app shows (a toast) is drawn too.
        app.focus = PaneId::Composer;
        let id = refresh_key_for_error(&mut app);
        app.update(Msg::Worker(WorkerEvent::Topics {
            id,
            result: Err(crate::worker::protocol::WorkerError::internal("boom")),
        }));
        assert!(!app.unseen(), "the error toast shows");
    }

    fn refresh_key_for_error(app: &mut App) -> u64 {
        app.focus = PaneId::Topics;
        let id = refresh_key(app);
        app.focus = PaneId::Composer;
        id
    }
}
