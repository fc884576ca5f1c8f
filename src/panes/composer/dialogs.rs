//! The composer's dialogs: the history and templates pickers (`[picker]`
//! and `[navigation]`), and the one-line forms that name a template and
//! choose a JSON Lines file to send (`[form]`).

use std::path::Path;

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{ComposerPane, Saved, saved};
use crate::app::ctx::{Ctx, DrawCtx};
use crate::app::keymap::{Action, KeyContext};
use crate::ui::widgets::{LineInput, Scroll};
use crate::ui::{dialog, widgets};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    History(Scroll),
    Templates(Scroll),
    /// Naming the current message as a template.
    SaveTemplate(LineInput),
    /// The path of a JSON Lines file to send.
    SendFile(LineInput),
    /// The `transactional.id` of transaction mode (empty: the generated one).
    TxnId(LineInput),
    /// The value's schema for the `schema` encoding.
    Schema(LineInput),
}

impl Dialog {
    #[must_use]
    pub fn history() -> Self {
        Dialog::History(Scroll::default())
    }

    #[must_use]
    pub fn templates() -> Self {
        Dialog::Templates(Scroll::default())
    }

    /// The file dialog, offering `messages.jsonl` in the data dir.
    #[must_use]
    pub fn send_file(data_dir: &Path) -> Self {
        Dialog::SendFile(LineInput::with(
            &data_dir.join("messages.jsonl").display().to_string(),
        ))
    }

    /// A list to choose from (no text field).
    #[must_use]
    pub fn is_picker(&self) -> bool {
        matches!(self, Dialog::History(_) | Dialog::Templates(_))
    }

    fn input(&mut self) -> Option<&mut LineInput> {
        match self {
            Dialog::SaveTemplate(i)
            | Dialog::SendFile(i)
            | Dialog::TxnId(i)
            | Dialog::Schema(i) => Some(i),
            _ => None,
        }
    }

    /// A key the keymap leaves to the form's field.
    pub fn text_key(&mut self, key: KeyEvent) {
        if let Some(i) = self.input() {
            i.edit(key);
        }
    }

    pub fn paste(&mut self, s: &str) {
        if let Some(i) = self.input() {
            i.insert_str(s);
        }
    }
}

/// The pickers' size in `area` (the pane's body).
fn picker_size(area: Rect) -> (u16, u16) {
    (
        area.width.saturating_sub(8).min(100),
        area.height.saturating_sub(4),
    )
}

/// Rows a picker lists in `area` (its frame, less the hint line): the page
/// size for navigation and for drawing.
#[must_use]
pub fn picker_rows(area: Rect) -> usize {
    usize::from(picker_size(area).1.min(area.height).saturating_sub(3)).max(1)
}

impl ComposerPane {
    pub(super) fn dialog_action(&mut self, action: Action, ctx: &mut Ctx<'_>) {
        let h = picker_rows(ctx.body);
        match self.dialog.as_mut() {
            Some(Dialog::History(scroll)) => {
                if scroll.on_action(action, self.history.len(), h) {
                    return;
                }
                let selected = scroll.selected;
                self.history_action(action, selected, ctx);
            }
            Some(Dialog::Templates(scroll)) => {
                let len = self.templates.entries.len();
                if scroll.on_action(action, len, h) {
                    return;
                }
                let selected = scroll.selected;
                self.templates_action(action, selected, h, ctx);
            }
            Some(Dialog::SaveTemplate(input)) => match action {
                Action::Cancel => self.dialog = None,
                Action::Submit => {
                    let name = input.text.trim().to_string();
                    self.save_template(name, ctx);
                }
                _ => {}
            },
            Some(Dialog::SendFile(input)) => match action {
                Action::Cancel => self.dialog = None,
                Action::Submit => {
                    let path = std::path::PathBuf::from(input.text.trim());
                    self.dialog = None;
                    self.send_file(path, ctx);
                }
                _ => {}
            },
            Some(Dialog::TxnId(input)) => match action {
                Action::Cancel => self.dialog = None,
                Action::Submit => {
                    let id = input.text.trim().to_string();
                    self.submit_txn_id(id, ctx);
                }
                _ => {}
            },
            Some(Dialog::Schema(input)) => match action {
                Action::Cancel => self.dialog = None,
                Action::Submit => match crate::template::SchemaChoice::parse(&input.text) {
                    Ok(choice) => {
                        ctx.info(format!(
                            "value schema: {}",
                            crate::sanitize::escape(&self.schema_label(&choice))
                        ));
                        self.value_schema = choice;
                        self.dialog = None;
                    }
                    Err(e) => ctx.warn(format!("{e:#}")),
                },
                _ => {}
            },
            None => {}
        }
    }

