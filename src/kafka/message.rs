//! Messages through librdkafka's C API, where rust-rdkafka's safe wrappers
//! fall short. This is the one module with `unsafe` for messages:
//!
//! - rust-rdkafka's header accessor panics on a header name that is not
//!   UTF-8; hostile input must not crash the console, so headers are read
//!   through librdkafka directly here.
//! - rust-rdkafka hands out one message per `poll` (an event, a clock read
//!   and an `Arc` each); [`FetchQueue`] takes them from librdkafka in
//!   batches with `rd_kafka_consume_batch_queue`, for the headless consumer.
//! - rust-rdkafka's `BaseProducer::send` copies the topic name and has
//!   librdkafka look the topic up for every message; [`TopicProducer`]
//!   sends through a topic handle made once, for the headless producer
//!   and `copy` (which also passes raw header names and a delivery opaque).

use std::borrow::Cow;
use std::ffi::{CStr, CString};
use std::fmt::Write as _;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::Message;
use rdkafka::bindings as rd;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::BorrowedMessage;
use rdkafka::producer::{BaseProducer, Producer, ProducerContext};

use crate::model::{Header, Record, TimestampType};

/// A consumed message as librdkafka hands it out, borrowed for `'m`: from
/// `BaseConsumer::poll` (via `From<&BorrowedMessage>`) or from a [`Batch`].
#[derive(Clone, Copy)]
pub struct MessageView<'m> {
    ptr: NonNull<rd::rd_kafka_message_t>,
    _life: PhantomData<&'m rd::rd_kafka_message_t>,
}

impl<'m> From<&'m BorrowedMessage<'_>> for MessageView<'m> {
    fn from(msg: &'m BorrowedMessage<'_>) -> Self {
        MessageView {
            // SAFETY: a `BorrowedMessage` always wraps a non-null message
            // (rust-rdkafka keeps it in a `NonNull`).
            ptr: unsafe { NonNull::new_unchecked(msg.ptr()) },
            _life: PhantomData,
        }
    }
}

impl<'m> MessageView<'m> {
    fn raw(&self) -> &'m rd::rd_kafka_message_t {
        // SAFETY: `ptr` is a message librdkafka handed out, alive and not
        // changed by librdkafka until it is destroyed, which happens only
        // after 'm ends (the `BorrowedMessage` or `Batch` it came from).
        unsafe { self.ptr.as_ref() }
    }

    /// The error this "message" carries instead of data (end of partition,
    /// a fetch error), if any.
    #[must_use]
    pub fn error(&self) -> Option<rd::rd_kafka_resp_err_t> {
        let err = self.raw().err;
        (err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR).then_some(err)
    }

    #[must_use]
    pub fn partition(&self) -> i32 {
        self.raw().partition
    }

    #[must_use]
    pub fn offset(&self) -> i64 {
        self.raw().offset
    }

    #[must_use]
    pub fn key(&self) -> Option<&'m [u8]> {
        let m = self.raw();
        // SAFETY: `key_len` bytes at `key`, owned by the message for 'm.
        (!m.key.is_null())
            .then(|| unsafe { std::slice::from_raw_parts(m.key.cast::<u8>(), m.key_len) })
    }

    #[must_use]
    pub fn payload(&self) -> Option<&'m [u8]> {
        let m = self.raw();
        // SAFETY: `len` bytes at `payload`, owned by the message for 'm.
        (!m.payload.is_null())
            .then(|| unsafe { std::slice::from_raw_parts(m.payload.cast::<u8>(), m.len) })
    }

    /// The timestamp and its type, as rust-rdkafka's `Message::timestamp`.
    #[must_use]
    pub fn timestamp(&self) -> (Option<i64>, TimestampType) {
        let mut kind = rd::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
        // SAFETY: a live message; librdkafka only reads it.
        let t = unsafe { rd::rd_kafka_message_timestamp(self.ptr.as_ptr(), &raw mut kind) };
        if t == -1 {
            return (None, TimestampType::NotAvailable);
        }
        match kind {
            rd::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_NOT_AVAILABLE => {
                (None, TimestampType::NotAvailable)
            }
            rd::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_CREATE_TIME => {
                (Some(t), TimestampType::CreateTime)
            }
            rd::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME => {
                (Some(t), TimestampType::LogAppendTime)
            }
        }
    }
}

