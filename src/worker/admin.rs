//! Cluster metadata, topic details, topic creation and deletion.

use crate::worker::error::{WorkerError, classify};
use std::time::Duration;

use rdkafka::admin::{AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::consumer::Consumer;
use rdkafka::metadata::Metadata;

use super::Inner;
use super::offsets;
use super::protocol::NewTopicSpec;
use crate::kafka::client::{explain, plain_words};
use crate::model::{
    BrokerInfo, ClusterSnapshot, ConfigEntry, Configs, PartitionInfo, TopicDetail, TopicPartition,
    TopicSummary,
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
                error: p.error().map(metadata_error).or(mark_err),
            }
        })
        .collect();
    out.sort_by_key(|p| p.partition);
    out
}

/// Fetch metadata and every partition's watermarks (blocking).
pub fn cluster_snapshot(inner: &Inner) -> Result<ClusterSnapshot, WorkerError> {
    let md = inner
        .meta
        .fetch_metadata(None, METADATA_TIMEOUT)
        .map_err(|e| classify(&e))?;
    let parts = partitions_of(&md, None);
    let (marks, watermark_error) = match offsets::watermarks(&inner.meta, &parts, METADATA_TIMEOUT)
    {
        Ok(m) => (Some(m), None),
        Err(e) => (None, Some(format!("watermarks unavailable: {e}"))),
    };
    let brokers = md
        .brokers()
        .iter()
        .map(|b| BrokerInfo {
            id: b.id(),
            host: b.host().to_string(),
            port: b.port(),
        })
        .collect();
    let mut topics: Vec<TopicSummary> = md
        .topics()
        .iter()
        .map(|t| {
            let infos = partition_infos(t, marks.as_ref());
            let messages = if infos.is_empty() {
                Some(0)
            } else {
                infos
                    .iter()
                    .map(PartitionInfo::messages)
                    .sum::<Option<i64>>()
            };
            TopicSummary {
                name: t.name().to_string(),
                partitions: infos.len(),
                replication_factor: infos.iter().map(|p| p.replicas.len()).max().unwrap_or(0),
                messages,
                internal: is_internal(t.name()),
                under_replicated: infos
                    .iter()
                    .filter(|p| p.isr.len() < p.replicas.len())
                    .count(),
                offline: infos.iter().filter(|p| p.leader < 0).count(),
                error: t.error().map(metadata_error),
            }
        })
        .collect();
    topics.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(ClusterSnapshot {
        brokers,
        topics,
        watermark_error,
    })
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
    let parts = partitions_of(&md, Some(topic));
    let marks = offsets::watermarks(&inner.meta, &parts, METADATA_TIMEOUT).ok();
    Ok((is_internal(topic), partition_infos(t, marks.as_ref())))
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
                        source: format!("{:?}", e.source),
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
        .map_err(|e| format!("worker task failed: {e}"))??;
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
            None => Err("no answer from the broker".into()),
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
