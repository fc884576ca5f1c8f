//! Helpers shared by the integration tests: the test broker (started by
//! `scripts/test.sh`, or a private one for fault tests), seeding messages with
//! a plain rdkafka client, running the binary, and driving it under tmux.
#![allow(dead_code)]

pub mod fake_kafka;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::message::{Header as RdHeader, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

/// The shared test broker. A missing broker fails the test: run `scripts/test.sh`.
pub fn brokers() -> String {
    std::env::var("KAFKATERM_TEST_BROKERS").expect(
        "KAFKATERM_TEST_BROKERS is not set: run the suite with scripts/test.sh, which installs and starts the nisshi test broker",
    )
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name no other test (or earlier run) uses.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let salt: u32 = rand::random::<u32>() % 1_000_000;
    format!("{prefix}-{}-{n}-{salt}", std::process::id())
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Create a topic through the admin API.
pub fn create_topic(brokers: &str, topic: &str, partitions: i32) {
    create_topic_with(brokers, topic, partitions, &[]);
}

/// Create a topic with configs (e.g. `max.message.bytes` for big values:
/// nisshi enforces the usual 1 MiB default).
pub fn create_topic_with(brokers: &str, topic: &str, partitions: i32, configs: &[(&str, &str)]) {
    rt().block_on(async {
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .create()
            .unwrap();
        let opts = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
        let mut nt = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
        for (k, v) in configs {
            nt = nt.set(k, v);
        }
        let r = admin.create_topics([&nt], &opts).await.unwrap();
        r[0].as_ref().expect("topic created");
    });
    wait_topic_ready(brokers, topic, partitions);
}

/// Wait until a fresh client's metadata shows `topic` with `partitions`
/// partitions, each with a leader: from then on every client can use it.
pub fn wait_topic_ready(brokers: &str, topic: &str, partitions: i32) {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let seen = match c.fetch_metadata(Some(topic), Duration::from_secs(5)) {
            Ok(md) => md
                .topics()
                .iter()
                .find(|t| t.name() == topic && t.error().is_none())
                .map(|t| {
                    let led = t
                        .partitions()
                        .iter()
                        .filter(|p| p.error().is_none() && p.leader() >= 0)
                        .count();
                    format!("{led} of {partitions} partitions with a leader")
                })
                .unwrap_or_else(|| "not in the metadata".into()),
            Err(e) => e.to_string(),
        };
        if seen == format!("{partitions} of {partitions} partitions with a leader") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "topic {topic} never became ready: {seen}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A message to seed a topic with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Msg {
    pub partition: Option<i32>,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    pub timestamp: Option<i64>,
}

impl Msg {
    pub fn kv(key: &str, value: &str) -> Self {
        Self {
            key: Some(key.as_bytes().to_vec()),
            value: Some(value.as_bytes().to_vec()),
            ..Default::default()
        }
    }
    pub fn to(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }
    pub fn header(mut self, name: &str, value: Option<&[u8]>) -> Self {
        self.headers
            .push((name.to_string(), value.map(<[u8]>::to_vec)));
        self
    }
    pub fn at(mut self, ts: i64) -> Self {
        self.timestamp = Some(ts);
        self
    }
}

/// Produce messages with a plain rdkafka producer; returns (partition, offset) of each.
pub fn produce(brokers: &str, topic: &str, msgs: &[Msg]) -> Vec<(i32, i64)> {
    rt().block_on(async {
        let p: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("message.max.bytes", "67108864")
            .set("linger.ms", "0")
            .create()
            .unwrap();
        let mut out = Vec::new();
        for m in msgs {
            let mut r = FutureRecord::<[u8], [u8]>::to(topic);
            if let Some(k) = &m.key {
                r = r.key(k);
            }
            if let Some(v) = &m.value {
                r = r.payload(v);
            }
            if let Some(p) = m.partition {
                r = r.partition(p);
            }
            if let Some(t) = m.timestamp {
                r = r.timestamp(t);
            }
            if !m.headers.is_empty() {
                let mut h = OwnedHeaders::new();
                for (n, v) in &m.headers {
                    h = h.insert(RdHeader {
                        key: n,
                        value: v.as_deref(),
                    });
                }
                r = r.headers(h);
            }
            let d = p
                .send(r, Duration::from_secs(10))
                .await
                .map_err(|(e, _)| e)
                .unwrap();
            out.push((d.partition, d.offset));
        }
        out
    })
}

/// An isolated environment for running the binary: its own config and data dirs.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kafkaterm"));
        c.env("KAFKATERM_CONFIG_DIR", self.dir.path().join("config"))
            .env("KAFKATERM_DATA_DIR", self.dir.path().join("data"))
            .env_remove("KAFKATERM_BROKERS")
            .env_remove("KAFKATERM_CONFIG")
            .env_remove("NO_COLOR");
        c
    }
    /// Run the binary with arguments and optional stdin.
    pub fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut c = self.cmd();
        c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        c.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = c.spawn().unwrap();
        if let Some(input) = stdin {
            use std::io::Write;
            let mut s = child.stdin.take().unwrap();
            s.write_all(input).unwrap();
        }
        child.wait_with_output().unwrap()
    }
}

