//! Cluster metadata, topic details, topic creation and deletion.

use crate::worker::error::{WorkerError, classify};
use std::time::Duration;

use rdkafka::admin::{AdminOptions, ConfigSource, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::consumer::Consumer;
use rdkafka::metadata::Metadata;

use super::Inner;
use super::offsets;
use super::protocol::{NewTopicSpec, ReqId, WorkerEvent};
use crate::kafka::client::{explain, plain_words};
use crate::model::{
    BrokerInfo, ClusterSnapshot, ConfigEntry, Configs, PartitionInfo, TopicDetail, TopicPartition,
    TopicSummary, unknown_count_reason,
};

pub const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// Topics starting with `_` are internal (`__consumer_offsets`,
/// `__transaction_state`, `_schemas`, ...).
#[must_use]
pub fn is_internal(name: &str) -> bool {
    name.starts_with('_')
}

fn metadata_error(e: rdkafka::types::RDKafkaRespErr) -> String {
    let code: rdkafka::error::RDKafkaErrorCode = e.into();
    plain_words(code).map_or_else(|| code.to_string(), str::to_string)
}

fn partitions_of(md: &Metadata, topic: Option<&str>) -> Vec<TopicPartition> {
    md.topics()
        .iter()
        .filter(|t| topic.is_none_or(|n| t.name() == n))
        .flat_map(|t| {
            t.partitions()
                .iter()
                .map(|p| TopicPartition::new(t.name(), p.id()))
        })
        .collect()
}

type Marks = offsets::Watermarks;

fn partition_infos(
    t: &rdkafka::metadata::MetadataTopic,
    marks: Option<&Marks>,
) -> Vec<PartitionInfo> {
    let topic = t.name();
    let mut out: Vec<PartitionInfo> = t
        .partitions()
        .iter()
        .map(|p| {
            let tp = TopicPartition::new(topic, p.id());
            let m = marks.and_then(|m| m.get(&tp));
            let low = m.and_then(|(l, _)| l.as_ref().ok().copied());
            let high = m.and_then(|(_, h)| h.as_ref().ok().copied());
            let mark_err = m.and_then(|(l, h)| {
                l.as_ref()
                    .err()
                    .or(h.as_ref().err())
                    .map(|e| e.message.clone())
            });
            PartitionInfo {
                partition: p.id(),
                leader: p.leader(),
                replicas: p.replicas().to_vec(),
                isr: p.isr().to_vec(),
                low,
                high,
                lso: None,
                error: p.error().map(metadata_error).or(mark_err),
            }
        })
        .collect();
    out.sort_by_key(|p| p.partition);
    out
}

/// Fetch metadata and every partition's watermarks (blocking).
pub fn cluster_snapshot(inner: &Inner) -> Result<ClusterSnapshot, WorkerError> {
    cluster_snapshot_progressive(inner, &mut |_| {})
}

/// Partitions per watermark request while counts fill in.
const COUNT_CHUNK: usize = 2_000;

/// What a progressive refresh reports before its final snapshot.
pub enum Progress {
    /// The topics from metadata, counts unknown.
    Names(ClusterSnapshot),
    /// Counts of some topics.
    Counts(Vec<super::protocol::TopicCount>),
}

/// How long to wait for watermarks: the profile's `watermarks_timeout_secs`.
#[must_use]
pub fn watermarks_timeout(inner: &Inner) -> Duration {
    Duration::try_from_secs_f64(inner.profile.watermarks_timeout_secs)
        .ok()
        .filter(|d| !d.is_zero())
        .unwrap_or(METADATA_TIMEOUT)
}

/// Every partition of `topics` with its leader from metadata.
fn led_partitions<'a>(
    topics: impl IntoIterator<Item = &'a rdkafka::metadata::MetadataTopic>,
) -> Vec<(TopicPartition, i32)> {
    topics
        .into_iter()
        .flat_map(|t| {
            t.partitions()
                .iter()
                .map(|p| (TopicPartition::new(t.name(), p.id()), p.leader()))
        })
        .collect()
}

