//! The Kafka worker: tokio tasks that own the rdkafka clients, take
//! [`Command`]s and send back [`WorkerEvent`]s. Blocking librdkafka calls run
//! in `spawn_blocking` (or, for browse sessions, a thread each). Writes are
//! refused here, centrally, when the cluster is read-only.

pub mod admin;
pub mod browse;
pub mod copy;
mod dispatch;
pub mod error;
pub mod group_list;
pub mod groups;
pub mod lag_time;
pub mod offsets;
pub mod produce;
pub mod protocol;
pub mod switch;

use crate::worker::error::{ErrorKind, WorkerError};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use rdkafka::admin::AdminClient;
use rdkafka::consumer::BaseConsumer;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::config::ClusterProfile;
use crate::kafka::client::{self, ClientSignal, KtClient, KtContext};
use crate::model::ProducerOptions;
use protocol::{Command, ConnState, ReqId, SessionId, WorkerEvent};

/// Capacity of the event channel: a busy topic back-pressures the browse
/// thread instead of growing memory.
pub const EVENT_CAPACITY: usize = 256;

/// State shared by the worker's tasks.
pub struct Inner {
    pub profile: ClusterProfile,
    pub events: mpsc::Sender<WorkerEvent>,
    /// Metadata, watermarks, offsets-for-times and group listing. Never subscribes.
    pub meta: KtClient<BaseConsumer<KtContext>>,
    /// Last stable offsets: ListOffsets at `read_committed` (the `meta`
    /// client asks at `read_uncommitted`, for true high watermarks).
    pub lso: KtClient<BaseConsumer<KtContext>>,
    pub admin: KtClient<AdminClient<KtContext>>,
    pub producers: Mutex<HashMap<ProducerOptions, Arc<produce::KtProducer>>>,
    pub signals_tx: mpsc::UnboundedSender<ClientSignal>,
    sessions: Mutex<HashMap<SessionId, Arc<browse::SessionCtl>>>,
    cancels: Mutex<HashMap<ReqId, CancellationToken>>,
    /// Transactional sends still running: on shutdown they are cancelled
    /// (aborted) and waited for, so no transaction is left open.
    txns: Mutex<HashMap<ReqId, (CancellationToken, tokio::task::JoinHandle<()>)>>,
    /// The connection state as last decided; [`forward_conn`] tells the UI.
    conn: watch::Sender<ConnState>,
    /// Set once the metadata client has fetched metadata (see `groups::refresh`).
    pub warmed: std::sync::atomic::AtomicBool,
    /// The Schema Registry client, made on first use; it caches schemas by id.
    pub registry: crate::registry::LazyClient,
    /// The records at groups' committed offsets, read for their lag in time.
    pub lag_times: lag_time::LagTimes,
    /// The last authentication failure a client reported, in plain words:
    /// the reason behind requests that then fail as lost connections or
    /// timeouts.
    auth_failure: Mutex<Option<String>>,
}

impl Inner {
    /// Record the connection state. The UI hears of a change through
    /// [`forward_conn`], which waits for room in the event channel: a change
    /// is never dropped because a busy topic filled the channel.
    fn set_conn(&self, state: ConnState) {
        if state == ConnState::Connected
            && let Ok(mut a) = self.auth_failure.lock()
        {
            *a = None;
        }
        self.conn.send_if_modified(|c| {
            if *c == state {
                false
            } else {
                *c = state;
                true
            }
        });
    }

    /// A failed request whose real cause was an authentication failure
    /// (librdkafka reports those on the client, and the request itself
    /// then fails as a lost connection or a timeout) says so.
    fn with_cause(&self, e: WorkerError) -> WorkerError {
        if !matches!(e.kind, ErrorKind::Io | ErrorKind::Timeout) {
            return e;
        }
        match self.auth_failure.lock().ok().and_then(|a| a.clone()) {
            Some(auth) if auth != e.message => {
                WorkerError::new(ErrorKind::Auth, format!("{auth}; {}", e.message))
            }
            _ => e,
        }
    }

    fn connected(&self) -> bool {
        *self.conn.borrow() == ConnState::Connected
    }

    fn session(&self, id: SessionId) -> Option<Arc<browse::SessionCtl>> {
        self.sessions.lock().ok().and_then(|s| s.get(&id).cloned())
    }

