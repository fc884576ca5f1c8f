//! kafkaterm: a terminal operations console for Apache Kafka.
//!
//! The library holds everything; `main.rs` only dispatches. See
//! `ARCHITECTURE.md` for the shape: pure app state updated by key and worker
//! events, pure drawing, one async Kafka worker behind typed channels.

/// `eprintln!` that never panics: when standard error is gone (the SSH
/// connection dropped under the console, `2>&-`), the line is dropped
/// instead of aborting the exit path with a panic.
#[macro_export]
macro_rules! eline {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod app;
pub mod cli;
pub mod config;
pub mod decode;
pub mod demo;
pub mod export;
pub mod files;
pub mod filter;
pub mod headless;
pub mod jsonl;
pub mod kafka;
pub mod lag;
pub mod logging;
pub mod model;
pub mod panes;
pub mod registry;
pub mod sanitize;
pub mod template;
pub mod term;
pub mod timeutil;
pub mod tui;
pub mod ui;
pub mod worker;

use std::process::ExitCode;

use anyhow::{Context, Result};

/// An error as one line (config errors keep their second line, the
/// offending text, indented).
#[must_use]
pub fn error_line(e: &anyhow::Error) -> String {
    let chain: Vec<String> = e.chain().map(ToString::to_string).collect();
    let mut s = chain.join(": ");
    if !s.starts_with("config error") {
        s = s.replace('\n', " ");
    }
    sanitize::escape_multiline(&s).into_owned()
}

/// Everything `main` does: configuration, then the console or a command.
pub fn run(cli: cli::Cli) -> Result<ExitCode> {
    let dirs = config::Dirs::discover();
    let _log = logging::init(&dirs.state);
    term::install_panic_hook();
    let explicit = cli.global.config.is_some();
    let config_path = cli
        .global
        .config
        .clone()
        .unwrap_or_else(|| dirs.config.join("config.toml"));
    let (cfg, warnings) = config::ConfigFile::load(&config_path, explicit)?;
    for w in &warnings {
        tracing::warn!("{w}");
    }
    let overrides = config::Overrides {
        brokers: cli.global.brokers.clone(),
        cluster: cli.global.cluster.clone(),
        properties: cli.global.property.clone(),
        read_only: cli.global.read_only,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("kt-worker")
        .build()
        .context("cannot start the async runtime")?;
    let console = cli.command.is_none();
    let demo = if cli.global.demo {
        let mut p = demo::start()?;
        p.apply(&config::Overrides {
            brokers: None,
            ..overrides.clone()
        });
        Some(p)
    } else {
        None
    };
    // The console without a chosen cluster opens its picker; headless
    // commands need a cluster (the only one counts as chosen there).
    let picking = console && demo.is_none() && !config::cluster_chosen(&cfg, &overrides);
    let profile = match &demo {
        Some(p) => Some(p.clone()),
        None if picking => None,
        None => Some(config::resolve_cluster(&cfg, &overrides, &config_path)?),
    };
    if let Some(p) = &profile {
        tracing::info!(cluster = %p.name, "starting");
    }
    let Some(command) = cli.command else {
        let theme = config::theme::Theme::select(
            cli.global.theme.as_deref(),
            cfg.theme.as_deref(),
            config::theme::no_color_env(),
            Some(&dirs.config.join("themes")),
        )?;
        let base = profile
            .clone()
            .unwrap_or_else(|| config::ClusterProfile::adhoc(""));
        let mut env = app::Env::from_profile(&base, dirs.data.clone());
        // The user's keymap.toml beside the config file patches the defaults;
        // a bad one stops here, before the terminal is taken over.
        env.keymap = std::sync::Arc::new(app::keymap::Keymap::load(
            config_path.parent().unwrap_or(&dirs.config),
        )?);
        if let Some(n) = cfg.buffer_max_messages {
            env.buffer_max_messages = n.max(100);
        }
        if let Some(mb) = cfg.buffer_max_mb {
            env.buffer_max_bytes = mb.max(1) * 1024 * 1024;
        }
        if let Some(h) = cfg.history_max {
            env.history_max = h;
        }
        let mut entries = picker_entries(&cfg, &overrides, demo.is_some());
        // A cluster given with -b alone is in the list too, to come back to.
        let adhoc = profile
            .as_ref()
            .filter(|p| {
                demo.is_none()
                    && overrides.cluster.is_none()
                    && overrides.brokers.is_some()
                    && !cfg.clusters.contains_key(&p.name)
            })
            .cloned();
        if let Some(p) = &adhoc {
            entries.insert(
                0,
                app::picker::ClusterEntry {
                    name: p.name.clone(),
                    brokers: p.brokers.clone(),
                    production: p.production,
                    read_only: p.read_only,
                    check: app::picker::Check::Unchecked,
                },
            );
        }
        let source = std::sync::Arc::new(ConsoleClusters {
            cfg: cfg.clone(),
            overrides: overrides.clone(),
            demo: std::sync::Mutex::new(demo),
            adhoc,
        });
        let config_shown = config_path.display().to_string();
        let current = if cli.global.demo {
            Some(worker::protocol::DEMO_CLUSTER.to_string())
        } else {
            profile.as_ref().map(|p| p.name.clone())
        };
        let mouse = cfg.mouse.unwrap_or(false);
        let (history, templates) = panes::composer::load_saved(&env.data_dir, env.history_max);
        let exit = runtime.block_on(async move {
            let worker = worker::switch::spawn(profile, source)?;
            let (mut app, first) = if picking {
                app::App::picking(env, entries, config_shown, timeutil::now_ms(), (80, 24))
            } else {
                let (mut app, first) = app::App::new(env, timeutil::now_ms(), (80, 24));
                app.picker = app::picker::Picker::new(entries, config_shown);
                app.picker.current = current;
                (app, first)
            };
            app.mouse = mouse;
            app.composer.load_saved(history, templates);
            for w in warnings {
                app.toast(app::Level::Warn, w);
            }
            tui::run(app, first, theme, worker).await
        })?;
        if let Some(m) = exit.message {
            crate::eline!("kafkaterm: {}", sanitize::escape(&m));
        }
        runtime.shutdown_timeout(std::time::Duration::from_secs(1));
        return Ok(ExitCode::from(exit.code));
    };
    let Some(profile) = profile else {
        anyhow::bail!("no cluster chosen");
    };
    for w in &warnings {
        crate::eline!("kafkaterm: warning: {w}");
    }
    let result: Result<ExitCode> = runtime.block_on(async move {
        use cli::Cmd;
        match command {
            Cmd::Topics { json, internal } => headless::topics(profile, json, internal).await?,
            Cmd::Describe { topic, json } => headless::describe(profile, &topic, json).await?,
            Cmd::Groups { json, window } => return headless::groups(profile, json, window).await,
            Cmd::Lag {
                group,
                json,
                window,
            } => return headless::lag(profile, &group, json, window).await,
            Cmd::Watch {
                group,
                interval,
                json,
            } => headless::watch(profile, &group, interval, json).await?,
            Cmd::Reset {
                group,
                number,
                to,
                topic,
                partition,
                execute,
                json,
            } => {
                return headless::reset(
                    profile,
                    headless::ResetArgs {
                        group,
                        to,
                        number,
                        topics: topic,
                        partitions: partition,
                        execute,
                        json,
                    },
                )
                .await;
            }
            Cmd::DeleteGroup {
                group,
                execute,
                json,
            } => {
                return headless::delete_group(
                    profile,
                    headless::DeleteArgs {
                        group,
                        execute,
                        json,
                    },
                )
                .await;
            }
            Cmd::Copy {
                source,
                dest,
                from,
                partition,
                count,
                filter,
                keep_timestamps,
                keep_partitions,
                source_header,
                compression,
                skip,
                force,
                dry_run,
            } => {
                return headless::copy(
                    profile,
                    headless::CopyArgs {
                        source,
                        dest,
                        from,
                        partitions: partition,
                        count,
                        filter,
                        keep_timestamps,
                        keep_partitions,
                        source_header,
                        compression,
                        skip,
                        force,
                        dry_run,
                    },
                )
                .await;
            }
            Cmd::Consume {
                topic,
                from,
                partition,
                count,
                exit_at_end,
                filter,
                format,
                decode,
                isolation,
            } => {
                headless::consume(
                    profile,
                    headless::ConsumeArgs {
                        topic,
                        from,
                        partitions: partition,
                        count,
                        exit_at_end,
                        filter,
                        format,
                        decode,
                        isolation,
                    },
                )
                .await?;
            }
            Cmd::Produce {
                topic,
                file,
                format,
                key,
                header,
                acks,
                compression,
                partition,
                idempotent,
                transactional,
                abort,
                transactional_id,
                schemas,
            } => {
                let s = headless::produce(
                    profile,
                    headless::ProduceArgs {
                        topic,
                        file,
                        format,
                        key,
                        headers: header,
                        acks,
                        compression,
                        partition,
                        idempotent,
                        transaction: transactional.then(|| {
                            crate::model::TxnSpec::new(
                                transactional_id
                                    .unwrap_or_else(crate::model::generated_transactional_id),
                                !abort,
                            )
                        }),
                        key_schema: headless::SchemaChoice {
                            subject: schemas.key_subject,
                            version: schemas.key_schema_version,
                            id: schemas.key_schema_id,
                            message: schemas.key_message,
                        },
                        value_schema: headless::SchemaChoice {
                            subject: schemas.value_subject,
                            version: schemas.value_schema_version,
                            id: schemas.value_schema_id,
                            message: schemas.value_message,
                        },
                    },
                )
                .await?;
                #[allow(clippy::cast_precision_loss)]
                let rate = if s.seconds > 0.0 {
                    s.delivered as f64 / s.seconds
                } else {
                    0.0
                };
                crate::eline!(
                    "kafkaterm: produced {} message(s): {} delivered, {} failed, {rate:.0} msgs/s",
                    s.delivered + s.failed,
                    s.delivered,
                    s.failed
                );
                if let Some((id, outcome)) = &s.transaction {
                    crate::eline!("kafkaterm: {} (transactional.id {id})", outcome.words());
                    let as_asked = matches!(
                        outcome,
                        crate::model::TxnOutcome::Committed | crate::model::TxnOutcome::Aborted
                    );
                    if !as_asked {
                        anyhow::bail!(
                            "{}",
                            s.first_error
                                .clone()
                                .unwrap_or_else(|| outcome.words().to_string())
                        );
                    }
                }
                if s.failed > 0 {
                    anyhow::bail!(
                        "{} message(s) failed: {}",
                        s.failed,
                        s.first_error.unwrap_or_else(|| "unknown error".into())
                    );
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}

/// The picker's list: the config's clusters in name order (marked
/// read-only when `--read-only` is given), and the demo when it runs or
/// when no cluster is configured.
fn picker_entries(
    cfg: &config::ConfigFile,
    o: &config::Overrides,
    demo: bool,
) -> Vec<app::picker::ClusterEntry> {
    let mut v: Vec<app::picker::ClusterEntry> = cfg
        .clusters
        .iter()
        .map(|(name, c)| app::picker::ClusterEntry {
            name: name.clone(),
            brokers: c.brokers.clone(),
            production: c.production,
            read_only: c.read_only || o.read_only,
            check: app::picker::Check::Unchecked,
        })
        .collect();
    if demo || v.is_empty() {
        v.push(app::picker::ClusterEntry::demo());
    }
    v
}

/// The clusters the console switches between: the config file's, with the
/// command line's properties and `--read-only`, and the built-in demo
/// (started once, on first use).
struct ConsoleClusters {
    cfg: config::ConfigFile,
    overrides: config::Overrides,
    demo: std::sync::Mutex<Option<config::ClusterProfile>>,
    /// The cluster given with `-b` (its name is its broker list).
    adhoc: Option<config::ClusterProfile>,
}

impl worker::switch::ClusterSource for ConsoleClusters {
    fn runs_commands(&self, name: &str) -> bool {
        self.cfg
            .clusters
            .get(name)
            .is_some_and(config::ClusterConfig::runs_commands)
    }

    fn profile(&self, name: &str) -> Result<config::ClusterProfile> {
        if let Some(p) = self.adhoc.as_ref().filter(|p| p.name == name) {
            return Ok(p.clone());
        }
        if name != worker::protocol::DEMO_CLUSTER {
            return config::named_cluster(&self.cfg, &self.overrides, name);
        }
        let mut slot = self
            .demo
            .lock()
            .map_err(|_| anyhow::anyhow!("the demo could not be started"))?;
        if let Some(p) = slot.as_ref() {
            return Ok(p.clone());
        }
        let mut p = demo::start()?;
        p.apply(&config::Overrides {
            brokers: None,
            ..self.overrides.clone()
        });
        *slot = Some(p.clone());
        Ok(p)
    }
}
