//! The Kafka worker: tokio tasks that own the rdkafka clients, take
//! [`Command`]s and send back [`WorkerEvent`]s. Blocking librdkafka calls run
//! in `spawn_blocking` (or, for browse sessions, a thread each). Writes are
//! refused here, centrally, when the cluster is read-only.

pub mod admin;
pub mod browse;
pub mod groups;
pub mod offsets;
pub mod produce;
pub mod protocol;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use rdkafka::admin::AdminClient;
use rdkafka::consumer::BaseConsumer;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::ClusterProfile;
use crate::kafka::client::{self, ClientSignal, KtContext};
use crate::model::ProducerOptions;
use protocol::{BrowseEvent, Command, ConnState, ReqId, SessionId, WorkerEvent};

/// Capacity of the event channel: a busy topic back-pressures the browse
/// thread instead of growing memory.
pub const EVENT_CAPACITY: usize = 256;

/// State shared by the worker's tasks.
pub struct Inner {
    pub profile: ClusterProfile,
    pub events: mpsc::Sender<WorkerEvent>,
    /// Metadata, watermarks, offsets-for-times and group listing. Never subscribes.
    pub meta: BaseConsumer<KtContext>,
    pub admin: AdminClient<KtContext>,
    pub producers: Mutex<HashMap<ProducerOptions, Arc<produce::KtProducer>>>,
    pub signals_tx: mpsc::UnboundedSender<ClientSignal>,
    sessions: Mutex<HashMap<SessionId, Arc<browse::SessionCtl>>>,
    cancels: Mutex<HashMap<ReqId, CancellationToken>>,
    conn: Mutex<ConnState>,
    /// Set once the metadata client has fetched metadata (see `groups::refresh`).
    pub warmed: std::sync::atomic::AtomicBool,
    /// The Schema Registry client, made on first use; it caches schemas by id.
    pub registry: crate::registry::LazyClient,
}

impl Inner {
    fn set_conn(&self, state: ConnState) {
        let changed = self
            .conn
            .lock()
            .map(|mut c| {
                if *c == state {
                    false
                } else {
                    *c = state.clone();
                    true
                }
            })
            .unwrap_or(false);
        if changed {
            let _ = self.events.try_send(WorkerEvent::Connection(state));
        }
    }

    fn session(&self, id: SessionId) -> Option<Arc<browse::SessionCtl>> {
        self.sessions.lock().ok().and_then(|s| s.get(&id).cloned())
    }

