//! The browser's dialogs: open a topic at a position (seek), save messages
//! as JSON Lines, search forward.

use std::path::PathBuf;

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{BrowserPane, FormError, SearchState};
use crate::app::ctx::{Ctx, DrawCtx};
use crate::app::keymap::{Action, KeyContext};
use crate::sanitize;
use crate::timeutil::StartAt;
use crate::ui::dialog;
use crate::ui::text::wrap;
use crate::ui::widgets::{InputResult, LineInput};
use crate::worker::protocol::{BrowseSpec, Command};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenForm {
    pub fields: [LineInput; 3],
    pub focus: usize,
    pub error: Option<String>,
}

const OPEN_LABELS: [&str; 3] = [
    "topic",
    "partitions (blank = all, or 0,2)",
    "from (beginning, end, offset, @time, -15m, -N)",
];

#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    Open(OpenForm),
    Copy(Box<super::copy::CopyDialog>),
    Export(LineInput),
    Search(LineInput),
}

/// Width of every browser dialog.
const WIDTH: u16 = 72;

impl OpenForm {
    /// The form for the current topic, at the end.
    #[must_use]
    pub fn new(spec: Option<&BrowseSpec>) -> Self {
        let topic = spec.map_or(String::new(), |s| s.topic.clone());
        let parts = spec
            .and_then(|s| s.partitions.clone())
            .map_or(String::new(), |p| {
                p.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            });
        Self {
            focus: if topic.is_empty() { 0 } else { 2 },
            fields: [
                LineInput::with(&topic),
                LineInput::with(&parts),
                LineInput::with("end"),
            ],
            error: None,
        }
    }

    fn parse(&self, now_ms: i64) -> Result<BrowseSpec, FormError> {
        let topic = self.fields[0].text.trim();
        if topic.is_empty() {
            return Err(FormError::NoTopic);
        }
        let parts = self.fields[1].text.trim();
        let partitions = if parts.is_empty() || parts == "all" {
            None
        } else {
            let mut v = Vec::new();
            for p in parts.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                v.push(
                    p.parse::<i32>()
                        .map_err(|_| FormError::Partition(p.to_string()))?,
                );
            }
            Some(v)
        };
        let start = StartAt::parse(&self.fields[2].text, now_ms)
            .map_err(|e| FormError::Start(e.to_string()))?;
        Ok(BrowseSpec {
            topic: topic.to_string(),
            partitions,
            start,
            isolation: crate::model::Isolation::default(),
            positions: Vec::new(),
        })
    }
}

impl BrowserPane {
    pub(super) fn dialog_action(&mut self, action: Action, ctx: &mut Ctx<'_>) {
        let Some(dialog) = &mut self.dialog else {
            return;
        };
        if let Dialog::Copy(c) = dialog {
            if c.on_action(action, ctx) == super::copy::Flow::Close {
                self.dialog = None;
            }
            return;
        }
        if action == Action::Cancel {
            self.dialog = None;
            return;
        }
        match dialog {
            Dialog::Open(form) => match action {
                Action::NextField => form.focus = (form.focus + 1) % 3,
                Action::PrevField => form.focus = (form.focus + 2) % 3,
                Action::Submit => match form.parse(ctx.now_ms) {
                    Ok(spec) => {
                        self.dialog = None;
                        self.open(spec, ctx);
                    }
                    Err(e) => form.error = Some(e.to_string()),
                },
                _ => {}
            },
            Dialog::Export(input) if action == Action::Submit => {
                let path = PathBuf::from(input.text.trim());
                if path.as_os_str().is_empty() {
                    ctx.warn("enter a file to save to");
                    return;
                }
                self.dialog = None;
                let records = self.export_set();
                self.start_export(records, path, ctx);
            }
            Dialog::Search(input) if action == Action::Submit => {
                match input.text.trim().parse::<u64>() {
                    Ok(want) if want > 0 => {
                        self.dialog = None;
                        if let (Some(session), Some(f)) = (self.session, &self.filter) {
                            self.search = Some(SearchState {
                                want,
                                matched: 0,
                                scanned: 0,
                                done: false,
                            });
                            self.paused = false;
                            self.follow = true;
                            ctx.cmds.push(Command::SearchBrowse {
                                session,
                                filter: f.source().to_string(),
                                want,
                            });
                        }
                    }
                    _ => ctx.warn("enter how many matches to find (a positive number)"),
                }
            }
            Dialog::Export(_) | Dialog::Search(_) | Dialog::Copy(_) => {}
        }
    }

    pub(super) fn dialog_text_key(&mut self, key: KeyEvent) {
        match &mut self.dialog {
            Some(Dialog::Open(form)) => {
                let changed = form.fields[form.focus].edit(key) == InputResult::Changed;
                if changed {
                    form.error = None;
                }
            }
            Some(Dialog::Export(input) | Dialog::Search(input)) => {
                input.edit(key);
            }
            Some(Dialog::Copy(c)) => c.on_text_key(key),
            None => {}
        }
    }

