//! Headless commands for scripts: `topics`, `describe`, `groups`, `lag` and
//! `watch` ask the same worker the console uses; `consume` and `produce` run
//! their own tight loops for throughput, and `copy` runs the copy engine
//! (`worker::copy`) that the browser's copy dialog also uses. Errors return `Err` (one line, no
//! secrets); `main` prints it to stderr and exits non-zero.

mod consume;
mod copy;
mod decoded;
mod group_ops;
mod groups;
mod produce;
mod topics;

pub use consume::{ConsumeArgs, consume, write_text};
pub use copy::{CopyArgs, copy, report_lines as copy_report_lines, resume_command};
pub use decoded::{FieldOut, LineEncoder, RecordDecoder, SchemaChoice};
pub use group_ops::{
    DeleteArgs, EXIT_NOT_EMPTY, EXIT_READ_ONLY, ResetArgs, clamp_note, delete_group,
    parse_partition, parse_reset_target, reset,
};
pub use groups::{EXIT_INCOMPLETE, groups, lag, lag_json, watch};
pub use produce::{ProduceArgs, ProduceSummary, produce};
pub use topics::{describe, topics};

use crate::worker::WorkerHandle;
use crate::worker::protocol::{Command, WorkerEvent};
use anyhow::{Result, anyhow};
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const ASK_TIMEOUT: Duration = Duration::from_secs(60);

/// Send one command and wait for the event that answers it (see
/// `WorkerEvent::answers`); other events are skipped.
pub async fn ask(w: &mut WorkerHandle, cmd: Command) -> Result<WorkerEvent> {
    let id = cmd.req_id();
    w.commands
        .send(cmd)
        .map_err(|_| anyhow!("the Kafka worker stopped"))?;
    let deadline = tokio::time::Instant::now() + ASK_TIMEOUT;
    loop {
        let ev = tokio::time::timeout_at(deadline, w.events.recv())
            .await
            .map_err(|_| {
                anyhow!(
                    "no answer from the cluster within {}s",
                    ASK_TIMEOUT.as_secs()
                )
            })?
            .ok_or_else(|| anyhow!("the Kafka worker stopped"))?;
        if id.is_some() && ev.answers() == id {
            return Ok(ev);
        }
    }
}

fn out_err(e: &io::Error) -> Result<()> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(anyhow!("cannot write output: {e}"))
    }
}

fn print(s: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) => out_err(&e),
    }
}

/// Stop flag set by SIGINT / SIGTERM for the blocking loops.
fn stop_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = Arc::clone(&flag);
    tokio::spawn(async move {
        let mut int =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = async { if let Some(s) = int.as_mut() { s.recv().await } else { std::future::pending().await } } => {}
            _ = async { if let Some(s) = term.as_mut() { s.recv().await } else { std::future::pending().await } } => {}
        }
        f.store(true, Ordering::Relaxed);
    });
    flag
}
