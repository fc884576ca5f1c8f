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

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::time::{Duration, Instant};

use rdkafka::bindings as rd;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use crate::kafka::client::{KtContext, explain, plain_words};
use crate::model::TopicPartition;

/// Per-partition result: the offset, or the reason it is missing.
pub type OffsetMap = HashMap<TopicPartition, Result<i64, String>>;

/// A topic-partition list with one offset each. `add_partition_offset`
/// searches the list for every entry (quadratic on big lists), so entries
/// are appended and then given their offset.
pub fn tpl_with<'a>(
    parts: impl IntoIterator<Item = (&'a str, i32, Offset)>,
) -> Result<TopicPartitionList, String> {
    let mut tpl = TopicPartitionList::new();
    for (topic, partition, offset) in parts {
        tpl.add_partition(topic, partition)
            .set_offset(offset)
            .map_err(|e| explain(&e))?;
    }
    Ok(tpl)
}

fn tpl_of(parts: &[TopicPartition], value: Offset) -> Result<TopicPartitionList, String> {
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
                Err(err) => Err(explain(&err)),
                Ok(()) => match e.offset() {
                    Offset::Offset(o) => Ok(o),
                    // No message at or after the time: the end.
                    Offset::End => Ok(-1),
                    other => Err(format!("no offset ({other:?})")),
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
) -> Result<OffsetMap, String> {
    let mut out = OffsetMap::with_capacity(parts.len());
    // Big lists go in chunks: one huge ListOffsets request per leader can
    // take longer than any sensible timeout on a 100k-partition cluster.
    for chunk in parts.chunks(LIST_OFFSETS_CHUNK) {
        let tpl = tpl_of(chunk, value)?;
        let answered = consumer
            .offsets_for_times(tpl, timeout)
            .map_err(|e| explain(&e))?;
        out.extend(collect(&answered));
    }
    Ok(out)
}

/// Partitions per ListOffsets round.
pub const LIST_OFFSETS_CHUNK: usize = 1000;

/// Low and high watermark (or why each is missing) per partition.
pub type Watermarks = HashMap<TopicPartition, (Result<i64, String>, Result<i64, String>)>;

/// Low and high watermarks for many partitions: two batched requests per leader.
pub fn watermarks(
    consumer: &BaseConsumer<KtContext>,
    parts: &[TopicPartition],
    timeout: Duration,
) -> Result<Watermarks, String> {
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
                .unwrap_or_else(|| Err("not returned".into()));
            let h = high
                .get(tp)
                .cloned()
                .unwrap_or_else(|| Err("not returned".into()));
            (tp.clone(), (l, h))
        })
        .collect())
}

/// High watermarks only (log end offsets), one batched request per leader.
pub fn end_offsets(
    consumer: &BaseConsumer<KtContext>,
    parts: &[TopicPartition],
    timeout: Duration,
) -> Result<OffsetMap, String> {
    list_offsets(consumer, parts, Offset::End, timeout)
}

/// Committed offsets of one group, as returned by ListConsumerGroupOffsets.
/// `None` offsets mean "no commit" for a partition that was asked about.
pub type Committed = Vec<(TopicPartition, Option<i64>)>;

struct Queue(*mut rd::rd_kafka_queue_t);
impl Drop for Queue {
    fn drop(&mut self) {
        // SAFETY: created by rd_kafka_queue_new and destroyed once.
        unsafe { rd::rd_kafka_queue_destroy(self.0) };
    }
}

struct Event(*mut rd::rd_kafka_event_t);
impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: returned by rd_kafka_queue_poll and destroyed once.
        unsafe { rd::rd_kafka_event_destroy(self.0) };
    }
}

fn cstr(p: *const std::os::raw::c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: librdkafka returns NUL-terminated strings valid for the event's life.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn err_text(code: rd::rd_kafka_resp_err_t, fallback: String) -> String {
    let code: RDKafkaErrorCode = code.into();
    plain_words(code).map_or_else(
        || crate::sanitize::escape(&fallback).into_owned(),
        str::to_string,
    )
}

