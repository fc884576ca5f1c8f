//! Consumer groups: list and describe, committed and end offsets (batched),
//! offset reset planning and applying.
//!
//! The parts: [`describe`] turns a listed group into its description;
//! [`snapshot`] builds a group's snapshot from its parts (pure); [`lag`]
//! fetches offsets and lag; [`refresh`] runs a refresh in steps; [`reset`]
//! plans and applies offset resets. The worker's group requests start here.

mod describe;
pub mod kinds;
mod lag;
pub mod other;
mod refresh;
mod reset;
mod snapshot;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use super::protocol::{ReqId, ResetRow, ResetTarget, WorkerEvent};
use super::{Inner, blocking, reply};
use crate::model::{GroupChange, TopicPartition};

pub use describe::{MembershipUnknown, decode_member, describe, description_of};
pub use refresh::{Step, refresh, refresh_in_steps};
pub use reset::{apply_reset, check_change, group_state, plan_reset};
pub use snapshot::build_snapshot;

/// How long one group request may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The note of a named group that no broker listed (it may not exist).
pub const NOT_DESCRIBED: &str = "membership unavailable: the broker did not describe this group";

/// The note of a named group on a cluster without DescribeGroups.
pub const NO_DESCRIBE_GROUPS: &str =
    "membership unavailable: this cluster does not support DescribeGroups";

/// The worker's `RefreshGroups`: the listing, then offsets in steps, then
/// the whole snapshot, which also says how the connection is.
pub(super) fn start_refresh(
    inner: Arc<Inner>,
    id: ReqId,
    only: Option<String>,
    first: Option<Vec<String>>,
) {
    reply(inner, move |i| async move {
        let events = i.events.clone();
        let result = blocking(&i, move |inner| {
            // From the blocking thread: send, waiting for room.
            refresh_in_steps(inner, only.as_deref(), first.as_deref(), &mut |s| {
                let ev = match s {
                    Step::Listed(groups, list_note) => WorkerEvent::GroupList {
                        id,
                        groups,
                        list_note,
                    },
                    Step::Offsets(groups) => WorkerEvent::GroupOffsets { id, groups },
                };
                let _ = events.blocking_send(ev);
            })
        })
        .await;
        i.note_result(&result, false);
        WorkerEvent::Groups { id, result }
    });
}

/// The worker's `PlanOffsetReset`.
pub(super) fn start_plan(
    inner: Arc<Inner>,
    id: ReqId,
    group: String,
    target: ResetTarget,
    partitions: Option<Vec<TopicPartition>>,
) {
    reply(inner, move |i| async move {
        let g = group.clone();
        let result = blocking(&i, move |inner| plan_reset(inner, &g, target, partitions)).await;
        WorkerEvent::ResetPlan { id, group, result }
    });
}

/// The worker's `ApplyOffsetReset`.
pub(super) fn start_apply(inner: Arc<Inner>, id: ReqId, group: String, rows: Vec<ResetRow>) {
    reply(inner, move |i| async move {
        let g = group.clone();
        let result = blocking(&i, move |inner| apply_reset(inner, &g, &rows)).await;
        tracing::info!(group = %group, ok = result.is_ok(), "offset reset");
        WorkerEvent::ResetApplied { id, group, result }
    });
}

/// The worker's `DeleteGroup`: only a group the coordinator says is idle.
pub(super) fn start_delete(inner: Arc<Inner>, id: ReqId, group: String) {
    reply(inner, move |i| async move {
        let g = group.clone();
        let idle = blocking(&i, move |inner| {
            check_change(inner, &g, GroupChange::Delete)
        })
        .await;
        let result = match idle {
            Err(e) => Err(e),
            Ok(()) => super::admin::delete_group(&i, &group).await,
        };
        tracing::info!(group = %group, ok = result.is_ok(), "delete group");
        WorkerEvent::GroupDeleted { id, group, result }
    });
}
