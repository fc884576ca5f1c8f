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
pub mod errors;
pub mod export;
pub mod files;
pub mod filter;
pub mod headless;
pub mod jsonl;
pub mod kafka;
pub mod lag;
pub mod logging;
pub mod model;
mod musl_memcpy;
pub mod panes;
pub mod registry;
mod run;
pub mod sanitize;
pub mod template;
pub mod term;
pub mod timeutil;
pub mod tui;
pub mod ui;
pub mod version;
pub mod worker;

pub use errors::error_line;
pub use run::run;
