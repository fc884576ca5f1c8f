//! Listing and describing consumer groups through librdkafka's
//! `rd_kafka_list_groups` (ListGroups to every broker, then DescribeGroups to
//! each broker for the groups it listed), copied into owned values.
//!
//! rust-rdkafka's `fetch_group_list` wraps the same call, but it turns a
//! partial answer (some brokers did not answer in time: librdkafka returns
//! `RD_KAFKA_RESP_ERR__PARTIAL` together with the groups that were described)
//! into an error and drops the list, and its `GroupInfo` does not say that
//! DescribeGroups answered a group with an error (such a group looks like a
//! healthy one with no state and no members). Here both reach the caller.
//!
//! Blocking: call from `spawn_blocking` or a dedicated thread.

use std::ffi::CString;
use std::os::raw::{c_int, c_void};
use std::time::Duration;

use rdkafka::ClientContext;
use rdkafka::bindings as rd;
use rdkafka::client::Client;
use rdkafka::error::RDKafkaErrorCode;

use super::error::{ErrorKind, WorkerError, from_code};
use super::offsets::cstr;

/// One member of a described group, with its raw protocol bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListedMember {
    pub member_id: String,
    pub client_id: String,
    pub host: String,
    /// The member's protocol metadata (for consumers: its subscription).
    pub metadata: Vec<u8>,
    /// The member's assignment (for consumers: its partitions).
    pub assignment: Vec<u8>,
}

/// The error DescribeGroups answered for one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupError {
    pub code: RDKafkaErrorCode,
    /// Kafka's name of the code, e.g. `GROUP_AUTHORIZATION_FAILED`.
    pub name: String,
}

/// One group as ListGroups and DescribeGroups gave it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListedGroup {
    pub name: String,
    pub state: String,
    pub protocol_type: String,
    pub protocol: String,
    pub members: Vec<ListedMember>,
    /// DescribeGroups answered this group with an error: the state,
    /// protocol and members are then empty, not the group's.
    pub error: Option<GroupError>,
}

/// The groups of a listing, and whether some brokers did not answer in time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupListing {
    pub groups: Vec<ListedGroup>,
    /// Some brokers did not answer (ListGroups or DescribeGroups) before
    /// the timeout: their groups are missing.
    pub partial: bool,
}

impl GroupListing {
    /// What the list header says about a partial listing.
    #[must_use]
    pub fn note(&self) -> Option<String> {
        self.partial.then(|| {
            format!(
                "{} group{} listed; some brokers did not answer in time",
                self.groups.len(),
                if self.groups.len() == 1 { "" } else { "s" }
            )
        })
    }
}

impl GroupError {
    /// Why the group's membership is unknown, in plain words, for the
    /// group's notes.
    #[must_use]
    pub fn membership_note(&self) -> String {
        let e = from_code(self.code);
        let how = if e.kind == ErrorKind::Auth {
            "refused"
        } else {
            "failed"
        };
        format!(
            "membership unavailable: DescribeGroups {how}: {} ({})",
            e.message,
            crate::sanitize::escape(&self.name)
        )
    }
}

/// Frees the list librdkafka returned, once.
struct List(*const rd::rd_kafka_group_list);
impl Drop for List {
    fn drop(&mut self) {
        // SAFETY: returned by rd_kafka_list_groups (checked non-null), owned
        // by us and destroyed only here.
        unsafe { rd::rd_kafka_group_list_destroy(self.0) };
    }
}

fn bytes(p: *const c_void, len: c_int) -> Vec<u8> {
    let len = usize::try_from(len).unwrap_or(0);
    if p.is_null() || len == 0 {
        return Vec::new();
    }
    // SAFETY: librdkafka allocated `len` bytes at `p`, alive with the list.
    unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }.to_vec()
}

/// Kafka's name of an error code (`GROUP_AUTHORIZATION_FAILED`).
fn code_name(err: rd::rd_kafka_resp_err_t) -> String {
    // SAFETY: rd_kafka_err2name returns a static string for any code.
    cstr(unsafe { rd::rd_kafka_err2name(err) })
}

