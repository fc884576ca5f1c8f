//! Sending: the message built from the fields, batches and their delivery
//! reports, and the history of what was sent.

use super::{Area, ComposerError, ComposerPane, Saved, saved};
use crate::app::ctx::Ctx;
use crate::model::{TxnMode, TxnOutcome, TxnSpec};
use crate::template::{self, Encoding, MessageTemplate};
use crate::ui::widgets::LineInput;
use crate::worker::protocol::{BatchSource, Command, ProduceProgress, ReqId};

/// A send: its size (learned as it goes for files), progress and label.
#[derive(Debug, Clone)]
pub struct Batch {
    pub count: u64,
    pub progress: ProduceProgress,
    pub label: String,
    /// Sent in one transaction.
    pub txn: Option<TxnBatch>,
}

/// A transactional send: its id, the end asked for and the end it had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnBatch {
    pub transactional_id: String,
    pub commit: bool,
    pub outcome: Option<TxnOutcome>,
    /// Cancelled (Esc, leaving the pane, quitting): being aborted.
    pub aborting: bool,
}

fn empty_progress() -> ProduceProgress {
    ProduceProgress {
        queued: 0,
        delivered: 0,
        failed: 0,
        first_error: None,
        last: None,
        elapsed_ms: 0,
        done: false,
    }
}

impl ComposerPane {
    /// Messages queued but not yet confirmed either way.
    #[must_use]
    pub fn in_flight(&self) -> u64 {
        self.batches
            .values()
            .filter(|b| !b.progress.done)
            .map(|b| {
                b.count
                    .saturating_sub(b.progress.delivered + b.progress.failed)
            })
            .sum()
    }

    #[must_use]
    pub fn totals(&self) -> (u64, u64) {
        (self.delivered_total, self.failed_total)
    }

    /// The value's schema as the user reads it: `orders-value v3 (…)`.
    #[must_use]
    pub fn schema_label(&self, choice: &crate::template::SchemaChoice) -> String {
        use crate::registry::SchemaSelector as S;
        let subject = choice
            .subject
            .clone()
            .unwrap_or_else(|| format!("{}-value", self.topic.text.trim()));
        match choice.selector {
            S::Latest => format!("subject {subject} (latest)"),
            S::Version(v) => format!("subject {subject} v{v}"),
            S::Id(id) => format!("schema id {id}"),
        }
    }

    /// Build the template from the fields, or say what is wrong.
    pub fn build(&self, now_ms: i64) -> Result<(MessageTemplate, u64), ComposerError> {
        let topic = self.topic.text.trim();
        if topic.is_empty() {
            return Err(ComposerError::NoTopic);
        }
        let partition = match self.partition.text.trim() {
            "" | "auto" => None,
            p => Some(
                p.parse::<i32>()
                    .ok()
                    .filter(|p| *p >= 0)
                    .ok_or(ComposerError::Partition)?,
            ),
        };
        let count: u64 = self
            .count
            .text
            .trim()
            .parse()
            .ok()
            .filter(|c| *c >= 1)
            .ok_or(ComposerError::Count)?;
        let timestamp = match self.timestamp.text.trim() {
            "" | "now" => None,
            t => Some(
                crate::timeutil::parse_time(t, now_ms)
                    .map_err(|e| ComposerError::Timestamp(e.to_string()))?,
            ),
        };
        let headers = template::parse_header_lines(&self.message.text(Area::Headers))
            .map_err(|e| ComposerError::Headers(e.to_string()))?;
        let t = MessageTemplate {
            topic: topic.to_string(),
            partition,
            key: self.message.key(),
            key_encoding: self.message.encoding(Area::Key),
            value: self.message.value(),
            value_encoding: self.message.encoding(Area::Value),
            headers,
            timestamp,
            value_schema: self.value_schema.clone(),
            ..Default::default()
        };
        // Check the first variation now, so errors show before sending.
        t.render(0, now_ms)
            .map_err(|e| ComposerError::Render(format!("{e:#}")))?;
        self.options
            .validate()
            .map_err(|e| ComposerError::Options(e.to_string()))?;
        Ok((t, count))
    }

