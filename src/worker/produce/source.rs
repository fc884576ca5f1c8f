//! The messages of a batch, made one at a time so a million-line file or
//! template never sits in memory whole, and the registry schemas a
//! template's `schema` encodings are encoded with.

use std::sync::Arc;

use crate::model::ProduceRequest;
use crate::worker::Inner;
use crate::worker::error::{ErrorKind, WorkerError};
use crate::worker::protocol::BatchSource;

/// The registry schemas a template's `schema` encodings use: the subjects
/// chosen (the topic's `TOPIC-key` / `TOPIC-value` by default) at the chosen
/// version or id, fetched once per batch before anything is sent.
#[derive(Default)]
pub(super) struct TemplateSchemas {
    key: Option<(String, crate::registry::SubjectSchema)>,
    value: Option<(String, crate::registry::SubjectSchema)>,
}

impl TemplateSchemas {
    fn fetch(inner: &Inner, t: &crate::template::MessageTemplate) -> Result<Self, WorkerError> {
        use crate::template::{Encoding, SchemaChoice};
        let want = |e: Encoding| e == Encoding::Schema;
        if !want(t.key_encoding) && !want(t.value_encoding) {
            return Ok(Self::default());
        }
        let client = inner.registry.get().map_err(WorkerError::from)?;
        let fetch = |suffix: &str,
                     choice: &SchemaChoice|
         -> Result<(String, crate::registry::SubjectSchema), WorkerError> {
            let subject = choice
                .subject
                .clone()
                .unwrap_or_else(|| format!("{}-{suffix}", t.topic));
            let named = match choice.selector {
                crate::registry::SchemaSelector::Id(id) => format!("schema id {id}"),
                _ => format!("subject {subject}"),
            };
            client
                .schema_for(Some(&subject), choice.selector)
                .map(|s| (named.clone(), s))
                .map_err(|e| WorkerError::from(e).context(&format!("schema of {named}")))
        };
        Ok(Self {
            key: want(t.key_encoding)
                .then(|| fetch("key", &t.key_schema))
                .transpose()?,
            value: want(t.value_encoding)
                .then(|| fetch("value", &t.value_schema))
                .transpose()?,
        })
    }

    /// Encode the rendered JSON of key and value for their subjects.
    pub(super) fn apply(&self, req: &mut ProduceRequest) -> Result<(), WorkerError> {
        for (which, field, name) in [
            (&self.key, &mut req.key, "key"),
            (&self.value, &mut req.value, "value"),
        ] {
            let (Some((subject, s)), Some(bytes)) = (which, field.as_mut()) else {
                continue;
            };
            if bytes.is_empty() {
                return Err(crate::werr!(
                    "{name}: nothing typed, and the schema of {subject} needs a JSON value"
                ));
            }
            let json: serde_json::Value = serde_json::from_slice(bytes)
                .map_err(|e| crate::werr!("{name} is not JSON: {e}"))?;
            *bytes = crate::decode::encode_json(&s.schema, &json, None).map_err(|e| {
                crate::werr!(
                    "{name} does not fit {subject}{}: {e}",
                    s.version.map_or_else(String::new, |v| format!(" v{v}"))
                )
            })?;
        }
        Ok(())
    }
}

/// Messages of a batch, produced lazily so a million-line file or template
/// never sits in memory whole.
pub(super) enum Source {
    Template(crate::template::MessageTemplate, u64, u64),
    File(FileLines, String, u64),
    Messages(std::vec::IntoIter<ProduceRequest>),
}

/// Bytes read per chunk by a file's reading thread (whole lines: a line
/// longer than this makes its chunk longer).
const CHUNK_BYTES: usize = 256 * 1024;
/// Chunks read ahead of the sending: the reader waits when they are taken.
const CHUNKS_AHEAD: usize = 4;

/// A file's lines, read by a thread of its own (file reads block; the
/// sending side is async) a few chunks ahead of the sending. Chunks are
/// whole lines of bytes, cut into lines here (no allocation per line); a
/// line that is not UTF-8 is an error for that line only. The thread ends
/// at the end of the file, at a read error (sent as the last item), or
/// when the lines are dropped.
pub(super) struct FileLines {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl FileLines {
    fn spawn(file: std::fs::File) -> Result<Self, WorkerError> {
        let (tx, rx) = tokio::sync::mpsc::channel(CHUNKS_AHEAD);
        std::thread::Builder::new()
            .name("kafkaterm-produce-file".into())
            .spawn(move || read_chunks(file, &tx))
            .map_err(|e| {
                WorkerError::new(
                    ErrorKind::Internal,
                    format!("cannot start the file reader: {e}"),
                )
            })?;
        Ok(Self {
            rx,
            chunk: Vec::new(),
            pos: 0,
        })
    }

    /// The next line, without its `\n` or `\r\n` (as `BufRead::lines`).
    async fn next(&mut self) -> Option<std::io::Result<&str>> {
        while self.pos >= self.chunk.len() {
            match self.rx.recv().await? {
                Ok(chunk) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
                Err(e) => return Some(Err(e)),
            }
        }
        let rest = self.chunk.get(self.pos..).unwrap_or_default();
        let (mut line, used) = match memchr::memchr(b'\n', rest) {
            Some(i) => (rest.get(..i).unwrap_or_default(), i + 1),
            None => (rest, rest.len()),
        };
        self.pos += used;
        if let Some(l) = line.strip_suffix(b"\r") {
            line = l;
        }
        Some(std::str::from_utf8(line).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            )
        }))
    }
}

