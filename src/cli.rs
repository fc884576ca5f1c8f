//! The command line.

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

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
    /// Refuse every write (produce, copy, create/delete topic, offset reset, delete group)
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

/// Exit codes of `reset`, shown in its `--help`.
pub const RESET_EXIT_CODES: &str = "Exit codes:
  0  the plan was printed (dry run) or committed (--execute)
  1  error: bad input (unknown group, topic or partition, malformed target, time before the \
log start) or the cluster failed; nothing was committed
  2  the command line could not be parsed
  3  refused: the group is not Empty (consumers are joined); nothing was committed. \
A dry run exits 3 too, as --execute would be refused
  4  refused: read-only mode";

/// Exit codes of `delete-group`, shown in its `--help`.
pub const DELETE_EXIT_CODES: &str = "Exit codes:
  0  the group would be deleted (dry run) or was deleted (--execute)
  1  error: unknown group, or the cluster failed; nothing was deleted
  2  the command line could not be parsed
  3  refused: the group is not Empty (consumers are joined); nothing was deleted. \
A dry run exits 3 too, as --execute would be refused
  4  refused: read-only mode";

/// Exit codes of `groups` and `lag`, shown in their `--help`.
pub const GROUPS_EXIT_CODES: &str = "Exit codes:
  0  everything was listed and described
  1  error: nothing could be listed (or, for lag, the group does not exist)
  2  the command line could not be parsed
  5  printed, but incomplete: the group listing was cut short or failed (some brokers did not \
answer in time, or refused ListGroups), or a group could not be described (DescribeGroups refused \
or failed for it). Every group that could be shown is printed, the others with their reason on \
stderr (and in the JSON notes)";

/// Exit codes of `copy`, shown in its `--help`.
pub const COPY_EXIT_CODES: &str = "Exit codes:
  0  every selected message was copied (or, with --dry-run, counted)
  1  error before anything was sent (unknown topic, bad filter, a topic onto itself without \
--force), or a message failed / the copy was interrupted: the report gives the confirmed count \
and the command that resumes the copy
  2  the command line could not be parsed
  4  refused: read-only mode";

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// List topics with partition count, replication factor and message count
    Topics(TopicsCmd),
    /// A topic's partitions (leader, replicas, ISR, watermarks) and configuration
    Describe(DescribeCmd),
    /// Read messages (the kcat -C of kafkaterm)
    Consume(ConsumeCmd),
    /// Send messages from stdin or a file (the kcat -P of kafkaterm)
    Produce(ProduceCmd),
    /// Copy messages to another topic (a dead-letter redrive), keys, values and headers byte for byte
    #[command(
        long_about = "Copy messages from SRC to DST: keys, values (null values too) and headers (in \
order) byte for byte, compressed with lz4 unless --compression says otherwise. Each partition is \
read from --from up to its end when the copy starts. DST must exist. Progress and the report go to \
stderr.\n\nIf a message fails, reading stops, what was sent is waited for, and the report gives \
the number of messages confirmed and the command that resumes the copy (--from per partition, \
--skip for messages confirmed past that point), which never copies a confirmed message twice.",
        after_help = COPY_EXIT_CODES
    )]
    Copy(CopyCmd),
    /// List consumer groups with state, members and total lag
    #[command(after_help = GROUPS_EXIT_CODES)]
    Groups(GroupsCmd),
    /// A group's per-partition committed offset, end offset, lag, lag in time, status and owner
    #[command(after_help = GROUPS_EXIT_CODES)]
    Lag(LagCmd),
    /// Reset a group's committed offsets (a dry run unless --execute is given)
    #[command(
        long_about = "Reset a consumer group's committed offsets. Without --execute it prints the \
plan (topic, partition, current offset, new offset, new lag) and changes nothing. With --execute \
it commits exactly that plan, only while the group is Empty (no consumers joined), the same way the \
console's reset does.\n\nWithout --topic or --partition every partition the group has committed \
on is reset; --topic takes every partition of a topic, --partition one (both repeatable).",
        after_help = RESET_EXIT_CODES,
        allow_negative_numbers = true
    )]
    Reset(ResetCmd),
    /// Delete a consumer group and its committed offsets (a dry run unless --execute is given)
    #[command(after_help = DELETE_EXIT_CODES)]
    DeleteGroup(DeleteGroupCmd),
    /// Print one line per rebalance event and per lag change until interrupted
    Watch(WatchCmd),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    #[command(
        long_about = "Print a completion script for SHELL on standard output, made from the same \
definition as --help. For example:\n  kafkaterm completions bash > ~/.local/share/bash-completion/completions/kafkaterm\n  \
kafkaterm completions zsh > ~/.zfunc/_kafkaterm\n  kafkaterm completions fish > ~/.config/fish/completions/kafkaterm.fish"
    )]
    Completions(CompletionsCmd),
    /// Print the man page (roff: `kafkaterm manpage | man -l -`), or write one page per command into a directory
    Manpage(ManpageCmd),
}

