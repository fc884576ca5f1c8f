//! `copy`: messages from one topic to another, byte for byte, through the
//! copy engine (`worker::copy`) the browser's copy dialog uses. Progress
//! and the report go to stderr; an interrupted copy prints the command
//! that resumes it without copying a confirmed message twice.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};

use super::stop_flag;
use crate::config::ClusterProfile;
use crate::model::Compression;
use crate::sanitize;
use crate::timeutil::{self, StartAt};
use crate::worker::copy::{self, CopyOutcome, CopyReport, CopySelection, CopySpec, CopyStart};
use crate::worker::protocol::ErrorKind;

/// Exit code: a message failed (the report says how many were confirmed).
pub const EXIT_COPY_FAILED: u8 = 1;

/// What `kafkaterm copy` was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyArgs {
    pub source: String,
    pub dest: String,
    /// A start for every partition, or `P:OFFSET,...` per partition.
    pub from: String,
    pub partitions: Vec<i32>,
    pub count: Option<u64>,
    pub filter: Option<String>,
    pub keep_timestamps: bool,
    pub keep_partitions: bool,
    pub source_header: bool,
    pub compression: String,
    pub skip: Vec<String>,
    pub force: bool,
    pub dry_run: bool,
}

impl CopyArgs {
    /// The engine's spec; bad arguments are errors here, before anything
    /// is read.
    pub fn spec(&self, now_ms: i64) -> Result<CopySpec> {
        let start = match copy::parse_offsets_arg(&self.from) {
            Some(Ok(map)) => {
                if !self.partitions.is_empty() {
                    return Err(anyhow!(
                        "--from gives each partition its offset: leave out --partition"
                    ));
                }
                CopyStart::Offsets(map)
            }
            Some(Err(e)) => return Err(anyhow!("--from: {e}")),
            None => CopyStart::At(
                StartAt::parse(&self.from, now_ms).map_err(|e| anyhow!("--from: {e}"))?,
            ),
        };
        let mut skip: BTreeMap<i32, Vec<(i64, i64)>> = BTreeMap::new();
        for s in &self.skip {
            for (p, rs) in copy::parse_skip_arg(s).map_err(|e| anyhow!("--skip: {e}"))? {
                skip.entry(p).or_default().extend(rs);
            }
        }
        Ok(CopySpec {
            source: self.source.clone(),
            dest: self.dest.clone(),
            selection: CopySelection::Range {
                partitions: (!self.partitions.is_empty()).then(|| self.partitions.clone()),
                start,
                end: None,
            },
            skip,
            count: self.count,
            filter: self.filter.clone(),
            keep_timestamps: self.keep_timestamps,
            keep_partitions: self.keep_partitions,
            source_header: self.source_header,
            compression: Compression::parse(&self.compression)?,
            dry_run: self.dry_run,
            force: self.force,
        })
    }
}

/// A word for the shell: as it is when plain, else in single quotes.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.,:/@=+".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The command line that resumes an interrupted copy.
#[must_use]
pub fn resume_command(args: &CopyArgs, resume: &copy::Resume) -> String {
    let mut w: Vec<String> = vec![
        "kafkaterm".into(),
        "copy".into(),
        shell_word(&args.source),
        shell_word(&args.dest),
        "--from".into(),
        copy::offsets_arg(&resume.from),
    ];
    if !resume.skip.is_empty() {
        w.push("--skip".into());
        w.push(copy::skip_arg(&resume.skip));
    }
    if let Some(c) = resume.count {
        w.push("--count".into());
        w.push(c.to_string());
    }
    if let Some(f) = &args.filter {
        w.push("--filter".into());
        w.push(shell_word(f));
    }
    for (on, flag) in [
        (args.keep_timestamps, "--keep-timestamps"),
        (args.keep_partitions, "--keep-partitions"),
        (args.source_header, "--source-header"),
        (args.force, "--force"),
    ] {
        if on {
            w.push(flag.into());
        }
    }
    if args.compression != "lz4" {
        w.push("--compression".into());
        w.push(shell_word(&args.compression));
    }
    w.join(" ")
}

#[allow(clippy::cast_precision_loss)]
fn rate(n: u64, ms: u64) -> f64 {
    if ms == 0 {
        0.0
    } else {
        n as f64 * 1000.0 / ms as f64
    }
}

/// The report's lines (stderr), and whether the copy failed.
#[must_use]
pub fn report_lines(args: &CopyArgs, r: &CopyReport) -> Vec<String> {
    let p = &r.progress;
    let (src, dst) = (sanitize::escape(&args.source), sanitize::escape(&args.dest));
    let mut out = Vec::new();
    if r.dry_run {
        out.push(format!(
            "dry run: would copy {} message(s) from {src} to {dst} ({} read); nothing was sent",
            p.selected, p.read
        ));
        return out;
    }
    let head = match &r.outcome {
        CopyOutcome::Complete => "copied".to_string(),
        CopyOutcome::Cancelled => "copy interrupted:".to_string(),
        CopyOutcome::Failed(_) => "copy stopped:".to_string(),
    };
    out.push(format!(
        "{head} {} message(s) confirmed from {src} to {dst}, {} failed ({} read, {:.0} msgs/s)",
        p.confirmed,
        p.failed,
        p.read,
        rate(p.confirmed, p.elapsed_ms)
    ));
    if let CopyOutcome::Failed(e) = &r.outcome {
        out.push(format!("first error: {}", sanitize::escape(e)));
    }
    if r.uncertain > 0 {
        out.push(format!(
            "{} of the failed message(s) were sent but never acknowledged: the broker may have written them, and a resumed copy sends them again",
            r.uncertain
        ));
    }
    if let Some(resume) = &r.resume {
        if resume.from.is_empty() {
            out.push("nothing is left to copy".into());
        } else {
            out.push(format!(
                "to resume without copying a confirmed message twice: {}",
                sanitize::escape(&resume_command(args, resume))
            ));
        }
    }
    out
}

