//! Batched offset look-ups. All functions here block: call them from
//! `spawn_blocking` or a dedicated thread, never from the UI or a busy task.
//!
//! * Watermarks and offsets-for-times go through `rd_kafka_offsets_for_times`,
//!   which sends one ListOffsets request per partition leader for the whole
//!   list (the "latest" and "earliest" sentinels −1/−2 give high and low
//!   watermarks), instead of `fetch_watermarks`' two round trips per partition.
//! * Committed offsets go through the admin API ListConsumerGroupOffsets
//!   (one OffsetFetch per group, all groups in flight at once on one queue),
//!   which rust-rdkafka does not wrap, hence the FFI below.

use crate::worker::error::{ErrorKind, WorkerError, classify, kind_of};
use std::collections::{BTreeMap, HashMap};
use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rdkafka::bindings as rd;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use crate::kafka::client::{KtContext, plain_words};
use crate::model::TopicPartition;

/// Per-partition result: the offset, or the reason it is missing.
pub type OffsetMap = HashMap<TopicPartition, Result<i64, WorkerError>>;

/// A topic-partition list with one offset each. `add_partition_offset`
/// searches the list for every entry (quadratic on big lists), so entries
/// are appended and then given their offset.
pub fn tpl_with<'a>(
    parts: impl IntoIterator<Item = (&'a str, i32, Offset)>,
) -> Result<TopicPartitionList, WorkerError> {
    let mut tpl = TopicPartitionList::new();
    for (topic, partition, offset) in parts {
        tpl.add_partition(topic, partition)
            .set_offset(offset)
            .map_err(|e| classify(&e))?;
    }
    Ok(tpl)
}

fn tpl_of(parts: &[TopicPartition], value: Offset) -> Result<TopicPartitionList, WorkerError> {
    tpl_with(
        parts
            .iter()
            .map(|tp| (tp.topic.as_str(), tp.partition, value)),
    )
}

fn collect(tpl: &TopicPartitionList) -> OffsetMap {
    tpl.elements()
        .iter()
        .map(|e| {
            let tp = TopicPartition::new(e.topic(), e.partition());
            let v = match e.error() {
                Err(err) => Err(classify(&err)),
                Ok(()) => match e.offset() {
                    Offset::Offset(o) => Ok(o),
                    // No message at or after the time: the end.
                    Offset::End => Ok(-1),
                    other => Err(crate::werr!("no offset ({other:?})")),
                },
            };
            (tp, v)
        })
        .collect()
}

/// ListOffsets for many partitions at once, `value` being a timestamp in ms
/// or one of the sentinels `Offset::Beginning` / `Offset::End`.
pub fn list_offsets(
    consumer: &BaseConsumer<KtContext>,
    parts: &[TopicPartition],
    value: Offset,
    timeout: Duration,
) -> Result<OffsetMap, WorkerError> {
    let mut out = OffsetMap::with_capacity(parts.len());
    // Big lists go in chunks: one huge ListOffsets request per leader can
    // take longer than any sensible timeout on a 100k-partition cluster.
    for chunk in parts.chunks(LIST_OFFSETS_CHUNK) {
        let tpl = tpl_of(chunk, value)?;
        let answered = consumer
            .offsets_for_times(tpl, timeout)
            .map_err(|e| classify(&e))?;
        out.extend(collect(&answered));
    }
    Ok(out)
}

/// Partitions per ListOffsets round.
pub const LIST_OFFSETS_CHUNK: usize = 1000;

/// Low and high watermark (or why each is missing) per partition.
pub type Watermarks = HashMap<TopicPartition, (Result<i64, WorkerError>, Result<i64, WorkerError>)>;

/// Low and high watermarks for many partitions: two batched requests per leader.
pub fn watermarks(
    consumer: &BaseConsumer<KtContext>,
    parts: &[TopicPartition],
    timeout: Duration,
) -> Result<Watermarks, WorkerError> {
    let start = Instant::now();
    let high = list_offsets(consumer, parts, Offset::End, timeout)?;
    let left = timeout
        .saturating_sub(start.elapsed())
        .max(Duration::from_millis(500));
    let low = list_offsets(consumer, parts, Offset::Beginning, left)?;
    Ok(parts
        .iter()
        .map(|tp| {
            let l = low
                .get(tp)
                .cloned()
                .unwrap_or_else(|| Err(WorkerError::internal("not returned")));
            let h = high
                .get(tp)
                .cloned()
                .unwrap_or_else(|| Err(WorkerError::internal("not returned")));
            (tp.clone(), (l, h))
        })
        .collect())
}

