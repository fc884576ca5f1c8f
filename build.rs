//! Records the git commit kafkaterm is built from, for `--version`:
//! `KAFKATERM_GIT_COMMIT` from the environment when set (a packager's
//! choice), otherwise `git rev-parse` when the package is the top of a git
//! clone, otherwise nothing (a crates.io or tarball build).

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=KAFKATERM_GIT_COMMIT");
    let commit = std::env::var("KAFKATERM_GIT_COMMIT")
        .ok()
        .or_else(git_commit)
        .unwrap_or_default();
    println!("cargo:rustc-env=KAFKATERM_GIT_COMMIT={commit}");
}

fn git_commit() -> Option<String> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let top = git(&dir, &["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != Path::new(&dir).canonicalize().ok()? {
        return None;
    }
    // Rebuild when HEAD moves: HEAD itself, the branch it names and the
    // packed refs (a worktree's HEAD is in its own git dir, refs in the
    // common one).
    let git_dir = git(&dir, &["rev-parse", "--absolute-git-dir"])?;
    let common = git(
        &dir,
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
    )
    .unwrap_or_else(|| git_dir.clone());
    // Only files that exist: cargo reruns the script on every build for a
    // path that is missing (a clone without packed-refs has none).
    let mut watch = vec![format!("{git_dir}/HEAD"), format!("{common}/packed-refs")];
    if let Some(branch) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
        watch.push(format!("{common}/{branch}"));
    }
    for path in watch.iter().filter(|p| Path::new(p).exists()) {
        println!("cargo:rerun-if-changed={path}");
    }
    git(&dir, &["rev-parse", "--short=12", "HEAD"])
}

fn git(dir: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
}
