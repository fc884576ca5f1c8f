//! The messages of a batch, made one at a time so a million-line file or
//! template never sits in memory whole, and the registry schemas a
//! template's `schema` encodings are encoded with.

use std::io::BufRead;
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
        let client = inner.registry.get()?;
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
                .map_err(|e| crate::werr!("schema of {named}: {e}"))
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
    File(
        std::io::Lines<std::io::BufReader<std::fs::File>>,
        String,
        u64,
    ),
    Messages(std::vec::IntoIter<ProduceRequest>),
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
                Source::File(std::io::BufReader::new(f).lines(), topic, 0)
            }
            BatchSource::Messages(v) => Source::Messages(v.into_iter()),
        })
    }

    /// Next message, or an error naming the line / variation.
    pub(super) fn next(&mut self) -> Option<Result<ProduceRequest, WorkerError>> {
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
                let line = lines.next()?;
                *n += 1;
                let line = match line {
                    Ok(l) => l,
                    Err(e) => return Some(Err(crate::werr!("line {}: {e}", *n))),
                };
                if line.trim().is_empty() {
                    continue;
                }
                return Some(
                    crate::jsonl::parse_line(&line)
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