/// Leaders that timed out or could not be reached during one refresh, with
/// the reason their partitions get: they are not asked again until the
/// refresh ends, so a dead broker costs one timeout per refresh, not one
/// per chunk of partitions.
pub type GivenUp = HashMap<i32, WorkerError>;

/// Threads asking leaders at once; a cluster with more leaders in one chunk
/// asks the rest as threads come free.
const MAX_LEADER_THREADS: usize = 64;

/// Why a partition's watermarks are missing, in plain words (its leader is
/// named beside it, by `model::unknown_count_reason`).
fn mark_error(e: &WorkerError) -> WorkerError {
    if e.kind == ErrorKind::Timeout {
        WorkerError::timeout("watermarks timed out")
    } else {
        WorkerError::new(e.kind, format!("watermarks unavailable: {}", e.message))
    }
}

/// ListOffsets for `parts` (all led by one broker), in rounds of
/// [`LIST_OFFSETS_CHUNK`], each given the time left until `deadline`.
fn offsets_until(
    consumer: &BaseConsumer<KtContext>,
    parts: &[TopicPartition],
    value: Offset,
    deadline: Instant,
) -> Result<OffsetMap, WorkerError> {
    let mut out = OffsetMap::with_capacity(parts.len());
    for chunk in parts.chunks(LIST_OFFSETS_CHUNK) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(WorkerError::timeout("timed out"));
        }
        let tpl = tpl_of(chunk, value)?;
        let answered = consumer
            .offsets_for_times(tpl, left)
            .map_err(|e| classify(&e))?;
        out.extend(collect(&answered));
    }
    Ok(out)
}

/// One leader's high, then low watermarks. The low ones are asked only
/// when the high ones came, with at least half a second even if the high
/// ones took nearly all the time.
fn leader_marks(
    consumer: &BaseConsumer<KtContext>,
    parts: &[TopicPartition],
    deadline: Instant,
) -> Result<(OffsetMap, OffsetMap), WorkerError> {
    let high = offsets_until(consumer, parts, Offset::End, deadline)?;
    let low_deadline = deadline.max(Instant::now() + Duration::from_millis(500));
    let low = offsets_until(consumer, parts, Offset::Beginning, low_deadline)?;
    Ok((high, low))
}

/// Low and high watermarks of `parts` (each with its leader from metadata),
/// every leader asked on its own thread at the same time, so a slow or
/// failing broker leaves only its own partitions without watermarks, each
/// with the reason; the call returns within about `timeout` whatever the
/// number of leaders. Partitions without a leader, and those of leaders in
/// `given_up`, get their reason without a request; leaders that time out
/// or cannot be reached are added to `given_up`.
///
/// librdkafka's `offsets_for_times` fails as a whole when any leader in its
/// list fails (it keeps no partial results), hence one call per leader.
pub fn watermarks_by_leader(
    consumer: &BaseConsumer<KtContext>,
    parts: &[(TopicPartition, i32)],
    timeout: Duration,
    given_up: &mut GivenUp,
) -> Watermarks {
    let deadline = Instant::now() + timeout;
    let mut out = Watermarks::with_capacity(parts.len());
    let leaders = group_by_leader(parts, given_up, &mut out);
    let answers = ask_leaders(consumer, &leaders, deadline);
    let mut asked: std::collections::HashSet<i32> = std::collections::HashSet::new();
    for (leader, answer) in answers {
        asked.insert(leader);
        let Some((_, tps)) = leaders.iter().find(|(l, _)| *l == leader) else {
            continue;
        };
        match answer {
            Ok((high, low)) => {
                let get = |m: &OffsetMap, tp: &TopicPartition| match m.get(tp) {
                    Some(Ok(o)) => Ok(*o),
                    Some(Err(e)) => Err(mark_error(e)),
                    None => Err(WorkerError::internal("watermarks not returned")),
                };
                for tp in tps {
                    out.insert(tp.clone(), (get(&low, tp), get(&high, tp)));
                }
            }
            Err((e, gave_up)) => {
                if gave_up {
                    given_up.insert(leader, e.clone());
                }
                for tp in tps {
                    out.insert(tp.clone(), (Err(e.clone()), Err(e.clone())));
                }
            }
        }
    }
    // A thread that panicked took its answers with it.
    for (leader, tps) in &leaders {
        if !asked.contains(leader) {
            for tp in tps {
                let e = WorkerError::internal("watermarks not returned");
                out.insert(tp.clone(), (Err(e.clone()), Err(e)));
            }
        }
    }
    out
}

