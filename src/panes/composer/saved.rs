//! What the composer keeps in the data dir: the history of sent messages
//! (JSON Lines, newest first) and named templates (one JSON object). Both
//! hold typed options and encodings, stored by the names librdkafka and the
//! composer show (`"acks":"all"`, `"value_encoding":"json"`), which is also
//! how earlier versions wrote them, so their files read unchanged.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ComposerError;
use crate::app::ctx::{Ctx, Effect};
use crate::model::{Acks, Compression};
use crate::template::Encoding;

/// The history file in the data dir (JSON Lines, newest first).
pub const HISTORY_FILE: &str = "history.jsonl";
/// The templates file in the data dir.
pub const TEMPLATES_FILE: &str = "templates.json";

/// A sent message, kept in the history file and used for templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub topic: String,
    pub partition: Option<i32>,
    /// `None`: a null key.
    pub key: Option<String>,
    pub key_encoding: Encoding,
    /// `None`: a null value (tombstone).
    pub value: Option<String>,
    pub value_encoding: Encoding,
    /// The header lines as typed (`name: value`, `name:: BASE64`).
    pub headers: String,
    pub acks: Acks,
    pub compression: Compression,
    pub idempotent: bool,
    pub count: u64,
    pub at_ms: i64,
}

impl Saved {
    /// The same message sent again (the history keeps one entry for it).
    #[must_use]
    pub fn same_message(&self, other: &Saved) -> bool {
        self.topic == other.topic
            && self.key == other.key
            && self.value == other.value
            && self.headers == other.headers
            && self.count == other.count
    }
}

/// The history as read at start-up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    pub entries: Vec<Saved>,
    /// Lines that could not be read (dropped when the history is next written).
    pub skipped: usize,
    /// Why the file could not be read at all.
    pub error: Option<String>,
}

/// The templates as read at start-up and kept while running.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Templates {
    pub entries: BTreeMap<String, Saved>,
    /// Entries this version cannot read, written back unchanged.
    pub kept: BTreeMap<String, serde_json::Value>,
    /// The file exists but is not a JSON object: it is never overwritten.
    pub unreadable: Option<String>,
}

/// Read history and templates from the data dir. Missing files are empty;
/// unreadable lines and entries are counted, not fatal.
#[must_use]
pub fn load_saved(data_dir: &Path, max: usize) -> (History, Templates) {
    (
        read_file(&data_dir.join(HISTORY_FILE)).map_or_else(
            |e| History {
                error: Some(e.to_string()),
                ..History::default()
            },
            |s| parse_history(&s, max),
        ),
        read_file(&data_dir.join(TEMPLATES_FILE)).map_or_else(
            |e| Templates {
                unreadable: Some(e.to_string()),
                ..Templates::default()
            },
            |s| parse_templates(&s),
        ),
    )
}

fn read_file(path: &Path) -> Result<String, ComposerError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(source) => Err(ComposerError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// History lines, newest first, at most `max`.
#[must_use]
pub fn parse_history(text: &str, max: usize) -> History {
    let mut h = History::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<Saved>(line) {
            Ok(s) if h.entries.len() < max => h.entries.push(s),
            Ok(_) => {}
            Err(_) => h.skipped += 1,
        }
    }
    h
}

/// The templates file: an object of name → message.
#[must_use]
pub fn parse_templates(text: &str) -> Templates {
    let mut t = Templates::default();
    if text.trim().is_empty() {
        return t;
    }
    match serde_json::from_str::<BTreeMap<String, serde_json::Value>>(text) {
        Ok(map) => {
            for (name, v) in map {
                match serde_json::from_value::<Saved>(v.clone()) {
                    Ok(s) => {
                        t.entries.insert(name, s);
                    }
                    Err(_) => {
                        t.kept.insert(name, v);
                    }
                }
            }
        }
        Err(e) => t.unreadable = Some(format!("{TEMPLATES_FILE} is not readable: {e}")),
    }
    t
}

impl History {
    /// What to tell the user after loading, if anything.
    #[must_use]
    pub fn warning(&self) -> Option<String> {
        if let Some(e) = &self.error {
            return Some(format!("history: {e}"));
        }
        (self.skipped > 0).then(|| {
            format!(
                "{HISTORY_FILE}: skipped {} unreadable line(s); they are dropped when the history is next written",
                self.skipped
            )
        })
    }
}

impl Templates {
    #[must_use]
    pub fn warning(&self) -> Option<String> {
        if let Some(e) = &self.unreadable {
            return Some(format!(
                "{e}; templates cannot be saved until the file is fixed or moved"
            ));
        }
        (!self.kept.is_empty()).then(|| {
            format!(
                "{TEMPLATES_FILE}: {} template(s) this version cannot read are kept but not listed",
                self.kept.len()
            )
        })
    }

    /// The file's contents: readable and kept entries by name.
    pub fn contents(&self) -> serde_json::Result<String> {
        let mut all: BTreeMap<&str, serde_json::Value> = self
            .kept
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        for (name, s) in &self.entries {
            all.insert(name, serde_json::to_value(s)?);
        }
        serde_json::to_string_pretty(&all)
    }
}

/// The history file's contents, one message per line.
pub fn history_contents(history: &[Saved]) -> serde_json::Result<String> {
    let mut out = String::new();
    for h in history {
        out.push_str(&serde_json::to_string(h)?);
        out.push('\n');
    }
    Ok(out)
}