/// [`cluster_snapshot`], telling `progress` first the topic list from
/// metadata alone, then the message counts of topics (in name order, whole
/// topics of about [`COUNT_CHUNK`] partitions at a time) as their watermarks
/// arrive, so a big cluster's list shows at once. Each chunk asks its
/// partitions' leaders at once, each on its own
/// ([`offsets::watermarks_by_leader`]): a slow or failing broker leaves only
/// the topics it leads partitions of without a count, each with the reason
/// (`messages_error`), and is not asked again in the same refresh.
pub fn cluster_snapshot_progressive(
    inner: &Inner,
    progress: &mut dyn FnMut(Progress),
) -> Result<ClusterSnapshot, WorkerError> {
    let md = inner
        .meta
        .fetch_metadata(None, METADATA_TIMEOUT)
        .map_err(|e| classify(&e))?;
    progress(Progress::Names(snapshot_from(&md, None)));
    let timeout = watermarks_timeout(inner);
    let mut by_topic: Vec<&rdkafka::metadata::MetadataTopic> = md.topics().iter().collect();
    by_topic.sort_by(|a, b| a.name().cmp(b.name()));
    let mut marks = Marks::new();
    let mut given_up = offsets::GivenUp::new();
    let mut chunk: Vec<&rdkafka::metadata::MetadataTopic> = Vec::new();
    let mut in_chunk = 0;
    let mut flush = |chunk: &mut Vec<&rdkafka::metadata::MetadataTopic>,
                     marks: &mut Marks,
                     given_up: &mut offsets::GivenUp| {
        let parts = led_partitions(chunk.iter().copied());
        marks.extend(offsets::watermarks_by_leader(
            &inner.meta,
            &parts,
            timeout,
            given_up,
        ));
        progress(Progress::Counts(
            chunk
                .iter()
                .map(|t| {
                    let infos = partition_infos(t, Some(marks));
                    super::protocol::TopicCount {
                        name: t.name().to_string(),
                        messages: topic_messages(&infos),
                        end_offsets: infos.iter().map(|p| p.high).sum::<Option<i64>>(),
                        messages_error: unknown_count_reason(&infos),
                    }
                })
                .collect(),
        ));
        chunk.clear();
    };
    for t in by_topic {
        in_chunk += t.partitions().len();
        chunk.push(t);
        if in_chunk >= COUNT_CHUNK {
            flush(&mut chunk, &mut marks, &mut given_up);
            in_chunk = 0;
        }
    }
    if !chunk.is_empty() {
        flush(&mut chunk, &mut marks, &mut given_up);
    }
    Ok(snapshot_from(&md, Some(&marks)))
}

/// Messages in a topic (sum of high − low), `None` while unknown.
fn topic_messages(infos: &[PartitionInfo]) -> Option<i64> {
    if infos.is_empty() {
        Some(0)
    } else {
        infos
            .iter()
            .map(PartitionInfo::messages)
            .sum::<Option<i64>>()
    }
}

/// The topic list from metadata and (when known) watermarks. With
/// watermarks, topics whose count stays unknown say why
/// (`messages_error`), and `watermark_error` sums them up.
fn snapshot_from(md: &Metadata, marks: Option<&Marks>) -> ClusterSnapshot {
    let brokers = md
        .brokers()
        .iter()
        .map(|b| BrokerInfo {
            id: b.id(),
            host: b.host().to_string(),
            port: b.port(),
        })
        .collect();
    let mut unknown_topics = 0usize;
    let mut all_infos: Vec<PartitionInfo> = Vec::new();
    let mut topics: Vec<TopicSummary> = md
        .topics()
        .iter()
        .map(|t| {
            let infos = partition_infos(t, marks);
            let (messages, messages_error) = if marks.is_none() {
                (None, None)
            } else {
                (topic_messages(&infos), unknown_count_reason(&infos))
            };
            if messages_error.is_some() {
                unknown_topics += 1;
                all_infos.extend(infos.iter().cloned());
            }
            TopicSummary {
                name: t.name().to_string(),
                partitions: infos.len(),
                replication_factor: infos.iter().map(|p| p.replicas.len()).max().unwrap_or(0),
                messages,
                messages_error,
                internal: is_internal(t.name()),
                under_replicated: infos
                    .iter()
                    .filter(|p| p.isr.len() < p.replicas.len())
                    .count(),
                offline: infos.iter().filter(|p| p.leader < 0).count(),
                error: t.error().map(metadata_error),
                end_offsets: if marks.is_none() {
                    None
                } else {
                    infos.iter().map(|p| p.high).sum::<Option<i64>>()
                },
            }
        })
        .collect();
    topics.sort_by(|a, b| a.name.cmp(&b.name));
    // One line for the whole refresh: how many topics, and the failures
    // over their partitions.
    let watermark_error = unknown_count_reason(&all_infos).map(|why| {
        format!(
            "message counts unknown for {unknown_topics} topic{}: {why}",
            if unknown_topics == 1 { "" } else { "s" }
        )
    });
    ClusterSnapshot {
        brokers,
        topics,
        watermark_error,
    }
}

