//! The request dispatch: one line per [`Command`], each handed to the
//! module that owns the job. Writes are refused here, centrally, when the
//! cluster is read-only.

use std::sync::Arc;

use super::error::WorkerError;
use super::protocol::{Command, ReqId, WorkerEvent};
use super::{Inner, admin, blocking, browse, copy, emit, groups, produce, reply};

/// Start the job `cmd` asks for; its events follow on the event channel.
pub(super) fn dispatch(inner: &Arc<Inner>, cmd: Command) {
    if cmd.is_write() && inner.profile.read_only {
        let reason = WorkerError::read_only(&inner.profile.name).message;
        emit(
            inner,
            WorkerEvent::Refused {
                id: cmd.req_id(),
                reason,
            },
        );
        return;
    }
    let i = Arc::clone(inner);
    match cmd {
        Command::RefreshTopics { id } => admin::refresh_topics(i, id),
        Command::DescribeTopic { id, topic } => admin::describe(i, id, topic),
        Command::CreateTopic { id, spec } => admin::create(i, id, spec),
        Command::DeleteTopic { id, topic } => admin::delete(i, id, topic),
        Command::StartBrowse { session, spec } => browse::start(&i, session, spec),
        Command::StopBrowse { session } => browse::stop(&i, session),
        Command::PauseBrowse { session, paused } => browse::pause(&i, session, paused),
        Command::SearchBrowse {
            session,
            filter,
            want,
        } => browse::search(&i, session, filter, want),
        Command::CancelSearch { session } => browse::cancel_search(&i, session),
        Command::ProduceBatch {
            id,
            options,
            source,
        } => produce::start_batch(i, id, options, source),
        Command::ProduceTransaction {
            id,
            options,
            source,
            txn,
        } => produce::start_transaction(i, id, options, source, txn),
        Command::Flush { id, timeout_ms } => produce::flush(i, id, timeout_ms),
        Command::StartCopy { id, spec } => copy::start(&i, id, spec),
        Command::Cancel { id } => cancel(&i, id),
        Command::FetchSchema { schema_id } => fetch_schema(i, schema_id),
        Command::RefreshGroups { id, only, first } => groups::start_refresh(i, id, only, first),
        Command::PlanOffsetReset {
            id,
            group,
            target,
            partitions,
        } => groups::start_plan(i, id, group, target, partitions),
        Command::ApplyOffsetReset { id, group, rows } => groups::start_apply(i, id, group, rows),
        Command::DeleteGroup { id, group } => groups::start_delete(i, id, group),
        // Switching clusters is the console's switching worker's job
        // (`switch`); a single cluster's worker has nothing to do.
        Command::Shutdown | Command::Connect { .. } | Command::Probe { .. } => {}
    }
}

/// Stop request `id`: a produce batch, a copy or a transaction (which is
/// aborted). Other requests simply have their answer ignored.
fn cancel(inner: &Inner, id: ReqId) {
    if let Some(t) = inner.cancels.lock().ok().and_then(|c| c.get(&id).cloned()) {
        t.cancel();
    }
    if let Some(t) = inner
        .txns
        .lock()
        .ok()
        .and_then(|c| c.get(&id).map(|(t, _)| t.clone()))
    {
        t.cancel();
    }
}

/// A schema by its registry id: blocking HTTP (bounded by the registry
/// timeout) off the async threads; the client caches by id.
fn fetch_schema(inner: Arc<Inner>, schema_id: u32) {
    reply(inner, move |i| async move {
        let result = blocking(&i, move |inner| {
            Ok(inner.registry.get()?.schema_by_id(schema_id)?)
        })
        .await;
        WorkerEvent::Schema { schema_id, result }
    });
}
