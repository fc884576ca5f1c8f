//! Copying messages from one topic to another (a dead-letter redrive): the
//! engine behind `kafkaterm copy` and the browser's copy dialog.
//!
//! One blocking loop reads the source with the headless consumer's parts
//! (an assign-only consumer, [`FetchQueue`] batches straight from
//! librdkafka's buffers, the same [`Filter`]) and sends each selected
//! message with the headless producer's [`TopicProducer`]: key, value and
//! headers (raw names, in order, null values kept) byte for byte, copied by
//! librdkafka straight from the consumed message. Memory is bounded by the
//! consumer's fetch queue and the producer's queue limits, whatever the
//! size of the copy.
//!
//! Every message is tracked until its delivery report: per source partition
//! a queue of the messages in flight, in source order. The confirmed prefix
//! of that queue is forgotten as it is acknowledged; the first failure stops
//! reading. The report then names, per source partition, the first offset
//! not confirmed (where a resumed copy starts) and any later messages that
//! were confirmed anyway (which a resumed copy skips), so a resume never
//! copies a confirmed message twice.
//!
//! The copy reads each partition up to its end *when the copy starts*, so a
//! copy onto its own topic (allowed only with `force`) ends.
//!
//! The parts: [`plan`] checks what can be checked before reading and plans
//! each partition's range; [`read`] is the reading loop; [`send`] the
//! producer and the delivery tracker; [`resume`] where an unfinished copy
//! resumes and the arguments that say so. The types a copy is asked and
//! answered with are the protocol's (`worker::protocol`).

mod plan;
mod read;
mod resume;
mod send;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use crate::config::ClusterProfile;
use crate::kafka::message::TopicProducer;
use crate::worker::Inner;
use crate::worker::error::WorkerError;
use crate::worker::protocol::{ReqId, WorkerEvent};

pub use crate::worker::protocol::{
    CopyOutcome, CopyProgress, CopyReport, CopySelection, CopySpec, CopyStart, Resume,
    SOURCE_HEADER,
};
pub use plan::precheck;
pub use read::source_label;
pub use resume::{PositionArgError, offsets_arg, parse_offsets_arg, parse_skip_arg, skip_arg};

/// Run a copy to its end (blocking: call from a thread of its own or
/// `spawn_blocking`). `stop` is asked between batches; `progress` hears
/// how far the copy is a few times a second. Errors before the first
/// message is sent (read-only, unknown topics, a bad filter) are `Err`;
/// from then on the report says what happened.
pub fn run(
    profile: &ClusterProfile,
    spec: &CopySpec,
    now_ms: i64,
    stop: &dyn Fn() -> bool,
    progress: &mut dyn FnMut(&CopyProgress),
) -> Result<CopyReport, WorkerError> {
    let filter = precheck(profile, spec, now_ms)?;
    let consumer = plan::new_consumer(profile)?;
    let parts = plan::checked_plan(&consumer, spec)?;
    let started = Instant::now();
    let tracker = Arc::new(Mutex::new(send::Tracker::new(parts.len())));
    let producer = send::new_producer(profile, spec, &tracker)?;
    let sender = producer
        .as_ref()
        .map(|p| TopicProducer::new(p, &spec.dest))
        .transpose()
        .map_err(WorkerError::internal)?;
    let out = sender.zip(producer.as_ref());
    let mut copier = read::Copier::new(spec, filter.as_ref(), parts, &tracker, out);
    let outcome = copier.read_all(&consumer, stop, progress, started)?;
    if let Some(p) = &producer {
        send::settle(p, &tracker);
    }
    finish(copier, outcome, &tracker, spec, started, progress)
}

/// The report of a copy whose sending is settled: exact counts, the first
/// failure if any, and where an unfinished range copy resumes.
fn finish(
    copier: read::Copier<'_>,
    mut outcome: CopyOutcome,
    tracker: &Mutex<send::Tracker>,
    spec: &CopySpec,
    started: Instant,
    progress: &mut dyn FnMut(&CopyProgress),
) -> Result<CopyReport, WorkerError> {
    let t = tracker
        .lock()
        .map_err(|_| crate::werr!("internal error in the copy"))?;
    let mut prog = copier.prog;
    prog.confirmed = t.confirmed;
    prog.failed = t.failed;
    prog.elapsed_ms = read::elapsed_ms(started);
    if outcome == CopyOutcome::Complete && t.failed > 0 {
        outcome = CopyOutcome::Failed(t.first_error.clone().unwrap_or_default());
    }
    if let (CopyOutcome::Cancelled, Some(e)) = (&outcome, &t.first_error)
        && t.failed > 0
    {
        outcome = CopyOutcome::Failed(e.clone());
    }
    let resume = (outcome != CopyOutcome::Complete
        && !spec.dry_run
        && matches!(spec.selection, CopySelection::Range { .. }))
    .then(|| resume::resume_point(&copier.parts, &t, spec));
    progress(&prog);
    Ok(CopyReport {
        progress: prog,
        dry_run: spec.dry_run,
        outcome,
        uncertain: t.uncertain,
        resume,
    })
}

/// The worker's `StartCopy`: the copy on a thread of its own (it blocks
/// for as long as it runs), cancelled by `Cancel { id }` or the worker's
/// shutdown, progress sent when the UI has room, one `Copied` at the end.
pub(crate) fn start(inner: &Arc<Inner>, id: ReqId, spec: CopySpec) {
    let token = CancellationToken::new();
    if let Ok(mut c) = inner.cancels.lock() {
        c.insert(id, token.clone());
    }
    let i = Arc::clone(inner);
    let spawned = std::thread::Builder::new()
        .name(format!("kt-copy-{id}"))
        .spawn(move || {
            let events = i.events.clone();
            let stop = || token.is_cancelled();
            let mut report = |p: &CopyProgress| {
                // Progress may be dropped when the UI is behind.
                let _ = events.try_send(WorkerEvent::CopyProgress { id, progress: *p });
            };
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run(
                    &i.profile,
                    &spec,
                    crate::timeutil::now_ms(),
                    &stop,
                    &mut report,
                )
            }))
            .unwrap_or_else(|_| Err(crate::werr!("internal error in the copy (see the log)")));
            tracing::info!(
                source = %spec.source,
                dest = %spec.dest,
                dry_run = spec.dry_run,
                ok = result.is_ok(),
                "copy"
            );
            if let Ok(mut c) = i.cancels.lock() {
                c.remove(&id);
            }
            let _ = i.events.blocking_send(WorkerEvent::Copied { id, result });
        });
    if let Err(e) = spawned {
        crate::worker::emit(
            inner,
            WorkerEvent::Copied {
                id,
                result: Err(crate::werr!("cannot start a copy thread: {e}")),
            },
        );
    }
}