    /// The outcome of a cluster-wide refresh says how the connection is:
    /// success means connected; a failed metadata refresh means we cannot
    /// talk to the cluster; a failed group refresh means it is degraded.
    fn note_result<T>(&self, r: &Result<T, WorkerError>, whole_cluster: bool) {
        match r {
            Ok(_) => self.set_conn(ConnState::Connected),
            Err(e) if whole_cluster => self.set_conn(ConnState::Down(e.message.clone())),
            Err(e) => self.set_conn(ConnState::Degraded(e.message.clone())),
        }
    }
}

/// The app's ends of the worker's channels.
pub struct WorkerHandle {
    pub commands: mpsc::UnboundedSender<Command>,
    pub events: mpsc::Receiver<WorkerEvent>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Start the worker on the current tokio runtime.
pub fn spawn(profile: ClusterProfile) -> Result<WorkerHandle> {
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::channel(EVENT_CAPACITY);
    let (sig_tx, sig_rx) = mpsc::unbounded_channel();
    let inner = new_inner(profile, ev_tx, sig_tx)?;
    let task = tokio::spawn(run(inner, cmd_rx, sig_rx));
    Ok(WorkerHandle {
        commands: cmd_tx,
        events: ev_rx,
        task,
    })
}

/// Tell the UI of connection changes, in order, each once the event channel
/// has room (behind the records a busy topic queued first). Changes made
/// while one waits collapse into the latest, so the UI always ends up with
/// the current state. Ends when the worker's state or the UI's end is gone.
async fn forward_conn(mut state: watch::Receiver<ConnState>, events: mpsc::Sender<WorkerEvent>) {
    while state.changed().await.is_ok() {
        let now = state.borrow_and_update().clone();
        if events.send(WorkerEvent::Connection(now)).await.is_err() {
            break;
        }
    }
}

/// The worker's shared state and clients. Call on a tokio runtime.
fn new_inner(
    profile: ClusterProfile,
    events: mpsc::Sender<WorkerEvent>,
    sig_tx: mpsc::UnboundedSender<ClientSignal>,
) -> Result<Arc<Inner>> {
    tracing::info!(
        cluster = %profile.name,
        brokers = %profile.brokers,
        properties = %client::describe_properties(&profile.properties),
        read_only = profile.read_only,
        "starting worker"
    );
    let meta_group = format!("kafkaterm-meta-{}", std::process::id());
    let meta_cfg = client::client_config(
        &profile,
        "meta",
        &[],
        &[
            ("group.id", &meta_group),
            ("enable.auto.commit", "false"),
            // High watermarks, not last stable offsets (librdkafka's
            // default is read_committed, whose ListOffsets answers the LSO).
            ("isolation.level", "read_uncommitted"),
        ],
    );
    let meta: KtClient<BaseConsumer<KtContext>> = client::create(
        &meta_cfg,
        KtContext {
            signals: Some(sig_tx.clone()),
        },
    )?;
    let lso_cfg = client::client_config(
        &profile,
        "lso",
        &[],
        &[
            ("group.id", &meta_group),
            ("enable.auto.commit", "false"),
            ("isolation.level", "read_committed"),
        ],
    );
    let lso: KtClient<BaseConsumer<KtContext>> = client::create(
        &lso_cfg,
        KtContext {
            signals: Some(sig_tx.clone()),
        },
    )?;
    let admin_cfg = client::client_config(&profile, "admin", &[], &[]);
    let admin: KtClient<AdminClient<KtContext>> = client::create(
        &admin_cfg,
        KtContext {
            signals: Some(sig_tx.clone()),
        },
    )?;
    let (conn, conn_rx) = watch::channel(ConnState::Connecting);
    tokio::spawn(forward_conn(conn_rx, events.clone()));
    let registry = crate::registry::LazyClient::new(profile.schema_registry.clone());
    let inner = Arc::new(Inner {
        registry,
        profile,
        events,
        meta,
        lso,
        admin,
        producers: Mutex::new(HashMap::new()),
        signals_tx: sig_tx,
        sessions: Mutex::new(HashMap::new()),
        cancels: Mutex::new(HashMap::new()),
        txns: Mutex::new(HashMap::new()),
        conn,
        warmed: std::sync::atomic::AtomicBool::new(false),
        lag_times: lag_time::LagTimes::default(),
        auth_failure: Mutex::new(None),
    });
    serve_client_events(Arc::downgrade(&inner))?;
    Ok(inner)
}

/// How long the worker, stopping, waits for cancelled requests (a copy
/// waiting for its messages in flight) to end.
const CANCEL_GRACE: Duration = Duration::from_secs(15);

/// How long one turn of [`serve_client_events`] waits for an event.
const EVENTS_POLL: Duration = Duration::from_millis(200);

/// Serve the event queues of the worker's own clients for as long as the
/// worker lives.
///
/// The metadata consumer never reads messages, but librdkafka puts its
/// error events (and its log lines) on its queue, and rust-rdkafka hands
/// them to `KtContext::error` (and `log`) only inside `poll`. Unpolled, an
/// outage would never reach the connection state, and the queue would grow
/// for as long as the outage lasts. The admin client's main queue holds its
/// log lines (its errors among them) and is never polled by rust-rdkafka
/// either.
fn serve_client_events(inner: std::sync::Weak<Inner>) -> Result<()> {
    std::thread::Builder::new()
        .name("kt-client-events".into())
        .spawn(move || {
            while let Some(i) = inner.upgrade() {
                // Nothing is assigned, so no message comes back; an error is
                // also returned here, after the context has seen it.
                let _ = i.meta.poll(EVENTS_POLL);
                let _ = i.lso.poll(Duration::ZERO);
                client::serve_main_queue(i.admin.inner());
            }
        })?;
    Ok(())
}

async fn run(
    inner: Arc<Inner>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    mut signals: mpsc::UnboundedReceiver<ClientSignal>,
) {
    loop {
        tokio::select! {
            cmd = commands.recv() => match cmd {
                None | Some(Command::Shutdown) => break,
                Some(cmd) => dispatch::dispatch(&inner, cmd),
            },
            Some(sig) = signals.recv() => {
                if sig.auth_failed
                    && let Ok(mut a) = inner.auth_failure.lock() {
                        *a = Some(sig.message.clone());
                    }
                if sig.all_brokers_down || sig.auth_failed {
                    inner.set_conn(ConnState::Down(sig.message));
                } else {
                    if inner.connected() {
                        inner.set_conn(ConnState::Degraded(sig.message));
                    }
                }
            }
        }
    }
    // Shutdown: stop sessions, give in-flight messages a moment.
    if let Ok(sessions) = inner.sessions.lock() {
        for s in sessions.values() {
            s.stop.store(true, Ordering::Relaxed);
        }
    }
    // Open transactions are aborted, not left to the coordinator's timeout.
    let txns: Vec<_> = inner
        .txns
        .lock()
        .map(|mut t| t.drain().map(|(_, v)| v).collect())
        .unwrap_or_default();
    for (token, _) in &txns {
        token.cancel();
    }
    for (_, task) in txns {
        if tokio::time::timeout(TXN_ABORT_GRACE, task).await.is_err() {
            tracing::warn!("a transaction was still aborting when the worker stopped");
        }
    }
    // Running requests (a copy among them) are cancelled; a copy stops
    // reading and waits for what it already sent, so nothing it sent is
    // dropped with the process. Give them a while to finish.
    if let Ok(c) = inner.cancels.lock() {
        for t in c.values() {
            t.cancel();
        }
    }
    let deadline = tokio::time::Instant::now() + CANCEL_GRACE;
    while inner.cancels.lock().is_ok_and(|c| !c.is_empty())
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let i2 = Arc::clone(&inner);
    let _ =
        tokio::task::spawn_blocking(move || produce::flush_all(&i2, Duration::from_secs(2))).await;
}

/// How long shutdown waits for a cancelled transaction's abort.
const TXN_ABORT_GRACE: Duration = Duration::from_millis(2500);

/// Run blocking work off the async threads; a panic becomes an error.
async fn blocking<T: Send + 'static>(
    inner: &Arc<Inner>,
    f: impl FnOnce(&Inner) -> Result<T, WorkerError> + Send + 'static,
) -> Result<T, WorkerError> {
    let i = Arc::clone(inner);
    tokio::task::spawn_blocking(move || f(&i))
        .await
        .unwrap_or_else(|e| {
            tracing::error!("worker task failed: {e}");
            Err(crate::werr!("internal error in the worker (see the log)"))
        })
        .map_err(|e| inner.with_cause(e))
}

