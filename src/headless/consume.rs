//! `consume`: a tight loop writing JSON Lines or text. Messages are taken
//! from librdkafka in batches (`kafka::message::FetchQueue`), formatted
//! straight from librdkafka's buffers into one output buffer, and written
//! in large chunks.

use super::decoded::RecordDecoder;
use super::{out_err, stop_flag};
use crate::cli::ConsumeFormat;
use crate::config::ClusterProfile;
use crate::filter::{Filter, MsgView};
use crate::jsonl::{self, RecordRef, is_terminal_clean, push_int};
use crate::kafka::client::{self, KtClient, KtContext, explain};
use crate::kafka::defaults::CONSUMER_DEFAULTS;
use crate::kafka::message::{FetchQueue, MessageView, for_each_header, header_name};
use crate::sanitize;
use crate::timeutil::{self, StartAt};
use crate::worker::protocol::BrowseSpec;
use crate::worker::{self};
use anyhow::{Result, anyhow};
use rdkafka::Offset;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use smallvec::SmallVec;
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Messages taken from librdkafka at a time.
const BATCH: usize = 1024;
/// Output is written once this much is buffered, and whenever no message
/// is waiting (so a live tail shows up at once).
const OUT_CHUNK: usize = 256 * 1024;
/// How long one wait for messages may block (the stop flag is checked
/// between waits).
const WAIT: Duration = Duration::from_millis(100);

/// One line of `consume --format text`: `partition/offset time key=KEY VALUE`
/// then ` | name=value` per header, every field escaped for the terminal.
pub fn write_text<'a, H>(out: &mut String, r: RecordRef<'a, H>)
where
    H: Iterator<Item = (&'a str, Option<&'a [u8]>)>,
{
    jsonl::append_utf8(out, |v| TextWriter::default().write(v, r));
}

/// Writes `consume --format text` lines. It keeps the date and time of the
/// last second it formatted, so a run of messages from the same second
/// (the common case) formats the calendar date once.
#[derive(Default)]
struct TextWriter {
    /// The second of `ts_prefix` (ms since the epoch, divided by 1000).
    ts_second: Option<i64>,
    /// `timeutil::format_ts(second * 1000, true)` without its `000Z`, or
    /// empty when that time does not end in `.000Z`.
    ts_prefix: String,
}

impl TextWriter {
    /// Append one line. Everything written is UTF-8.
    fn write<'a, H>(&mut self, out: &mut Vec<u8>, r: RecordRef<'a, H>)
    where
        H: Iterator<Item = (&'a str, Option<&'a [u8]>)>,
    {
        push_int(out, r.partition);
        out.push(b'/');
        push_int(out, r.offset);
        out.push(b' ');
        match r.timestamp {
            Some(t) => self.push_time(out, t),
            None => out.push(b'-'),
        }
        out.extend_from_slice(b" key=");
        push_text(out, r.key);
        out.push(b' ');
        push_text(out, r.value);
        for (name, value) in r.headers {
            out.extend_from_slice(b" | ");
            if is_terminal_clean(name.as_bytes()) {
                out.extend_from_slice(name.as_bytes());
            } else {
                out.extend_from_slice(sanitize::escape(name).as_bytes());
            }
            out.push(b'=');
            push_text(out, value);
        }
        out.push(b'\n');
    }

    /// `timeutil::format_ts(t, true)`, from the cached second when it can.
    fn push_time(&mut self, out: &mut Vec<u8>, t: i64) {
        let second = t.div_euclid(1000);
        if self.ts_second != Some(second) {
            self.ts_second = Some(second);
            self.ts_prefix.clear();
            if let Some(whole) = second.checked_mul(1000) {
                let s = timeutil::format_ts(whole, true);
                if let Some(p) = s.strip_suffix("000Z").filter(|p| p.ends_with('.')) {
                    self.ts_prefix.push_str(p);
                }
            }
        }
        if self.ts_prefix.is_empty() {
            out.extend_from_slice(timeutil::format_ts(t, true).as_bytes());
            return;
        }
        out.extend_from_slice(self.ts_prefix.as_bytes());
        // 1000..=1999: the milliseconds, zero-padded to 3 digits after the 1.
        let mut digits = itoa::Buffer::new();
        out.extend_from_slice(&digits.format(1000 + t.rem_euclid(1000)).as_bytes()[1..]);
        out.push(b'Z');
    }
}

