//! What can go wrong in the composer, each kind a variant whose text is the
//! sentence the screen shows.

use std::path::PathBuf;

/// Why a message cannot be built from the fields, a typed text does not
/// encode, or history and templates are not read or saved.
#[derive(Debug, thiserror::Error)]
pub enum ComposerError {
    #[error("enter a topic")]
    NoTopic,
    #[error("partition must be `auto` or a number")]
    Partition,
    #[error("count must be a number ≥ 1")]
    Count,
    #[error("timestamp: {0}")]
    Timestamp(String),
    /// The header lines do not parse.
    #[error("{0}")]
    Headers(String),
    /// The template (or the text as its encoding) does not render: the
    /// whole cause chain, as the check line shows it.
    #[error("{0}")]
    Render(String),
    /// The producer options do not go together.
    #[error("{0}")]
    Options(String),
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The templates file could not be read, so saving would lose entries.
    #[error("templates not saved: {0}")]
    TemplatesUnreadable(String),
    #[error("{what} not saved: cannot serialise it: {source}")]
    Serialise {
        what: String,
        source: serde_json::Error,
    },
}
