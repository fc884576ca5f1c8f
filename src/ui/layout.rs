//! One layout, from the terminal size to the areas, used by `update` (page
//! sizes) and by drawing, so paging can never disagree with what is drawn.

use ratatui::layout::{Constraint, Layout, Margin, Rect};

/// Smallest usable terminal.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;

/// The screen: a tab row, the focused pane's body, a status bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Screen {
    pub tabs: Rect,
    pub body: Rect,
    pub status: Rect,
}

impl Screen {
    #[must_use]
    pub fn new(area: Rect) -> Self {
        let [tabs, body, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(1),
        ])
        .areas(area);
        Self { tabs, body, status }
    }

    #[must_use]
    pub fn of_size(size: (u16, u16)) -> Self {
        Self::new(Rect::new(0, 0, size.0, size.1))
    }

    /// Too small to draw the console.
    #[must_use]
    pub fn too_small(area: Rect) -> bool {
        area.width < MIN_WIDTH || area.height < MIN_HEIGHT
    }
}

/// Inside a bordered block.
#[must_use]
pub fn inner(area: Rect) -> Rect {
    area.inner(Margin::new(1, 1))
}

/// A bordered pane with one header line above its content:
/// `(header, content)` inside the border.
#[must_use]
pub fn header_and_body(area: Rect) -> (Rect, Rect) {
    let [head, body] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner(area));
    (head, body)
}

/// Rows of a table drawn in `area` under a one-line column header.
#[must_use]
pub fn table_rows(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(1)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_the_screen_minus_tabs_and_status() {
        let s = Screen::of_size((80, 24));
        assert_eq!(s.tabs, Rect::new(0, 0, 80, 1));
        assert_eq!(s.body, Rect::new(0, 1, 80, 22));
        assert_eq!(s.status, Rect::new(0, 23, 80, 1));
        let (head, rows) = header_and_body(s.body);
        assert_eq!(head, Rect::new(1, 2, 78, 1));
        assert_eq!(rows, Rect::new(1, 3, 78, 19));
        assert_eq!(table_rows(rows), 18);
        assert!(Screen::too_small(Rect::new(0, 0, 59, 24)));
        assert!(!Screen::too_small(Rect::new(0, 0, 80, 24)));
    }
}
