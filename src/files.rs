//! Writing the files the console saves (history, templates, exports,
//! timelines): atomically, so a reader (or a crash half-way) never sees a
//! partial file, and in the order they were asked for per path, so two saves
//! of one file can never land out of order.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tokio::task::JoinHandle;

/// Write `contents` to `path` atomically, creating its directory: the data
/// goes to a new temporary file in the same directory, is flushed to disk,
/// and is renamed over `path`. A file that already exists keeps its
/// permissions (a new one gets what `std::fs::write` would give it); a
/// symbolic link keeps pointing where it did (its target is replaced).
///
/// # Errors
/// Any I/O error; `path` is then left as it was and the temporary file is
/// removed.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let target = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(e) if e.kind() == io::ErrorKind::NotFound => path.to_path_buf(),
        Err(e) => return Err(e),
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let (tmp, mut file) = TempPath::create_beside(&target, dir, "tmp")?;
    if let Ok(meta) = std::fs::metadata(&target) {
        file.set_permissions(meta.permissions())?;
    }
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    tmp.persist(&target)
}

/// A temporary file removed when dropped (that is, unless it was renamed).
pub struct TempPath(PathBuf);

impl TempPath {
    /// A new, hidden file `.NAME.RANDOM.SUFFIX` in `dir` for `target`: a
    /// fresh name, never an existing file (or a link someone planted).
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create_beside(
        target: &Path,
        dir: &Path,
        suffix: &str,
    ) -> io::Result<(Self, std::fs::File)> {
        use std::os::unix::fs::OpenOptionsExt;
        let name = target
            .file_name()
            .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
        let tmp = TempPath(dir.join(format!(
            ".{name}.{}.{suffix}",
            uuid::Uuid::new_v4().simple()
        )));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&tmp.0)?;
        Ok((tmp, file))
    }

    /// Rename the file to `target`; it is no longer removed.
    ///
    /// # Errors
    /// The rename failed (the temporary file is then removed).
    pub fn persist(self, target: &Path) -> io::Result<()> {
        std::fs::rename(&self.0, target)?;
        std::mem::forget(self);
        Ok(())
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Writes files off the async threads, each atomically, and one after the
/// other per path in the order they were submitted.
#[derive(Default)]
pub struct FileWriter {
    /// The last write submitted per path; the next one waits for it.
    last: HashMap<PathBuf, JoinHandle<()>>,
}

impl FileWriter {
    /// Write `contents` to `path` on the blocking pool, after every write
    /// submitted earlier for the same path; `done` gets the number of bytes
    /// written or the error. Call on a tokio runtime.
    pub fn submit(
        &mut self,
        path: PathBuf,
        contents: String,
        done: impl FnOnce(io::Result<usize>) + Send + 'static,
    ) {
        self.last.retain(|_, h| !h.is_finished());
        let key = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
        let before = self.last.remove(&key);
        let handle = tokio::spawn(async move {
            if let Some(h) = before {
                let _ = h.await;
            }
            let len = contents.len();
            let result =
                tokio::task::spawn_blocking(move || write_atomic(&path, contents.as_bytes()))
                    .await
                    .unwrap_or_else(|e| Err(io::Error::other(format!("the write failed: {e}"))))
                    .map(|()| len);
            done(result);
        });
        self.last.insert(key, handle);
    }

    /// Wait for every write submitted so far.
    pub async fn finish(&mut self) {
        for (_, h) in self.last.drain() {
            let _ = h.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// `n` bytes of `b`: every content is uniform, with its own length, so a
    /// torn or mixed file is easy to spot.
    fn content(b: u8, n: usize) -> Vec<u8> {
        vec![b; n]
    }

    fn is_whole(data: &[u8], expected: &[(u8, usize)]) -> bool {
        expected
            .iter()
            .any(|(b, n)| data.len() == *n && data.iter().all(|x| x == b))
    }

    #[test]
    fn a_reader_never_sees_a_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.json");
        let versions = [(b'a', 3 << 20), (b'b', 2 << 20)];
        write_atomic(&path, &content(b'a', 3 << 20)).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let path = path.clone();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut reads = 0u32;
                let mut torn = Vec::new();
                while !stop.load(Ordering::Relaxed) || reads == 0 {
                    match std::fs::read(&path) {
                        Ok(data) if is_whole(&data, &versions) => {}
                        Ok(data) => torn.push(format!("{} bytes", data.len())),
                        Err(e) => torn.push(e.to_string()),
                    }
                    reads += 1;
                }
                (reads, torn)
            })
        };
        for i in 0..40 {
            let (b, n) = versions[i % 2];
            write_atomic(&path, &content(b, n)).unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        let (reads, torn) = reader.join().unwrap();
        assert!(
            torn.is_empty(),
            "{} of {reads} reads saw a partial file: {:?}",
            torn.len(),
            &torn[..torn.len().min(5)]
        );
    }

    #[test]
    fn concurrent_writes_to_one_path_end_with_one_complete_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.jsonl");
        let versions: Vec<(u8, usize)> = (0..6u8)
            .map(|i| (b'a' + i, (1 << 20) + usize::from(i) * 77_777))
            .collect();
        for _round in 0..5 {
            let threads: Vec<_> = versions
                .iter()
                .map(|&(b, n)| {
                    let path = path.clone();
                    std::thread::spawn(move || write_atomic(&path, &content(b, n)))
                })
                .collect();
            for t in threads {
                t.join().unwrap().unwrap();
            }
            let data = std::fs::read(&path).unwrap();
            assert!(
                is_whole(&data, &versions),
                "the file holds a mix of the writes ({} bytes)",
                data.len()
            );
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec!["export.jsonl"],
            "temporary files were left behind"
        );
    }

    #[test]
    fn writes_to_one_path_land_in_the_order_they_were_asked_for() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("templates.json");
        let (tx, rx) = std::sync::mpsc::channel();
        rt.block_on(async {
            let mut w = FileWriter::default();
            // Big saves first, small ones last: unordered, the small ones
            // would finish first and the last word would be an old one.
            for i in 0..12usize {
                let text = format!("{i:02}").repeat((12 - i) * 100_000);
                let tx = tx.clone();
                w.submit(path.clone(), text, move |r| {
                    let _ = tx.send((i, r.map_err(|e| e.kind())));
                });
            }
            w.finish().await;
        });
        drop(tx);
        let mut done: Vec<(usize, Result<usize, std::io::ErrorKind>)> = rx.iter().collect();
        done.sort_by_key(|(i, _)| *i);
        assert_eq!(done.len(), 12);
        for (i, r) in &done {
            assert_eq!(r.as_ref().ok(), Some(&((12 - i) * 200_000)), "write {i}");
        }
        let last = std::fs::read_to_string(&path).unwrap();
        assert!(
            last == "11".repeat(100_000),
            "an older save landed last: {} bytes starting {:?}",
            last.len(),
            &last[..last.len().min(8)]
        );
    }

    #[test]
    fn a_replaced_file_keeps_its_mode_and_a_link_stays_a_link() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("history.json");
        std::fs::write(&private, "old").unwrap();
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_atomic(&private, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&private).unwrap(), "new");
        let mode = std::fs::metadata(&private).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // A new file gets what std::fs::write would give it.
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "x").unwrap();
        let fresh = dir.path().join("deeper").join("fresh.json");
        write_atomic(&fresh, b"x").unwrap();
        assert_eq!(
            std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777,
            std::fs::metadata(&plain).unwrap().permissions().mode() & 0o777
        );
        // Writing through a symbolic link replaces its target.
        let target = dir.path().join("real-templates.json");
        std::fs::write(&target, "old").unwrap();
        let link = dir.path().join("templates.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
    }

    #[test]
    fn a_failed_write_leaves_the_target_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a directory: the rename fails.
        let target = dir.path().join("export.jsonl");
        std::fs::create_dir(&target).unwrap();
        assert!(write_atomic(&target, b"data").is_err());
        assert!(target.is_dir());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec!["export.jsonl"],
            "a temporary file was left behind"
        );
    }
}