/// Committed offsets for several groups, one OffsetFetch per group, all in
/// flight together. `partitions`: `None` asks for every partition the group
/// has committed on; `Some` asks for exactly those.
///
/// # Safety of the FFI
/// Every librdkafka object created here is destroyed before returning; the
/// client handle outlives the call (borrowed).
pub fn committed_offsets<C: rdkafka::ClientContext>(
    client: &rdkafka::client::Client<C>,
    groups: &[(String, Option<Vec<TopicPartition>>)],
    timeout: Duration,
) -> HashMap<String, Result<Committed, String>> {
    let mut results: HashMap<String, Result<Committed, String>> = HashMap::new();
    if groups.is_empty() {
        return results;
    }
    let rk = client.native_ptr();
    // SAFETY: rk is a live client handle.
    let queue = Queue(unsafe { rd::rd_kafka_queue_new(rk) });
    let timeout_ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    let mut sent = 0usize;
    for (group, parts) in groups {
        let Ok(cgroup) = CString::new(group.as_str()) else {
            results.insert(group.clone(), Err("group name contains a NUL byte".into()));
            continue;
        };
        let tpl = match parts
            .as_ref()
            .map(|p| tpl_of(p, Offset::Invalid))
            .transpose()
        {
            Ok(t) => t,
            Err(e) => {
                results.insert(group.clone(), Err(e));
                continue;
            }
        };
        // SAFETY: the request copies the group name and partition list; both
        // are destroyed after the call (librdkafka keeps its own copies).
        unsafe {
            let mut req = rd::rd_kafka_ListConsumerGroupOffsets_new(
                cgroup.as_ptr(),
                tpl.as_ref()
                    .map_or(std::ptr::null(), |t| t.ptr().cast_const()),
            );
            let opts = rd::rd_kafka_AdminOptions_new(
                rk,
                rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS,
            );
            let mut errstr = [0 as std::os::raw::c_char; 256];
            rd::rd_kafka_AdminOptions_set_request_timeout(
                opts,
                timeout_ms,
                errstr.as_mut_ptr(),
                errstr.len(),
            );
            rd::rd_kafka_ListConsumerGroupOffsets(rk, &raw mut req, 1, opts, queue.0);
            rd::rd_kafka_ListConsumerGroupOffsets_destroy(req);
            rd::rd_kafka_AdminOptions_destroy(opts);
        }
        sent += 1;
    }
    let deadline = Instant::now() + timeout + Duration::from_secs(2);
    let mut received = 0usize;
    while received < sent {
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
        received += 1;
        // SAFETY: the event is live until `ev` drops; all pointers read below
        // belong to it.
        unsafe {
            let err = rd::rd_kafka_event_error(ev.0);
            let res = rd::rd_kafka_event_ListConsumerGroupOffsets_result(ev.0);
            if res.is_null() {
                continue;
            }
            let mut cnt = 0usize;
            let groups_ptr = rd::rd_kafka_ListConsumerGroupOffsets_result_groups(res, &raw mut cnt);
            if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && cnt == 0 {
                let text = err_text(err, cstr(rd::rd_kafka_event_error_string(ev.0)));
                // Which group failed is unknown here; record it for those still missing below.
                results
                    .entry(format!("\0error{received}"))
                    .or_insert(Err(text));
                continue;
            }
            for i in 0..cnt {
                let g = *groups_ptr.add(i);
                let name = cstr(rd::rd_kafka_group_result_name(g));
                let gerr = rd::rd_kafka_group_result_error(g);
                if !gerr.is_null() {
                    let text = err_text(
                        rd::rd_kafka_error_code(gerr),
                        cstr(rd::rd_kafka_error_string(gerr)),
                    );
                    results.insert(name, Err(text));
                    continue;
                }
                let parts = rd::rd_kafka_group_result_partitions(g);
                let mut out = Vec::new();
                if !parts.is_null() {
                    let list = &*parts;
                    for j in 0..usize::try_from(list.cnt).unwrap_or(0) {
                        let e = &*list.elems.add(j);
                        let tp = TopicPartition::new(&cstr(e.topic), e.partition);
                        if e.err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                            continue;
                        }
                        out.push((tp, (e.offset >= 0).then_some(e.offset)));
                    }
                }
                results.insert(name, Ok(out));
            }
        }
    }
    // Anything unanswered: the shared error if there was one, else a timeout.
    let shared = results
        .iter()
        .find(|(k, _)| k.starts_with('\0'))
        .and_then(|(_, v)| v.clone().err());
    results.retain(|k, _| !k.starts_with('\0'));
    for (group, _) in groups {
        results.entry(group.clone()).or_insert_with(|| {
            Err(shared
                .clone()
                .unwrap_or_else(|| "timed out fetching committed offsets".into()))
        });
    }
    results
}