/// Call `f(name, value)` for every header of the message, in order.
pub fn for_each_header<'m>(
    msg: impl Into<MessageView<'m>>,
    mut f: impl FnMut(&'m [u8], Option<&'m [u8]>),
) {
    let msg: MessageView<'m> = msg.into();
    let mut hdrs: *mut rd::rd_kafka_headers_t = std::ptr::null_mut();
    // SAFETY: the message pointer is live for 'm; the headers belong to it
    // (librdkafka parses them on first use into the message's own storage).
    let err = unsafe { rd::rd_kafka_message_headers(msg.ptr.as_ptr(), &raw mut hdrs) };
    if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR || hdrs.is_null() {
        return;
    }
    // SAFETY: as above.
    let count = unsafe { rd::rd_kafka_header_cnt(hdrs) };
    for idx in 0..count {
        let mut name: *const std::os::raw::c_char = std::ptr::null();
        let mut value: *const std::os::raw::c_void = std::ptr::null();
        let mut size = 0usize;
        // SAFETY: idx < count; the returned pointers live as long as the message.
        let err = unsafe {
            rd::rd_kafka_header_get_all(hdrs, idx, &raw mut name, &raw mut value, &raw mut size)
        };
        if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR || name.is_null() {
            continue;
        }
        // SAFETY: librdkafka NUL-terminates header names.
        let name: &'m [u8] = unsafe { CStr::from_ptr(name) }.to_bytes();
        let value: Option<&'m [u8]> = if value.is_null() {
            None
        } else {
            // SAFETY: `size` bytes at `value`, owned by the message.
            Some(unsafe { std::slice::from_raw_parts(value.cast::<u8>(), size) })
        };
        f(name, value);
    }
}

/// Header names are UTF-8 strings in the protocol; a name that is not is
/// kept readable with its invalid bytes spelled `\xNN`.
#[must_use]
pub fn header_name(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => {
            let mut out = String::with_capacity(b.len() + 8);
            for chunk in b.utf8_chunks() {
                out.push_str(chunk.valid());
                for byte in chunk.invalid() {
                    let _ = write!(out, "\\x{byte:02x}");
                }
            }
            Cow::Owned(out)
        }
    }
}

#[must_use]
pub fn timestamp_of(msg: &BorrowedMessage<'_>) -> (Option<i64>, TimestampType) {
    match msg.timestamp() {
        rdkafka::Timestamp::NotAvailable => (None, TimestampType::NotAvailable),
        rdkafka::Timestamp::CreateTime(t) => (Some(t), TimestampType::CreateTime),
        rdkafka::Timestamp::LogAppendTime(t) => (Some(t), TimestampType::LogAppendTime),
    }
}

/// Copy a consumed message into an owned record.
#[must_use]
pub fn to_record(msg: &BorrowedMessage<'_>, topic: &Arc<str>) -> Record {
    let (timestamp, timestamp_type) = timestamp_of(msg);
    let mut headers = Vec::new();
    for_each_header(msg, |name, value| {
        headers.push(Header {
            name: header_name(name).into_owned(),
            value: value.map(<[u8]>::to_vec),
        });
    });
    Record {
        topic: Arc::clone(topic),
        partition: msg.partition(),
        offset: msg.offset(),
        timestamp,
        timestamp_type,
        key: msg.key().map(<[u8]>::to_vec),
        value: msg.payload().map(<[u8]>::to_vec),
        headers,
    }
}

/// Why a fetch queue or a topic handle could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("topic name contains NUL")]
    TopicNul,
    #[error("cannot create a fetch queue")]
    NoQueue,
    #[error("no fetch queue for partition {0}")]
    NoPartitionQueue(i32),
    #[error("no producer handle")]
    NoProducer,
    /// The topic's name, escaped for a terminal.
    #[error("cannot open topic {0}")]
    OpenTopic(String),
}