/// Key, value or header value as terminal-safe text (`null` when absent):
/// [`sanitize::escape_bytes`], without a copy when nothing needs escaping.
fn push_text(out: &mut Vec<u8>, b: Option<&[u8]>) {
    match b {
        None => out.extend_from_slice(b"null"),
        Some(b) if is_terminal_clean(b) => out.extend_from_slice(b),
        Some(b) => out.extend_from_slice(sanitize::escape_bytes(b).as_bytes()),
    }
}

pub struct ConsumeArgs {
    pub topic: String,
    pub from: String,
    pub partitions: Vec<i32>,
    pub count: Option<u64>,
    pub exit_at_end: bool,
    pub filter: Option<String>,
    pub format: ConsumeFormat,
    /// Add decoded keys and values (see `decoded::RecordDecoder`).
    pub decode: bool,
    pub isolation: crate::model::Isolation,
}

pub async fn consume(profile: ClusterProfile, args: ConsumeArgs) -> Result<()> {
    let start = StartAt::parse(&args.from, timeutil::now_ms())?;
    let filter = args
        .filter
        .as_deref()
        .map(|f| Filter::parse(f, timeutil::now_ms()))
        .transpose()
        .map_err(|e| anyhow!("--filter: {e}"))?;
    let stop = stop_flag();
    tokio::task::spawn_blocking(move || {
        consume_blocking(&profile, &args, start, filter.as_ref(), &stop)
    })
    .await
    .map_err(|e| anyhow!("consume task failed: {e}"))?
}

/// Where consumed records go: the filter, the formatter, the output buffer.
struct Sink<'a> {
    args: &'a ConsumeArgs,
    filter: Option<&'a Filter>,
    text: TextWriter,
    /// With `--decode`: the decoder, and the line it writes (as a `String`)
    /// before it joins `buf`.
    decoder: Option<RecordDecoder>,
    decoded_line: String,
    /// Output waiting to be written; only ever UTF-8.
    buf: Vec<u8>,
    out: io::StdoutLock<'static>,
    written: u64,
    remaining_partitions: BTreeSet<i32>,
    last_error: Option<(Instant, String)>,
}

/// Header names and values of one message; the names borrowed unless they
/// are not UTF-8. Up to 4 headers without an allocation.
type HeaderList<'m> = SmallVec<[(Cow<'m, str>, Option<&'m [u8]>); 4]>;

impl Sink<'_> {
    /// Is the work done (count reached, or every partition at its end)?
    fn done(&self) -> bool {
        self.args.count.is_some_and(|c| self.written >= c)
            || (self.args.exit_at_end && self.remaining_partitions.is_empty())
    }

    /// One message (or end-of-partition / error notice) from librdkafka.
    fn message(&mut self, msg: MessageView<'_>) {
        if let Some(err) = msg.error() {
            let code = RDKafkaErrorCode::from(err);
            if code == RDKafkaErrorCode::PartitionEOF {
                self.remaining_partitions.remove(&msg.partition());
            } else {
                self.report(&explain(&KafkaError::MessageConsumption(code)));
            }
            return;
        }
        let mut headers = HeaderList::new();
        for_each_header(msg, |n, v| headers.push((header_name(n), v)));
        let (timestamp, timestamp_type) = msg.timestamp();
        if let Some(f) = self.filter {
            let view = MsgView {
                topic: &self.args.topic,
                partition: msg.partition(),
                offset: msg.offset(),
                timestamp,
                key: msg.key(),
                value: msg.payload(),
                headers: headers.iter().map(|(n, v)| (n.as_ref(), *v)).collect(),
            };
            if !f.matches(&view) {
                return;
            }
        }
        let record = RecordRef {
            topic: &self.args.topic,
            partition: msg.partition(),
            offset: msg.offset(),
            timestamp,
            timestamp_type,
            key: msg.key(),
            value: msg.payload(),
            headers: headers.iter().map(|(n, v)| (n.as_ref(), *v)),
        };
        match (&self.decoder, self.args.format) {
            (Some(d), format) => {
                self.decoded_line.clear();
                d.write(&mut self.decoded_line, format, record);
                self.buf.extend_from_slice(self.decoded_line.as_bytes());
            }
            (None, ConsumeFormat::Jsonl) => jsonl::write_record_bytes(&mut self.buf, record),
            (None, ConsumeFormat::Text) => self.text.write(&mut self.buf, record),
        }
        self.written += 1;
    }

    /// Report each distinct error once in a while, and keep trying.
    fn report(&mut self, why: &str) {
        if self
            .last_error
            .as_ref()
            .is_none_or(|(t, m)| m != why || t.elapsed() > Duration::from_secs(10))
        {
            crate::eline!("kafkaterm: {why}; retrying");
            self.last_error = Some((Instant::now(), why.to_string()));
        }
    }

    /// Write what is buffered (all of it with `force`, else once it is a
    /// chunk). A closed pipe ends the run quietly: `Ok(false)`.
    fn flush(&mut self, force: bool) -> Result<bool> {
        if self.buf.is_empty() || (!force && self.buf.len() < OUT_CHUNK) {
            return Ok(true);
        }
        let res = self
            .out
            .write_all(&self.buf)
            .and_then(|()| self.out.flush());
        self.buf.clear();
        match res {
            Ok(()) => Ok(true),
            Err(e) => out_err(&e).map(|()| false),
        }
    }
}

