//! The list's one-line key and value previews, decoded once per record,
//! decoder and column width, not once per row per frame: decoding can mean
//! a JSON parse of up to 64 KiB, Avro or protobuf, then re-serialising.
//!
//! `update` fills the cache for the rows on screen (after records arrive, a
//! key moves the list, a decoder or the terminal width changes, or a schema
//! arrives); drawing only reads it. Entries that scroll away are dropped
//! once the cache holds a few screens' worth.

use std::collections::HashMap;

use crate::decode::{self, DecodeMode, SchemaSource};
use crate::model::Record;

/// What a preview depends on besides the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviewSpec {
    pub key_mode: DecodeMode,
    pub value_mode: DecodeMode,
    pub key_width: usize,
    pub value_width: usize,
}

/// How a field shows in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPreview {
    pub text: String,
    pub kind: FieldKind,
}

/// Null and empty fields are drawn in their own style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Data,
    Null,
    Empty,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowPreview {
    pub key: FieldPreview,
    pub value: FieldPreview,
}

/// One field's preview.
#[must_use]
pub fn field(
    bytes: Option<&[u8]>,
    mode: DecodeMode,
    schemas: &dyn SchemaSource,
    width: usize,
) -> FieldPreview {
    let (text, kind) = match bytes {
        None => (decode::preview(None, mode, schemas, width), FieldKind::Null),
        // Text decoders show `"" (empty)`; the others would show nothing.
        Some([]) if !matches!(mode, DecodeMode::Auto | DecodeMode::Text) => (
            crate::sanitize::truncate_chars("(empty)", width).into_owned(),
            FieldKind::Empty,
        ),
        Some([]) => (
            decode::preview(Some(&[]), mode, schemas, width),
            FieldKind::Empty,
        ),
        Some(b) => (
            decode::preview(Some(b), mode, schemas, width),
            FieldKind::Data,
        ),
    };
    FieldPreview { text, kind }
}

/// A row's previews.
#[must_use]
pub fn row(r: &Record, spec: &PreviewSpec, schemas: &dyn SchemaSource) -> RowPreview {
    RowPreview {
        key: field(r.key.as_deref(), spec.key_mode, schemas, spec.key_width),
        value: field(
            r.value.as_deref(),
            spec.value_mode,
            schemas,
            spec.value_width,
        ),
    }
}

/// Previews by record sequence number, all for one [`PreviewSpec`].
#[derive(Debug, Clone, Default)]
pub struct PreviewCache {
    spec: Option<PreviewSpec>,
    rows: HashMap<u64, RowPreview>,
    /// Rows decoded so far (a figure for tests and benchmarks).
    pub decoded: u64,
}

impl PreviewCache {
    /// The cached preview of `seq`, when it was made for `spec`.
    #[must_use]
    pub fn get(&self, seq: u64, spec: &PreviewSpec) -> Option<&RowPreview> {
        if self.spec.as_ref() == Some(spec) {
            self.rows.get(&seq)
        } else {
            None
        }
    }

    /// Make sure every record of `visible` has a preview for `spec`.
    pub fn fill<'r>(
        &mut self,
        spec: PreviewSpec,
        visible: impl Iterator<Item = (u64, &'r Record)>,
        schemas: &dyn SchemaSource,
    ) {
        if self.spec != Some(spec) {
            self.rows.clear();
            self.spec = Some(spec);
        }
        let mut shown = Vec::new();
        for (seq, r) in visible {
            shown.push(seq);
            if let std::collections::hash_map::Entry::Vacant(slot) = self.rows.entry(seq) {
                slot.insert(row(r, &spec, schemas));
                self.decoded += 1;
            }
        }
        // Keep a few screens (scrolling back is free), then start over
        // from what is on screen.
        if self.rows.len() > 4 * shown.len() + 256 {
            self.rows.retain(|seq, _| shown.contains(seq));
        }
    }

    /// Decoding may come out differently (a schema arrived).
    pub fn invalidate(&mut self) {
        self.rows.clear();
    }

    /// Forget everything (a new session).
    pub fn clear(&mut self) {
        self.rows.clear();
        self.spec = None;
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::registry::NoSchemas;
    use crate::model::TimestampType;

    fn rec(value: Option<&[u8]>) -> Record {
        Record {
            topic: "t".into(),
            partition: 0,
            offset: 0,
            timestamp: Some(0),
            timestamp_type: TimestampType::CreateTime,
            key: Some(b"k".to_vec()),
            value: value.map(<[u8]>::to_vec),
            headers: vec![],
        }
    }

    fn spec(value_mode: DecodeMode, value_width: usize) -> PreviewSpec {
        PreviewSpec {
            key_mode: DecodeMode::Auto,
            value_mode,
            key_width: 10,
            value_width,
        }
    }

    #[test]
    fn rows_are_decoded_once_per_spec() {
        let recs: Vec<Record> = (0..50)
            .map(|i| rec(Some(format!("{{\"n\":{i}}}").as_bytes())))
            .collect();
        let mut c = PreviewCache::default();
        let s = spec(DecodeMode::Auto, 30);
        let window = |from: usize| (from..from + 20).map(|i| (u64::try_from(i).unwrap(), &recs[i]));
        c.fill(s, window(0), &NoSchemas);
        assert_eq!(c.decoded, 20);
        // The same rows again (another frame, another key): no decoding.
        c.fill(s, window(0), &NoSchemas);
        assert_eq!(c.decoded, 20);
        assert_eq!(c.get(3, &s).unwrap().value.text, "{\"n\":3}");
        // Scrolling by 5 decodes the 5 new rows only.
        c.fill(s, window(5), &NoSchemas);
        assert_eq!(c.decoded, 25);
        // Another decoder or width: everything again, and old entries are
        // not served for the new spec.
        let hex = spec(DecodeMode::Hex, 30);
        assert!(c.get(5, &hex).is_none());
        c.fill(hex, window(5), &NoSchemas);
        assert_eq!(c.decoded, 45);
        assert!(c.get(5, &hex).unwrap().value.text.starts_with("7b226e22"));
        c.fill(spec(DecodeMode::Hex, 12), window(5), &NoSchemas);
        assert_eq!(c.decoded, 65);
        // A new schema: decoded again.
        c.invalidate();
        assert!(c.is_empty());
    }

    #[test]
    fn the_cache_stays_a_few_screens_big() {
        let recs: Vec<Record> = (0..2000).map(|_| rec(Some(b"x"))).collect();
        let mut c = PreviewCache::default();
        let s = spec(DecodeMode::Auto, 30);
        for from in 0..1900 {
            c.fill(
                s,
                (from..from + 40).map(|i| (u64::try_from(i).unwrap(), &recs[i])),
                &NoSchemas,
            );
            assert!(c.len() <= 4 * 40 + 256 + 1);
        }
    }

    #[test]
    fn empty_is_shown_in_every_decoder_and_differs_from_null() {
        for mode in DecodeMode::ALL {
            let e = field(Some(b""), mode, &NoSchemas, 20);
            let n = field(None, mode, &NoSchemas, 20);
            assert!(e.text.contains("empty"), "{mode:?}: {e:?}");
            assert_eq!(e.kind, FieldKind::Empty);
            assert_eq!(n.kind, FieldKind::Null);
            assert_ne!(e.text, n.text);
        }
    }
}
