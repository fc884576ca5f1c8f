//! The panes. Each is a folder owning its state, its actions and its
//! drawing, behind one contract, [`Pane`], that the app routes through.

pub mod browser;
pub mod composer;
pub mod groups;
pub mod list;
pub mod topics;

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;

use crate::app::ctx::{Clock, Ctx, DrawCtx, IoResult};
use crate::app::keymap::{Action, KeyContext};
use crate::worker::protocol::{ReqId, WorkerEvent};

/// What every pane offers the app.
///
/// Keys reach a pane as [`Action`]s: the app looks a key up in the pane's
/// [`key_contexts`](Pane::key_contexts), then in `[global]`. A key that maps
/// to nothing goes to [`on_text_key`](Pane::on_text_key), which is where a
/// text field takes its characters. While [`captures_text`](Pane::captures_text)
/// is true, plain characters are never global actions (typing `q` into a
/// filter does not quit).
pub trait Pane {
    /// Keymap contexts for the pane's current state, most specific first;
    /// the app adds `[global]` after them.
    fn key_contexts(&self) -> Vec<KeyContext>;

    /// Contexts the help overlay lists (by default the key contexts).
    fn help_contexts(&self) -> Vec<KeyContext> {
        self.key_contexts()
    }

    /// Notes for the help overlay after the keys: `(topic, text)` rows for
    /// what is not a key (field syntax, for example).
    fn help_notes(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// A text field has the keys.
    fn captures_text(&self) -> bool;

    /// An action from the keymap.
    fn on_action(&mut self, action: Action, ctx: &mut Ctx<'_>);

    /// A key that no context maps: text for a field; ignored elsewhere.
    fn on_text_key(&mut self, _key: KeyEvent, _ctx: &mut Ctx<'_>) {}

    /// Pasted text (bracketed paste).
    fn on_paste(&mut self, text: &str, ctx: &mut Ctx<'_>);

    /// A worker event routed to this pane.
    fn on_worker(&mut self, ev: WorkerEvent, ctx: &mut Ctx<'_>);

    /// The result of an effect this pane asked for (a save's progress).
    fn on_io(&mut self, _result: IoResult, _ctx: &mut Ctx<'_>) {}

    /// The worker refused request `id` (read-only mode).
    fn refused(&mut self, _id: ReqId, _reason: &str) {}

    /// The slow tick (about 4 Hz); `visible` when the pane has the focus.
    fn tick(&mut self, _ctx: &mut Ctx<'_>, _visible: bool) {}

    /// The finest clock what [`Pane::draw`] shows depends on, so a tick
    /// redraws only when that changes. The default (a spinner: every tick
    /// draws) is right for any pane; a pane says less to be drawn less.
    fn clock(&self) -> Clock {
        Clock::Spinner
    }

    /// The pane loses the focus.
    fn on_leave(&mut self, _ctx: &mut Ctx<'_>) {}

    /// A left click (mouse on) on screen row `y` of the pane's `area`:
    /// select the list row there. `Some(true)` when that row was selected
    /// already, so a double click opens it; `None` when no row is there.
    fn click_row(&mut self, _y: u16, _area: Rect) -> Option<bool> {
        None
    }

    /// Draw into `area` (the body of the screen layout).
    fn draw(&self, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>);
}