    pub(super) fn saved_now(&self, t: &MessageTemplate, count: u64, now_ms: i64) -> Saved {
        Saved {
            topic: t.topic.clone(),
            partition: t.partition,
            key: t.key.clone(),
            key_encoding: t.key_encoding,
            value: t.value.clone(),
            value_encoding: t.value_encoding,
            headers: self.message.text(Area::Headers),
            acks: self.options.acks,
            compression: self.options.compression,
            idempotent: self.options.idempotent,
            count,
            at_ms: now_ms,
        }
    }

    pub(super) fn apply_saved(&mut self, s: &Saved) {
        self.topic = LineInput::with(&s.topic);
        self.partition = LineInput::with(&s.partition.map_or("auto".into(), |p| p.to_string()));
        self.count = LineInput::with(&s.count.to_string());
        self.message
            .set(Area::Key, s.key.as_deref(), s.key_encoding);
        self.message
            .set(Area::Value, s.value.as_deref(), s.value_encoding);
        self.message
            .set(Area::Headers, Some(&s.headers), Encoding::Text);
        self.options.acks = s.acks;
        self.options.compression = s.compression;
        self.options.idempotent = s.idempotent;
        if s.acks != crate::model::Acks::All || !s.idempotent {
            // A transaction needs both; the recalled message has neither.
            self.txn_mode = TxnMode::Off;
        }
    }

    /// The `transactional.id` a transactional send uses now.
    #[must_use]
    pub fn transactional_id<'a>(&'a self, env: &'a crate::app::env::Env) -> &'a str {
        if self.txn_id.is_empty() {
            &env.transactional_id
        } else {
            &self.txn_id
        }
    }

    /// Transactional sends still running.
    #[must_use]
    pub fn open_transactions(&self) -> Vec<ReqId> {
        self.batches
            .iter()
            .filter(|(_, b)| !b.progress.done && b.txn.is_some())
            .map(|(id, _)| *id)
            .collect()
    }

    /// Cancel every open transaction (the worker aborts it); returns how
    /// many were open and not already being aborted.
    pub fn abort_open_transactions(&mut self, cmds: &mut Vec<Command>) -> usize {
        let mut n = 0;
        for (id, b) in &mut self.batches {
            if let Some(t) = b.txn.as_mut().filter(|t| !t.aborting)
                && !b.progress.done
            {
                t.aborting = true;
                cmds.push(Command::Cancel { id: *id });
                n += 1;
            }
        }
        n
    }

    /// The transaction of a new send, or why it cannot start now (the id
    /// has a transaction open: a second would fence the first).
    fn new_txn(&self, ctx: &Ctx<'_>) -> Result<Option<(TxnSpec, TxnBatch)>, String> {
        if self.txn_mode == TxnMode::Off {
            return Ok(None);
        }
        let tid = self.transactional_id(ctx.env).to_string();
        // A second transaction with the same id would fence the first.
        if let Some((id, _)) = self.batches.iter().find(|(_, b)| {
            !b.progress.done && b.txn.as_ref().is_some_and(|t| t.transactional_id == tid)
        }) {
            return Err(format!("transaction #{id} is still open"));
        }
        let commit = self.txn_mode == TxnMode::Commit;
        Ok(Some((
            TxnSpec::new(tid.clone(), commit),
            TxnBatch {
                transactional_id: tid,
                commit,
                outcome: None,
                aborting: false,
            },
        )))
    }

    fn produce_command(&self, id: ReqId, source: BatchSource, txn: Option<TxnSpec>) -> Command {
        match txn {
            Some(txn) => Command::ProduceTransaction {
                id,
                options: self.options,
                source,
                txn,
            },
            None => Command::ProduceBatch {
                id,
                options: self.options,
                source,
            },
        }
    }

    pub(super) fn send(&mut self, ctx: &mut Ctx<'_>) {
        if ctx.refuse_if_read_only("producing") {
            return;
        }
        let (t, count) = match self.build(ctx.now_ms) {
            Ok(x) => x,
            Err(e) => return ctx.error(format!("not sent: {e}")),
        };
        let (spec, txn) = match self.new_txn(ctx) {
            Ok(Some((s, b))) => (Some(s), Some(b)),
            Ok(None) => (None, None),
            Err(e) => return ctx.error(format!("not sent: {e}")),
        };
        let id = ctx.id();
        let label = if count == 1 {
            format!("1 message to {}", t.topic)
        } else {
            format!("{count} messages to {}", t.topic)
        };
        self.batches.insert(
            id,
            Batch {
                count,
                progress: empty_progress(),
                label,
                txn,
            },
        );
        let saved = self.saved_now(&t, count, ctx.now_ms);
        self.history.retain(|h| !h.same_message(&saved));
        self.history.insert(0, saved);
        self.history.truncate(self.history_max);
        saved::push(saved::history_effect(&self.history, &ctx.env.data_dir), ctx);
        let cmd = self.produce_command(id, BatchSource::Template { template: t, count }, spec);
        ctx.cmds.push(cmd);
    }