    /// The outcome of a cluster-wide refresh says how the connection is:
    /// success means connected; a failed metadata refresh means we cannot
    /// talk to the cluster; a failed group refresh means it is degraded.
    fn note_result<T>(&self, r: &Result<T, String>, whole_cluster: bool) {
        match r {
            Ok(_) => self.set_conn(ConnState::Connected),
            Err(e) if whole_cluster => self.set_conn(ConnState::Down(e.clone())),
            Err(e) => self.set_conn(ConnState::Degraded(e.clone())),
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
        &[("group.id", &meta_group), ("enable.auto.commit", "false")],
    );
    let meta: BaseConsumer<KtContext> = client::create(
        &meta_cfg,
        KtContext {
            signals: Some(sig_tx.clone()),
        },
    )?;
    let admin_cfg = client::client_config(&profile, "admin", &[], &[]);
    let admin: AdminClient<KtContext> = client::create(
        &admin_cfg,
        KtContext {
            signals: Some(sig_tx.clone()),
        },
    )?;
    let registry = crate::registry::LazyClient::new(profile.schema_registry.clone());
    let inner = Arc::new(Inner {
        registry,
        profile,
        events: ev_tx,
        meta,
        admin,
        producers: Mutex::new(HashMap::new()),
        signals_tx: sig_tx,
        sessions: Mutex::new(HashMap::new()),
        cancels: Mutex::new(HashMap::new()),
        conn: Mutex::new(ConnState::Connecting),
        warmed: std::sync::atomic::AtomicBool::new(false),
    });
    let task = tokio::spawn(run(inner, cmd_rx, sig_rx));
    Ok(WorkerHandle {
        commands: cmd_tx,
        events: ev_rx,
        task,
    })
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
                Some(cmd) => dispatch(&inner, cmd),
            },
            Some(sig) = signals.recv() => {
                if sig.all_brokers_down || sig.auth_failed {
                    inner.set_conn(ConnState::Down(sig.message));
                } else {
                    let connected = inner.conn.lock().map(|c| *c == ConnState::Connected).unwrap_or(false);
                    if connected {
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
    let i2 = Arc::clone(&inner);
    let _ =
        tokio::task::spawn_blocking(move || produce::flush_all(&i2, Duration::from_secs(2))).await;
}

/// Run blocking work off the async threads; a panic becomes an error.
async fn blocking<T: Send + 'static>(
    inner: &Arc<Inner>,
    f: impl FnOnce(&Inner) -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let i = Arc::clone(inner);
    tokio::task::spawn_blocking(move || f(&i))
        .await
        .unwrap_or_else(|e| {
            tracing::error!("worker task failed: {e}");
            Err("internal error in the worker (see the log)".into())
        })
}

fn emit(inner: &Arc<Inner>, ev: WorkerEvent) {
    let inner = Arc::clone(inner);
    tokio::spawn(async move {
        let _ = inner.events.send(ev).await;
    });
}

fn dispatch(inner: &Arc<Inner>, cmd: Command) {
    if cmd.is_write() && inner.profile.read_only {
        emit(
            inner,
            WorkerEvent::Refused {
                id: cmd.req_id(),
                reason: format!(
                    "read-only mode: cluster {} does not allow writes",
                    crate::sanitize::escape(&inner.profile.name)
                ),
            },
        );
        return;
    }
    let i = Arc::clone(inner);
    match cmd {
        Command::RefreshTopics { id } => {
            tokio::spawn(async move {
                let result = blocking(&i, admin::cluster_snapshot).await;
                i.note_result(&result, true);
                let _ = i.events.send(WorkerEvent::Topics { id, result }).await;
            });
        }
        Command::DescribeTopic { id, topic } => {
            tokio::spawn(async move {
                let result = admin::describe_topic(Arc::clone(&i), topic.clone()).await;
                let _ = i
                    .events
                    .send(WorkerEvent::TopicDetail { id, topic, result })
                    .await;
            });
        }
        Command::CreateTopic { id, spec } => {
            tokio::spawn(async move {
                let result = admin::create_topic(&i, &spec).await;
                tracing::info!(topic = %spec.name, ok = result.is_ok(), "create topic");
                let _ = i
                    .events
                    .send(WorkerEvent::TopicCreated {
                        id,
                        topic: spec.name,
                        result,
                    })
                    .await;
            });
        }
        Command::DeleteTopic { id, topic } => {
            tokio::spawn(async move {
                let result = admin::delete_topic(&i, &topic).await;
                tracing::info!(topic = %topic, ok = result.is_ok(), "delete topic");
                let _ = i
                    .events
                    .send(WorkerEvent::TopicDeleted { id, topic, result })
                    .await;
            });
        }
        Command::StartBrowse { session, spec } => {
            let ctl = Arc::new(browse::SessionCtl::default());
            if let Ok(mut s) = i.sessions.lock() {
                s.insert(session, Arc::clone(&ctl));
            }
            let spawned = std::thread::Builder::new()
                .name(format!("kt-browse-{session}"))
                .spawn(move || {
                    browse::run(Arc::clone(&i), session, spec, ctl);
                    if let Ok(mut s) = i.sessions.lock() {
                        s.remove(&session);
                    }
                });
            if let Err(e) = spawned {
                emit(
                    inner,
                    WorkerEvent::Browse {
                        session,
                        event: BrowseEvent::Failed(format!("cannot start a browse thread: {e}")),
                    },
                );
            }
        }
        Command::StopBrowse { session } => {
            if let Some(s) = i.session(session) {
                s.stop.store(true, Ordering::Relaxed);
            }
        }
        Command::PauseBrowse { session, paused } => {
            if let Some(s) = i.session(session) {
                s.paused.store(paused, Ordering::Relaxed);
            }
        }
        Command::SearchBrowse {
            session,
            filter,
            want,
        } => {
            if let Some(s) = i.session(session) {
                if let Ok(mut slot) = s.search.lock() {
                    *slot = Some((filter, want));
                }
            }
        }
        Command::CancelSearch { session } => {
            if let Some(s) = i.session(session) {
                s.cancel_search.store(true, Ordering::Relaxed);
            }
        }
        Command::ProduceBatch {
            id,
            options,
            source,
        } => {
            let token = CancellationToken::new();
            if let Ok(mut c) = i.cancels.lock() {
                c.insert(id, token.clone());
            }
            tokio::spawn(async move {
                produce::run_batch(Arc::clone(&i), id, options, source, token).await;
                if let Ok(mut c) = i.cancels.lock() {
                    c.remove(&id);
                }
            });
        }
        Command::Cancel { id } => {
            if let Some(t) = i.cancels.lock().ok().and_then(|c| c.get(&id).cloned()) {
                t.cancel();
            }
        }
        Command::Flush { id, timeout_ms } => {
            tokio::spawn(async move {
                let undelivered = blocking(&i, move |inner| {
                    Ok(produce::flush_all(inner, Duration::from_millis(timeout_ms)))
                })
                .await
                .unwrap_or(0);
                let _ = i
                    .events
                    .send(WorkerEvent::Flushed { id, undelivered })
                    .await;
            });
        }
        Command::FetchSchema { schema_id } => {
            tokio::spawn(async move {
                // Blocking HTTP (bounded by the registry timeout) off the
                // async threads; the client caches by id.
                let result = blocking(&i, move |inner| {
                    inner.registry.get()?.schema_by_id(schema_id)
                })
                .await;
                let _ = i
                    .events
                    .send(WorkerEvent::Schema { schema_id, result })
                    .await;
            });
        }
        Command::RefreshGroups { id, only } => {
            tokio::spawn(async move {
                let result =
                    blocking(&i, move |inner| groups::refresh(inner, only.as_deref())).await;
                i.note_result(&result, false);
                let _ = i.events.send(WorkerEvent::Groups { id, result }).await;
            });
        }
        Command::PlanOffsetReset {
            id,
            group,
            target,
            partitions,
        } => {
            tokio::spawn(async move {
                let g = group.clone();
                let result = blocking(&i, move |inner| {
                    groups::plan_reset(inner, &g, target, partitions)
                })
                .await;
                let _ = i
                    .events
                    .send(WorkerEvent::ResetPlan { id, group, result })
                    .await;
            });
        }
        Command::ApplyOffsetReset { id, group, rows } => {
            tokio::spawn(async move {
                let g = group.clone();
                let result = blocking(&i, move |inner| groups::apply_reset(inner, &g, &rows)).await;
                tracing::info!(group = %group, ok = result.is_ok(), "offset reset");
                let _ = i
                    .events
                    .send(WorkerEvent::ResetApplied { id, group, result })
                    .await;
            });
        }
        Command::DeleteGroup { id, group } => {
            tokio::spawn(async move {
                let g = group.clone();
                let state = blocking(&i, move |inner| groups::group_state(inner, &g)).await;
                let result = match state {
                    Err(e) => Err(e),
                    Ok(s) if s != "Empty" && s != "Dead" => Err(format!(
                        "the group is {s}: a group can only be deleted while it is Empty"
                    )),
                    Ok(_) => admin::delete_group(&i, &group).await,
                };
                tracing::info!(group = %group, ok = result.is_ok(), "delete group");
                let _ = i
                    .events
                    .send(WorkerEvent::GroupDeleted { id, group, result })
                    .await;
            });
        }
        Command::Shutdown => {}
    }
}