/// Partitions and watermarks of one topic (blocking).
pub fn topic_partitions(
    inner: &Inner,
    topic: &str,
) -> Result<(bool, Vec<PartitionInfo>), WorkerError> {
    let md = inner
        .meta
        .fetch_metadata(Some(topic), METADATA_TIMEOUT)
        .map_err(|e| classify(&e))?;
    let t = md
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .ok_or_else(|| crate::werr!("unknown topic {}", crate::sanitize::escape(topic)))?;
    if let Some(e) = t.error() {
        return Err(crate::werr!(
            "{}: {}",
            crate::sanitize::escape(topic),
            metadata_error(e)
        ));
    }
    let timeout = watermarks_timeout(inner);
    let marks = offsets::watermarks_by_leader(
        &inner.meta,
        &led_partitions([t]),
        timeout,
        &mut offsets::GivenUp::new(),
    );
    let mut infos = partition_infos(t, Some(&marks));
    // Last stable offsets: the same ListOffsets at read_committed, of the
    // partitions whose leaders answered just now. Missing ones (an older
    // broker, a failed request) stay unknown.
    let parts: Vec<TopicPartition> = partitions_of(&md, Some(topic))
        .into_iter()
        .filter(|tp| marks.get(tp).is_some_and(|(_, h)| h.is_ok()))
        .collect();
    let lso = if parts.is_empty() {
        Err(WorkerError::internal("no partition to ask"))
    } else {
        offsets::end_offsets(&inner.lso, &parts, timeout)
    };
    if let Ok(lso) = lso {
        for p in &mut infos {
            p.lso = lso
                .get(&TopicPartition::new(topic, p.partition))
                .and_then(|r| r.as_ref().ok().copied())
                .filter(|o| *o >= 0);
        }
    }
    Ok((is_internal(topic), infos))
}

/// A topic's configuration (DescribeConfigs).
pub async fn topic_configs(inner: &Inner, topic: &str) -> Configs {
    if inner.profile.unsupported.describe_configs {
        return Configs::Unsupported("this cluster does not support DescribeConfigs".into());
    }
    let opts = AdminOptions::new().request_timeout(Some(METADATA_TIMEOUT));
    match inner
        .admin
        .describe_configs([&ResourceSpecifier::Topic(topic)], &opts)
        .await
    {
        Err(e) => Configs::Failed(explain(&e)),
        Ok(mut results) => match results.pop() {
            None => Configs::Failed("no answer".into()),
            Some(Err(code)) => match code {
                rdkafka::error::RDKafkaErrorCode::UnsupportedFeature
                | rdkafka::error::RDKafkaErrorCode::UnsupportedVersion => {
                    Configs::Unsupported("the broker does not support DescribeConfigs".into())
                }
                other => Configs::Failed(
                    plain_words(other).map_or_else(|| other.to_string(), str::to_string),
                ),
            },
            Some(Ok(resource)) => {
                let mut entries: Vec<ConfigEntry> = resource
                    .entries
                    .iter()
                    .map(|e| ConfigEntry {
                        name: e.name.clone(),
                        value: if e.is_sensitive {
                            None
                        } else {
                            e.value.clone()
                        },
                        is_default: e.is_default,
                        is_sensitive: e.is_sensitive,
                        source: source_name(&e.source).to_string(),
                    })
                    .collect();
                entries.sort_by(|a, b| a.name.cmp(&b.name));
                Configs::Loaded(entries)
            }
        },
    }
}

pub async fn describe_topic(
    inner: std::sync::Arc<Inner>,
    topic: String,
) -> Result<TopicDetail, WorkerError> {
    let inner2 = std::sync::Arc::clone(&inner);
    let t = topic.clone();
    let (internal, partitions) = tokio::task::spawn_blocking(move || topic_partitions(&inner2, &t))
        .await
        .map_err(|e| crate::werr!("worker task failed: {e}"))??;
    let configs = topic_configs(&inner, &topic).await;
    Ok(TopicDetail {
        name: topic,
        internal,
        partitions,
        configs,
    })
}

type AdminResults = Result<
    Vec<Result<String, (String, rdkafka::error::RDKafkaErrorCode)>>,
    rdkafka::error::KafkaError,
>;

fn admin_result(r: AdminResults) -> Result<(), WorkerError> {
    match r {
        Err(e) => Err(classify(&e)),
        Ok(v) => match v.into_iter().next() {
            Some(Ok(_)) => Ok(()),
            Some(Err((_, code))) => Err(super::error::from_code(code)),
            None => Err(WorkerError::internal("no answer from the broker")),
        },
    }
}

