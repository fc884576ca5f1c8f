//! The message detail view's content: every field decoded, pretty JSON
//! coloured by meaning, escapes marked. Built once when the detail opens (or
//! a decoder changes), then only the visible lines are drawn.

use std::collections::HashMap;

use ratatui::style::Style;
use ratatui::text::{Line, Span};

mod rows;

use crate::config::theme::Theme;
use crate::decode::{self, Content, DecodeMode, SchemaSource};
use crate::model::Record;
use crate::timeutil;
use rows::{Builder, empty_label};

/// A style by meaning; the theme turns it into colours when drawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Text,
    Muted,
    Label,
    Accent,
    Escape,
    Error,
    Warn,
    Null,
    JsonKey,
    JsonString,
    JsonNumber,
    JsonBool,
    JsonNull,
}

impl Slot {
    #[must_use]
    pub fn style(self, t: &Theme) -> Style {
        match self {
            Slot::Text => t.text,
            Slot::Muted => t.muted,
            Slot::Label => t.header,
            Slot::Accent => t.accent,
            Slot::Escape => t.escape,
            Slot::Error => t.error,
            Slot::Warn => t.warn,
            Slot::Null => t.null,
            Slot::JsonKey => t.json_key,
            Slot::JsonString => t.json_string,
            Slot::JsonNumber => t.json_number,
            Slot::JsonBool => t.json_bool,
            Slot::JsonNull => t.json_null,
        }
    }
}

/// One screen row of the detail view: styled pieces.
pub type DLine = Vec<(String, Slot)>;

/// Most rows one field may produce in the detail view.
pub const MAX_FIELD_LINES: usize = 50_000;

/// Which field has the decoder focus in the detail view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Field {
    Key,
    #[default]
    Value,
    Header(usize),
}

/// Decoder choice per field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Modes {
    pub key: DecodeMode,
    pub value: DecodeMode,
    pub headers: HashMap<String, DecodeMode>,
}

impl Modes {
    #[must_use]
    pub fn header(&self, name: &str) -> DecodeMode {
        self.headers.get(name).copied().unwrap_or_default()
    }
}

/// Build the detail rows for a record, wrapped to `width` columns.
#[must_use]
pub fn build(
    r: &Record,
    modes: &Modes,
    schemas: &dyn SchemaSource,
    utc: bool,
    focus: Field,
    width: usize,
) -> Vec<DLine> {
    let mut b = Builder::new(width);
    let kv = |b: &mut Builder, k: &str, v: String| {
        b.push(format!("{k:<10} "), Slot::Label);
        b.text(&v, Slot::Text, false);
        b.newline();
    };
    kv(&mut b, "Topic", r.topic.to_string());
    kv(&mut b, "Partition", r.partition.to_string());
    kv(&mut b, "Offset", r.offset.to_string());
    kv(
        &mut b,
        "Timestamp",
        match r.timestamp {
            Some(t) => format!(
                "{} ({}, {t} ms)",
                timeutil::format_ts(t, utc),
                r.timestamp_type.as_str()
            ),
            None => "not available".into(),
        },
    );
    kv(
        &mut b,
        "Size",
        format!(
            "key {}, value {}, {} header(s)",
            r.key
                .as_ref()
                .map_or("null".into(), |k| format!("{} B", k.len())),
            r.value
                .as_ref()
                .map_or("null (tombstone)".into(), |v| format!("{} B", v.len())),
            r.headers.len()
        ),
    );
    b.newline();
    headers(&mut b, r, modes, schemas, focus);
    b.done_field();
    b.newline();
    let kd = decode::decode(r.key.as_deref(), modes.key, schemas);
    b.section("Key", &kd.label, focus == Field::Key);
    b.decoded(&kd, r.key.as_deref());
    b.newline();
    let vd = decode::decode(r.value.as_deref(), modes.value, schemas);
    b.section("Value", &vd.label, focus == Field::Value);
    b.decoded(&vd, r.value.as_deref());
    b.lines
}

/// The headers section: each header decoded in its own mode, the focused
/// one marked.
fn headers(b: &mut Builder, r: &Record, modes: &Modes, schemas: &dyn SchemaSource, focus: Field) {
    b.push(format!("── Headers ({}) ──", r.headers.len()), Slot::Label);
    b.newline();
    if r.headers.is_empty() {
        b.push("  none", Slot::Muted);
        b.newline();
    }
    for (i, h) in r.headers.iter().enumerate() {
        let mode = modes.header(&h.name);
        let d = decode::decode(h.value.as_deref(), mode, schemas);
        b.push(
            if focus == Field::Header(i) {
                "▶ "
            } else {
                "  "
            },
            Slot::Accent,
        );
        b.text(&h.name, Slot::JsonKey, false);
        b.push(format!(" [{}]: ", d.label), Slot::Muted);
        match &d.content {
            Content::Null => b.push("∅ null", Slot::Null),
            _ if h.value.as_deref().is_some_and(<[u8]>::is_empty) => {
                b.push(empty_label(&d), Slot::Null);
            }
            Content::Text(s) => b.text(s, Slot::Text, false),
            Content::Json(v) => b.text(
                &crate::jsonl::to_safe_string(v, false),
                Slot::JsonString,
                false,
            ),
            Content::Hex(bytes) => b.push(decode::hex_string(bytes), Slot::Text),
            Content::Base64(s) => b.push(s.clone(), Slot::Text),
        }
        if let Some(n) = &d.note {
            b.push("  ! ", Slot::Warn);
            b.text(n, Slot::Warn, false);
        }
        b.newline();
        if b.truncated {
            break;
        }
    }
}

/// Turn stored lines into ratatui lines for the visible window.
#[must_use]
pub fn render<'a>(lines: &'a [DLine], t: &Theme) -> Vec<Line<'a>> {
    lines
        .iter()
        .map(|l| {
            Line::from(
                l.iter()
                    .map(|(s, slot)| Span::styled(s.as_str(), slot.style(t)))
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests;