/// `kafkaterm copy`.
pub async fn copy(profile: ClusterProfile, args: CopyArgs) -> Result<ExitCode> {
    let now = timeutil::now_ms();
    let spec = args.spec(now)?;
    // Read-only, a copy onto itself and the filter are checked before
    // anything is read.
    if let Err(e) = copy::precheck(&profile, &spec, now) {
        if e.kind == ErrorKind::Refused && profile.read_only && !spec.dry_run {
            crate::eline!("kafkaterm: refused: {}", sanitize::escape(&e.message));
            return Ok(ExitCode::from(super::EXIT_READ_ONLY));
        }
        return Err(anyhow!(e.message));
    }
    let stop = stop_flag();
    let show_progress = std::io::stderr().is_terminal();
    let a = args.clone();
    let report = tokio::task::spawn_blocking(move || {
        let mut last = Instant::now();
        let mut progress = |p: &copy::CopyProgress| {
            if show_progress && last.elapsed() >= Duration::from_secs(1) {
                last = Instant::now();
                eprint!(
                    "\rkafkaterm: {} of at most {} read, {} selected, {} confirmed, {} failed   ",
                    p.read, p.total, p.selected, p.confirmed, p.failed
                );
            }
        };
        let stop = || stop.load(Ordering::Relaxed);
        let r = copy::run(&profile, &spec, now, &stop, &mut progress);
        if show_progress {
            eprint!("\r\x1b[K");
        }
        r
    })
    .await
    .map_err(|e| anyhow!("copy task failed: {e}"))?
    .map_err(|e| anyhow!(e.message))?;
    for line in report_lines(&a, &report) {
        crate::eline!("kafkaterm: {line}");
    }
    Ok(match report.outcome {
        CopyOutcome::Complete => ExitCode::SUCCESS,
        CopyOutcome::Cancelled | CopyOutcome::Failed(_) => ExitCode::from(EXIT_COPY_FAILED),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::copy::{CopyProgress, Resume};

    fn args() -> CopyArgs {
        CopyArgs {
            source: "dlq orders".into(),
            dest: "orders".into(),
            from: "beginning".into(),
            partitions: vec![],
            count: None,
            filter: Some("key == \"it's\"".into()),
            keep_timestamps: true,
            keep_partitions: false,
            source_header: true,
            compression: "lz4".into(),
            skip: vec![],
            force: false,
            dry_run: false,
        }
    }

    #[test]
    fn the_resume_command_quotes_what_the_shell_would_split() {
        let resume = Resume {
            from: BTreeMap::from([(0, 120), (2, 7)]),
            skip: BTreeMap::from([(0, vec![(125, 130)])]),
            count: Some(3),
        };
        assert_eq!(
            resume_command(&args(), &resume),
            "kafkaterm copy 'dlq orders' orders --from 0:120,2:7 --skip 0:125-130 --count 3 \
--filter 'key == \"it'\\''s\"' --keep-timestamps --source-header"
        );
    }

    #[test]
    fn per_partition_offsets_exclude_partition_flags() {
        let mut a = args();
        a.from = "0:5,1:9".into();
        let spec = a.spec(0).unwrap();
        assert!(matches!(
            spec.selection,
            CopySelection::Range {
                start: CopyStart::Offsets(_),
                ..
            }
        ));
        a.partitions = vec![0];
        assert!(a.spec(0).is_err());
        a.partitions.clear();
        a.from = "yesterday".into();
        assert!(a.spec(0).unwrap_err().to_string().starts_with("--from"));
        a.from = "beginning".into();
        a.compression = "brotli".into();
        assert!(a.spec(0).is_err());
    }

    #[test]
    fn a_failed_copy_reports_the_confirmed_count_and_how_to_resume() {
        let r = CopyReport {
            progress: CopyProgress {
                total: 100,
                read: 60,
                selected: 60,
                confirmed: 50,
                failed: 10,
                elapsed_ms: 1000,
            },
            dry_run: false,
            outcome: CopyOutcome::Failed("broker down".into()),
            uncertain: 2,
            resume: Some(Resume {
                from: BTreeMap::from([(0, 50)]),
                ..Resume::default()
            }),
        };
        let lines = report_lines(&args(), &r);
        assert!(
            lines[0].starts_with("copy stopped: 50 message(s) confirmed"),
            "{lines:?}"
        );
        assert!(lines[1].contains("broker down"));
        assert!(lines[2].starts_with("2 of the failed"));
        assert!(lines[3].contains("--from 0:50"), "{lines:?}");
    }
}
