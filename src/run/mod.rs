//! Everything `main` does: the configuration, then the console or a command.
//! `console` starts the interactive console, `commands` the headless ones.

mod commands;
mod console;

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::{cli, config, demo, logging, term};

/// What both the console and the commands start from: the configuration
/// read, the cluster chosen (or not, for the console's picker), the runtime.
struct Setup {
    dirs: config::Dirs,
    config_path: std::path::PathBuf,
    cfg: config::ConfigFile,
    warnings: Vec<String>,
    overrides: config::Overrides,
    runtime: tokio::runtime::Runtime,
    /// The embedded demo cluster, when `--demo` started it.
    demo: Option<config::ClusterProfile>,
    /// The console opens its cluster picker (no cluster was chosen).
    picking: bool,
    profile: Option<config::ClusterProfile>,
    /// Keeps the log writer flushing until the run ends.
    _log: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// Everything `main` does: configuration, then the console or a command.
///
/// # Errors
/// A bad configuration, an unknown cluster, or the command's own error.
pub fn run(cli: cli::Cli) -> Result<ExitCode> {
    // Completions and the man page need no configuration and no cluster.
    if let Some(cmd) = &cli.command {
        let mut out = std::io::stdout().lock();
        if cli::write_generated(cmd, &mut out).context("cannot write the generated text")? {
            return Ok(ExitCode::SUCCESS);
        }
    }
    let setup = setup(&cli)?;
    match cli.command {
        None => console::run(&cli.global, setup),
        Some(command) => commands::run(command, setup),
    }
}

fn setup(cli: &cli::Cli) -> Result<Setup> {
    let dirs = config::Dirs::discover();
    let log = logging::init(&dirs.state);
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
    Ok(Setup {
        dirs,
        config_path,
        cfg,
        warnings,
        overrides,
        runtime,
        demo,
        picking,
        profile,
        _log: log,
    })
}