/// The partitions to ask for, by leader; those without a leader or with a
/// leader given up on get their reason in `out` now.
fn group_by_leader(
    parts: &[(TopicPartition, i32)],
    given_up: &GivenUp,
    out: &mut Watermarks,
) -> Vec<(i32, Vec<TopicPartition>)> {
    let mut by_leader: BTreeMap<i32, Vec<TopicPartition>> = BTreeMap::new();
    for (tp, leader) in parts {
        if *leader < 0 {
            let e = WorkerError::new(kind_of(RDKafkaErrorCode::LeaderNotAvailable), "no leader");
            out.insert(tp.clone(), (Err(e.clone()), Err(e)));
        } else if let Some(e) = given_up.get(leader) {
            out.insert(tp.clone(), (Err(e.clone()), Err(e.clone())));
        } else {
            by_leader.entry(*leader).or_default().push(tp.clone());
        }
    }
    by_leader.into_iter().collect()
}

/// One leader's answer: (high, low), or the error and whether to give up
/// on that leader.
type LeaderAnswer = Result<(OffsetMap, OffsetMap), (WorkerError, bool)>;

/// Ask every leader, up to `MAX_LEADER_THREADS` at a time, until `deadline`.
fn ask_leaders(
    consumer: &BaseConsumer<KtContext>,
    leaders: &[(i32, Vec<TopicPartition>)],
    deadline: Instant,
) -> Vec<(i32, LeaderAnswer)> {
    let next = AtomicUsize::new(0);
    let work = || {
        let mut mine = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some((leader, tps)) = leaders.get(i) else {
                break;
            };
            let answer = if Instant::now() >= deadline {
                // Threads were all busy with slower leaders until the end:
                // this one was never asked, so it is not given up on.
                Err((WorkerError::timeout("watermarks not asked in time"), false))
            } else {
                leader_marks(consumer, tps, deadline).map_err(|e| {
                    let gave_up = matches!(e.kind, ErrorKind::Timeout | ErrorKind::Io);
                    (mark_error(&e), gave_up)
                })
            };
            mine.push((*leader, answer));
        }
        mine
    };
    std::thread::scope(|s| {
        // The calling thread asks too; a thread that cannot be started
        // leaves its share to the others.
        let handles: Vec<_> = (1..leaders.len().min(MAX_LEADER_THREADS))
            .filter_map(|_| {
                std::thread::Builder::new()
                    .name("kt-watermarks".into())
                    .spawn_scoped(s, work)
                    .ok()
            })
            .collect();
        let mut all = work();
        for h in handles {
            all.extend(h.join().unwrap_or_default());
        }
        all
    })
}

/// High watermarks only (log end offsets), one batched request per leader.
pub fn end_offsets(
    consumer: &BaseConsumer<KtContext>,
    parts: &[TopicPartition],
    timeout: Duration,
) -> Result<OffsetMap, WorkerError> {
    list_offsets(consumer, parts, Offset::End, timeout)
}

/// Committed offsets of one group, as returned by ListConsumerGroupOffsets:
/// for each partition the broker answered about, the offset (`None`: no
/// commit) or, when the broker could not say, why.
pub type Committed = Vec<(TopicPartition, Result<Option<i64>, WorkerError>)>;

struct Queue(*mut rd::rd_kafka_queue_t);
impl Drop for Queue {
    fn drop(&mut self) {
        // SAFETY: created by rd_kafka_queue_new (checked non-null) and
        // destroyed once.
        unsafe { rd::rd_kafka_queue_destroy(self.0) };
    }
}