pub async fn create_topic(inner: &Inner, spec: &NewTopicSpec) -> Result<(), WorkerError> {
    if inner.profile.unsupported.create_topics {
        return Err(WorkerError::unsupported(
            "this cluster does not support CreateTopics",
        ));
    }
    let mut nt = NewTopic::new(
        &spec.name,
        spec.partitions,
        TopicReplication::Fixed(spec.replication_factor),
    );
    for (k, v) in &spec.configs {
        nt = nt.set(k, v);
    }
    let opts = AdminOptions::new()
        .request_timeout(Some(METADATA_TIMEOUT))
        .operation_timeout(Some(METADATA_TIMEOUT));
    admin_result(inner.admin.create_topics([&nt], &opts).await)
}

pub async fn delete_topic(inner: &Inner, topic: &str) -> Result<(), WorkerError> {
    if inner.profile.unsupported.delete_topics {
        return Err(WorkerError::unsupported(
            "this cluster does not support DeleteTopics",
        ));
    }
    let opts = AdminOptions::new()
        .request_timeout(Some(METADATA_TIMEOUT))
        .operation_timeout(Some(METADATA_TIMEOUT));
    admin_result(inner.admin.delete_topics(&[topic], &opts).await)
}

pub async fn delete_group(inner: &Inner, group: &str) -> Result<(), WorkerError> {
    if inner.profile.unsupported.delete_groups {
        return Err(WorkerError::unsupported(
            "this cluster does not support DeleteGroups",
        ));
    }
    let opts = AdminOptions::new().request_timeout(Some(METADATA_TIMEOUT));
    admin_result(inner.admin.delete_groups(&[group], &opts).await)
}

/// The worker's `RefreshTopics`: the topic names as soon as they are in,
/// then their message counts, then the whole snapshot, which also says how
/// the connection is.
pub(super) fn refresh_topics(inner: std::sync::Arc<Inner>, id: ReqId) {
    super::reply(inner, move |i| async move {
        let events = i.events.clone();
        let result = super::blocking(&i, move |inner| {
            // From the blocking thread: send, waiting for room.
            cluster_snapshot_progressive(inner, &mut |p| {
                let ev = match p {
                    Progress::Names(snapshot) => WorkerEvent::TopicNames { id, snapshot },
                    Progress::Counts(counts) => WorkerEvent::TopicCounts { id, counts },
                };
                let _ = events.blocking_send(ev);
            })
        })
        .await;
        i.note_result(&result, true);
        WorkerEvent::Topics { id, result }
    });
}

/// The worker's `DescribeTopic`.
pub(super) fn describe(inner: std::sync::Arc<Inner>, id: ReqId, topic: String) {
    super::reply(inner, move |i| async move {
        let result = describe_topic(i, topic.clone()).await;
        WorkerEvent::TopicDetail { id, topic, result }
    });
}

/// The worker's `CreateTopic`.
pub(super) fn create(inner: std::sync::Arc<Inner>, id: ReqId, spec: NewTopicSpec) {
    super::reply(inner, move |i| async move {
        let result = create_topic(&i, &spec).await;
        tracing::info!(topic = %spec.name, ok = result.is_ok(), "create topic");
        WorkerEvent::TopicCreated {
            id,
            topic: spec.name,
            result,
        }
    });
}

/// The worker's `DeleteTopic`.
pub(super) fn delete(inner: std::sync::Arc<Inner>, id: ReqId, topic: String) {
    super::reply(inner, move |i| async move {
        let result = delete_topic(&i, &topic).await;
        tracing::info!(topic = %topic, ok = result.is_ok(), "delete topic");
        WorkerEvent::TopicDeleted { id, topic, result }
    });
}

/// A config's source as Kafka names it (kafka-configs.sh, the Java
/// AdminClient), not rust-rdkafka's enum spelling.
fn source_name(s: &ConfigSource) -> &'static str {
    match s {
        ConfigSource::DynamicTopic => "DYNAMIC_TOPIC_CONFIG",
        ConfigSource::DynamicBroker => "DYNAMIC_BROKER_CONFIG",
        ConfigSource::DynamicDefaultBroker => "DYNAMIC_DEFAULT_BROKER_CONFIG",
        ConfigSource::StaticBroker => "STATIC_BROKER_CONFIG",
        ConfigSource::Default => "DEFAULT_CONFIG",
        ConfigSource::Unknown => "UNKNOWN",
    }
}
