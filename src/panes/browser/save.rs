//! Saving messages as JSON Lines: which records, where, and the save's
//! progress. The writing itself streams off the UI thread (`crate::export`).

use std::path::PathBuf;
use std::sync::Arc;

use super::{BrowserPane, ExportState, OrderKey, TimeOrder};
use crate::app::ctx::{Ctx, Effect};
use crate::app::keymap::{Action, KeyContext};
use crate::export::{CancelFlag, ExportError, ExportEvent, ExportJob};
use crate::model::Record;
use crate::ui::widgets;

impl BrowserPane {
    /// The records a save writes, oldest first by time: the marked ones,
    /// else the filtered ones, else all.
    #[must_use]
    pub fn export_set(&self) -> Vec<Arc<Record>> {
        let seqs: Vec<u64> = if self.marked.is_empty() {
            self.view().seqs().collect()
        } else {
            let ring = &self.ring;
            let keys = self
                .marked
                .iter()
                .filter_map(|s| ring.get(*s).map(|r| OrderKey::of(r, *s)))
                .collect();
            TimeOrder::from_keys(keys).seqs().collect()
        };
        seqs.iter()
            .filter_map(|s| self.ring.get_arc(*s).cloned())
            .collect()
    }

    pub(super) fn export_path(&self, ctx: &Ctx<'_>) -> String {
        let topic = self.spec.as_ref().map_or("messages", |s| s.topic.as_str());
        let safe: String = topic
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        ctx.env
            .data_dir
            .join(format!("export-{safe}-{}.jsonl", ctx.now_ms))
            .display()
            .to_string()
    }

    pub(super) fn export_running(&self, ctx: &mut Ctx<'_>) -> bool {
        if self.export.is_some() {
            let k = ctx.keymap.key_label(KeyContext::Browser, Action::Cancel);
            ctx.warn(format!(
                "a save is already running ({k} in the list cancels it)"
            ));
            true
        } else {
            false
        }
    }

    /// Stream `records` to `path` off the UI thread.
    pub(super) fn start_export(
        &mut self,
        records: Vec<Arc<Record>>,
        path: PathBuf,
        ctx: &mut Ctx<'_>,
    ) {
        if self.export_running(ctx) {
            return;
        }
        if records.is_empty() {
            ctx.warn("nothing to save");
            return;
        }
        let id = ctx.id();
        let cancel = CancelFlag::default();
        self.export = Some(ExportState {
            id,
            path: path.clone(),
            total: records.len(),
            written: 0,
            bytes: 0,
            cancel: cancel.clone(),
        });
        ctx.effects.push(Effect::Export(ExportJob {
            id,
            path,
            records,
            cancel,
        }));
    }

    pub(super) fn on_export(&mut self, ev: ExportEvent, ctx: &mut Ctx<'_>) {
        let Some(x) = &mut self.export else { return };
        match ev {
            ExportEvent::Progress { id, written, bytes } if id == x.id => {
                x.written = written;
                x.bytes = bytes;
            }
            ExportEvent::Done { id, result } if id == x.id => {
                let path = x.path.display().to_string();
                self.export = None;
                match result {
                    Ok(done) => ctx.info(format!(
                        "saved {} message(s) ({}) to {path}",
                        widgets::thousands(i64::try_from(done.messages).unwrap_or(i64::MAX)),
                        widgets::bytes(usize::try_from(done.bytes).unwrap_or(usize::MAX))
                    )),
                    Err(ExportError::Cancelled) => {
                        ctx.warn(format!("save cancelled: {path} was not written"));
                    }
                    Err(e) => ctx.error(format!("cannot save {path}: {e}")),
                }
            }
            _ => {}
        }
    }
}
