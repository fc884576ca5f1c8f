//! The groups pane's key actions: the list, the open group's tabs and the
//! open dialog.

use super::{
    DeleteDialog, Dialog, Flow, GroupsPane, ResetDialog, SaveDialog, Tab, detail, timeline, view,
};
use crate::app::ctx::{Ctx, Nav};
use crate::app::keymap::Action;
use crate::model::TopicPartition;
use crate::timeutil::StartAt;
use crate::ui::widgets::Scroll;
use crate::worker::protocol::BrowseSpec;

impl GroupsPane {
    pub(super) fn list_action(&mut self, action: Action, ctx: &mut Ctx<'_>) {
        if self.list.navigate(action, view::list_rows(ctx.body)) {
            return;
        }
        match action {
            Action::Filter => self.list.filter.start(),
            Action::Sort => {
                self.sort = self.sort.next();
                self.recompute_keeping(ctx.body);
            }
            Action::Refresh => self.refresh(ctx),
            Action::Cancel => {
                if self.in_flight.take().is_some() {
                    ctx.info("refresh cancelled; the next one follows on the interval");
                } else if !self.list.filter.text().is_empty() {
                    self.list.filter.clear();
                    self.recompute_keeping(ctx.body);
                }
            }
            Action::Open => {
                if let Some(g) = self.selected().cloned() {
                    self.open_group(g);
                }
            }
            _ => {}
        }
    }

    /// Rows of the open group's current tab (for navigation).
    pub(super) fn detail_len(&self) -> usize {
        let Some((_, h)) = self.current() else {
            return 0;
        };
        let snap = h.last.as_ref();
        match self.tab {
            Tab::Partitions => snap.map_or(0, |s| s.partitions.len()),
            Tab::Members => snap.and_then(|s| s.members()).unwrap_or(0),
            Tab::Lag => 0,
            Tab::Events => h.events.len(),
        }
    }

    pub(super) fn partition_at(&self, i: usize) -> Option<&crate::model::PartitionLag> {
        self.current()?.1.last.as_ref()?.partitions.get(i)
    }

    pub(super) fn detail_action(&mut self, action: Action, ctx: &mut Ctx<'_>) {
        let Some(group) = self.open.clone() else {
            return;
        };
        let height = detail::rows(ctx.body, self.tab);
        if self
            .detail_scroll
            .on_action(action, self.detail_len(), height)
        {
            return;
        }
        let snap = self
            .tracked
            .get(&group)
            .and_then(|t| t.history.last.as_ref());
        match action {
            Action::Back => self.close_group(),
            Action::NextTab | Action::PrevTab => {
                self.tab = self.tab.step(action == Action::NextTab);
                self.detail_scroll = Scroll::default();
            }
            Action::Refresh => self.refresh(ctx),
            Action::LagUnit if self.tab == Tab::Lag => {
                self.chart_seconds = !self.chart_seconds;
                self.sync_chart();
            }
            Action::Mark if self.tab == Tab::Partitions => {
                let sel = self.detail_scroll.selected;
                if let Some(p) = self.partition_at(sel) {
                    let tp = TopicPartition::new(&p.topic, p.partition);
                    if !self.marked.remove(&tp) {
                        self.marked.insert(tp);
                    }
                    let len = self.detail_len();
                    self.detail_scroll.move_by(1, len, height);
                }
            }
            Action::Browse if self.tab == Tab::Partitions => {
                if let Some(p) = self.partition_at(self.detail_scroll.selected) {
                    ctx.nav = Some(Nav::Browse(BrowseSpec {
                        topic: p.topic.clone(),
                        partitions: Some(vec![p.partition]),
                        start: p.committed.map_or(StartAt::Beginning, StartAt::Offset),
                        // The browser reads at its own isolation level.
                        isolation: crate::model::Isolation::default(),
                        positions: Vec::new(),
                    }));
                }
            }
            Action::ResetOffsets if !ctx.refuse_if_read_only("resetting offsets") => {
                let partitions =
                    (!self.marked.is_empty()).then(|| self.marked.iter().cloned().collect());
                self.dialog = Some(Dialog::Reset(ResetDialog::new(&group, partitions)));
            }
            Action::Delete if !ctx.refuse_if_read_only("deleting groups") => {
                match DeleteDialog::open(&group, snap) {
                    Ok(d) => self.dialog = Some(Dialog::Delete(d)),
                    Err(why) => ctx.error(format!("{group} not deleted: {why}")),
                }
            }
            Action::Save => {
                let path = timeline::default_path(&ctx.env.data_dir, &group, ctx.now_ms);
                self.dialog = Some(Dialog::SaveTimeline(SaveDialog::new(&path)));
            }
            _ => {}
        }
    }

    pub(super) fn dialog_action(&mut self, action: Action, ctx: &mut Ctx<'_>) {
        let history = self
            .open
            .as_ref()
            .and_then(|g| self.tracked.get(g))
            .map(|t| &t.history);
        let flow = match &mut self.dialog {
            Some(Dialog::Reset(r)) => {
                r.on_action(action, history.and_then(|h| h.last.as_ref()), ctx)
            }
            Some(Dialog::Delete(d)) => d.on_action(action, ctx),
            Some(Dialog::SaveTimeline(s)) => {
                let (flow, effect) = s.on_action(action, history);
                ctx.effects.extend(effect);
                flow
            }
            None => Flow::Stay,
        };
        if flow == Flow::Close {
            self.dialog = None;
        }
    }
}