/// A queue that the fetch queues of some partitions are forwarded to, read
/// in batches. Messages of those partitions (and their end-of-partition and
/// fetch errors) arrive here, no longer on the consumer's own queue, which
/// keeps logs and client errors: poll the consumer now and then for those.
pub struct FetchQueue<'c> {
    queue: NonNull<rd::rd_kafka_queue_t>,
    partitions: Vec<NonNull<rd::rd_kafka_queue_t>>,
    slots: Vec<*mut rd::rd_kafka_message_t>,
    _consumer: PhantomData<&'c ()>,
}

impl<'c> FetchQueue<'c> {
    /// Forward the fetch queues of `topic`'s `partitions` to a new queue,
    /// read up to `batch` messages at a time. Call before `assign`.
    pub fn new<C: ConsumerContext>(
        consumer: &'c BaseConsumer<C>,
        topic: &str,
        partitions: impl IntoIterator<Item = i32>,
        batch: usize,
    ) -> Result<Self, MessageError> {
        let rk = consumer.client().native_ptr();
        let name = CString::new(topic).map_err(|_| MessageError::TopicNul)?;
        // SAFETY: `rk` is the consumer's live handle; it outlives 'c, and
        // so this queue (the `PhantomData` borrow).
        let queue =
            NonNull::new(unsafe { rd::rd_kafka_queue_new(rk) }).ok_or(MessageError::NoQueue)?;
        let mut fq = FetchQueue {
            queue,
            partitions: Vec::new(),
            slots: Vec::with_capacity(batch.max(1)),
            _consumer: PhantomData,
        };
        for p in partitions {
            // SAFETY: live handle and a NUL-terminated name; the result is a
            // new reference to the partition's fetch queue (released in Drop).
            let pq =
                NonNull::new(unsafe { rd::rd_kafka_queue_get_partition(rk, name.as_ptr(), p) })
                    .ok_or(MessageError::NoPartitionQueue(p))?;
            fq.partitions.push(pq);
            // SAFETY: both queues are live; forwarding takes its own reference
            // to the destination.
            unsafe { rd::rd_kafka_queue_forward(pq.as_ptr(), fq.queue.as_ptr()) };
        }
        Ok(fq)
    }

    /// Wait up to `wait` for a first message, then take whatever else is
    /// queued (up to the batch size) without waiting further.
    pub fn poll_batch(&mut self, wait: Duration) -> Batch<'_> {
        self.slots.clear();
        let cap = self.slots.capacity();
        let mut n = self.take(0, cap, 0);
        if n == 0 && !wait.is_zero() {
            let ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX).max(1);
            n = self.take(0, 1, ms);
            if n == 1 {
                n += self.take(1, cap - 1, 0);
            }
        }
        // SAFETY: librdkafka wrote `n` message pointers into the first `n`
        // slots (all within the capacity); each is ours until destroyed.
        unsafe { self.slots.set_len(n) };
        Batch {
            slots: &mut self.slots,
            next: 0,
        }
    }

    /// `rd_kafka_consume_batch_queue` into slots `from..from + max`.
    fn take(&mut self, from: usize, max: usize, timeout_ms: i32) -> usize {
        if max == 0 {
            return 0;
        }
        // SAFETY: the queue is live; the pointer addresses `max` writable
        // slots inside the vector's capacity (from + max <= capacity).
        let got = unsafe {
            rd::rd_kafka_consume_batch_queue(
                self.queue.as_ptr(),
                timeout_ms,
                self.slots.as_mut_ptr().add(from),
                max,
            )
        };
        usize::try_from(got).unwrap_or(0).min(max)
    }
}

impl Drop for FetchQueue<'_> {
    fn drop(&mut self) {
        for pq in self.partitions.drain(..) {
            // SAFETY: our reference to a partition's fetch queue: stop
            // forwarding to the queue about to go, then release it.
            unsafe {
                rd::rd_kafka_queue_forward(pq.as_ptr(), std::ptr::null_mut());
                rd::rd_kafka_queue_destroy(pq.as_ptr());
            }
        }
        // SAFETY: we own this queue; what is still in it is purged. The
        // consumer is still alive (it is borrowed for 'c).
        unsafe { rd::rd_kafka_queue_destroy(self.queue.as_ptr()) };
    }
}