struct Event(*mut rd::rd_kafka_event_t);
impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: returned by rd_kafka_queue_poll (checked non-null) and
        // destroyed once.
        unsafe { rd::rd_kafka_event_destroy(self.0) };
    }
}

struct Options(*mut rd::rd_kafka_AdminOptions_t);
impl Drop for Options {
    fn drop(&mut self) {
        // SAFETY: created by rd_kafka_AdminOptions_new (checked non-null)
        // and destroyed once.
        unsafe { rd::rd_kafka_AdminOptions_destroy(self.0) };
    }
}

struct Request(*mut rd::rd_kafka_ListConsumerGroupOffsets_t);
impl Drop for Request {
    fn drop(&mut self) {
        // SAFETY: created by rd_kafka_ListConsumerGroupOffsets_new and
        // destroyed once; librdkafka keeps its own copy once sent.
        unsafe { rd::rd_kafka_ListConsumerGroupOffsets_destroy(self.0) };
    }
}

/// A string librdkafka owns, copied out (empty for a null pointer). The
/// pointer must be NUL-terminated and alive for the call, as librdkafka's
/// strings are while the event or list holding them is.
pub(super) fn cstr(p: *const std::os::raw::c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: per the contract above: NUL-terminated and alive.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn err_text(code: rd::rd_kafka_resp_err_t, fallback: String) -> WorkerError {
    let code: RDKafkaErrorCode = code.into();
    WorkerError::new(
        super::error::kind_of(code),
        plain_words(code).map_or_else(
            || crate::sanitize::escape(&fallback).into_owned(),
            str::to_string,
        ),
    )
}

/// Send one group's OffsetFetch on `queue`, tagged with `tag` (the event
/// comes back carrying it).
fn send_request(
    rk: *mut rd::rd_kafka_t,
    queue: &Queue,
    tag: usize,
    group: &str,
    parts: Option<&[TopicPartition]>,
    timeout_ms: i32,
) -> Result<(), WorkerError> {
    let cgroup =
        CString::new(group).map_err(|_| WorkerError::internal("group name contains a NUL byte"))?;
    let tpl = parts.map(|p| tpl_of(p, Offset::Invalid)).transpose()?;
    // SAFETY: rk is a live client handle; the request copies the group name
    // and the partition list, and librdkafka copies the request and the
    // options when they are sent, so both are destroyed (by their guards)
    // right after.
    unsafe {
        let opts = rd::rd_kafka_AdminOptions_new(
            rk,
            rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS,
        );
        if opts.is_null() {
            return Err(WorkerError::internal(
                "librdkafka refused the ListConsumerGroupOffsets options",
            ));
        }
        let opts = Options(opts);
        let mut errstr = [0 as std::os::raw::c_char; 256];
        let set = rd::rd_kafka_AdminOptions_set_request_timeout(
            opts.0,
            timeout_ms,
            errstr.as_mut_ptr(),
            errstr.len(),
        );
        if set != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            return Err(crate::werr!(
                "cannot set the request timeout: {}",
                crate::sanitize::escape(&cstr(errstr.as_ptr()))
            ));
        }
        // The tag rides along as the event's opaque: a pointer-sized integer
        // librdkafka never dereferences.
        rd::rd_kafka_AdminOptions_set_opaque(opts.0, tag as *mut std::ffi::c_void);
        let req = rd::rd_kafka_ListConsumerGroupOffsets_new(
            cgroup.as_ptr(),
            tpl.as_ref()
                .map_or(std::ptr::null(), |t| t.ptr().cast_const()),
        );
        if req.is_null() {
            return Err(WorkerError::internal(
                "librdkafka refused the ListConsumerGroupOffsets request",
            ));
        }
        let mut req = Request(req);
        rd::rd_kafka_ListConsumerGroupOffsets(rk, &raw mut req.0, 1, opts.0, queue.0);
    }
    Ok(())
}

