//! Reading consumed messages safely. rust-rdkafka's header accessor panics on
//! a header name that is not UTF-8; hostile input must not crash the
//! console, so headers are read through librdkafka directly here.

use std::borrow::Cow;
use std::ffi::CStr;
use std::fmt::Write as _;
use std::sync::Arc;

use rdkafka::Message;
use rdkafka::bindings as rd;
use rdkafka::message::BorrowedMessage;

use crate::model::{Header, Record, TimestampType};

/// Call `f(name, value)` for every header of the message, in order.
pub fn for_each_header<'m>(
    msg: &'m BorrowedMessage<'_>,
    mut f: impl FnMut(&'m [u8], Option<&'m [u8]>),
) {
    let mut hdrs: *mut rd::rd_kafka_headers_t = std::ptr::null_mut();
    // SAFETY: the message pointer is live for 'm; the headers belong to it.
    let err = unsafe { rd::rd_kafka_message_headers(msg.ptr(), &raw mut hdrs) };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_header_names_are_spelled_out() {
        assert_eq!(header_name(b"trace-id"), "trace-id");
        assert_eq!(header_name(b"a\xffb"), "a\\xffb");
    }
}
