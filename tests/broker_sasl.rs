//! SASL SCRAM-SHA-512 against the patched test broker's SASL listener
//! (`scripts/broker.sh start-sasl`, started by scripts/test.sh with the
//! users of KAFKATERM_SCRAM_USERS): the headless commands and the console
//! log in with the password from `password_env` and from
//! `password_command`; a wrong password is one plain line and a non-zero
//! exit, not a hang; the password never reaches the screen, stdout, stderr,
//! JSON or the log files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Sandbox, Tmux, json_lines, stderr, stdout, unique};

/// The SASL listener and its first user's name and password.
fn sasl() -> (String, String, String) {
    let b = std::env::var("KAFKATERM_TEST_SASL_BROKERS").expect(
        "KAFKATERM_TEST_SASL_BROKERS is not set: run the suite with scripts/test.sh, which starts the SASL broker",
    );
    let users = std::env::var("KAFKATERM_SCRAM_USERS")
        .unwrap_or_else(|_| "kafkaterm:kafkaterm-secret".into());
    let first = users.split(',').next().unwrap();
    let (user, password) = first.split_once(':').unwrap();
    (b, user.to_string(), password.to_string())
}

/// A config with one cluster `s` whose password comes from `source`
/// (a `password_env = …` or `password_command = …` line).
fn config(sb: &Sandbox, brokers: &str, user: &str, source: &str) -> String {
    let path = sb.path().join(format!("{}.toml", unique("sasl")));
    std::fs::write(
        &path,
        format!(
            "[clusters.s]\nbrokers = \"{brokers}\"\n[clusters.s.sasl]\n\
             mechanism = \"SCRAM-SHA-512\"\nusername = \"{user}\"\n{source}\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// Every file under the sandbox (logs, state) as text, for the secret check.
fn all_files(dir: &std::path::Path) -> String {
    let mut out = String::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.push_str(&all_files(&p));
        } else if p.extension().is_none_or(|x| x != "toml") {
            out.push_str(&String::from_utf8_lossy(
                &std::fs::read(&p).unwrap_or_default(),
            ));
        }
    }
    out
}

#[test]
fn scram_login_from_password_env_and_command_and_a_wrong_password_is_one_line() {
    let (b, user, password) = sasl();
    let sb = Sandbox::new();
    let topic = unique("sasl-t");
    // The topic, made by a plain rdkafka admin client logged in the same way.
    common::rt().block_on(async {
        use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
        let admin: AdminClient<rdkafka::client::DefaultClientContext> =
            rdkafka::ClientConfig::new()
                .set("bootstrap.servers", &b)
                .set("security.protocol", "SASL_PLAINTEXT")
                .set("sasl.mechanism", "SCRAM-SHA-512")
                .set("sasl.username", &user)
                .set("sasl.password", &password)
                .create()
                .unwrap();
        let r = admin
            .create_topics(
                [&NewTopic::new(&topic, 1, TopicReplication::Fixed(1))],
                &AdminOptions::new(),
            )
            .await
            .unwrap();
        r[0].as_ref().unwrap();
    });

    // password_env: produce, consume and list over SASL.
    let by_env = config(&sb, &b, &user, "password_env = \"KT_TEST_SCRAM_PASSWORD\"");
    let run = |cfg: &str, args: &[&str], stdin: Option<&[u8]>| {
        let mut c = sb.cmd();
        c.env("KT_TEST_SCRAM_PASSWORD", &password)
            .args(["--config", cfg])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .stdin(if stdin.is_some() {
                std::process::Stdio::piped()
            } else {
                std::process::Stdio::null()
            });
        let mut child = c.spawn().unwrap();
        if let Some(input) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(input).unwrap();
        }
        child.wait_with_output().unwrap()
    };
    let o = run(&by_env, &["produce", &topic], Some(b"over scram\n"));
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&by_env, &["consume", &topic, "-e"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json_lines(&o)[0]["value"], "over scram");
    let mut seen = stdout(&o) + &stderr(&o);
    let o = run(&by_env, &["topics", "--json"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains(&topic), "{}", stdout(&o));
    seen += &(stdout(&o) + &stderr(&o));

    // password_command: the same login.
    let by_command = config(
        &sb,
        &b,
        &user,
        &format!("password_command = \"printf %s '{password}'\""),
    );
    let o = run(&by_command, &["describe", &topic, "--json"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    seen += &(stdout(&o) + &stderr(&o));

    // A wrong password: one plain line, non-zero, and no password in it.
    let wrong = config(
        &sb,
        &b,
        &user,
        "password_command = \"printf %s not-the-password\"",
    );
    let o = run(&wrong, &["topics"], None);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    assert!(e.contains("authentication failed"), "{e}");
    assert!(!e.contains("not-the-password"), "{e}");
    seen += &e;

    // The console logs in too, and shows the topic.
    let tm = Tmux::start_in(
        Sandbox::new(),
        &["--config", &by_env, "--cluster", "s"],
        80,
        24,
        &[("KT_TEST_SCRAM_PASSWORD", &password)],
    );
    let screen = tm.wait_for(&topic, Duration::from_secs(30));
    seen += &screen;
    tm.keys(&["q"]);
    tm.wait_for("KT-EXITED-0", Duration::from_secs(20));

    assert!(!seen.contains(&password), "the password reached the output");
    let files = all_files(sb.path());
    assert!(
        !files.contains(&password),
        "the password reached a file under the data dir"
    );
}
