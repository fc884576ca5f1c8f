//! The list's actions: moving, following, pausing, order, decoders,
//! marks, copying, and opening the detail and the dialogs.

use super::dialogs::{Dialog, OpenForm};
use super::message::Copy;
use super::{BrowserPane, view};
use crate::app::ctx::{Ctx, Effect, Nav};
use crate::app::keymap::{Action, KeyContext};
use crate::ui::widgets::LineInput;
use crate::worker::protocol::Command;

impl BrowserPane {
    pub(super) fn copy(&self, what: Copy, ctx: &mut Ctx<'_>) {
        let r = match &self.detail {
            Some(d) => Some(d.record.as_ref()),
            None => self.selected_record(),
        };
        let Some(r) = r else {
            ctx.warn("no message selected");
            return;
        };
        let text = match what {
            Copy::Value => r
                .value
                .as_ref()
                .map(|v| String::from_utf8_lossy(v).into_owned()),
            Copy::Key => r
                .key
                .as_ref()
                .map(|k| String::from_utf8_lossy(k).into_owned()),
            Copy::Message => {
                let mut s = String::new();
                crate::jsonl::write_owned(&mut s, r);
                Some(s.trim_end().to_string())
            }
        };
        match text {
            Some(t) => {
                let n = t.len();
                ctx.effects.push(Effect::Osc52(t));
                ctx.info(format!("copied {n} bytes to the clipboard (OSC 52)"));
            }
            None => ctx.warn("nothing to copy: the field is null"),
        }
    }

    pub(super) fn resend(&self, ctx: &mut Ctx<'_>) {
        let r = match &self.detail {
            Some(d) => Some(d.record.as_ref()),
            None => self.selected_record(),
        };
        if let Some(r) = r {
            ctx.nav = Some(Nav::Compose(Box::new(
                crate::app::ctx::Prefill::from_record(r),
            )));
        }
    }

    /// Open the copy dialog: marked, filtered or a range of the browsed topic.
    fn open_copy(&mut self, ctx: &mut Ctx<'_>) {
        let Some(spec) = &self.spec else {
            ctx.warn("no topic open: open one to copy its messages");
            return;
        };
        if ctx.refuse_if_read_only("copying messages") {
            return;
        }
        let at = |s: u64| self.ring.get(s).map(|r| (r.partition, r.offset));
        let marked: Vec<(i32, i64)> = self.marked.iter().filter_map(|s| at(*s)).collect();
        let filtered = self.filter.as_ref().map(|f| {
            (
                f.source().to_string(),
                self.matches.seqs().filter_map(at).collect(),
            )
        });
        let selected = self.selected_record().map(|r| (r.partition, r.offset));
        self.dialog = Some(Dialog::Copy(Box::new(super::copy::CopyDialog::new(
            &spec.topic,
            marked,
            filtered,
            selected,
        ))));
    }

    /// A navigation action on the list; true when it was one.
    fn navigate(&mut self, action: Action, h: usize) -> bool {
        let page = isize::try_from(h.max(1)).unwrap_or(1);
        let delta = match action {
            Action::Down => 1,
            Action::Up => -1,
            Action::PageDown => page,
            Action::PageUp => -page,
            Action::HalfPageDown => (page / 2).max(1),
            Action::HalfPageUp => -(page / 2).max(1),
            Action::Top => isize::MIN / 2,
            Action::Bottom => isize::MAX / 2,
            _ => return false,
        };
        let len = self.view_len();
        if len > 0 {
            let cur = self.selected.and_then(|s| self.pos_of(s)).unwrap_or(0);
            let target = (isize::try_from(cur).unwrap_or(0).saturating_add(delta))
                .clamp(0, isize::try_from(len - 1).unwrap_or(0));
            let target = usize::try_from(target).unwrap_or(0);
            self.select_pos(target, h);
            if target != self.newest_pos() {
                self.follow = false;
            }
        }
        true
    }

