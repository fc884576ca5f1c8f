//! Records the git commit kafkaterm is built from, for `--version`:
//! `KAFKATERM_GIT_COMMIT` from the environment when set (a packager's
//! choice), otherwise `git rev-parse` when the package is the top of a git
//! clone, otherwise nothing (a crates.io or tarball build).
//!
//! On x86_64 it also compiles src/musl_memcpy.c: in the static musl build
//! (scripts/package.sh) as the binary's `memcpy` and `memmove`, because
//! musl's are slow for short copies (the file says by how much); in every
//! other build only as `kafkaterm_memcpy`/`kafkaterm_memmove`, for its tests.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=KAFKATERM_GIT_COMMIT");
    let commit = std::env::var("KAFKATERM_GIT_COMMIT")
        .ok()
        .or_else(git_commit)
        .unwrap_or_default();
    println!("cargo:rustc-env=KAFKATERM_GIT_COMMIT={commit}");
    build_memcpy();
}

fn build_memcpy() {
    println!("cargo:rerun-if-changed=src/musl_memcpy.c");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    if var("CARGO_CFG_TARGET_ARCH") != "x86_64" {
        return;
    }
    let replace = var("CARGO_CFG_TARGET_ENV") == "musl";
    let mut build = cc::Build::new();
    build
        .file("src/musl_memcpy.c")
        // Keep the compiler from turning the copy loops back into calls
        // to memcpy.
        .flag("-fno-builtin")
        .flag_if_supported("-fno-tree-loop-distribute-patterns");
    if replace {
        // The whole archive, so that the linker takes this memcpy and
        // never pulls libc.a's (which would then be a second definition).
        build
            .define("KAFKATERM_REPLACE_MEMCPY", None)
            .link_lib_modifier("+whole-archive");
    }
    build.compile("kafkaterm_memcpy");
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