/// Copy the list's groups out.
///
/// # Safety
/// `list` must be a live list returned by `rd_kafka_list_groups`.
unsafe fn read_list(list: &List) -> Vec<ListedGroup> {
    // SAFETY: the list is live until `list` drops; every pointer read below
    // belongs to it, is bounded by its counts and is copied out.
    unsafe {
        let l = &*list.0;
        let n = usize::try_from(l.group_cnt).unwrap_or(0);
        if l.groups.is_null() {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let g = &*l.groups.add(i);
            let m = usize::try_from(g.member_cnt).unwrap_or(0);
            let members = if g.members.is_null() {
                Vec::new()
            } else {
                (0..m)
                    .map(|j| {
                        let mi = &*g.members.add(j);
                        ListedMember {
                            member_id: cstr(mi.member_id),
                            client_id: cstr(mi.client_id),
                            host: cstr(mi.client_host),
                            metadata: bytes(mi.member_metadata, mi.member_metadata_size),
                            assignment: bytes(mi.member_assignment, mi.member_assignment_size),
                        }
                    })
                    .collect()
            };
            let error = (g.err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR).then(|| {
                GroupError {
                    code: g.err.into(),
                    name: code_name(g.err),
                }
            });
            out.push(ListedGroup {
                name: cstr(g.group),
                state: cstr(g.state),
                protocol_type: cstr(g.protocol_type),
                protocol: cstr(g.protocol),
                members,
                error,
            });
        }
        out
    }
}

/// List (`group: None`) or describe one group (`Some`) on every broker the
/// client knows, waiting at most `timeout`.
///
/// A listing cut short by the timeout is `Ok` with `partial` set and the
/// groups that were described; a group that DescribeGroups answered with an
/// error is in the list with its `error`. Any broker's failed ListGroups (or
/// a DescribeGroups request that failed as a whole) makes librdkafka drop
/// the whole list: that is an `Err`.
pub fn list_groups<C: ClientContext>(
    client: &Client<C>,
    group: Option<&str>,
    timeout: Duration,
) -> Result<GroupListing, WorkerError> {
    let cgroup = group
        .map(CString::new)
        .transpose()
        .map_err(|_| WorkerError::internal("group name contains a NUL byte"))?;
    let timeout_ms = c_int::try_from(timeout.as_millis()).unwrap_or(c_int::MAX);
    let mut ptr: *const rd::rd_kafka_group_list = std::ptr::null();
    // SAFETY: the client handle is live (borrowed) for the call; the group
    // name outlives it; librdkafka sets `ptr` only when it hands the list
    // over (no error, or a partial answer), and the guard frees it once.
    let err = unsafe {
        rd::rd_kafka_list_groups(
            client.native_ptr(),
            cgroup.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
            &raw mut ptr,
            timeout_ms,
        )
    };
    let list = (!ptr.is_null()).then(|| List(ptr));
    let partial = err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR__PARTIAL;
    if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && !partial {
        return Err(from_code(err.into()));
    }
    let groups = match &list {
        // SAFETY: a live list from rd_kafka_list_groups.
        Some(l) => unsafe { read_list(l) },
        None => Vec::new(),
    };
    Ok(GroupListing { groups, partial })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_note_counts_the_groups() {
        let mut l = GroupListing {
            groups: vec![ListedGroup::default(); 3],
            partial: false,
        };
        assert_eq!(l.note(), None);
        l.partial = true;
        assert_eq!(
            l.note().as_deref(),
            Some("3 groups listed; some brokers did not answer in time")
        );
        l.groups.truncate(1);
        assert_eq!(
            l.note().as_deref(),
            Some("1 group listed; some brokers did not answer in time")
        );
    }

    #[test]
    fn group_errors_in_plain_words() {
        let refused = GroupError {
            code: RDKafkaErrorCode::GroupAuthorizationFailed,
            name: code_name(rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED),
        };
        assert_eq!(
            refused.membership_note(),
            "membership unavailable: DescribeGroups refused: not authorized for this consumer group (GROUP_AUTHORIZATION_FAILED)"
        );
        let loading = GroupError {
            code: RDKafkaErrorCode::CoordinatorLoadInProgress,
            name: code_name(
                rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
            ),
        };
        let note = loading.membership_note();
        assert!(
            note.starts_with("membership unavailable: DescribeGroups failed: ")
                && note.ends_with("(COORDINATOR_LOAD_IN_PROGRESS)"),
            "{note}"
        );
    }
}
