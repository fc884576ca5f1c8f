//! Terminal hygiene: raw mode and the alternate screen are always restored,
//! on a normal exit (Drop), on a panic of the UI thread (the hook restores
//! first, then prints), and on SIGTERM, SIGHUP and SIGINT (the event loop
//! ends and the guard drops).

use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use ratatui::crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::crossterm::{cursor, execute};

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Restore the terminal if we changed it. Safe to call more than once.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut out = io::stdout();
        // Mouse reporting off whether or not it was on: a terminal left
        // reporting clicks would type escape sequences into the shell.
        let _ = execute!(
            out,
            DisableMouseCapture,
            DisableBracketedPaste,
            LeaveAlternateScreen,
            cursor::Show
        );
        let _ = terminal::disable_raw_mode();
        let _ = out.flush();
    }
}

/// Owns the terminal while the console runs.
pub struct TerminalGuard {
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    pub fn enter() -> Result<Self> {
        terminal::enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let mut out = io::stdout();
        if let Err(e) = execute!(
            out,
            EnterAlternateScreen,
            EnableBracketedPaste,
            cursor::Hide
        ) {
            restore();
            return Err(e.into());
        }
        let terminal = match Terminal::new(CrosstermBackend::new(out)) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e.into());
            }
        };
        Ok(Self { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Install the panic hook: a panic on the UI (main) thread restores the
/// terminal and then prints; a panic on a worker thread is logged only (the
/// worker turns it into an error event), so nothing is printed over the UI.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("unnamed");
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(thread = name, location = %location, "panic: {}", crate::sanitize::escape(&msg));
        if name == "main" || !ACTIVE.load(Ordering::SeqCst) {
            restore();
            previous(info);
        }
    }));
}

/// Turn the terminal's mouse reporting on or off (restored by [`restore`]
/// on every exit).
pub fn mouse_capture(out: &mut impl Write, on: bool) {
    let r = if on {
        execute!(out, EnableMouseCapture)
    } else {
        execute!(out, DisableMouseCapture)
    };
    if let Err(e) = r {
        tracing::warn!("cannot switch mouse reporting: {e}");
    }
}

/// Write an OSC 52 clipboard request (base64 inside, so nothing raw).
pub fn osc52(out: &mut impl Write, text: &str) -> io::Result<()> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    write!(out, "\x1b]52;c;{b64}\x07")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    #[test]
    fn osc52_carries_only_base64() {
        let mut out = Vec::new();
        super::osc52(&mut out, "hi \x1b]0;x\x07 there").unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("\x1b]52;c;") && s.ends_with('\x07'));
        let inner = &s[7..s.len() - 1];
        assert!(
            inner
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c)),
            "{inner}"
        );
    }
}