/// The write of the history file.
pub fn history_effect(history: &[Saved], data_dir: &Path) -> Result<Effect, ComposerError> {
    effect_or_error(HISTORY_FILE, "history", history_contents(history), data_dir)
}

/// The write of the templates file, or why it must not be written.
pub fn templates_effect(t: &Templates, data_dir: &Path) -> Result<Effect, ComposerError> {
    if let Some(e) = &t.unreadable {
        return Err(ComposerError::TemplatesUnreadable(e.clone()));
    }
    effect_or_error(TEMPLATES_FILE, "templates", t.contents(), data_dir)
}

/// A write of `file` in the data dir, or the error to show when the
/// contents could not be serialised (then the file is left as it is: an
/// empty file is never written in its place).
pub fn effect_or_error(
    file: &str,
    what: &str,
    contents: serde_json::Result<String>,
    data_dir: &Path,
) -> Result<Effect, ComposerError> {
    match contents {
        Ok(contents) => Ok(Effect::WriteFile {
            path: data_dir.join(file),
            contents,
            what: what.into(),
        }),
        Err(source) => Err(ComposerError::Serialise {
            what: what.into(),
            source,
        }),
    }
}

/// Push a write, or show why there is none.
pub fn push(effect: Result<Effect, ComposerError>, ctx: &mut Ctx<'_>) -> bool {
    match effect {
        Ok(e) => {
            ctx.effects.push(e);
            true
        }
        Err(e) => {
            ctx.error(e.to_string());
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line as every earlier version wrote it: options and encodings as
    /// strings.
    const OLD_LINE: &str = r#"{"topic":"orders","partition":2,"key":"k1","key_encoding":"text","value":"{\"v\": 1}","value_encoding":"json","headers":"a: 1\na: 2","acks":"all","compression":"zstd","idempotent":true,"count":3,"at_ms":1795341600000}"#;

    fn sample() -> Saved {
        Saved {
            topic: "orders".into(),
            partition: Some(2),
            key: Some("k1".into()),
            key_encoding: Encoding::Text,
            value: Some("{\"v\": 1}".into()),
            value_encoding: Encoding::Json,
            headers: "a: 1\na: 2".into(),
            acks: Acks::All,
            compression: Compression::Zstd,
            idempotent: true,
            count: 3,
            at_ms: 1_795_341_600_000,
        }
    }

    #[test]
    fn an_old_history_line_reads_into_typed_values_and_writes_back_the_same() {
        let h = parse_history(&format!("{OLD_LINE}\n"), 10);
        assert_eq!(h.entries, vec![sample()]);
        assert_eq!(h.skipped, 0);
        assert_eq!(
            history_contents(&h.entries).unwrap(),
            format!("{OLD_LINE}\n")
        );
        // Aliases librdkafka accepts read too; a null key and value stay null.
        let alias = OLD_LINE
            .replace(r#""acks":"all""#, r#""acks":"-1""#)
            .replace(r#""key":"k1""#, r#""key":null"#);
        let s = &parse_history(&alias, 10).entries[0];
        assert_eq!((s.acks, s.key.as_deref()), (Acks::All, None));
    }

    #[test]
    fn unreadable_history_lines_are_counted_not_defaulted() {
        // acks=2 used to become acks=1 silently; now the line is skipped.
        let bad = OLD_LINE.replace(r#""acks":"all""#, r#""acks":"2""#);
        let h = parse_history(&format!("{bad}\nnot json\n\n{OLD_LINE}\n{OLD_LINE}\n"), 1);
        assert_eq!(h.entries.len(), 1);
        assert_eq!(h.skipped, 2);
        assert!(
            h.warning().unwrap().contains("skipped 2"),
            "{:?}",
            h.warning()
        );
        assert_eq!(parse_history("", 5), History::default());
    }

    #[test]
    fn templates_keep_what_they_cannot_read_and_refuse_to_overwrite_a_broken_file() {
        let text =
            format!(r#"{{"good": {OLD_LINE}, "future": {{"topic": "x", "acks": "quorum"}}}}"#);
        let t = parse_templates(&text);
        assert_eq!(t.entries.keys().collect::<Vec<_>>(), ["good"]);
        assert_eq!(t.kept.keys().collect::<Vec<_>>(), ["future"]);
        assert!(t.warning().unwrap().contains("1 template"));
        // Writing keeps the entry this version cannot read.
        let back = parse_templates(&t.contents().unwrap());
        assert_eq!(back, t);

        let broken = parse_templates("{\"a\": ");
        assert!(broken.unreadable.is_some());
        let dir = Path::new("/data");
        let e = templates_effect(&broken, dir).unwrap_err().to_string();
        assert!(e.starts_with("templates not saved"), "{e}");
        assert!(matches!(
            templates_effect(&t, dir),
            Ok(Effect::WriteFile { path, .. }) if path == dir.join(TEMPLATES_FILE)
        ));
    }

    #[test]
    fn a_serialisation_error_is_reported_and_writes_nothing() {
        let dir = Path::new("/data");
        let err = serde_json::from_str::<i32>("x").unwrap_err();
        let e = effect_or_error(TEMPLATES_FILE, "templates", Err(err), dir)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("templates not saved: cannot serialise"),
            "{e}"
        );
        match history_effect(&[sample()], dir) {
            Ok(Effect::WriteFile { path, contents, .. }) => {
                assert_eq!(path, dir.join(HISTORY_FILE));
                assert_eq!(contents, format!("{OLD_LINE}\n"));
            }
            other => panic!("{other:?}"),
        }
    }
}