/// Messages taken from a [`FetchQueue`]. [`Batch::drain`] destroys each
/// right after it has been handled; whatever is left when the batch is
/// dropped is destroyed then.
pub struct Batch<'q> {
    slots: &'q mut Vec<*mut rd::rd_kafka_message_t>,
    /// Slots before this one are destroyed already.
    next: usize,
}

impl Batch<'_> {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Hand the messages to `f` in order, destroying each as soon as `f`
    /// returns, so that what librdkafka allocated for it (the parsed
    /// headers) goes back to the allocator while it is still at hand. Stops
    /// early when `f` returns `false`.
    pub fn drain(&mut self, mut f: impl FnMut(MessageView<'_>) -> bool) {
        while let Some(&p) = self.slots.get(self.next) {
            self.next += 1;
            let Some(ptr) = NonNull::new(p) else {
                continue;
            };
            let go_on = f(MessageView {
                ptr,
                _life: PhantomData,
            });
            // SAFETY: a message from rd_kafka_consume_batch_queue, destroyed
            // exactly once (`next` has moved past it); the view given to `f`
            // could not outlive the call.
            unsafe { rd::rd_kafka_message_destroy(p) };
            if !go_on {
                return;
            }
        }
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        for &p in self.slots.get(self.next..).unwrap_or_default() {
            if !p.is_null() {
                // SAFETY: the messages `drain` did not reach, each destroyed
                // once, here.
                unsafe { rd::rd_kafka_message_destroy(p) };
            }
        }
        self.slots.clear();
    }
}

/// A producer's handle on one topic. Messages go out as with
/// `BaseProducer::send` (copied, partition unassigned unless given,
/// timestamp "now" unless given), minus the per-message topic lookup.
pub struct TopicProducer<'p> {
    rk: NonNull<rd::rd_kafka_t>,
    rkt: NonNull<rd::rd_kafka_topic_t>,
    _producer: PhantomData<&'p ()>,
}

impl<'p> TopicProducer<'p> {
    pub fn new<C: ProducerContext>(
        producer: &'p BaseProducer<C>,
        topic: &str,
    ) -> Result<Self, MessageError> {
        let name = CString::new(topic).map_err(|_| MessageError::TopicNul)?;
        let rk = NonNull::new(producer.client().native_ptr()).ok_or(MessageError::NoProducer)?;
        // SAFETY: the producer's live handle (it outlives 'p, and so this
        // handle) and a NUL-terminated name; NULL asks for the default
        // topic configuration, as a send by name does.
        let rkt = NonNull::new(unsafe {
            rd::rd_kafka_topic_new(rk.as_ptr(), name.as_ptr(), std::ptr::null_mut())
        })
        .ok_or_else(|| MessageError::OpenTopic(crate::sanitize::escape(topic).into_owned()))?;
        Ok(TopicProducer {
            rk,
            rkt,
            _producer: PhantomData,
        })
    }