/// One group's answer, read out of its result event.
///
/// # Safety
/// `ev` must be a live ListConsumerGroupOffsets result event.
unsafe fn read_answer(ev: &Event) -> Result<Committed, WorkerError> {
    // SAFETY: the event is live until `ev` drops; all pointers read below
    // belong to it and are copied out before returning.
    unsafe {
        let err = rd::rd_kafka_event_error(ev.0);
        let res = rd::rd_kafka_event_ListConsumerGroupOffsets_result(ev.0);
        let mut cnt = 0usize;
        let groups = if res.is_null() {
            std::ptr::null_mut()
        } else {
            rd::rd_kafka_ListConsumerGroupOffsets_result_groups(res, &raw mut cnt)
        };
        if groups.is_null() || cnt == 0 {
            return Err(
                if err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                    WorkerError::internal("the broker answered without a result for the group")
                } else {
                    err_text(err, cstr(rd::rd_kafka_event_error_string(ev.0)))
                },
            );
        }
        // One group per request.
        let g = *groups;
        let gerr = rd::rd_kafka_group_result_error(g);
        if !gerr.is_null() {
            return Err(err_text(
                rd::rd_kafka_error_code(gerr),
                cstr(rd::rd_kafka_error_string(gerr)),
            ));
        }
        let parts = rd::rd_kafka_group_result_partitions(g);
        let mut out = Vec::new();
        if !parts.is_null() {
            let list = &*parts;
            for j in 0..usize::try_from(list.cnt).unwrap_or(0) {
                let e = &*list.elems.add(j);
                let tp = TopicPartition::new(&cstr(e.topic), e.partition);
                let v = if e.err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                    Ok((e.offset >= 0).then_some(e.offset))
                } else {
                    Err(err_text(e.err, cstr(rd::rd_kafka_err2str(e.err))))
                };
                out.push((tp, v));
            }
        }
        Ok(out)
    }
}

/// Committed offsets for several groups, one OffsetFetch per group, all in
/// flight together. `partitions`: `None` asks for every partition the group
/// has committed on; `Some` asks for exactly those. Each group gets its own
/// answer or its own reason; a partition the broker could not answer for
/// carries the broker's reason.
///
/// # Safety of the FFI
/// Every librdkafka object created here is destroyed before returning; the
/// client handle outlives the call (borrowed). Each request carries its
/// index in `groups` as the admin options' opaque, so an answer (or a
/// failure) is tied to its group whatever order the answers come in.
pub fn committed_offsets<C: rdkafka::ClientContext>(
    client: &rdkafka::client::Client<C>,
    groups: &[(String, Option<Vec<TopicPartition>>)],
    timeout: Duration,
) -> HashMap<String, Result<Committed, WorkerError>> {
    let mut results: HashMap<String, Result<Committed, WorkerError>> = HashMap::new();
    if groups.is_empty() {
        return results;
    }
    let rk = client.native_ptr();
    // SAFETY: rk is a live client handle.
    let queue = unsafe { rd::rd_kafka_queue_new(rk) };
    if queue.is_null() {
        return groups
            .iter()
            .map(|(g, _)| {
                (
                    g.clone(),
                    Err(WorkerError::internal("librdkafka could not create a queue")),
                )
            })
            .collect();
    }
    let queue = Queue(queue);
    let timeout_ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    let mut waiting = 0usize;
    for (idx, (group, parts)) in groups.iter().enumerate() {
        // Tags start at 1: a null opaque means "not ours".
        match send_request(rk, &queue, idx + 1, group, parts.as_deref(), timeout_ms) {
            Ok(()) => waiting += 1,
            Err(e) => {
                results.insert(group.clone(), Err(e));
            }
        }
    }
    let deadline = Instant::now() + timeout + Duration::from_secs(2);
    while waiting > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: polling our own queue.
        let ev = unsafe { rd::rd_kafka_queue_poll(queue.0, ms) };
        if ev.is_null() {
            continue;
        }
        let ev = Event(ev);
        waiting -= 1;
        // SAFETY: the event is live; its opaque is the tag we set.
        let tag = unsafe { rd::rd_kafka_event_opaque(ev.0) } as usize;
        let Some((group, _)) = tag.checked_sub(1).and_then(|i| groups.get(i)) else {
            tracing::warn!("committed offsets: an answer without a known request tag");
            continue;
        };
        // SAFETY: every event on this queue answers a ListConsumerGroupOffsets request.
        let answer = unsafe { read_answer(&ev) };
        results.insert(group.clone(), answer);
    }
    for (group, _) in groups {
        results
            .entry(group.clone())
            .or_insert_with(|| Err(WorkerError::timeout("timed out fetching committed offsets")));
    }
    results
}