    /// A key in the history picker that its scroll did not take.
    fn history_action(&mut self, action: Action, selected: usize, ctx: &mut Ctx<'_>) {
        match action {
            Action::Close => self.dialog = None,
            Action::Choose => {
                if let Some(s) = self.history.get(selected).cloned() {
                    self.apply_saved(&s);
                    self.dialog = None;
                    ctx.info(format!(
                        "recalled from history: {} sends it again",
                        ctx.keymap.key_label(KeyContext::Producer, Action::Send)
                    ));
                }
            }
            _ => {}
        }
    }

    /// A key in the templates picker that its scroll did not take.
    fn templates_action(&mut self, action: Action, selected: usize, h: usize, ctx: &mut Ctx<'_>) {
        match action {
            Action::Close => self.dialog = None,
            Action::SaveTemplate => {
                self.dialog = Some(Dialog::SaveTemplate(LineInput::default()));
            }
            Action::DeleteTemplate => self.delete_template(selected, h, ctx),
            Action::Choose => {
                if let Some(s) = self.templates.entries.values().nth(selected).cloned() {
                    self.apply_saved(&s);
                    self.dialog = None;
                }
            }
            _ => {}
        }
    }

    /// The transactional.id form's Submit: empty goes back to the generated id.
    fn submit_txn_id(&mut self, id: String, ctx: &mut Ctx<'_>) {
        if id.is_empty() {
            self.txn_id.clear();
            self.dialog = None;
            ctx.info(format!(
                "transactional.id: {} (generated)",
                crate::sanitize::escape(&ctx.env.transactional_id)
            ));
        } else if let Err(e) = crate::model::check_transactional_id(&id) {
            ctx.warn(e.to_string());
        } else {
            ctx.info(format!(
                "transactional.id: {}",
                crate::sanitize::escape(&id)
            ));
            self.txn_id = id;
            self.dialog = None;
        }
    }

    fn save_template(&mut self, name: String, ctx: &mut Ctx<'_>) {
        if name.is_empty() {
            ctx.warn("enter a template name");
            return;
        }
        if let Some(e) = &self.templates.unreadable {
            ctx.error(format!("templates not saved: {e}"));
            self.dialog = None;
            return;
        }
        match self.build(ctx.now_ms) {
            Ok((t, count)) => {
                let s = self.saved_now(&t, count, ctx.now_ms);
                self.templates.entries.insert(name.clone(), s);
                if saved::push(
                    saved::templates_effect(&self.templates, &ctx.env.data_dir),
                    ctx,
                ) {
                    ctx.info(format!("saved template {name}"));
                }
                self.dialog = None;
            }
            Err(e) => ctx.error(format!("cannot save: {e}")),
        }
    }

    fn delete_template(&mut self, selected: usize, h: usize, ctx: &mut Ctx<'_>) {
        if let Some(e) = &self.templates.unreadable {
            ctx.error(format!("templates not changed: {e}"));
            return;
        }
        let Some(name) = self.templates.entries.keys().nth(selected).cloned() else {
            return;
        };
        self.templates.entries.remove(&name);
        if saved::push(
            saved::templates_effect(&self.templates, &ctx.env.data_dir),
            ctx,
        ) {
            ctx.info(format!("deleted template {name}"));
        }
        let len = self.templates.entries.len();
        if let Some(Dialog::Templates(scroll)) = &mut self.dialog {
            scroll.keep_visible(len, h);
        }
    }
}

/// One line of a picker: when or what, topic, count, key and value.
fn summary(label: &str, s: &Saved) -> String {
    format!(
        "{label}  {} ×{}  key={}  value={}",
        s.topic,
        s.count,
        s.key.as_deref().unwrap_or("null"),
        s.value.as_deref().unwrap_or("null").replace('\n', " ")
    )
}

pub fn draw(p: &ComposerPane, d: &Dialog, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    match d {
        Dialog::History(scroll) | Dialog::Templates(scroll) => {
            draw_picker(p, matches!(d, Dialog::History(_)), scroll, f, area, dc);
        }
        Dialog::SaveTemplate(input) | Dialog::SendFile(input) => {
            draw_path_form(matches!(d, Dialog::SaveTemplate(_)), input, f, area, dc);
        }
        Dialog::TxnId(input) => draw_field_form(
            input,
            (
                "transactional.id: ",
                "Empty: the session's generated id. A producer using the same id is fenced.",
                " Transactional id ",
            ),
            f,
            area,
            dc,
        ),
        Dialog::Schema(input) => draw_field_form(
            input,
            (
                "value schema: ",
                "latest, v3 (TOPIC-value), id 42, SUBJECT or SUBJECT@3",
                " Schema for the value ",
            ),
            f,
            area,
            dc,
        ),
    }
}

