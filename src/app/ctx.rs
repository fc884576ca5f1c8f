//! What panes get from the app and give back: the context of an update
//! (`Ctx`: ids, commands, toasts, effects, navigation), the context of a
//! draw (`DrawCtx`), and the plain types both sides share.

use std::path::PathBuf;

use ratatui::layout::Rect;
use ratatui::text::Line;

use super::env::Env;
use super::keymap::{Action, KeyContext, Keymap};
use crate::config::theme::Theme;
use crate::decode::registry::SchemaCache;
use crate::model::{Header, Record};
use crate::ui::layout::Screen;
use crate::ui::widgets;
use crate::worker::protocol::{BrowseSpec, Command, ErrorKind, WorkerError};

/// Side effects the event loop performs for the app (local I/O, terminal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Write a file; `what` names it in the result toast.
    WriteFile {
        path: PathBuf,
        contents: String,
        what: String,
    },
    /// Copy to the clipboard with OSC 52 (the text is base64-encoded there).
    Osc52(String),
    /// Save records as JSON Lines off the UI thread, with progress and
    /// cancel; results come back as [`IoResult::Export`].
    Export(crate::export::ExportJob),
    /// Turn the terminal's mouse reporting on or off.
    MouseCapture(bool),
}

/// Results of effects, fed back as messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IoResult {
    Written {
        what: String,
        path: PathBuf,
        result: Result<usize, WriteError>,
    },
    /// Progress and the end of an [`Effect::Export`] (for the browser).
    Export(crate::export::ExportEvent),
}

/// A file that could not be written: the I/O error's kind and its words
/// (an `io::Error` is neither `Clone` nor `Eq`, which messages are).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct WriteError {
    pub kind: std::io::ErrorKind,
    pub message: String,
}

impl From<std::io::Error> for WriteError {
    fn from(e: std::io::Error) -> Self {
        Self {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

/// The panes, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaneId {
    Topics,
    Browser,
    Composer,
    Groups,
}

impl PaneId {
    pub const ALL: [PaneId; 4] = [
        PaneId::Topics,
        PaneId::Browser,
        PaneId::Composer,
        PaneId::Groups,
    ];

    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            PaneId::Topics => "Topics",
            PaneId::Browser => "Browser",
            PaneId::Composer => "Producer",
            PaneId::Groups => "Groups",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub level: Level,
    pub until_ms: i64,
}

/// What "edit and resend" or "produce to this topic" puts in the composer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prefill {
    pub topic: String,
    pub partition: Option<i32>,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<Header>,
    pub replace_fields: bool,
}

impl Prefill {
    #[must_use]
    pub fn topic(name: &str) -> Self {
        Self {
            topic: name.to_string(),
            ..Default::default()
        }
    }

    #[must_use]
    pub fn from_record(r: &Record) -> Self {
        Self {
            topic: r.topic.to_string(),
            partition: None,
            key: r.key.clone(),
            value: r.value.clone(),
            headers: r.headers.clone(),
            replace_fields: true,
        }
    }
}

/// Where a pane asks the app to go.
#[derive(Debug, Clone)]
pub enum Nav {
    Browse(BrowseSpec),
    Compose(Box<Prefill>),
    Focus(PaneId),
}

/// What a pane gets while handling a key or an event.
pub struct Ctx<'a> {
    pub env: &'a Env,
    pub keymap: &'a Keymap,
    pub schemas: &'a SchemaCache,
    pub now_ms: i64,
    /// The pane's area on screen (the same layout drawing uses).
    pub body: Rect,
    pub(super) next_id: &'a mut u64,
    pub cmds: Vec<Command>,
    pub toasts: Vec<(Level, String)>,
    pub effects: Vec<Effect>,
    pub nav: Option<Nav>,
    /// A tick changed what the pane draws without a command, a toast or
    /// an effect (the browser's detail rewrapped after a resize).
    pub redraw: bool,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(
        env: &'a Env,
        schemas: &'a SchemaCache,
        now_ms: i64,
        size: (u16, u16),
        next_id: &'a mut u64,
    ) -> Self {
        Self {
            env,
            keymap: &env.keymap,
            schemas,
            now_ms,
            body: Screen::of_size(size).body,
            next_id,
            cmds: Vec::new(),
            toasts: Vec::new(),
            effects: Vec::new(),
            nav: None,
            redraw: false,
        }
    }