fn consume_blocking(
    profile: &ClusterProfile,
    args: &ConsumeArgs,
    start: StartAt,
    filter: Option<&Filter>,
    stop: &AtomicBool,
) -> Result<()> {
    let group = format!("kafkaterm-consume-{}", std::process::id());
    let cfg = client::client_config(
        profile,
        "consume",
        &CONSUMER_DEFAULTS,
        &[
            ("group.id", &group),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            (
                "enable.partition.eof",
                if args.exit_at_end { "true" } else { "false" },
            ),
            ("auto.offset.reset", "earliest"),
            ("isolation.level", args.isolation.as_str()),
        ],
    );
    let decoder = args
        .decode
        .then(|| RecordDecoder::new(profile, &args.topic))
        .transpose()?;
    let consumer: KtClient<BaseConsumer<KtContext>> = client::create(&cfg, KtContext::default())?;
    let spec = BrowseSpec {
        topic: args.topic.clone(),
        partitions: (!args.partitions.is_empty()).then(|| args.partitions.clone()),
        start,
        isolation: args.isolation,
        positions: Vec::new(),
    };
    let starts = worker::browse::resolve_starts(&consumer, &spec).map_err(|e| anyhow!("{e}"))?;
    let tpl = worker::offsets::tpl_with(
        starts
            .iter()
            .map(|s| (args.topic.as_str(), s.partition, Offset::Offset(s.start))),
    )
    .map_err(|e| anyhow!(e))?;
    // The partitions' messages go to `queue`; the consumer's own queue keeps
    // logs and client errors, served by `consumer.poll` below.
    let mut queue = FetchQueue::new(
        &consumer,
        &args.topic,
        starts.iter().map(|s| s.partition),
        BATCH,
    )
    .map_err(|e| anyhow!(e))?;
    consumer.assign(&tpl).map_err(|e| anyhow!(explain(&e)))?;
    let mut sink = Sink {
        args,
        filter,
        text: TextWriter::default(),
        decoder,
        decoded_line: String::new(),
        buf: Vec::with_capacity(OUT_CHUNK + (64 << 10)),
        out: io::stdout().lock(),
        written: 0,
        remaining_partitions: starts.iter().map(|s| s.partition).collect(),
        last_error: None,
    };
    while !stop.load(Ordering::Relaxed) && !sink.done() {
        // Logs and client errors (and, should one arrive there, a message).
        match consumer.poll(Duration::ZERO) {
            None => {}
            Some(Ok(m)) => sink.message(MessageView::from(&m)),
            Some(Err(KafkaError::PartitionEOF(p))) => {
                sink.remaining_partitions.remove(&p);
            }
            Some(Err(e)) => sink.report(&explain(&e)),
        }
        let mut batch = queue.poll_batch(Duration::ZERO);
        if batch.is_empty() {
            drop(batch);
            // Nothing waiting: show what we have, then wait.
            if !sink.flush(true)? {
                return Ok(());
            }
            batch = queue.poll_batch(WAIT);
        }
        batch.drain(|msg| {
            if sink.done() {
                return false;
            }
            sink.message(msg);
            true
        });
        drop(batch);
        if !sink.flush(false)? {
            return Ok(());
        }
    }
    sink.flush(true)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Header, Record, TimestampType};
    use proptest::prelude::*;

    /// `write_text` as it was before the fast path, to pin the output.
    fn reference<'a, H>(out: &mut String, r: RecordRef<'a, H>)
    where
        H: Iterator<Item = (&'a str, Option<&'a [u8]>)>,
    {
        use std::fmt::Write as _;
        let null = || Cow::Borrowed("null");
        let _ = write!(
            out,
            "{}/{} {} key={} ",
            r.partition,
            r.offset,
            r.timestamp
                .map_or("-".into(), |t| timeutil::format_ts(t, true)),
            r.key.map_or_else(null, sanitize::escape_bytes)
        );
        out.push_str(&r.value.map_or_else(null, sanitize::escape_bytes));
        for (n, v) in r.headers {
            let _ = write!(
                out,
                " | {}={}",
                sanitize::escape(n),
                v.map_or_else(null, sanitize::escape_bytes)
            );
        }
        out.push('\n');
    }

    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                4 => proptest::char::range(' ', '~'),
                1 => proptest::char::range('\0', '\u{a0}'),
                1 => proptest::sample::select(vec![
                    '\u{ad}', '\u{200b}', '\u{202e}', '\u{2028}', '\u{feff}', '\u{e0041}', 'é',
                    '日', '\u{1f600}',
                ]),
                1 => any::<char>(),
            ],
            0..40,
        )
        .prop_map(|cs| cs.into_iter().collect())
    }

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            text().prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), 0..32),
        ]
    }

    fn timestamp() -> impl Strategy<Value = Option<i64>> {
        proptest::option::of(prop_oneof![
            // Runs within a second and across second boundaries.
            1_700_000_000_000i64..1_700_000_003_000,
            -3_000i64..3_000,
            any::<i64>(),
            Just(i64::MIN),
            Just(i64::MAX),
        ])
    }

    fn record() -> impl Strategy<Value = Record> {
        (
            any::<i32>(),
            any::<i64>(),
            timestamp(),
            proptest::option::of(bytes()),
            proptest::option::of(bytes()),
            proptest::collection::vec((text(), proptest::option::of(bytes())), 0..3),
        )
            .prop_map(|(partition, offset, timestamp, key, value, hs)| Record {
                topic: "t".into(),
                partition,
                offset,
                timestamp,
                timestamp_type: TimestampType::CreateTime,
                key,
                value,
                headers: hs
                    .into_iter()
                    .map(|(name, value)| Header { name, value })
                    .collect(),
            })
    }

    proptest! {
        #[test]
        fn text_lines_match_the_reference(records in proptest::collection::vec(record(), 1..24)) {
            // One writer for the whole run, so its cached second is reused.
            let mut w = TextWriter::default();
            for r in &records {
                let mut fast = Vec::new();
                w.write(&mut fast, jsonl::view(r));
                let mut slow = String::new();
                reference(&mut slow, jsonl::view(r));
                prop_assert_eq!(&String::from_utf8(fast).unwrap(), &slow);
                let mut one = String::new();
                write_text(&mut one, jsonl::view(r));
                prop_assert_eq!(one, slow);
            }
        }
    }

    #[test]
    fn cached_time_matches_format_ts() {
        let mut w = TextWriter::default();
        for t in [
            0,
            999,
            1000,
            -1,
            -999,
            -1000,
            -1001,
            1_700_000_000_123,
            1_700_000_000_999,
            1_700_000_001_000,
            253_402_300_799_999, // 9999-12-31T23:59:59.999Z
            253_402_300_800_000, // year 10000
            8_210_266_876_799_999,
            8_210_266_876_800_000, // beyond chrono's range
            -8_334_601_228_800_001,
            i64::MIN,
            i64::MAX,
        ] {
            let mut out = Vec::new();
            w.push_time(&mut out, t);
            assert_eq!(out, timeutil::format_ts(t, true).as_bytes(), "at {t}");
        }
    }
}
