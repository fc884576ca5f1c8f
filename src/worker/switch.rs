//! The console's worker: one [`super::spawn`]ed worker per cluster behind a
//! switch. `Connect` stops the current cluster's worker (its browse
//! sessions, pending requests and clients) and starts the next one's;
//! `Probe` checks a cluster for the picker with throwaway clients. The app's
//! channels stay the same across switches: events of the current cluster's
//! worker are forwarded, and the forwarding of a stopped worker ends before
//! [`WorkerEvent::Switched`] is sent, so every event after that marker
//! belongs to the new cluster.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use rdkafka::consumer::{BaseConsumer, Consumer};
use tokio::sync::mpsc;

use super::error::{WorkerError, classify};
use super::protocol::{ClusterInfo, Command, ProbeReport, WorkerEvent};
use super::{EVENT_CAPACITY, WorkerHandle};
use crate::config::ClusterProfile;
use crate::kafka::client::{self, KtClient, KtContext};

/// Where the console's worker finds the clusters it may connect to.
pub trait ClusterSource: Send + Sync {
    /// The profile of `name` (a config cluster or the demo), secrets read
    /// now: this may run a password command, so it is called off the async
    /// threads.
    fn profile(&self, name: &str) -> Result<ClusterProfile>;

    /// Does making `name`'s profile run a command of the user's (a password
    /// or token command)? Background checks skip such clusters: a command
    /// may prompt on the terminal the console owns.
    fn runs_commands(&self, _name: &str) -> bool {
        false
    }
}

/// How long a probe waits for metadata and for the group list.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The worker of the cluster in use.
struct Current {
    commands: mpsc::UnboundedSender<Command>,
    task: tokio::task::JoinHandle<()>,
    forward: tokio::task::JoinHandle<()>,
}

impl Current {
    /// Stop forwarding (nothing of this cluster reaches the app after this
    /// returns) and tell its worker to stop its sessions and clients. The
    /// worker flushes its producers for up to 2 s and then drops its
    /// clients: in the background on a switch, awaited (`wait`) when the
    /// console quits, so messages in flight get their chance.
    async fn stop(self, wait: bool) {
        self.forward.abort();
        let _ = self.forward.await;
        let _ = self.commands.send(Command::Shutdown);
        let finish = async move {
            let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
        };
        if wait {
            finish.await;
        } else {
            tokio::spawn(finish);
        }
    }
}

/// Start the console's worker: connected to `first` if given (else idle
/// until the first `Connect`), switching clusters found through `source`.
pub fn spawn(
    first: Option<ClusterProfile>,
    source: Arc<dyn ClusterSource>,
) -> Result<WorkerHandle> {
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::channel(EVENT_CAPACITY);
    let current = match first {
        Some(p) => Some(attach(super::spawn(p)?, &ev_tx)),
        None => None,
    };
    let task = tokio::spawn(run(current, cmd_rx, ev_tx, source));
    Ok(WorkerHandle {
        commands: cmd_tx,
        events: ev_rx,
        task,
    })
}

/// Forward a cluster's worker's events to the app.
fn attach(handle: WorkerHandle, events: &mpsc::Sender<WorkerEvent>) -> Current {
    let WorkerHandle {
        commands,
        events: mut from,
        task,
    } = handle;
    let to = events.clone();
    let forward = tokio::spawn(async move {
        while let Some(ev) = from.recv().await {
            if to.send(ev).await.is_err() {
                break;
            }
        }
    });
    Current {
        commands,
        task,
        forward,
    }
}

async fn run(
    mut current: Option<Current>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::Sender<WorkerEvent>,
    source: Arc<dyn ClusterSource>,
) {
    while let Some(cmd) = commands.recv().await {
        match cmd {
            Command::Shutdown => break,
            Command::Connect {
                generation,
                cluster,
            } => {
                if let Some(c) = current.take() {
                    c.stop(false).await;
                }
                current = connect(generation, cluster, &source, &events).await;
            }
            Command::Probe { cluster } => spawn_probe(cluster, &source, &events),
            other => match &current {
                Some(c) => {
                    let _ = c.commands.send(other);
                }
                None => {
                    if let Some(id) = other.req_id() {
                        let _ = events
                            .send(WorkerEvent::Refused {
                                id: Some(id),
                                reason: "not connected to a cluster: pick one first".into(),
                            })
                            .await;
                    }
                }
            },
        }
    }
    if let Some(c) = current.take() {
        c.stop(true).await;
    }
}

