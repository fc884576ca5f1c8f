//! The message detail view: every field decoded, rows built once (when it
//! opens, a decoder or the time zone changes, a schema arrives, or the
//! width changes), scrolled by rows on screen.

use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::BrowserPane;
use super::detail::{self, DLine, Field};
use crate::app::ctx::{Ctx, DrawCtx};
use crate::app::keymap::{Action, KeyContext};
use crate::decode::registry::SchemaCache;
use crate::model::Record;
use crate::ui::{layout, widgets};

#[derive(Debug, Clone, PartialEq)]
pub struct DetailView {
    pub seq: u64,
    pub record: Arc<Record>,
    pub lines: Vec<DLine>,
    /// First row shown.
    pub scroll: usize,
    pub focus: Field,
    /// Columns the rows were wrapped to.
    pub width: usize,
}

/// Where the rows go inside the pane's `area`.
fn text_area(area: Rect) -> Rect {
    layout::inner(area)
}

/// Rows a page of the detail holds.
pub(super) fn detail_rows(area: Rect) -> usize {
    usize::from(text_area(area).height).max(1)
}

fn wrap_width(area: Rect) -> usize {
    usize::from(text_area(area).width).max(1)
}

impl BrowserPane {
    pub(super) fn open_detail(&mut self, ctx: &Ctx<'_>) {
        let Some(seq) = self.selected else { return };
        let Some(record) = self.ring.get_arc(seq).cloned() else {
            return;
        };
        let width = wrap_width(ctx.body);
        let lines = detail::build(
            &record,
            &self.modes,
            ctx.schemas,
            self.utc,
            Field::Value,
            width,
        );
        self.detail = Some(DetailView {
            seq,
            record,
            lines,
            scroll: 0,
            focus: Field::Value,
            width,
        });
    }

    /// Build the rows again (decoder, time zone, schema or width changed),
    /// keeping the scroll position where it still exists.
    pub(super) fn rebuild_detail(&mut self, schemas: &SchemaCache, area: Rect) {
        if let Some(d) = &mut self.detail {
            d.width = wrap_width(area);
            d.lines = detail::build(&d.record, &self.modes, schemas, self.utc, d.focus, d.width);
            d.scroll = d.scroll.min(max_scroll(d.lines.len(), detail_rows(area)));
        }
    }

    /// The pane's width changed since the rows were wrapped.
    pub(super) fn detail_needs_rewrap(&self, area: Rect) -> bool {
        self.detail
            .as_ref()
            .is_some_and(|d| d.width != wrap_width(area))
    }

    pub(super) fn detail_action(&mut self, action: Action, ctx: &mut Ctx<'_>) {
        let h = detail_rows(ctx.body);
        let Some(d) = &mut self.detail else { return };
        let max = max_scroll(d.lines.len(), h);
        let half = (h / 2).max(1);
        match action {
            Action::Down => d.scroll = (d.scroll + 1).min(max),
            Action::Up => d.scroll = d.scroll.saturating_sub(1),
            Action::PageDown => d.scroll = (d.scroll + h).min(max),
            Action::PageUp => d.scroll = d.scroll.saturating_sub(h),
            Action::HalfPageDown => d.scroll = (d.scroll + half).min(max),
            Action::HalfPageUp => d.scroll = d.scroll.saturating_sub(half),
            Action::Top => d.scroll = 0,
            Action::Bottom => d.scroll = max,
            Action::Back => self.detail = None,
            Action::NextField => {
                let n = d.record.headers.len();
                d.focus = match d.focus {
                    Field::Value => Field::Key,
                    Field::Key if n > 0 => Field::Header(0),
                    Field::Header(i) if i + 1 < n => Field::Header(i + 1),
                    _ => Field::Value,
                };
                self.rebuild_detail(ctx.schemas, ctx.body);
            }
            Action::Decoder => {
                match d.focus {
                    Field::Key => self.modes.key = self.modes.key.next(),
                    Field::Value => self.modes.value = self.modes.value.next(),
                    Field::Header(i) => {
                        if let Some(h) = d.record.headers.get(i) {
                            let m = self.modes.header(&h.name).next();
                            self.modes.headers.insert(h.name.clone(), m);
                        }
                    }
                }
                self.rebuild_detail(ctx.schemas, ctx.body);
            }
            Action::Utc => {
                self.utc = !self.utc;
                self.rebuild_detail(ctx.schemas, ctx.body);
            }
            Action::CopyValue => self.copy(Copy::Value, ctx),
            Action::CopyMessage => self.copy(Copy::Message, ctx),
            Action::CopyKey => self.copy(Copy::Key, ctx),
            Action::Resend => self.resend(ctx),
            Action::Save => {
                let r = Arc::clone(&d.record);
                let path = ctx.env.data_dir.join(format!(
                    "message-{}-{}-{}.jsonl",
                    r.partition, r.offset, ctx.now_ms
                ));
                self.start_export(vec![r], path, ctx);
            }
            _ => {}
        }
    }
}

/// The last first-row that still fills a page.
fn max_scroll(rows: usize, height: usize) -> usize {
    rows.saturating_sub(height)
}

/// What a copy action puts on the clipboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Copy {
    Value,
    Key,
    Message,
}

pub(super) fn draw(d: &DetailView, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let title = format!(
        " Message {}/{}@{} ",
        crate::sanitize::escape(&d.record.topic),
        d.record.partition,
        d.record.offset
    );
    let k = |a| dc.keymap.key_label(KeyContext::Message, a);
    let copy_keys = [Action::CopyValue, Action::CopyMessage, Action::CopyKey]
        .into_iter()
        .map(k)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/");
    let pairs: Vec<(String, &str)> = [
        (k(Action::NextField), "field"),
        (k(Action::Decoder), "decoder"),
        (copy_keys, "copy"),
        (k(Action::Resend), "resend"),
        (k(Action::Back), "back"),
    ]
    .into_iter()
    .filter(|(key, _)| !key.is_empty())
    .collect();
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .title(Span::styled(title, t.title))
        .title_bottom(widgets::hints(t, &refs));
    f.render_widget(block, area);
    let inner = text_area(area);
    let height = usize::from(inner.height);
    let start = d.scroll.min(d.lines.len().saturating_sub(1));
    let end = (start + height).min(d.lines.len());
    let visible = detail::render(&d.lines[start..end], t);
    let mut p = Paragraph::new(visible);
    if d.width != usize::from(inner.width) {
        // Rows wrapped for another width (a resize before the next tick).
        p = p.wrap(Wrap { trim: false });
    }
    f.render_widget(p, inner);
}
