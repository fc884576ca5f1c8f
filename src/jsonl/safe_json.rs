//! A serde_json formatter that escapes everything a terminal could act on.

use std::io;

use serde::Serialize;

use super::escape::{put_u_escape, write_str};
use crate::sanitize::needs_escape;

/// A serde_json formatter that additionally escapes everything a terminal
/// could act on.
struct SafeFormatter<F>(F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for SafeFormatter<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if !fragment.chars().any(needs_escape) {
            return w.write_all(fragment.as_bytes());
        }
        let mut s = Vec::with_capacity(fragment.len() + 8);
        for c in fragment.chars() {
            if needs_escape(c) {
                let mut esc = [0u8; 12];
                let n = put_u_escape(&mut esc, c);
                s.extend_from_slice(&esc[..n]);
            } else {
                s.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            }
        }
        w.write_all(&s)
    }
    // Delegate the layout-affecting methods so pretty printing still works.
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Serialize to terminal-safe JSON, pretty or compact.
pub fn to_safe_string<T: Serialize + ?Sized>(value: &T, pretty: bool) -> String {
    let mut buf = Vec::new();
    let res = if pretty {
        let mut ser = serde_json::Serializer::with_formatter(
            &mut buf,
            SafeFormatter(serde_json::ser::PrettyFormatter::with_indent(b"  ")),
        );
        value.serialize(&mut ser)
    } else {
        let mut ser = serde_json::Serializer::with_formatter(
            &mut buf,
            SafeFormatter(serde_json::ser::CompactFormatter),
        );
        value.serialize(&mut ser)
    };
    match res {
        Ok(()) => String::from_utf8(buf).unwrap_or_default(),
        Err(e) => {
            let mut s = String::new();
            write_str(&mut s, &format!("serialization failed: {e}"));
            s
        }
    }
}