/// The history (`is_hist`) or templates picker.
fn draw_picker(
    p: &ComposerPane,
    is_hist: bool,
    scroll: &Scroll,
    f: &mut Frame<'_>,
    area: Rect,
    dc: &DrawCtx<'_>,
) {
    let t = dc.theme;
    let width = picker_size(area).0;
    let items: Vec<(String, &Saved)> = if is_hist {
        p.history
            .iter()
            .map(|s| (crate::timeutil::format_clock(s.at_ms), s))
            .collect()
    } else {
        p.templates
            .entries
            .iter()
            .map(|(n, s)| (n.clone(), s))
            .collect()
    };
    let h = picker_rows(area);
    let mut sc = *scroll;
    sc.keep_visible(items.len(), h);
    let mut lines: Vec<Line<'static>> = items
        .iter()
        .enumerate()
        .skip(sc.offset)
        .take(h)
        .map(|(i, (label, s))| {
            let style = if i == sc.selected {
                t.selection
            } else {
                t.text
            };
            Line::from(widgets::text_cut(
                &summary(label, s),
                usize::from(width.saturating_sub(4)),
                style,
            ))
        })
        .collect();
    if items.is_empty() {
        let text = if is_hist {
            "no history yet".to_string()
        } else {
            let key = dc
                .keymap
                .key_label(KeyContext::Picker, Action::SaveTemplate);
            format!("no templates yet: {key} saves the current message")
        };
        lines.push(Line::from(Span::styled(text, t.muted)));
    }
    lines.push(if is_hist {
        dc.hints(&[
            (KeyContext::Picker, Action::Choose, "recall"),
            (KeyContext::Picker, Action::Close, "close"),
        ])
    } else {
        dc.hints(&[
            (KeyContext::Picker, Action::Choose, "load"),
            (KeyContext::Picker, Action::SaveTemplate, "save current"),
            (KeyContext::Picker, Action::DeleteTemplate, "delete"),
            (KeyContext::Picker, Action::Close, "close"),
        ])
    });
    let title = if is_hist { " History " } else { " Templates " };
    dialog::text(f, area, picker_size(area), title, lines, dc);
}

/// The template name (`save`) or JSON Lines file form.
fn draw_path_form(save: bool, input: &LineInput, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let width = picker_size(area).0;
    let label = if save { "name: " } else { "file: " };
    // The field fits the frame, a window around the cursor.
    let room = usize::from(width.saturating_sub(2)).saturating_sub(label.len());
    let mut field = vec![Span::styled(label, t.muted)];
    field.extend(input.spans_in(t, true, room));
    let mut lines = Vec::new();
    if !save {
        lines.push(Line::from(Span::styled(
            "Every line is sent; lines without a topic go to the composer's topic.",
            t.muted,
        )));
    }
    lines.push(Line::from(field));
    lines.push(dc.hints(&[
        (
            KeyContext::Form,
            Action::Submit,
            if save { "save" } else { "send" },
        ),
        (KeyContext::Form, Action::Cancel, "cancel"),
    ]));
    let h = u16::try_from(lines.len()).unwrap_or(3) + 2;
    let title = if save {
        " Save template "
    } else {
        " Send a JSON Lines file "
    };
    dialog::text(f, area, (width, h), title, lines, dc);
}

/// A one-field form: (label, the note above the field, title).
fn draw_field_form(
    input: &LineInput,
    (label, note, title): (&str, &'static str, &str),
    f: &mut Frame<'_>,
    area: Rect,
    dc: &DrawCtx<'_>,
) {
    let t = dc.theme;
    let width = picker_size(area).0;
    let room = usize::from(width.saturating_sub(2)).saturating_sub(label.len());
    let mut field = vec![Span::styled(label.to_string(), t.muted)];
    field.extend(input.spans_in(t, true, room));
    let lines = vec![
        Line::from(Span::styled(note, t.muted)),
        Line::from(field),
        dc.hints(&[
            (KeyContext::Form, Action::Submit, "use"),
            (KeyContext::Form, Action::Cancel, "cancel"),
        ]),
    ];
    dialog::text(f, area, (width, 5), title, lines, dc);
}

/// Draw the open dialog, if any, over the pane.
pub fn draw_open(p: &ComposerPane, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    if let Some(d) = &p.dialog {
        draw(p, d, f, area, dc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picker_rows_match_the_frame_drawn() {
        // 80x24: the body is 22 rows, the picker 18, inside 16, less the hints.
        assert_eq!(picker_rows(Rect::new(0, 1, 80, 22)), 15);
        assert_eq!(picker_rows(Rect::new(0, 1, 80, 3)), 1);
    }

    #[test]
    fn forms_take_text_and_pickers_do_not() {
        let mut d = Dialog::SaveTemplate(LineInput::default());
        d.paste("order\x1b-eur");
        assert_eq!(d.input().unwrap().text, "order-eur");
        let mut p = Dialog::history();
        p.paste("x");
        assert_eq!(p, Dialog::history());
        assert!(p.is_picker() && !d.is_picker());
    }
}
