//! Mouse support (off unless `mouse = true` or the mouse key): the wheel
//! scrolls as the arrow keys do, a left click selects a tab or a list row,
//! and a second click on the same row soon after opens it.

use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::keymap::Action;
use super::{App, Effect, Level};
use crate::ui::layout::Screen;
use crate::worker::protocol::Command;

/// Two clicks on one row within this long are a double click.
const DOUBLE_CLICK_MS: i64 = 400;
/// Rows one wheel notch moves.
const WHEEL_ROWS: usize = 3;

impl App {
    /// Turn mouse reporting on or off (the event loop tells the terminal).
    pub fn set_mouse(&mut self, on: bool) {
        self.mouse = on;
        self.last_click = None;
        self.effects.push(Effect::MouseCapture(on));
    }

    pub(crate) fn toggle_mouse(&mut self) {
        self.set_mouse(!self.mouse);
        let text = if self.mouse {
            "mouse on: wheel scrolls, click selects, double click opens; hold Shift to select text"
        } else {
            "mouse off: the terminal selects text as usual"
        };
        self.toast(Level::Info, text);
    }

    pub(crate) fn on_mouse(&mut self, m: MouseEvent, out: &mut Vec<Command>) {
        let area = ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1);
        if !self.mouse || Screen::too_small(area) {
            return;
        }
        match m.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let code = if m.kind == MouseEventKind::ScrollDown {
                    KeyCode::Down
                } else {
                    KeyCode::Up
                };
                for _ in 0..WHEEL_ROWS {
                    self.on_key(KeyEvent::new(code, KeyModifiers::NONE), out);
                }
            }
            MouseEventKind::Down(MouseButton::Left) => self.click(m.column, m.row, out),
            _ => {}
        }
    }

    fn click(&mut self, x: u16, y: u16, out: &mut Vec<Command>) {
        let double = self
            .last_click
            .is_some_and(|(t, _, row)| row == y && self.now_ms - t <= DOUBLE_CLICK_MS);
        self.last_click = if double {
            None
        } else {
            Some((self.now_ms, x, y))
        };
        // Dialogs and overlays take keys only.
        if self.help
            || self.quitting.is_some()
            || self.confirm_send.is_some()
            || self.switch.is_some()
        {
            return;
        }
        let screen = Screen::of_size(self.size);
        if y == screen.tabs.y {
            if self.connected
                && let Some(p) = crate::ui::tab_at(x)
            {
                self.picker.open = false;
                self.switch_to(p, out);
            }
            return;
        }
        if y < screen.body.y || y >= screen.body.y + screen.body.height {
            return;
        }
        if self.picker.open {
            if self.picker.editing() {
                return;
            }
            if let Some(i) = self.picker.row_at(screen.body, y) {
                let rows = crate::ui::layout::table_rows(super::picker::rows_area(screen.body));
                let again = self.picker.select(i, rows);
                if double
                    && again
                    && let Some(name) = self.picker.chosen()
                {
                    self.choose(name, out);
                }
            }
            return;
        }
        let focus = self.focus;
        let body = screen.body;
        let mut hit = None;
        self.with_pane(focus, out, |p, _| hit = p.click_row(y, body));
        if double && hit == Some(true) {
            self.with_pane(focus, out, |p, ctx| p.on_action(Action::Open, ctx));
        }
    }
}