/// Send `ev` without waiting here (the send waits for room on a task).
fn emit(inner: &Arc<Inner>, ev: WorkerEvent) {
    let inner = Arc::clone(inner);
    tokio::spawn(async move {
        let _ = inner.events.send(ev).await;
    });
}

/// Run a job on the async threads and send the one event it ends with,
/// waiting for room in the event channel.
fn reply<F>(inner: Arc<Inner>, job: impl FnOnce(Arc<Inner>) -> F)
where
    F: std::future::Future<Output = WorkerEvent> + Send + 'static,
{
    let events = inner.events.clone();
    let done = job(inner);
    tokio::spawn(async move {
        let _ = events.send(done.await).await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filler() -> WorkerEvent {
        WorkerEvent::Flushed {
            id: 0,
            undelivered: 0,
        }
    }

    async fn next(rx: &mut mpsc::Receiver<WorkerEvent>) -> Option<WorkerEvent> {
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .ok()
            .flatten()
    }

    /// Events waiting on a client's main queue (a consumer's main queue is
    /// forwarded to its consumer queue, and counted there).
    fn waiting<C: rdkafka::ClientContext>(c: &rdkafka::client::Client<C>) -> usize {
        use rdkafka::bindings as rd;
        // SAFETY: a live client; the queue reference is released at once.
        unsafe {
            let q = rd::rd_kafka_queue_get_main(c.native_ptr());
            let n = rd::rd_kafka_queue_length(q);
            rd::rd_kafka_queue_destroy(q);
            n
        }
    }

    /// Through an outage the worker's own clients report trouble (the
    /// metadata client's error callback fires) and their queues do not
    /// grow: both are served.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_clients_queues_are_served_through_an_outage() {
        use rdkafka::consumer::Consumer;
        let mock = rdkafka::mocking::MockCluster::new(1).unwrap();
        let mut profile = ClusterProfile::adhoc(&mock.bootstrap_servers());
        // Reconnect often, so an unserved queue would fill fast.
        profile.properties.push((
            "reconnect.backoff.max.ms".into(),
            crate::config::Secret::new("200"),
        ));
        let (ev_tx, _ev_rx) = mpsc::channel(EVENT_CAPACITY);
        let (sig_tx, mut sig_rx) = mpsc::unbounded_channel();
        let inner = new_inner(profile, ev_tx, sig_tx).unwrap();
        let i = Arc::clone(&inner);
        tokio::task::spawn_blocking(move || i.meta.fetch_metadata(None, Duration::from_secs(10)))
            .await
            .unwrap()
            .unwrap();
        mock.broker_down(1).unwrap();
        let signal = tokio::time::timeout(Duration::from_secs(30), sig_rx.recv())
            .await
            .expect("the metadata client never reported the outage")
            .unwrap();
        assert!(!signal.message.is_empty());
        let mut most = (0, 0);
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            most.0 = most.0.max(waiting(inner.meta.client()));
            most.1 = most.1.max(waiting(inner.admin.inner()));
        }
        assert!(
            most.0 <= 5 && most.1 <= 5,
            "events pile up through the outage: at most {} (metadata) and {} (admin) waiting",
            most.0,
            most.1
        );
        mock.broker_up(1).unwrap();
    }

    /// A UI that has fallen behind (the event channel is full) still learns
    /// of every connection change once it catches up.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_connection_change_survives_a_full_event_channel() {
        let (ev_tx, mut ev_rx) = mpsc::channel(1);
        let (sig_tx, _sig_rx) = mpsc::unbounded_channel();
        let inner = new_inner(ClusterProfile::adhoc("127.0.0.1:9"), ev_tx, sig_tx).unwrap();
        for state in [
            ConnState::Down("all brokers are down".into()),
            ConnState::Connected,
        ] {
            inner.events.try_send(filler()).unwrap();
            inner.set_conn(state.clone());
            assert!(matches!(
                next(&mut ev_rx).await,
                Some(WorkerEvent::Flushed { .. })
            ));
            match next(&mut ev_rx).await {
                Some(WorkerEvent::Connection(s)) => assert_eq!(s, state),
                other => panic!("the change to {state:?} was lost: next event {other:?}"),
            }
        }
    }
}