    /// A fresh request or session id.
    pub fn id(&mut self) -> u64 {
        *self.next_id += 1;
        *self.next_id
    }
    pub fn info(&mut self, s: impl Into<String>) {
        self.toasts.push((Level::Info, s.into()));
    }
    pub fn warn(&mut self, s: impl Into<String>) {
        self.toasts.push((Level::Warn, s.into()));
    }
    pub fn error(&mut self, s: impl Into<String>) {
        self.toasts.push((Level::Error, s.into()));
    }
    /// A failed worker request as a toast, worded and coloured by its kind:
    /// what the cluster does not offer, or a rule refused, is a warning; a
    /// timeout says it is retried; authentication says what to check.
    pub fn worker_error(&mut self, what: &str, e: &WorkerError) {
        let (level, text) = worker_error_text(what, e);
        self.toasts.push((level, text));
    }

    /// Refuse a write in read-only mode; true when refused.
    pub fn refuse_if_read_only(&mut self, what: &str) -> bool {
        if self.env.read_only {
            self.error(format!(
                "read-only mode: {what} is disabled for cluster {}",
                self.env.cluster
            ));
            true
        } else {
            false
        }
    }
}

/// How finely the clock shows on a screen; the finest visible part wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Clock {
    /// Nothing drawn depends on the clock.
    Still,
    /// An age, a countdown or a timeout in seconds ("5 s ago", "(3s)").
    Seconds,
    /// A spinner: a frame every 250 ms.
    Spinner,
}

impl Clock {
    /// The clock's step in milliseconds (`None` when still).
    #[must_use]
    pub fn step_ms(self) -> Option<i64> {
        match self {
            Clock::Still => None,
            Clock::Seconds => Some(1000),
            Clock::Spinner => Some(250),
        }
    }
}

/// What drawing needs besides the state.
pub struct DrawCtx<'a> {
    pub theme: &'a Theme,
    pub env: &'a Env,
    pub keymap: &'a Keymap,
    pub now_ms: i64,
    pub schemas: &'a SchemaCache,
}

impl DrawCtx<'_> {
    /// A spinner frame that advances with the clock.
    #[must_use]
    pub fn spinner(&self) -> char {
        const FRAMES: [char; 4] = ['◐', '◓', '◑', '◒'];
        FRAMES[usize::try_from((self.now_ms / 250).rem_euclid(4)).unwrap_or(0)]
    }

    /// A footer of key hints, the keys taken from the keymap:
    /// `(context, action, what it does here)`.
    #[must_use]
    pub fn hints(&self, pairs: &[(KeyContext, Action, &str)]) -> Line<'static> {
        let labels: Vec<(String, &str)> = pairs
            .iter()
            .map(|(c, a, d)| (self.keymap.key_label(*c, *a), *d))
            .filter(|(k, _)| !k.is_empty())
            .collect();
        let refs: Vec<(&str, &str)> = labels.iter().map(|(k, d)| (k.as_str(), *d)).collect();
        widgets::hints(self.theme, &refs)
    }
}

/// The words and level of a worker error, by its kind.
#[must_use]
pub fn worker_error_text(what: &str, e: &WorkerError) -> (Level, String) {
    match e.kind {
        ErrorKind::Unsupported => (
            Level::Warn,
            format!("{what}: not available on this cluster ({e})"),
        ),
        ErrorKind::Refused => (Level::Warn, format!("{what}: {e}")),
        ErrorKind::Timeout => (Level::Warn, format!("{what}: {e} (will retry)")),
        ErrorKind::Auth => (
            Level::Error,
            format!("{what}: {e} (check the credentials and ACLs in the cluster config)"),
        ),
        ErrorKind::Broker(_)
        | ErrorKind::Io
        | ErrorKind::UnknownTopic
        | ErrorKind::NotFound
        | ErrorKind::Internal => (Level::Error, format!("{what}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_errors_are_worded_and_levelled_by_kind() {
        let (l, t) = worker_error_text(
            "topic refresh failed",
            &WorkerError::new(ErrorKind::Auth, "authentication failed"),
        );
        assert_eq!(l, Level::Error);
        assert!(t.contains("check the credentials"), "{t}");
        let (l, t) = worker_error_text(
            "create topic",
            &WorkerError::unsupported("this cluster does not support CreateTopics"),
        );
        assert_eq!(l, Level::Warn);
        assert!(t.contains("not available on this cluster"), "{t}");
        let (l, t) = worker_error_text("refresh", &WorkerError::timeout("timed out"));
        assert_eq!(l, Level::Warn);
        assert!(t.ends_with("(will retry)"), "{t}");
        let (l, _) = worker_error_text("x", &WorkerError::new(ErrorKind::Broker(36), "exists"));
        assert_eq!(l, Level::Error);
        // An unknown topic and a registry failure read as the plain sentence
        // they carry, as they did while they were labelled internal.
        for e in [
            WorkerError::unknown_topic("orders"),
            WorkerError::new(ErrorKind::NotFound, "schema registry: HTTP 404"),
        ] {
            let (l, t) = worker_error_text("browse", &e);
            assert_eq!(l, Level::Error);
            assert_eq!(t, format!("browse: {}", e.message));
        }
    }
}