    /// Queue one message; librdkafka copies everything it needs.
    pub fn send(
        &self,
        partition: Option<i32>,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header],
        timestamp: Option<i64>,
    ) -> Result<(), RDKafkaErrorCode> {
        self.send_with(
            partition,
            key,
            value,
            headers
                .iter()
                .map(|h| (h.name.as_bytes(), h.value.as_deref())),
            timestamp,
            0,
        )
    }

    /// Queue one message with headers given as raw names and values (in
    /// order; a `None` value is a null header) and a delivery `opaque`
    /// that the producer context's delivery callback receives back.
    pub fn send_with<'h>(
        &self,
        partition: Option<i32>,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: impl ExactSizeIterator<Item = (&'h [u8], Option<&'h [u8]>)>,
        timestamp: Option<i64>,
        opaque: usize,
    ) -> Result<(), RDKafkaErrorCode> {
        use rd::rd_kafka_vtype_t as V;
        let vu = |vtype, u| rd::rd_kafka_vu_t { vtype, u };
        let mem = |b: Option<&[u8]>| rd::rd_kafka_vu_s__bindgen_ty_1 {
            mem: rd::rd_kafka_vu_s__bindgen_ty_1__bindgen_ty_1 {
                ptr: b.map_or(std::ptr::null_mut(), |b| b.as_ptr().cast_mut().cast()),
                size: b.map_or(0, <[u8]>::len),
            },
        };
        let hdrs = header_list(headers);
        let vus = [
            vu(
                V::RD_KAFKA_VTYPE_RKT,
                rd::rd_kafka_vu_s__bindgen_ty_1 {
                    rkt: self.rkt.as_ptr(),
                },
            ),
            vu(
                V::RD_KAFKA_VTYPE_PARTITION,
                rd::rd_kafka_vu_s__bindgen_ty_1 {
                    i32_: partition.unwrap_or(-1),
                },
            ),
            vu(
                V::RD_KAFKA_VTYPE_MSGFLAGS,
                rd::rd_kafka_vu_s__bindgen_ty_1 {
                    i: rd::RD_KAFKA_MSG_F_COPY,
                },
            ),
            vu(V::RD_KAFKA_VTYPE_VALUE, mem(value)),
            vu(V::RD_KAFKA_VTYPE_KEY, mem(key)),
            vu(
                V::RD_KAFKA_VTYPE_TIMESTAMP,
                rd::rd_kafka_vu_s__bindgen_ty_1 {
                    i64_: timestamp.unwrap_or(0),
                },
            ),
            vu(
                V::RD_KAFKA_VTYPE_OPAQUE,
                rd::rd_kafka_vu_s__bindgen_ty_1 {
                    ptr: opaque as *mut std::os::raw::c_void,
                },
            ),
            vu(
                V::RD_KAFKA_VTYPE_HEADERS,
                rd::rd_kafka_vu_s__bindgen_ty_1 { headers: hdrs },
            ),
        ];
        let n = if hdrs.is_null() {
            vus.len() - 1
        } else {
            vus.len()
        };
        // SAFETY: a live handle and `n` initialised entries; with F_COPY
        // librdkafka copies key and value before returning; on success it
        // owns `hdrs`. The opaque is an integer handed back untouched.
        let err = unsafe { rd::rd_kafka_produceva(self.rk.as_ptr(), vus.as_ptr(), n) };
        if err.is_null() {
            return Ok(());
        }
        // SAFETY: on failure the error is ours to read and free, and the
        // headers stay ours.
        let code = unsafe {
            let code = rd::rd_kafka_error_code(err);
            rd::rd_kafka_error_destroy(err);
            if !hdrs.is_null() {
                rd::rd_kafka_headers_destroy(hdrs);
            }
            code
        };
        Err(RDKafkaErrorCode::from(code))
    }
}

/// A librdkafka header list of `headers` (null when there are none), ours
/// until `rd_kafka_produceva` takes it.
fn header_list<'h>(
    headers: impl ExactSizeIterator<Item = (&'h [u8], Option<&'h [u8]>)>,
) -> *mut rd::rd_kafka_headers_t {
    if headers.len() == 0 {
        return std::ptr::null_mut();
    }
    // SAFETY: a new, empty list we own until librdkafka takes it.
    let hdrs = unsafe { rd::rd_kafka_headers_new(headers.len()) };
    for (name, value) in headers {
        let (v, vlen) = value.map_or((std::ptr::null(), 0), |v| (v.as_ptr(), v.len()));
        // SAFETY: name and value are read for the given lengths and
        // copied into the list (a null value is a null header).
        unsafe {
            rd::rd_kafka_header_add(
                hdrs,
                name.as_ptr().cast(),
                isize::try_from(name.len()).unwrap_or(isize::MAX),
                v.cast(),
                isize::try_from(vlen).unwrap_or(isize::MAX),
            );
        }
    }
    hdrs
}

impl Drop for TopicProducer<'_> {
    fn drop(&mut self) {
        // SAFETY: our reference to the topic; queued messages keep their own.
        unsafe { rd::rd_kafka_topic_destroy(self.rkt.as_ptr()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_header_names_are_spelled_out() {
        assert_eq!(header_name(b"trace-id"), "trace-id");
        assert_eq!(header_name(b"a\xffb"), "a\\xffb");
    }
}
