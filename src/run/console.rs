//! The interactive console: its settings from the config file, the cluster
//! picker's list, and the clusters it can switch between.

use std::process::ExitCode;

use anyhow::Result;

use super::Setup;
use crate::{app, cli, config, demo, panes, sanitize, timeutil, tui, worker};

/// Opens the console on the chosen cluster (or its picker) and runs it
/// until the user quits.
pub(super) fn run(global: &cli::Global, setup: Setup) -> Result<ExitCode> {
    let Setup {
        dirs,
        config_path,
        cfg,
        warnings,
        overrides,
        runtime,
        demo,
        picking,
        profile,
        _log,
    } = setup;
    let theme = config::theme::Theme::select(
        global.theme.as_deref(),
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
    apply_settings(&mut env, &cfg);
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
    let entries = picker_entries(&cfg, &overrides, demo.is_some(), adhoc.as_ref());
    let source = std::sync::Arc::new(ConsoleClusters {
        cfg: cfg.clone(),
        overrides: overrides.clone(),
        demo: std::sync::Mutex::new(demo),
        adhoc,
    });
    let config_shown = config_path.display().to_string();
    let current = if global.demo {
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
    Ok(ExitCode::from(exit.code))
}

/// The config file's console settings: the browser's buffer limits and the
/// composer's history length.
fn apply_settings(env: &mut app::Env, cfg: &config::ConfigFile) {
    if let Some(n) = cfg.buffer_max_messages {
        env.buffer_max_messages = n.max(100);
    }
    if let Some(mb) = cfg.buffer_max_mb {
        env.buffer_max_bytes = mb.max(1) * 1024 * 1024;
    }
    if let Some(h) = cfg.history_max {
        env.history_max = h;
    }
}

/// The picker's list: a cluster given with `-b` alone first, then the
/// config's clusters in name order (marked read-only when `--read-only` is
/// given), and the demo when it runs or when the config names no cluster.
fn picker_entries(
    cfg: &config::ConfigFile,
    o: &config::Overrides,
    demo: bool,
    adhoc: Option<&config::ClusterProfile>,
) -> Vec<app::picker::ClusterEntry> {
    let adhoc = adhoc.map(|p| app::picker::ClusterEntry {
        name: p.name.clone(),
        brokers: p.brokers.clone(),
        production: p.production,
        read_only: p.read_only,
        check: app::picker::Check::Unchecked,
    });
    let mut v: Vec<app::picker::ClusterEntry> = adhoc.into_iter().collect();
    v.extend(
        cfg.clusters
            .iter()
            .map(|(name, c)| app::picker::ClusterEntry {
                name: name.clone(),
                brokers: c.brokers.clone(),
                production: c.production,
                read_only: c.read_only || o.read_only,
                check: app::picker::Check::Unchecked,
            }),
    );
    if demo || cfg.clusters.is_empty() {
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
