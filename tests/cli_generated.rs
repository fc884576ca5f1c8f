//! `completions`, the man page and `--version`, from the real binary: made
//! from the same clap definition as `--help`, without any configuration or
//! cluster.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn kafkaterm(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kafkaterm"))
        .args(args)
        // No config may be needed: point at one that does not exist.
        .env("KAFKATERM_CONFIG", "/nonexistent/kafkaterm/config.toml")
        .env_remove("KAFKATERM_BROKERS")
        .output()
        .expect("run kafkaterm")
}

fn stdout(args: &[&str]) -> String {
    let out = kafkaterm(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

const COMMANDS: [&str; 12] = [
    "topics",
    "describe",
    "consume",
    "produce",
    "copy",
    "groups",
    "lag",
    "reset",
    "delete-group",
    "watch",
    "completions",
    "manpage",
];

#[test]
fn every_shell_completes_every_command_and_option() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = stdout(&["completions", shell]);
        for cmd in COMMANDS {
            assert!(script.contains(cmd), "{shell}: {cmd} missing");
        }
        for opt in [
            "exit-at-end",
            "transactional-id",
            "keep-timestamps",
            "read-only",
        ] {
            assert!(script.contains(opt), "{shell}: --{opt} missing");
        }
        // Values of arguments are completed too.
        assert!(
            script.contains("powershell"),
            "{shell}: completions' shells missing"
        );
    }
}

#[test]
fn an_unsupported_shell_is_a_usage_error() {
    let out = kafkaterm(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid value 'tcsh'"), "{err}");
    assert!(err.contains("bash, elvish, fish, powershell, zsh"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn the_man_page_lists_what_help_lists() {
    let page = stdout(&["manpage"]);
    assert!(
        page.starts_with(".ie") || page.contains(".TH kafkaterm 1"),
        "{page}"
    );
    assert!(page.contains(".TH kafkaterm 1"));
    let help = stdout(&["--help"]);
    for cmd in COMMANDS {
        assert!(help.contains(cmd), "--help lacks {cmd}");
        assert!(
            page.contains(&format!("kafkaterm\\-{}", cmd.replace('-', "\\-"))),
            "page lacks {cmd}"
        );
    }
    for opt in [
        "brokers",
        "cluster",
        "config",
        "theme",
        "read\\-only",
        "demo",
    ] {
        assert!(page.contains(&format!("\\-\\-{opt}")), "page lacks --{opt}");
    }
}

#[test]
fn the_man_pages_directory_has_one_page_per_command() {
    let dir = tempfile::tempdir().expect("temp dir");
    stdout(&["manpage", "--dir", dir.path().to_str().expect("path")]);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut want: Vec<String> = COMMANDS
        .iter()
        .map(|c| format!("kafkaterm-{c}.1"))
        .collect();
    want.push("kafkaterm.1".into());
    want.sort();
    assert_eq!(names, want);
    let consume = std::fs::read_to_string(dir.path().join("kafkaterm-consume.1")).expect("page");
    assert!(consume.contains("isolation"), "{consume}");
}

#[test]
fn version_names_the_commit_and_librdkafka() {
    let short = stdout(&["-V"]);
    let short = short.trim_end();
    assert!(short.starts_with(&format!("kafkaterm {}", env!("CARGO_PKG_VERSION"))));
    assert_eq!(short.lines().count(), 1);
    // Built from a clone: the commit checked out is named.
    let head = Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "rev-parse",
            "--short=12",
            "HEAD",
        ])
        .output();
    if let Ok(head) = head.as_ref()
        && head.status.success()
    {
        let head = String::from_utf8_lossy(&head.stdout);
        assert!(short.ends_with(&format!("({})", head.trim())), "{short}");
    }
    let long = stdout(&["--version"]);
    let lines: Vec<&str> = long.lines().collect();
    assert_eq!(lines.len(), 2, "{long}");
    assert_eq!(lines[0], short);
    assert!(lines[1].starts_with("librdkafka 2.12."), "{long}");
    for f in [
        "ssl",
        "sasl_scram",
        "sasl_oauthbearer",
        "zstd",
        "lz4",
        "snappy",
        "gzip",
    ] {
        assert!(lines[1].contains(f), "{f} missing: {long}");
    }
}
