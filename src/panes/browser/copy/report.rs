//! The copy dialog's sentences: the options, the production confirmation
//! and the final report.

use super::{CopyDialog, n};
use crate::worker::protocol::{CopyOutcome, CopyReport, CopySelection};

impl CopyDialog {
    pub(super) fn options_text(&self) -> String {
        let mut o = Vec::new();
        o.push(if self.keep_timestamps {
            "original timestamps"
        } else {
            "new timestamps"
        });
        o.push(if self.keep_partitions {
            "same partitions"
        } else {
            "partitions by key"
        });
        if self.source_header {
            o.push("with a source header");
        }
        o.join(", ")
    }

    pub(super) fn confirm_detail(&self, count: u64) -> Vec<String> {
        let dest = self.spec.as_ref().map_or("", |s| s.dest.as_str());
        vec![
            format!(
                "{} message(s) from {} to {} (a dry run counted them).",
                n(count),
                self.topic,
                dest
            ),
            format!("{}.", self.options_text()),
            "Sent lz4-compressed, acks=all, idempotent.".into(),
            "This cluster is marked production.".into(),
        ]
    }

    pub(super) fn report_lines(&self, r: &CopyReport) -> Vec<String> {
        let p = &r.progress;
        let dest = self.spec.as_ref().map_or("", |s| s.dest.as_str());
        let mut out = vec![match &r.outcome {
            CopyOutcome::Complete => format!(
                "Copied {} message(s) from {} to {}.",
                n(p.confirmed),
                self.topic,
                dest
            ),
            CopyOutcome::Cancelled => format!(
                "Cancelled: {} message(s) confirmed in {}, {} failed.",
                n(p.confirmed),
                dest,
                n(p.failed)
            ),
            CopyOutcome::Failed(_) => format!(
                "Stopped: {} message(s) confirmed in {}, {} failed.",
                n(p.confirmed),
                dest,
                n(p.failed)
            ),
        }];
        if let CopyOutcome::Failed(e) = &r.outcome {
            out.push(format!("First error: {e}"));
        }
        if r.uncertain > 0 {
            out.push(format!(
                "{} failed message(s) were sent but never acknowledged: the broker may have written them.",
                n(r.uncertain)
            ));
        }
        if let Some(res) = &r.resume {
            for (part, off) in &res.from {
                out.push(format!(
                    "Partition {part}: not copied from offset {off} on."
                ));
            }
        }
        let selected = match self.spec.as_ref().map(|s| &s.selection) {
            Some(CopySelection::Messages(v)) => v.len() as u64,
            _ => p.selected,
        };
        if r.outcome == CopyOutcome::Complete && p.selected < selected {
            out.push(format!(
                "{} of the {} message(s) are no longer in the topic (retention).",
                n(selected - p.selected),
                n(selected)
            ));
        }
        out
    }
}