    /// Esc in the list: cancel a save, else a search, else clear the filter.
    fn cancel(&mut self, ctx: &mut Ctx<'_>, h: usize) {
        if let Some(x) = &self.export {
            x.cancel.cancel();
        } else if self.search.is_some_and(|s| !s.done) {
            if let Some(session) = self.session {
                ctx.cmds.push(Command::CancelSearch { session });
            }
        } else if self.filter.is_some() {
            self.apply_filter("", ctx);
            self.filter_line.clear();
            self.snap_to_newest(h);
        }
    }

    fn toggle_pause(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(session) = self.session {
            self.paused = !self.paused;
            ctx.cmds.push(Command::PauseBrowse {
                session,
                paused: self.paused,
            });
        }
    }

    /// Flip the order, keeping the selected message in view.
    fn toggle_order(&mut self, h: usize) {
        let sel = self.selected;
        self.newest_first = !self.newest_first;
        self.sel_row = 0;
        if let Some(p) = sel.and_then(|s| self.pos_of(s)) {
            self.sel_row = p.min(h / 2);
        }
    }

    /// Mark or unmark the selected message and move to the next.
    fn toggle_mark(&mut self, h: usize) {
        if let Some(s) = self.selected {
            if !self.marked.remove(&s) {
                self.marked.insert(s);
            }
            let next = self.pos_of(s).unwrap_or(0) + 1;
            self.select_pos(next.min(self.view_len().saturating_sub(1)), h);
        }
    }

    fn open_save(&mut self, ctx: &mut Ctx<'_>) {
        if self.ring.records.is_empty() {
            ctx.warn("nothing to save: the buffer is empty");
        } else if !self.export_running(ctx) {
            self.dialog = Some(Dialog::Export(LineInput::with(&self.export_path(ctx))));
        }
    }

    fn open_search(&mut self, ctx: &mut Ctx<'_>) {
        if self.filter.is_none() {
            let k = |a| ctx.keymap.key_label(KeyContext::Browser, a);
            let msg = format!(
                "set a filter first ({}), then search forward with {}",
                k(Action::Filter),
                k(Action::Search)
            );
            ctx.warn(msg);
        } else if self.session.is_none() {
            ctx.warn("no topic open");
        } else {
            self.dialog = Some(Dialog::Search(LineInput::with("10")));
        }
    }

    pub(super) fn list_action(&mut self, action: Action, ctx: &mut Ctx<'_>) {
        let h = view::list_rows(ctx.body);
        if self.navigate(action, h) {
            return;
        }
        match action {
            Action::Newest => {
                self.follow = true;
                self.snap_to_newest(h);
            }
            Action::Open => self.open_detail(ctx),
            Action::Filter => {
                self.filter_line.editing = true;
                if self.filter.is_none() {
                    self.filter_line.input = LineInput::default();
                }
            }
            Action::Cancel => self.cancel(ctx, h),
            Action::Follow => {
                self.follow = !self.follow;
                if self.follow {
                    self.snap_to_newest(h);
                }
            }
            Action::Pause => self.toggle_pause(ctx),
            Action::Order => self.toggle_order(h),
            Action::Utc => self.utc = !self.utc,
            Action::Isolation => self.toggle_isolation(ctx),
            Action::ValueDecoder => self.modes.value = self.modes.value.next(),
            Action::KeyDecoder => self.modes.key = self.modes.key.next(),
            Action::Mark => self.toggle_mark(h),
            Action::Seek => self.dialog = Some(Dialog::Open(OpenForm::new(self.spec.as_ref()))),
            Action::Save => self.open_save(ctx),
            Action::Search => self.open_search(ctx),
            Action::CopyValue => self.copy(Copy::Value, ctx),
            Action::CopyMessage => self.copy(Copy::Message, ctx),
            Action::CopyKey => self.copy(Copy::Key, ctx),
            Action::Resend => self.resend(ctx),
            Action::CopyTo => self.open_copy(ctx),
            _ => {}
        }
    }
}