    pub(super) fn dialog_paste(&mut self, s: &str) {
        match &mut self.dialog {
            Some(Dialog::Open(f)) => f.fields[f.focus].insert_str(s),
            Some(Dialog::Export(i) | Dialog::Search(i)) => i.insert_str(s),
            Some(Dialog::Copy(c)) => c.paste(s),
            None => {}
        }
    }

    /// What a save writes, in words.
    fn export_what(&self) -> String {
        let n = |n: usize| crate::ui::widgets::thousands(i64::try_from(n).unwrap_or(i64::MAX));
        if !self.marked.is_empty() {
            format!("the {} marked message(s)", n(self.marked.len()))
        } else if self.filter.is_some() {
            format!(
                "the {} message(s) matching the filter",
                n(self.matches.len())
            )
        } else {
            format!("all {} buffered message(s)", n(self.ring.records.len()))
        }
    }
}

fn hints(dc: &DrawCtx<'_>, pairs: &[(Action, &str)]) -> Line<'static> {
    let v: Vec<(KeyContext, Action, &str)> = pairs
        .iter()
        .map(|(a, d)| (KeyContext::Form, *a, *d))
        .collect();
    dc.hints(&v)
}

/// The open form's fields, then its error or its key hints.
fn open_lines(form: &OpenForm, inner_w: usize, dc: &DrawCtx<'_>) -> Vec<Line<'static>> {
    let t = dc.theme;
    let mut lines = Vec::new();
    for (i, label) in OPEN_LABELS.iter().enumerate() {
        lines.push(Line::from(Span::styled(
            (*label).to_string(),
            if i == form.focus { t.key_hint } else { t.muted },
        )));
        let mut s = vec![Span::raw("  ")];
        s.extend(form.fields[i].spans_in(t, i == form.focus, inner_w.saturating_sub(2)));
        lines.push(Line::from(s));
    }
    match &form.error {
        Some(e) => lines.extend(
            wrap(&sanitize::escape(e), inner_w)
                .into_iter()
                .map(|l| Line::from(Span::styled(l, t.error))),
        ),
        None => lines.push(hints(
            dc,
            &[
                (Action::NextField, "next"),
                (Action::Submit, "open"),
                (Action::Cancel, "cancel"),
            ],
        )),
    }
    lines
}

pub(super) fn draw(
    p: &BrowserPane,
    dialog: &Dialog,
    f: &mut Frame<'_>,
    area: Rect,
    dc: &DrawCtx<'_>,
) {
    let t = dc.theme;
    // Inside the dialog's border, as `dialog::frame` draws it.
    let inner_w = usize::from(WIDTH.min(area.width).saturating_sub(2));
    let (title, lines, h): (&str, Vec<Line<'static>>, u16) = match dialog {
        Dialog::Copy(c) => {
            c.draw(f, area, dc);
            return;
        }
        Dialog::Open(form) => {
            let lines = open_lines(form, inner_w, dc);
            let h = u16::try_from(lines.len())
                .unwrap_or(u16::MAX)
                .saturating_add(3);
            (" Open topic ", lines, h)
        }
        Dialog::Export(input) => {
            let mut s = vec![Span::styled("file: ", t.muted)];
            s.extend(input.spans_in(t, true, inner_w.saturating_sub(6)));
            (
                " Save as JSON Lines ",
                vec![
                    Line::from(Span::styled(
                        format!("Save {}, oldest first, to", p.export_what()),
                        t.muted,
                    )),
                    Line::from(s),
                    hints(dc, &[(Action::Submit, "save"), (Action::Cancel, "cancel")]),
                ],
                5,
            )
        }
        Dialog::Search(input) => {
            let mut s = vec![Span::styled("matches to find: ", t.muted)];
            s.extend(input.spans_in(t, true, inner_w.saturating_sub(17)));
            (
                " Search forward ",
                vec![
                    Line::from(Span::styled(
                        "Consume forward until this many messages match the filter:",
                        t.muted,
                    )),
                    Line::from(s),
                    hints(
                        dc,
                        &[(Action::Submit, "search"), (Action::Cancel, "cancel")],
                    ),
                ],
                5,
            )
        }
    };
    let lines = lines
        .into_iter()
        .map(|l| Line::from(crate::ui::text::fit(l.spans, inner_w)))
        .collect();
    dialog::text(f, area, (WIDTH, h), title, lines, dc);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_form_parses_positions_and_partitions() {
        let mut f = OpenForm::new(None);
        assert_eq!(f.focus, 0);
        assert_eq!(f.parse(0).unwrap_err(), FormError::NoTopic);
        assert_eq!(FormError::NoTopic.to_string(), "enter a topic");
        f.fields[0] = LineInput::with("orders");
        f.fields[1] = LineInput::with("0, 3");
        f.fields[2] = LineInput::with("-5");
        let spec = f.parse(0).unwrap();
        assert_eq!(spec.partitions, Some(vec![0, 3]));
        assert_eq!(spec.start, StartAt::LastN(5));
        f.fields[1] = LineInput::with("x");
        assert_eq!(
            f.parse(0).unwrap_err().to_string(),
            "`x` is not a partition number"
        );
        let again = OpenForm::new(Some(&spec));
        assert_eq!((again.focus, again.fields[1].text.as_str()), (2, "0,3"));
    }
}
