//! What the worker answers the topics pane: the topic list in two steps
//! (names, then counts), a topic's detail, creations and deletions.

use super::{Dialog, TopicsPane, list_rows};
use crate::app::ctx::Ctx;
use crate::model::{ClusterSnapshot, TopicDetail, TopicSummary};
use crate::worker::protocol::{ReqId, TopicCount, WorkerError, WorkerEvent};

impl TopicsPane {
    /// A worker event for this pane.
    pub(super) fn on_event(&mut self, ev: WorkerEvent, ctx: &mut Ctx<'_>) {
        match ev {
            WorkerEvent::Topics { id, result } if self.in_flight == Some(id) => {
                self.in_flight = None;
                self.on_topics(result, ctx);
            }
            WorkerEvent::TopicNames { id, snapshot } if self.in_flight == Some(id) => {
                self.on_topic_names(snapshot, ctx);
            }
            WorkerEvent::TopicCounts { id, counts } if self.in_flight == Some(id) => {
                self.on_topic_counts(counts, ctx);
            }
            WorkerEvent::TopicDetail { id, topic, result } => {
                self.on_topic_detail(id, &topic, result, ctx.now_ms);
            }
            WorkerEvent::TopicCreated { id, topic, result } => {
                let Some(Dialog::Create(f)) = &mut self.dialog else {
                    return;
                };
                if f.in_flight != Some(id) {
                    return;
                }
                f.in_flight = None;
                match result {
                    Ok(()) => {
                        self.dialog = None;
                        ctx.info(format!("created topic {topic}"));
                        self.in_flight = None;
                        self.refresh(ctx);
                    }
                    Err(e) => f.error = Some(e.to_string()),
                }
            }
            WorkerEvent::TopicDeleted { id, topic, result } => {
                if !matches!(&self.dialog, Some(Dialog::Delete(_, r)) if *r == Some(id)) {
                    return;
                }
                self.dialog = None;
                match result {
                    Ok(()) => {
                        ctx.info(format!("deleted topic {topic}"));
                        self.in_flight = None;
                        self.refresh(ctx);
                    }
                    Err(e) => ctx.error(format!("delete {topic}: {e}")),
                }
            }
            _ => {}
        }
    }

    /// A topic's description arrived: sample its rates and LSOs.
    fn on_topic_detail(
        &mut self,
        id: ReqId,
        topic: &str,
        result: Result<TopicDetail, WorkerError>,
        now_ms: i64,
    ) {
        let Some(d) = &mut self.detail else { return };
        if d.in_flight != Some(id) || d.topic != topic {
            return;
        }
        d.in_flight = None;
        match result {
            Ok(t) => {
                for p in &t.partitions {
                    if let Some(high) = p.high {
                        d.rates.entry(p.partition).or_default().sample(now_ms, high);
                    }
                    d.lso.observe(p.partition, p.lso, p.high, now_ms);
                }
                let keep: Vec<i32> = t.partitions.iter().map(|p| p.partition).collect();
                d.lso.retain(&keep);
                d.data = Some(t);
                d.error = None;
                d.refreshed_ms = Some(now_ms);
            }
            Err(e) => d.error = Some(e.to_string()),
        }
    }

    /// Show `snap`, keeping the selected topic selected.
    pub(super) fn replace_snapshot(&mut self, snap: ClusterSnapshot, ctx: &Ctx<'_>) {
        let keep = self.list.selected().copied().and_then(|i| {
            self.snapshot
                .as_ref()
                .and_then(|s| s.topics.get(i))
                .map(|t| t.name.clone())
        });
        self.snapshot = Some(snap);
        self.recompute();
        let pos = keep.and_then(|name| {
            self.snapshot
                .as_ref()
                .and_then(|s| s.topics.iter().position(|t| t.name == name))
        });
        self.list.reselect(pos.as_ref(), list_rows(ctx.body));
    }

    /// The topic list before its counts: shown at once, with the counts of
    /// the previous refresh kept until new ones arrive.
    fn on_topic_names(&mut self, mut snap: ClusterSnapshot, ctx: &Ctx<'_>) {
        if let Some(old) = &self.snapshot {
            let before: std::collections::HashMap<&str, &TopicSummary> =
                old.topics.iter().map(|t| (t.name.as_str(), t)).collect();
            for t in &mut snap.topics {
                if let Some(b) = before.get(t.name.as_str()) {
                    t.messages = b.messages;
                    t.messages_error.clone_from(&b.messages_error);
                }
            }
        }
        self.counting = true;
        self.error = None;
        self.replace_snapshot(snap, ctx);
    }

    fn on_topic_counts(&mut self, counts: Vec<TopicCount>, ctx: &Ctx<'_>) {
        let Some(mut snap) = self.snapshot.take() else {
            return;
        };
        let counts: std::collections::HashMap<String, TopicCount> =
            counts.into_iter().map(|c| (c.name.clone(), c)).collect();
        for t in &mut snap.topics {
            if let Some(c) = counts.get(&t.name) {
                t.messages = c.messages;
                t.end_offsets = c.end_offsets;
                t.messages_error.clone_from(&c.messages_error);
            }
        }
        self.replace_snapshot(snap, ctx);
    }

    fn on_topics(&mut self, result: Result<ClusterSnapshot, WorkerError>, ctx: &mut Ctx<'_>) {
        self.counting = false;
        match result {
            Ok(snap) => {
                if snap.watermark_error != self.warned_counts {
                    if let Some(e) = &snap.watermark_error {
                        ctx.warn(e.clone());
                    }
                    self.warned_counts.clone_from(&snap.watermark_error);
                }
                // One sample per topic per refresh, from its final answer.
                for t in &snap.topics {
                    if let Some(end) = t.end_offsets {
                        self.rates
                            .entry(t.name.clone())
                            .or_default()
                            .sample(ctx.now_ms, end);
                    }
                }
                self.error = None;
                self.refreshed_ms = Some(ctx.now_ms);
                self.replace_snapshot(snap, ctx);
            }
            Err(e) => {
                // Keep what we had on screen; show the error.
                ctx.worker_error("topic refresh failed", &e);
                self.error = Some(e.to_string());
            }
        }
    }
}