/// The arguments of `completions`.
#[derive(Debug, Args, Clone)]
pub struct CompletionsCmd {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The arguments of `manpage`.
#[derive(Debug, Args, Clone)]
pub struct ManpageCmd {
    /// Write kafkaterm.1 and a kafkaterm-COMMAND.1 per command into DIR
    /// instead of printing kafkaterm.1
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

impl Cli {
    /// The command line's definition with `-V` giving the version and commit
    /// and `--version` adding librdkafka and its features.
    #[must_use]
    pub fn command_with_version() -> clap::Command {
        Self::command()
            .version(crate::version::short())
            .long_version(crate::version::long())
    }

    /// Parses the process's arguments (exits with clap's usage error, code 2,
    /// on a bad command line, and prints help or version when asked).
    #[must_use]
    pub fn parse_args() -> Self {
        let matches = Self::command_with_version().get_matches();
        Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

/// Writes what `completions` and `manpage` generate; `Ok(false)` for every
/// other command. Runs before any configuration is read, so both work on a
/// host without a config or a cluster (a package build).
///
/// # Errors
/// Writing to standard output or the directory failed.
pub fn write_generated(cmd: &Cmd, out: &mut dyn std::io::Write) -> std::io::Result<bool> {
    match cmd {
        Cmd::Completions(c) => {
            let mut command = Cli::command_with_version();
            clap_complete::generate(c.shell, &mut command, "kafkaterm", out);
            Ok(true)
        }
        Cmd::Manpage(m) => {
            let command = Cli::command_with_version();
            match &m.dir {
                Some(dir) => {
                    std::fs::create_dir_all(dir)?;
                    clap_mangen::generate_to(command, dir)?;
                }
                None => clap_mangen::Man::new(command).render(out)?,
            }
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// The arguments of `topics`.
#[derive(Debug, Args, Clone)]
pub struct TopicsCmd {
    #[arg(long)]
    pub json: bool,
    /// Include internal topics in the text output (JSON always has them)
    #[arg(long)]
    pub internal: bool,
}

/// The arguments of `describe`.
#[derive(Debug, Args, Clone)]
pub struct DescribeCmd {
    pub topic: String,
    #[arg(long)]
    pub json: bool,
}

/// The arguments of `consume`.
#[derive(Debug, Args, Clone)]
pub struct ConsumeCmd {
    pub topic: String,
    /// beginning | end | OFFSET | @TIMESTAMP | -15m (relative time) | -N (last N per partition)
    #[arg(long, default_value = "beginning", allow_hyphen_values = true)]
    pub from: String,
    /// Only these partitions (repeatable)
    #[arg(short, long)]
    pub partition: Vec<i32>,
    /// Stop after N messages
    #[arg(short = 'c', long)]
    pub count: Option<u64>,
    /// Stop when every partition reaches its end
    #[arg(short = 'e', long)]
    pub exit_at_end: bool,
    /// Only messages matching this filter expression
    #[arg(long)]
    pub filter: Option<String>,
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: ConsumeFormat,
    /// Decode keys and values (Schema Registry Avro, Protobuf and JSON Schema,
    /// local protobuf types, JSON): JSON Lines gain key_decoded/value_decoded,
    /// key_schema_id/value_schema_id or key_decode_error/value_decode_error
    #[arg(long)]
    pub decode: bool,
    /// read_uncommitted (every record, aborted transactions' too) or
    /// read_committed (committed records only, up to the last stable offset)
    #[arg(long, value_name = "LEVEL", default_value = "read_uncommitted", value_parser = parse_isolation)]
    pub isolation: crate::model::Isolation,
}

/// The arguments of `produce`.
#[derive(Debug, Args, Clone)]
pub struct ProduceCmd {
    pub topic: String,
    /// Read from this file instead of stdin
    #[arg(long)]
    pub file: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "lines")]
    pub format: ProduceFormat,
    /// Key for every message (lines format)
    #[arg(short, long)]
    pub key: Option<String>,
    /// Header name=value for every message (repeatable)
    #[arg(short = 'H', long = "header", value_parser = crate::config::parse_property)]
    pub header: Vec<(String, String)>,
    /// 0, 1 or all
    #[arg(long, default_value = "1")]
    pub acks: String,
    /// none, gzip, snappy, lz4, zstd
    #[arg(long, default_value = "none")]
    pub compression: String,
    #[arg(short, long)]
    pub partition: Option<i32>,
    /// Enable idempotence (needs acks=all)
    #[arg(long)]
    pub idempotent: bool,
    /// Send everything in one transaction (acks=all and idempotence are
    /// implied), committed at the end unless --abort is given
    #[arg(long)]
    pub transactional: bool,
    /// End the transaction with an abort instead of a commit
    #[arg(long, requires = "transactional")]
    pub abort: bool,
    /// The transactional.id (default: kafkaterm-<host>-<random>)
    #[arg(long, value_name = "ID", requires = "transactional")]
    pub transactional_id: Option<String>,
    #[command(flatten)]
    pub schemas: ProduceSchemas,
}

/// The arguments of `copy`.
#[derive(Debug, Args, Clone)]
pub struct CopyCmd {
    /// Source topic
    pub source: String,
    /// Destination topic (must exist)
    pub dest: String,
    /// beginning | end | OFFSET | @TIMESTAMP | -15m | -N (last N per partition) | P:OFFSET,P:OFFSET (a resume)
    #[arg(long, default_value = "beginning", allow_hyphen_values = true)]
    pub from: String,
    /// Only these source partitions (repeatable)
    #[arg(short, long)]
    pub partition: Vec<i32>,
    /// Stop after N messages
    #[arg(short = 'c', long)]
    pub count: Option<u64>,
    /// Only messages matching this filter expression
    #[arg(long)]
    pub filter: Option<String>,
    /// Keep each message's timestamp (default: the time of the copy)
    #[arg(long)]
    pub keep_timestamps: bool,
    /// Write each message to the partition of the same number (default: by key)
    #[arg(long)]
    pub keep_partitions: bool,
    /// Add a header kafkaterm.source = SRC/PARTITION@OFFSET
    #[arg(long)]
    pub source_header: bool,
    /// none, gzip, snappy, lz4, zstd
    #[arg(long, default_value = "lz4")]
    pub compression: String,
    /// Offsets not to copy, as P:OFFSET or P:FIRST-LAST, comma-separated (repeatable; printed by an interrupted copy)
    #[arg(long, value_name = "P:A-B,...")]
    pub skip: Vec<String>,
    /// Allow copying a topic onto itself
    #[arg(long)]
    pub force: bool,
    /// Count what would be copied; send nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// The arguments of `groups`.
#[derive(Debug, Args, Clone)]
pub struct GroupsCmd {
    #[arg(long)]
    pub json: bool,
    /// Look twice, SECS apart, so the status can tell OK, LAGGING and
    /// STALLED apart (one look tells only REBALANCING, EMPTY, STOPPED
    /// and a caught-up OK)
    #[arg(long, value_name = "SECS", default_value = "0")]
    pub window: f64,
}

/// The arguments of `lag`.
#[derive(Debug, Args, Clone)]
pub struct LagCmd {
    pub group: String,
    #[arg(long)]
    pub json: bool,
    /// Look twice, SECS apart, so the status can tell OK, LAGGING and
    /// STALLED apart (one look tells only REBALANCING, EMPTY, STOPPED
    /// and a caught-up OK)
    #[arg(long, value_name = "SECS", default_value = "0")]
    pub window: f64,
}

/// The arguments of `reset`.
#[derive(Debug, Args, Clone)]
pub struct ResetCmd {
    pub group: String,
    /// The number of `--to offset N` or `--to shift ±N`
    #[arg(value_name = "N")]
    pub number: Option<String>,
    /// earliest | latest | offset N | shift ±N | @TIME | -15m (relative time)
    #[arg(long, value_name = "TARGET", allow_hyphen_values = true)]
    pub to: String,
    /// Only this topic's partitions (repeatable)
    #[arg(long, value_name = "TOPIC")]
    pub topic: Vec<String>,
    /// Only this partition, as TOPIC:N (repeatable)
    #[arg(long, value_name = "TOPIC:N")]
    pub partition: Vec<String>,
    /// Commit the plan (default: a dry run that changes nothing)
    #[arg(long)]
    pub execute: bool,
    /// Print {group, state, partitions:[{topic, partition, current, new, new_lag}], applied, ...}
    #[arg(long)]
    pub json: bool,
}

/// The arguments of `delete-group`.
#[derive(Debug, Args, Clone)]
pub struct DeleteGroupCmd {
    pub group: String,
    /// Delete the group (default: a dry run that changes nothing)
    #[arg(long)]
    pub execute: bool,
    /// Print {group, state, partitions:[{topic, partition, committed}], deleted}
    #[arg(long)]
    pub json: bool,
}

/// The arguments of `watch`.
#[derive(Debug, Args, Clone)]
pub struct WatchCmd {
    pub group: String,
    /// Seconds between refreshes
    #[arg(long, default_value = "2")]
    pub interval: f64,
    /// One JSON object per line instead of text
    #[arg(long)]
    pub json: bool,
}

/// `--isolation`: read_committed or read_uncommitted.
fn parse_isolation(s: &str) -> Result<crate::model::Isolation, String> {
    crate::model::Isolation::parse(s).map_err(|e| e.to_string())
}
