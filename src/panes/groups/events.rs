//! The groups pane's requests to the worker and what it does with the
//! answers: refreshes, listings, offsets and full snapshots.

use std::collections::BTreeSet;

use super::{GroupsPane, view};
use crate::app::ctx::Ctx;
use crate::model::GroupSnapshot;
use crate::worker::protocol::{Command, GroupsSnapshot, WorkerError};

impl GroupsPane {
    pub(super) fn refresh(&mut self, ctx: &mut Ctx<'_>) {
        if self.in_flight.is_none() {
            let id = ctx.id();
            self.in_flight = Some(id);
            self.in_flight_since = ctx.now_ms;
            self.observed.clear();
            // Offsets first for what the user looks at: the open group,
            // the visible rows and the watched groups.
            let mut first: Vec<String> = self.open.iter().cloned().collect();
            let rows = view::list_rows(ctx.body);
            let mut scroll = self.list.scroll;
            scroll.keep_visible(self.list.view.len(), rows);
            first.extend(
                self.list
                    .view
                    .iter()
                    .skip(scroll.offset)
                    .take(rows)
                    .cloned(),
            );
            first.extend(ctx.env.watch_groups.iter().cloned());
            let mut seen = BTreeSet::new();
            first.retain(|g| seen.insert(g.clone()));
            ctx.cmds.push(Command::RefreshGroups {
                id,
                only: None,
                first: Some(first),
            });
        }
    }

    /// A stepped refresh's listing: state, members and assignor of every
    /// group at once, lag to follow.
    pub(super) fn on_list(
        &mut self,
        groups: Vec<GroupSnapshot>,
        list_note: Option<String>,
        ctx: &mut Ctx<'_>,
    ) {
        self.list_note = list_note;
        for g in groups {
            let t = self.tracked.entry(g.group.clone()).or_default();
            t.listed = Some(g);
            t.update_row();
        }
        self.recompute_keeping(ctx.body);
    }

    /// A stepped refresh's offsets for some groups.
    pub(super) fn on_offsets(&mut self, groups: Vec<GroupSnapshot>, ctx: &mut Ctx<'_>) {
        for g in groups {
            self.observed.insert(g.group.clone());
            let t = self.tracked.entry(g.group.clone()).or_default();
            t.history.observe(g);
            t.listed = None;
            t.update_row();
        }
        self.recompute_keeping(ctx.body);
        self.sync_chart();
    }

    pub(super) fn on_groups(
        &mut self,
        result: Result<GroupsSnapshot, WorkerError>,
        ctx: &mut Ctx<'_>,
    ) {
        let snap = match result {
            Ok(s) => s,
            Err(e) => {
                self.last_error = Some((ctx.now_ms, e.to_string()));
                return;
            }
        };
        self.list_note = snap.list_note;
        self.refreshed_ms = Some(snap.at_ms);
        self.last_error = None;
        let seen: BTreeSet<String> = snap.groups.iter().map(|g| g.group.clone()).collect();
        for g in snap.groups {
            let t = self.tracked.entry(g.group.clone()).or_default();
            // Seen already in this refresh's steps.
            if !self.observed.contains(&g.group) {
                t.history.observe(g);
            }
            t.listed = None;
            t.update_row();
        }
        self.observed.clear();
        // Groups that vanished (deleted) and are not watched go away.
        self.tracked
            .retain(|g, _| seen.contains(g) || ctx.env.watch_groups.contains(g));
        self.recompute_keeping(ctx.body);
        self.sync_chart();
    }
}