    /// Send every line of a JSON Lines file.
    pub(super) fn send_file(&mut self, path: std::path::PathBuf, ctx: &mut Ctx<'_>) {
        if ctx.refuse_if_read_only("producing") {
            return;
        }
        let topic = self.topic.text.trim().to_string();
        let (spec, txn) = match self.new_txn(ctx) {
            Ok(Some((s, b))) => (Some(s), Some(b)),
            Ok(None) => (None, None),
            Err(e) => return ctx.error(format!("not sent: {e}")),
        };
        let id = ctx.id();
        self.batches.insert(
            id,
            Batch {
                count: 0,
                progress: empty_progress(),
                label: format!("file {}", path.display()),
                txn,
            },
        );
        let cmd = self.produce_command(id, BatchSource::File { path, topic }, spec);
        ctx.cmds.push(cmd);
    }

    /// The sends not finished yet.
    #[must_use]
    pub fn running(&self) -> Vec<ReqId> {
        self.batches
            .iter()
            .filter(|(_, b)| !b.progress.done)
            .map(|(id, _)| *id)
            .collect()
    }

    pub(super) fn push_result(&mut self, id: ReqId, b: Batch) {
        self.results.push_front((id, b));
        self.results.truncate(50);
    }

    pub(super) fn on_produce(&mut self, id: ReqId, progress: ProduceProgress, ctx: &mut Ctx<'_>) {
        let Some(b) = self.batches.get_mut(&id) else {
            return;
        };
        if b.count == 0 || progress.done {
            // File batches learn their size as they go.
            b.count = b
                .count
                .max(progress.queued.max(progress.delivered + progress.failed));
        }
        b.progress = progress;
        if b.progress.done
            && let Some(b) = self.batches.remove(&id)
        {
            self.delivered_total += b.progress.delivered;
            self.failed_total += b.progress.failed;
            match (&b.txn, &b.progress.first_error) {
                (Some(t), Some(e)) => ctx.error(format!(
                    "{}: {}",
                    t.outcome
                        .as_ref()
                        .map_or("transaction failed", TxnOutcome::words),
                    e.strip_prefix("starting the transaction: ").unwrap_or(e)
                )),
                (Some(t), None) => ctx.info(
                    t.outcome
                        .as_ref()
                        .map_or("transaction ended", TxnOutcome::words)
                        .to_string(),
                ),
                (None, Some(e)) => ctx.error(format!("send failed: {e}")),
                (None, None) => {}
            }
            self.push_result(id, b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pane() -> ComposerPane {
        ComposerPane::new(&crate::app::env::Env::test())
    }

    #[test]
    fn builds_template_from_fields() {
        let mut c = pane();
        c.topic = LineInput::with("orders");
        c.message.set(Area::Key, Some("k-{{i}}"), Encoding::Text);
        c.message
            .set(Area::Value, Some("{\n \"n\": 1\n}"), Encoding::Json);
        c.message
            .set(Area::Headers, Some("a: 1\na: 2"), Encoding::Text);
        c.count = LineInput::with("3");
        let (t, n) = c.build(0).unwrap();
        assert_eq!(n, 3);
        assert_eq!(t.topic, "orders");
        assert_eq!(t.headers.len(), 2);
        assert_eq!(t.render(2, 0).unwrap().key.unwrap(), b"k-2");
    }

    #[test]
    fn invalid_json_is_reported_with_position_and_an_empty_value_is_sent_empty() {
        let mut c = pane();
        c.topic = LineInput::with("t");
        let (t, _) = c.build(0).unwrap();
        assert_eq!(t.render(0, 0).unwrap().value, Some(Vec::new()));
        c.message
            .set(Area::Value, Some("{\n  \"a\": ,\n}"), Encoding::Json);
        let e = c.build(0).unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
        assert!(!c.message.check().is_ok());
        c.message.toggle_null(Area::Value);
        assert!(c.build(0).unwrap().0.value.is_none());
    }
}