impl Sandbox {
    /// Run the binary, require success, and parse its stdout as one JSON value.
    pub fn run_json(&self, args: &[&str]) -> serde_json::Value {
        let o = self.run(args, None);
        assert!(o.status.success(), "{args:?} failed: {}", stderr(&o));
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", stdout(&o)))
    }
}

/// Now, ms since the epoch.
pub fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Parse JSON Lines output.
pub fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect()
}

/// A private nisshi broker, for tests that stop and restart it.
pub struct TestBroker {
    pub port: u16,
    args: Vec<String>,
    child: Option<std::process::Child>,
    log: tempfile::NamedTempFile,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn nisshi() -> PathBuf {
    PathBuf::from(std::env::var("KAFKATERM_NISSHI").expect(
        "KAFKATERM_NISSHI is not set: run the suite with scripts/test.sh, which installs the nisshi test broker",
    ))
}

impl TestBroker {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Start with extra nisshi arguments (e.g. `--cert`, `--key`).
    pub fn start_with(args: &[&str]) -> Self {
        let mut b = Self {
            port: free_port(),
            args: args.iter().map(ToString::to_string).collect(),
            child: None,
            log: tempfile::NamedTempFile::new().unwrap(),
        };
        b.up();
        b
    }
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
    pub fn up(&mut self) {
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let child = Command::new(nisshi())
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args([
                "--storage-engine",
                "memory://nisshi/",
                "--group-initial-rebalance-delay",
                "0s",
            ])
            .args(&self.args)
            .stdout(self.log.reopen().unwrap())
            .stderr(self.log.reopen().unwrap())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nisshi did not start on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    /// What the broker printed (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    pub fn down(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        self.down();
    }
}

/// The real binary in a tmux session of a given size.
pub struct Tmux {
    pub session: String,
    pub sandbox: Sandbox,
}

impl Tmux {
    /// Start `kafkaterm ARGS` in a detached tmux session.
    pub fn start(args: &[&str], width: u16, height: u16) -> Self {
        Self::start_env(args, width, height, &[])
    }

    pub fn start_env(args: &[&str], width: u16, height: u16, env: &[(&str, &str)]) -> Self {
        Self::start_in(Sandbox::new(), args, width, height, env)
    }

    /// Start in a prepared sandbox (config files written beforehand).
    pub fn start_in(
        sandbox: Sandbox,
        args: &[&str],
        width: u16,
        height: u16,
        env: &[(&str, &str)],
    ) -> Self {
        let session = unique("kt");
        let mut cmdline = format!(
            "env KAFKATERM_CONFIG_DIR={} KAFKATERM_DATA_DIR={} TERM=xterm-256color",
            sandbox.path().join("config").display(),
            sandbox.path().join("data").display()
        );
        for (k, v) in env {
            cmdline.push_str(&format!(" {k}={v}"));
        }
        cmdline.push_str(&format!(" {}", env!("CARGO_BIN_EXE_kafkaterm")));
        for a in args {
            cmdline.push_str(&format!(" '{}'", a.replace('\'', "'\\''")));
        }
        // Keep the pane after the program ends so its exit status and the
        // terminal's mode (stty) can be checked.
        let status = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .arg(format!("{cmdline}; echo KT-EXITED-$?; stty -a; sleep 600"))
            .status()
            .expect("tmux must be installed (scripts/test.sh installs it)");
        assert!(status.success());
        Self { session, sandbox }
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            let st = Command::new("tmux")
                .args(["send-keys", "-t", &self.session, k])
                .status()
                .unwrap();
            assert!(st.success());
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Type literal text.
    pub fn type_text(&self, text: &str) {
        let st = Command::new("tmux")
            .args(["send-keys", "-t", &self.session, "-l", text])
            .status()
            .unwrap();
        assert!(st.success());
        std::thread::sleep(Duration::from_millis(100));
    }

    pub fn screen(&self) -> String {
        let o = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// The screen with escape sequences (`-e`), to check what reached the terminal.
    pub fn screen_raw(&self) -> String {
        let o = Command::new("tmux")
            .args(["capture-pane", "-p", "-e", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Wait until the screen contains `text`; panics with the screen otherwise.
    pub fn wait_for(&self, text: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {text:?}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// The pid of the program in the pane (the kafkaterm process).
    pub fn app_pid(&self) -> Option<u32> {
        let o = Command::new("tmux")
            .args(["list-panes", "-t", &self.session, "-F", "#{pane_pid}"])
            .output()
            .ok()?;
        let shell: u32 = String::from_utf8_lossy(&o.stdout).trim().parse().ok()?;
        let o = Command::new("pgrep")
            .args(["-P", &shell.to_string(), "kafkaterm"])
            .output()
            .ok()?;
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}

/// Commit offsets for a group without joining it (the group stays Empty).
pub fn commit(b: &str, group: &str, topic: &str, offsets: &[(i32, i64)]) {
    use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
    use rdkafka::{Offset, TopicPartitionList};
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", b)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for (p, o) in offsets {
        tpl.add_partition_offset(topic, *p, Offset::Offset(*o))
            .unwrap();
    }
    c.commit(&tpl, CommitMode::Sync).unwrap();
}