/// The reading thread: chunks of whole lines until the end, an error, or
/// no one listening.
fn read_chunks(mut file: std::fs::File, tx: &tokio::sync::mpsc::Sender<std::io::Result<Vec<u8>>>) {
    use std::io::Read as _;
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let mut buf = Vec::with_capacity(CHUNK_BYTES + carry.len());
        buf.append(&mut carry);
        // Read until the chunk holds a line end past CHUNK_BYTES, or the end.
        let eof = loop {
            let want = CHUNK_BYTES.saturating_sub(buf.len()).max(4096);
            match (&mut file).take(want as u64).read_to_end(&mut buf) {
                Ok(0) => break true,
                Ok(_) if buf.len() >= CHUNK_BYTES && buf.contains(&b'\n') => break false,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    if !buf.is_empty() {
                        let _ = tx.blocking_send(Ok(buf));
                    }
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        };
        if !eof && let Some(i) = memchr::memrchr(b'\n', &buf) {
            carry = buf.split_off(i + 1);
        }
        if !buf.is_empty() && tx.blocking_send(Ok(buf)).is_err() {
            return;
        }
        if eof {
            return;
        }
    }
}

impl Source {
    pub(super) fn open(src: BatchSource) -> Result<Self, WorkerError> {
        Ok(match src {
            BatchSource::Template { template, count } => Source::Template(template, 0, count),
            BatchSource::File { path, topic } => {
                let f = std::fs::File::open(&path).map_err(|e| {
                    WorkerError::new(
                        ErrorKind::Io,
                        format!("cannot open {}: {e}", path.display()),
                    )
                })?;
                Source::File(FileLines::spawn(f)?, topic, 0)
            }
            BatchSource::Messages(v) => Source::Messages(v.into_iter()),
        })
    }

    /// Next message, or an error naming the line / variation.
    pub(super) async fn next(&mut self) -> Option<Result<ProduceRequest, WorkerError>> {
        match self {
            Source::Template(t, i, count) => {
                if *i >= *count {
                    return None;
                }
                let r = t
                    .render(*i, crate::timeutil::now_ms())
                    .map_err(|e| crate::werr!("message {}: {e}", *i));
                *i += 1;
                Some(r)
            }
            Source::File(lines, topic, n) => loop {
                let line = lines.next().await?;
                *n += 1;
                let line = match line {
                    Ok(l) => l,
                    Err(e) => return Some(Err(crate::werr!("line {}: {e}", *n))),
                };
                if line.trim().is_empty() {
                    continue;
                }
                return Some(
                    crate::jsonl::parse_line(line)
                        .map(|m| ProduceRequest {
                            topic: m.topic.unwrap_or_else(|| topic.clone()),
                            partition: m.partition,
                            key: m.key,
                            value: m.value,
                            headers: m.headers,
                            timestamp: m.timestamp,
                        })
                        .map_err(|e| crate::werr!("line {}: {e:#}", *n)),
                );
            },
            Source::Messages(it) => it.next().map(Ok),
        }
    }
}

/// Registry schemas for a template's `schema` encodings: fetched (blocking
/// HTTP, off the async threads) before the first message.
pub(super) async fn schemas_for(
    inner: &Arc<Inner>,
    source: &Source,
) -> Result<TemplateSchemas, WorkerError> {
    match source {
        Source::Template(t, ..) => {
            let t = t.clone();
            crate::worker::blocking(inner, move |inner| TemplateSchemas::fetch(inner, &t)).await
        }
        _ => Ok(TemplateSchemas::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(text: impl AsRef<[u8]>) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[tokio::test]
    async fn a_file_is_read_off_the_async_threads_in_order_across_chunks() {
        // Three chunks and a bit, with a blank line that is skipped and
        // Windows line ends at the end.
        let n = CHUNK_BYTES / 8;
        let mut text: String = (0..n)
            .map(|i| format!("{{\"value\":\"v{i}\"}}\n"))
            .collect();
        text.push_str("\r\n{\"value\":\"last\"}\r\n");
        let (_dir, path) = file_with(&text);
        let mut src = Source::open(BatchSource::File {
            path,
            topic: "t".into(),
        })
        .unwrap();
        let mut values = Vec::new();
        while let Some(r) = src.next().await {
            let r = r.unwrap();
            assert_eq!(r.topic, "t");
            values.push(String::from_utf8(r.value.unwrap()).unwrap());
        }
        assert_eq!(values.len(), n + 1);
        assert_eq!(values[0], "v0");
        assert_eq!(values[n / 2], format!("v{}", n / 2));
        assert_eq!(values[n], "last");
    }

    #[tokio::test]
    async fn a_bad_line_is_named_by_its_number_in_a_later_chunk() {
        let n = CHUNK_BYTES / 8;
        let mut text: Vec<u8> = (0..n)
            .flat_map(|i| format!("{{\"value\":\"v{i}\"}}\n").into_bytes())
            .collect();
        // Not UTF-8: that line fails, and the next is read all the same.
        text.extend_from_slice(b"{\"value\":\"\xff\"}\n{\"value\":\"after\"}\n");
        let (_dir, path) = file_with(&text);
        let mut src = Source::open(BatchSource::File {
            path,
            topic: "t".into(),
        })
        .unwrap();
        let mut all = Vec::new();
        while let Some(r) = src.next().await {
            all.push(r);
        }
        assert_eq!(all.len(), n + 2);
        let e = all[n].as_ref().unwrap_err();
        assert_eq!(
            e.message,
            format!("line {}: stream did not contain valid UTF-8", n + 1)
        );
        let last = all[n + 1].as_ref().unwrap();
        assert_eq!(last.value.as_deref(), Some(&b"after"[..]));
    }
}
