//! What the browse session sends: records arriving (kept in order, the
//! filter applied, the selection held in place), the session's start, end
//! and status, and search progress; plus the schema fetches new records need.

use super::{BrowserPane, CONNECTING, OrderKey, view};
use crate::app::ctx::Ctx;
use crate::decode;
use crate::model::Record;
use crate::ui::widgets;
use crate::worker::protocol::{BrowseEvent, Command, SessionId};

impl BrowserPane {
    fn request_schemas(&mut self, r: &Record, ctx: &mut Ctx<'_>) {
        if !ctx.env.registry_configured {
            return;
        }
        for b in [r.key.as_deref(), r.value.as_deref()].into_iter().flatten() {
            if let Some(id) = decode::registry_header(b)
                && !ctx.schemas.entries.contains_key(&id)
                && self.requested_schemas.insert(id)
            {
                ctx.cmds.push(Command::FetchSchema { schema_id: id });
            }
        }
    }

    pub(super) fn on_records(&mut self, batch: Vec<Record>, ctx: &mut Ctx<'_>) {
        if self.status.as_deref() == Some(CONNECTING) {
            self.status = None;
        }
        let h = view::list_rows(ctx.body);
        let old_pos = self.selected.and_then(|s| self.pos_of(s));
        let base_before = self.ring.base;
        let mut keys = Vec::with_capacity(batch.len());
        let mut matched = Vec::new();
        for r in batch {
            self.at_end.remove(&r.partition);
            self.request_schemas(&r, ctx);
            let key = OrderKey::of(&r, self.ring.end());
            if let Some(f) = &self.filter {
                self.scanned += 1;
                if f.matches_record(&r) {
                    matched.push(key);
                }
            }
            keys.push(key);
            self.received += 1;
            self.ring.push(r);
        }
        // Forget what was evicted (this batch's own records included).
        let base = self.ring.base;
        if base > base_before {
            self.order.evict_before(base);
            self.matches.evict_before(base);
            keys.retain(|k| k.seq >= base);
            matched.retain(|k| k.seq >= base);
            self.marked = self.marked.split_off(&base);
        }
        self.order.insert(keys);
        self.matches.insert(matched);
        if self.follow {
            self.snap_to_newest(h);
        } else if let Some(sel) = self.selected {
            match (self.pos_of(sel), old_pos) {
                // Rows that arrived above the selection push it down (or
                // evicted ones pull it up), so what is on screen stays put.
                (Some(new), Some(old)) => self.shift_row(new, old, h),
                // The selected record was evicted: the one now at its place.
                _ => {
                    let pos = old_pos.unwrap_or(0).min(self.view_len().saturating_sub(1));
                    self.selected = self.seq_at(pos);
                }
            }
        } else if self.view_len() > 0 {
            self.snap_to_newest(h);
        }
    }

    pub(super) fn on_browse(&mut self, session: SessionId, ev: BrowseEvent, ctx: &mut Ctx<'_>) {
        if self.session != Some(session) {
            return; // a stale session's leftovers
        }
        match ev {
            BrowseEvent::Started { partitions } => {
                self.starts = partitions;
                self.status = None;
            }
            BrowseEvent::Records(batch) => self.on_records(batch, ctx),
            BrowseEvent::AtEnd { partition, .. } => {
                self.at_end.insert(partition);
            }
            BrowseEvent::SearchProgress {
                scanned,
                matched,
                done,
            } => {
                if let Some(s) = &mut self.search {
                    s.scanned = scanned;
                    s.matched = matched;
                    s.done = done;
                    if done {
                        self.paused = true;
                        ctx.info(format!(
                            "search: {} match(es) in {} scanned; paused",
                            widgets::thousands(i64::try_from(matched).unwrap_or(i64::MAX)),
                            widgets::thousands(i64::try_from(scanned).unwrap_or(i64::MAX))
                        ));
                    }
                }
            }
            BrowseEvent::Status(s) => self.status = (!s.is_empty()).then_some(s),
            BrowseEvent::Recovered(s) => {
                self.status = None;
                ctx.info(s);
            }
            BrowseEvent::Failed(e) => {
                self.error = Some(e.to_string());
                self.session = None;
                ctx.worker_error("browser", &e);
            }
        }
    }
}
