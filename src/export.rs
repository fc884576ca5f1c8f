//! Saving records as JSON Lines, streamed to the file off the UI thread.
//!
//! The browser hands over a snapshot of the records (shared `Arc`s, no
//! copies) in an [`ExportJob`]; the event loop runs [`run`] on a blocking
//! thread. Lines go through a buffered writer into a temporary file next to
//! the target, which is renamed over it only when every line is written and
//! synced: a cancelled or failed save leaves no file behind, and an existing
//! file is replaced whole or not at all. The temporary file (and so the
//! saved one) is readable by its owner only, as messages may be sensitive.

use std::fmt;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::model::Record;

/// Progress is reported after this many records…
const PROGRESS_RECORDS: usize = 2_000;
/// …or this many bytes, whichever comes first.
const PROGRESS_BYTES: u64 = 4 * 1024 * 1024;

/// A flag the UI sets to stop a save; the writer checks it between lines.
#[derive(Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for CancelFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CancelFlag({})", self.is_cancelled())
    }
}

/// Two flags are equal when they are the same flag.
impl PartialEq for CancelFlag {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for CancelFlag {}

/// Records to save to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportJob {
    pub id: u64,
    pub path: PathBuf,
    pub records: Vec<Arc<Record>>,
    pub cancel: CancelFlag,
}

/// What a finished save wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportDone {
    pub messages: usize,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Io(String),
}

impl From<std::io::Error> for ExportError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e.to_string())
    }
}

/// Reports of a save, in order: progress, then one `Done`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportEvent {
    Progress {
        id: u64,
        written: usize,
        bytes: u64,
    },
    Done {
        id: u64,
        result: Result<ExportDone, ExportError>,
    },
}

/// Write the job's records to its file (blocking); `progress` gets the
/// records and bytes written so far every few thousand records.
pub fn run(
    job: &ExportJob,
    mut progress: impl FnMut(usize, u64),
) -> Result<ExportDone, ExportError> {
    let dir = match job.path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    // Dropping `tmp` on any way out removes the partial file.
    let (tmp, mut file) = crate::files::TempPath::create_beside(&job.path, dir, "part")?;
    let mut bytes = 0u64;
    let mut reported = (0usize, 0u64);
    {
        let mut out = BufWriter::with_capacity(256 * 1024, &mut file);
        let mut line = String::new();
        for (i, r) in job.records.iter().enumerate() {
            // Dropping `tmp` on the way out removes the partial file.
            if job.cancel.is_cancelled() {
                return Err(ExportError::Cancelled);
            }
            line.clear();
            crate::jsonl::write_owned(&mut line, r);
            out.write_all(line.as_bytes())?;
            bytes += line.len() as u64;
            let written = i + 1;
            if written - reported.0 >= PROGRESS_RECORDS || bytes - reported.1 >= PROGRESS_BYTES {
                reported = (written, bytes);
                progress(written, bytes);
            }
        }
        out.flush()?;
    }
    if job.cancel.is_cancelled() {
        return Err(ExportError::Cancelled);
    }
    file.sync_all()?;
    drop(file);
    tmp.persist(&job.path)?;
    progress(job.records.len(), bytes);
    Ok(ExportDone {
        messages: job.records.len(),
        bytes,
    })
}

/// Run the job on a blocking thread of the current tokio runtime, sending
/// its events to `send`.
pub fn spawn(job: ExportJob, send: impl Fn(ExportEvent) + Send + 'static) {
    tokio::task::spawn_blocking(move || {
        let id = job.id;
        let result = run(&job, |written, bytes| {
            send(ExportEvent::Progress { id, written, bytes });
        });
        send(ExportEvent::Done { id, result });
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TimestampType;

    fn records(n: usize) -> Vec<Arc<Record>> {
        (0..n)
            .map(|i| {
                Arc::new(Record {
                    topic: "orders".into(),
                    partition: 0,
                    offset: i64::try_from(i).unwrap(),
                    timestamp: Some(0),
                    timestamp_type: TimestampType::CreateTime,
                    key: Some(format!("k{i}").into_bytes()),
                    value: Some(vec![b'x'; 100]),
                    headers: vec![],
                })
            })
            .collect()
    }

    fn job(dir: &Path, n: usize) -> ExportJob {
        ExportJob {
            id: 7,
            path: dir.join("sub").join("out.jsonl"),
            records: records(n),
            cancel: CancelFlag::default(),
        }
    }

    /// Every file in `dir` and below, as paths relative to it.
    fn files(dir: &Path) -> Vec<String> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(root, &p, out);
                } else {
                    out.push(p.strip_prefix(root).unwrap().display().to_string());
                }
            }
        }
        let mut out = Vec::new();
        walk(dir, dir, &mut out);
        out
    }

    #[test]
    fn a_save_streams_every_record_with_progress() {
        let dir = tempfile::tempdir().unwrap();
        let j = job(dir.path(), 5_000);
        let mut seen = Vec::new();
        let done = run(&j, |n, b| seen.push((n, b))).unwrap();
        assert_eq!(done.messages, 5_000);
        let text = std::fs::read_to_string(&j.path).unwrap();
        assert_eq!(text.len() as u64, done.bytes);
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 5_000);
        let last = crate::jsonl::parse_line(lines[4_999]).unwrap();
        assert_eq!(last.key.as_deref(), Some(&b"k4999"[..]));
        // Progress along the way, ending at the total.
        assert!(seen.len() >= 3, "{seen:?}");
        assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));
        assert_eq!(seen.last().copied(), Some((5_000, done.bytes)));
        // Only the file itself remains.
        assert_eq!(files(dir.path()), vec!["sub/out.jsonl".to_string()]);
    }

    #[test]
    fn a_cancelled_save_leaves_no_file_and_keeps_an_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let j = job(dir.path(), 10_000);
        std::fs::create_dir_all(j.path.parent().unwrap()).unwrap();
        std::fs::write(&j.path, "old contents\n").unwrap();
        let cancel = j.cancel.clone();
        // Cancel once the first progress report arrives: mid-file.
        let r = run(&j, |_, _| cancel.cancel());
        assert_eq!(r, Err(ExportError::Cancelled));
        assert_eq!(std::fs::read_to_string(&j.path).unwrap(), "old contents\n");
        assert_eq!(files(dir.path()), vec!["sub/out.jsonl".to_string()]);
        // Without an old file, nothing at all.
        std::fs::remove_file(&j.path).unwrap();
        let j = ExportJob {
            cancel: CancelFlag::default(),
            ..j
        };
        let cancel = j.cancel.clone();
        assert_eq!(run(&j, |_, _| cancel.cancel()), Err(ExportError::Cancelled));
        assert!(files(dir.path()).is_empty());
    }

    #[test]
    fn a_failed_save_says_why_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a directory: the rename fails after writing.
        let j = ExportJob {
            path: dir.path().to_path_buf(),
            ..job(dir.path(), 10)
        };
        let e = run(&j, |_, _| {}).unwrap_err();
        assert!(matches!(e, ExportError::Io(_)), "{e:?}");
        assert!(files(dir.path()).is_empty());
    }

    #[test]
    fn flags_compare_by_identity() {
        let a = CancelFlag::default();
        assert_eq!(a, a.clone());
        assert_ne!(a, CancelFlag::default());
        a.cancel();
        assert!(a.clone().is_cancelled());
    }
}
