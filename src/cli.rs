//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "kafkaterm",
    version,
    about = "A terminal operations console for Apache Kafka",
    long_about = "A terminal operations console for Apache Kafka: browse topics, send test messages, \
watch consumer groups. Without a command it opens the interactive console."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct Global {
    /// Bootstrap brokers, host:port[,host:port...]
    #[arg(short = 'b', long, global = true, env = "KAFKATERM_BROKERS")]
    pub brokers: Option<String>,
    /// A cluster named in the config file
    #[arg(long, global = true)]
    pub cluster: Option<String>,
    /// A librdkafka property, as kcat takes it (repeatable)
    #[arg(short = 'X', value_name = "KEY=VALUE", global = true, value_parser = crate::config::parse_property)]
    pub property: Vec<(String, String)>,
    /// Config file (default: the platform config dir's kafkaterm/config.toml)
    #[arg(long, global = true, env = "KAFKATERM_CONFIG")]
    pub config: Option<PathBuf>,
    /// Theme: dark, light, ansi16, mono, or a file in the config dir's themes/
    #[arg(long, global = true)]
    pub theme: Option<String>,
    /// Refuse every write (produce, create/delete topic, offset reset, delete group)
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Run against an embedded demo cluster (librdkafka's mock cluster with traffic)
    #[arg(long, global = true)]
    pub demo: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConsumeFormat {
    Jsonl,
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProduceFormat {
    /// One message value per line
    Lines,
    /// JSON Lines in the export format (topic, partition, key, value, headers, ...)
    Jsonl,
}

/// Producing with registry schemas: input is JSON, encoded for the schema
/// (Avro, Protobuf or JSON Schema) with the Confluent framing.
#[derive(Debug, Args, Clone, Default)]
pub struct ProduceSchemas {
    /// Encode values for this subject's schema (latest version unless given)
    #[arg(long, value_name = "SUBJECT")]
    pub value_subject: Option<String>,
    /// Version of --value-subject to use
    #[arg(
        long,
        value_name = "N",
        requires = "value_subject",
        conflicts_with = "value_schema_id"
    )]
    pub value_schema_version: Option<i32>,
    /// Encode values for the schema with this id
    #[arg(long, value_name = "ID")]
    pub value_schema_id: Option<u32>,
    /// Protobuf message type of the value (default: the schema's first message)
    #[arg(long, value_name = "TYPE")]
    pub value_message: Option<String>,
    /// Encode keys for this subject's schema (latest version unless given)
    #[arg(long, value_name = "SUBJECT")]
    pub key_subject: Option<String>,
    /// Version of --key-subject to use
    #[arg(
        long,
        value_name = "N",
        requires = "key_subject",
        conflicts_with = "key_schema_id"
    )]
    pub key_schema_version: Option<i32>,
    /// Encode keys for the schema with this id
    #[arg(long, value_name = "ID")]
    pub key_schema_id: Option<u32>,
    /// Protobuf message type of the key (default: the schema's first message)
    #[arg(long, value_name = "TYPE")]
    pub key_message: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// List topics with partition count, replication factor and message count
    Topics {
        #[arg(long)]
        json: bool,
        /// Include internal topics in the text output (JSON always has them)
        #[arg(long)]
        internal: bool,
    },
    /// A topic's partitions (leader, replicas, ISR, watermarks) and configuration
    Describe {
        topic: String,
        #[arg(long)]
        json: bool,
    },
    /// Read messages (the kcat -C of kafkaterm)
    Consume {
        topic: String,
        /// beginning | end | OFFSET | @TIMESTAMP | -15m (relative time) | -N (last N per partition)
        #[arg(long, default_value = "beginning", allow_hyphen_values = true)]
        from: String,
        /// Only these partitions (repeatable)
        #[arg(short, long)]
        partition: Vec<i32>,
        /// Stop after N messages
        #[arg(short = 'c', long)]
        count: Option<u64>,
        /// Stop when every partition reaches its end
        #[arg(short = 'e', long)]
        exit_at_end: bool,
        /// Only messages matching this filter expression
        #[arg(long)]
        filter: Option<String>,
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ConsumeFormat,
        /// Decode keys and values (Schema Registry Avro, Protobuf and JSON Schema,
        /// local protobuf types, JSON): JSON Lines gain key_decoded/value_decoded,
        /// key_schema_id/value_schema_id or key_decode_error/value_decode_error
        #[arg(long)]
        decode: bool,
    },
    /// Send messages from stdin or a file (the kcat -P of kafkaterm)
    Produce {
        topic: String,
        /// Read from this file instead of stdin
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "lines")]
        format: ProduceFormat,
        /// Key for every message (lines format)
        #[arg(short, long)]
        key: Option<String>,
        /// Header name=value for every message (repeatable)
        #[arg(short = 'H', long = "header", value_parser = crate::config::parse_property)]
        header: Vec<(String, String)>,
        /// 0, 1 or all
        #[arg(long, default_value = "1")]
        acks: String,
        /// none, gzip, snappy, lz4, zstd
        #[arg(long, default_value = "none")]
        compression: String,
        #[arg(short, long)]
        partition: Option<i32>,
        /// Enable idempotence (needs acks=all)
        #[arg(long)]
        idempotent: bool,
        #[command(flatten)]
        schemas: ProduceSchemas,
    },
    /// List consumer groups with state, members and total lag
    Groups {
        #[arg(long)]
        json: bool,
    },
    /// A group's per-partition committed offset, end offset, lag and owner
    Lag {
        group: String,
        #[arg(long)]
        json: bool,
    },
    /// Print one line per rebalance event and per lag change until interrupted
    Watch {
        group: String,
        /// Seconds between refreshes
        #[arg(long, default_value = "2")]
        interval: f64,
        /// One JSON object per line instead of text
        #[arg(long)]
        json: bool,
    },
}
