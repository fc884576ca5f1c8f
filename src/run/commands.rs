//! The headless commands: one line per command, and the conversions from
//! the command line's arguments to the headless module's.

use std::process::ExitCode;

use anyhow::Result;

use super::Setup;
use crate::cli::{self, Cmd};
use crate::config::ClusterProfile;
use crate::headless;
use crate::model::{TxnOutcome, TxnSpec, generated_transactional_id};

/// Runs one command against the chosen cluster and returns its exit code.
pub(super) fn run(command: Cmd, setup: Setup) -> Result<ExitCode> {
    let Setup {
        warnings,
        runtime,
        profile,
        ..
    } = setup;
    let Some(profile) = profile else {
        anyhow::bail!("no cluster chosen");
    };
    for w in &warnings {
        crate::eline!("kafkaterm: warning: {w}");
    }
    let result = runtime.block_on(dispatch(profile, command));
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}

async fn dispatch(profile: ClusterProfile, command: Cmd) -> Result<ExitCode> {
    let done = |()| ExitCode::SUCCESS;
    match command {
        Cmd::Topics(c) => headless::topics(profile, c.json, c.internal)
            .await
            .map(done),
        Cmd::Describe(c) => headless::describe(profile, &c.topic, c.json)
            .await
            .map(done),
        Cmd::Groups(c) => headless::groups(profile, c.json, c.window).await,
        Cmd::Lag(c) => headless::lag(profile, &c.group, c.json, c.window).await,
        Cmd::Watch(c) => headless::watch(profile, &c.group, c.interval, c.json)
            .await
            .map(done),
        Cmd::Reset(c) => headless::reset(profile, c.into()).await,
        Cmd::DeleteGroup(c) => headless::delete_group(profile, c.into()).await,
        Cmd::Copy(c) => headless::copy(profile, c.into()).await,
        Cmd::Consume(c) => headless::consume(profile, c.into()).await.map(done),
        Cmd::Produce(c) => produce(profile, c).await.map(done),
        // Written by `run` before any configuration was read.
        Cmd::Completions(_) | Cmd::Manpage(_) => Ok(ExitCode::SUCCESS),
    }
}

/// `produce`, with its summary on standard error and an error when a
/// message failed or the transaction did not end as asked.
async fn produce(profile: ClusterProfile, c: cli::ProduceCmd) -> Result<()> {
    let s = headless::produce(profile, c.into()).await?;
    #[allow(clippy::cast_precision_loss)]
    let rate = if s.seconds > 0.0 {
        s.delivered as f64 / s.seconds
    } else {
        0.0
    };
    crate::eline!(
        "kafkaterm: produced {} message(s): {} delivered, {} failed, {rate:.0} msgs/s",
        s.delivered + s.failed,
        s.delivered,
        s.failed
    );
    if let Some((id, outcome)) = &s.transaction {
        crate::eline!("kafkaterm: {} (transactional.id {id})", outcome.words());
        let as_asked = matches!(outcome, TxnOutcome::Committed | TxnOutcome::Aborted);
        if !as_asked {
            anyhow::bail!(
                "{}",
                s.first_error
                    .clone()
                    .unwrap_or_else(|| outcome.words().to_string())
            );
        }
    }
    if s.failed > 0 {
        anyhow::bail!(
            "{} message(s) failed: {}",
            s.failed,
            s.first_error.unwrap_or_else(|| "unknown error".into())
        );
    }
    Ok(())
}

impl From<cli::ResetCmd> for headless::ResetArgs {
    fn from(c: cli::ResetCmd) -> Self {
        Self {
            group: c.group,
            to: c.to,
            number: c.number,
            topics: c.topic,
            partitions: c.partition,
            execute: c.execute,
            json: c.json,
        }
    }
}

impl From<cli::DeleteGroupCmd> for headless::DeleteArgs {
    fn from(c: cli::DeleteGroupCmd) -> Self {
        Self {
            group: c.group,
            execute: c.execute,
            json: c.json,
        }
    }
}

impl From<cli::CopyCmd> for headless::CopyArgs {
    fn from(c: cli::CopyCmd) -> Self {
        Self {
            source: c.source,
            dest: c.dest,
            from: c.from,
            partitions: c.partition,
            count: c.count,
            filter: c.filter,
            keep_timestamps: c.keep_timestamps,
            keep_partitions: c.keep_partitions,
            source_header: c.source_header,
            compression: c.compression,
            skip: c.skip,
            force: c.force,
            dry_run: c.dry_run,
        }
    }
}

impl From<cli::ConsumeCmd> for headless::ConsumeArgs {
    fn from(c: cli::ConsumeCmd) -> Self {
        Self {
            topic: c.topic,
            from: c.from,
            partitions: c.partition,
            count: c.count,
            exit_at_end: c.exit_at_end,
            filter: c.filter,
            format: c.format,
            decode: c.decode,
            isolation: c.isolation,
        }
    }
}

impl From<cli::ProduceCmd> for headless::ProduceArgs {
    fn from(c: cli::ProduceCmd) -> Self {
        let s = c.schemas;
        Self {
            topic: c.topic,
            file: c.file,
            format: c.format,
            key: c.key,
            headers: c.header,
            acks: c.acks,
            compression: c.compression,
            partition: c.partition,
            idempotent: c.idempotent,
            transaction: c.transactional.then(|| {
                TxnSpec::new(
                    c.transactional_id
                        .unwrap_or_else(generated_transactional_id),
                    !c.abort,
                )
            }),
            key_schema: headless::SchemaChoice {
                subject: s.key_subject,
                version: s.key_schema_version,
                id: s.key_schema_id,
                message: s.key_message,
            },
            value_schema: headless::SchemaChoice {
                subject: s.value_subject,
                version: s.value_schema_version,
                id: s.value_schema_id,
                message: s.value_message,
            },
        }
    }
}