/// Start the worker of `cluster`: report `Switched` first, then attach it.
async fn connect(
    generation: u64,
    cluster: String,
    source: &Arc<dyn ClusterSource>,
    events: &mpsc::Sender<WorkerEvent>,
) -> Option<Current> {
    tracing::info!(cluster = %cluster, generation, "switching cluster");
    let src = Arc::clone(source);
    // Resolving secrets and making clients (which may fetch a
    // first OAUTHBEARER token) block: off the async threads. The
    // worker's tasks are spawned on this runtime from there.
    let made = tokio::task::spawn_blocking(move || {
        let profile = src.profile(&cluster)?;
        let info = ClusterInfo::of(&profile);
        Ok::<_, anyhow::Error>((info, super::spawn(profile)?))
    })
    .await;
    let mut started = None;
    let result = match made {
        Ok(Ok((info, handle))) => {
            started = Some(handle);
            Ok(info)
        }
        Ok(Err(e)) => Err(WorkerError::new(
            super::error::ErrorKind::Internal,
            crate::error_line(&e),
        )),
        Err(e) => {
            tracing::error!("connecting failed: {e}");
            Err(WorkerError::internal(
                "internal error while connecting (see the log)",
            ))
        }
    };
    // The marker first, then the new cluster's events (its
    // worker queues them on its own channel until then).
    let _ = events
        .send(WorkerEvent::Switched { generation, result })
        .await;
    started.map(|h| attach(h, events))
}

/// `Probe`: check a cluster on a task of its own; `Probed` reports it.
fn spawn_probe(
    cluster: String,
    source: &Arc<dyn ClusterSource>,
    events: &mpsc::Sender<WorkerEvent>,
) {
    let src = Arc::clone(source);
    let ev = events.clone();
    tokio::spawn(async move {
        let name = cluster.clone();
        let result = tokio::task::spawn_blocking(move || probe(&*src, &name))
            .await
            .unwrap_or_else(|_| Err(WorkerError::internal("the check failed (see the log)")));
        let _ = ev.send(WorkerEvent::Probed { cluster, result }).await;
    });
}

/// Check a cluster with a throwaway client: brokers and topics from
/// metadata, groups from the group list (where the cluster lists them).
fn probe(source: &dyn ClusterSource, name: &str) -> Result<ProbeReport, WorkerError> {
    if source.runs_commands(name) {
        return Err(WorkerError::unsupported(
            "not checked: its secret comes from a command, run when you connect",
        ));
    }
    let profile = source
        .profile(name)
        .map_err(|e| WorkerError::new(super::error::ErrorKind::Internal, crate::error_line(&e)))?;
    let group = format!("kafkaterm-probe-{}", std::process::id());
    let cfg = client::client_config(
        &profile,
        "probe",
        &[],
        &[("group.id", &group), ("enable.auto.commit", "false")],
    );
    let consumer: KtClient<BaseConsumer<KtContext>> = client::create(&cfg, KtContext::default())
        .map_err(|e| WorkerError::new(super::error::ErrorKind::Internal, crate::error_line(&e)))?;
    let md = consumer
        .fetch_metadata(None, PROBE_TIMEOUT)
        .map_err(|e| classify(&e))?;
    let groups = if profile.unsupported.list_groups {
        None
    } else {
        // A count only when every broker answered.
        super::group_list::list_groups(consumer.client(), None, PROBE_TIMEOUT)
            .ok()
            .filter(|l| !l.partial)
            .map(|l| l.groups.len())
    };
    Ok(ProbeReport {
        brokers: md.brokers().len(),
        topics: md
            .topics()
            .iter()
            .filter(|t| !t.name().starts_with("__"))
            .count(),
        groups,
    })
}
