//! Terminal safety: everything that came from Kafka (topic names, keys, values,
//! headers, group and member names, broker error strings) passes through here
//! before it becomes a span or a line of headless text output.
//!
//! Control characters (C0, DEL, C1), bidirectional overrides, zero-width and
//! other invisible format characters are rendered as visible escapes such as
//! `\x1b`, `\u{202e}`; invalid UTF-8 bytes become `\xNN`. Nothing from a message
//! is ever written to the terminal raw.

use std::borrow::Cow;

use std::fmt::Write as _;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Is this character unsafe or invisible on a terminal?
#[must_use]
pub fn needs_escape(c: char) -> bool {
    let u = c as u32;
    u < 0x20
        || (0x7f..=0x9f).contains(&u)
        || is_format_char(c)
        || c == '\u{2028}'
        || c == '\u{2029}'
}

/// Bidi controls, zero-width characters and other invisible format characters
/// (Unicode category Cf, the ones terminals and text shaping act on).
fn is_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{034f}'
            | '\u{061c}'
            | '\u{115f}'
            | '\u{1160}'
            | '\u{17b4}'
            | '\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff0}'..='\u{fffb}'
            | '\u{e0000}'..='\u{e007f}'
    )
}

fn push_escape(out: &mut String, c: char, keep_newlines: bool) {
    match c {
        '\n' if keep_newlines => out.push('\n'),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

fn escape_str_impl(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    // Fast path: printable ASCII or harmless non-ASCII needs no copy.
    let mut marks = LoneMarks::default();
    let first_bad = s
        .char_indices()
        .find(|&(_, c)| marks.escapes(c, keep_newlines));
    let Some((idx, first)) = first_bad else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..idx]);
    push_escape(&mut out, first, keep_newlines);
    for c in s[idx + first.len_utf8()..].chars() {
        if marks.escapes(c, keep_newlines) {
            push_escape(&mut out, c, keep_newlines);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Tracks whether a character has a visible base to combine with.
///
/// A combining mark (or another zero-width character) at the start of the
/// text, after a line break or after an escape has no base character: a
/// terminal draws it on whatever cell came before (a border, the previous
/// column) or not at all, so a key that is a lone U+07AD showed as
/// nothing. Such a mark is escaped (`\u{7ad}`) like an invisible control.
#[derive(Debug, Clone, Copy, Default)]
struct LoneMarks {
    after_base: bool,
}

impl LoneMarks {
    /// Is `c` escaped here? Updates what the next character follows.
    fn escapes(&mut self, c: char, keep_newlines: bool) -> bool {
        use unicode_width::UnicodeWidthChar;
        if keep_newlines && c == '\n' {
            self.after_base = false;
            return false;
        }
        let lone = !self.after_base && !c.is_control() && c.width() == Some(0);
        let bad = needs_escape(c) || lone;
        self.after_base = !bad;
        bad
    }
}

/// Does [`escape`] escape `c` when it is the first character of the text?
/// (Beyond [`needs_escape`]: a zero-width character there has no base to
/// combine with.) After a character left as it is, only [`needs_escape`]
/// decides.
#[must_use]
pub fn escapes_first(c: char) -> bool {
    LoneMarks::default().escapes(c, false)
}

/// Escape a string for a single-line terminal context (newlines escaped too).
#[must_use]
pub fn escape(s: &str) -> Cow<'_, str> {
    escape_str_impl(s, false)
}

/// Escape a string for a multi-line context: newlines are kept as line breaks,
/// every other control or invisible character is escaped.
#[must_use]
pub fn escape_multiline(s: &str) -> Cow<'_, str> {
    escape_str_impl(s, true)
}

/// Render bytes that are supposed to be text: valid UTF-8 runs are escaped as
/// by [`escape`], invalid bytes become `\xNN`.
#[must_use]
pub fn escape_bytes(b: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(b) {
        return escape(s);
    }
    let mut out = String::with_capacity(b.len() + 16);
    for chunk in b.utf8_chunks() {
        out.push_str(&escape(chunk.valid()));
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    Cow::Owned(out)
}

/// Split text into runs that are clean (`false`) or visible escapes
/// (`true`), so a renderer can style the escapes.
#[must_use]
pub fn escape_segments(s: &str, keep_newlines: bool) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut clean_start = 0;
    let mut marks = LoneMarks::default();
    for (i, c) in s.char_indices() {
        if !marks.escapes(c, keep_newlines) {
            continue;
        }
        if clean_start < i {
            out.push((s[clean_start..i].to_string(), false));
        }
        let mut piece = String::new();
        push_escape(&mut piece, c, keep_newlines);
        match out.last_mut() {
            Some((text, true)) => text.push_str(&piece),
            _ => out.push((piece, true)),
        }
        clean_start = i + c.len_utf8();
    }
    if clean_start < s.len() {
        out.push((s[clean_start..].to_string(), false));
    }
    out
}

/// Truncate a string to at most `max_chars` display columns (as the
/// terminal counts them: CJK and most emoji take two, combining marks none),
/// cutting between grapheme clusters and ending with `…` when something was
/// cut. Nothing fits in zero columns, not even the `…`.
#[must_use]
pub fn truncate_chars(s: &str, max_chars: usize) -> Cow<'_, str> {
    // No character is wider than its UTF-8 encoding is long.
    if s.len() <= max_chars || columns(s) <= max_chars {
        return Cow::Borrowed(s);
    }
    let Some(budget) = max_chars.checked_sub(1) else {
        return Cow::Borrowed("");
    };
    let mut used = 0;
    let mut end = 0;
    for (i, g) in s.grapheme_indices(true) {
        used += g.width();
        if used > budget {
            break;
        }
        end = i + g.len();
    }
    let mut out = String::with_capacity(end + 3);
    out.push_str(&s[..end]);
    out.push('…');
    Cow::Owned(out)
}

/// Display columns of `s`, grapheme by grapheme as ratatui draws it.
#[must_use]
pub fn columns(s: &str) -> usize {
    s.graphemes(true).map(UnicodeWidthStr::width).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_ansi_and_osc() {
        assert_eq!(escape("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(escape("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
        assert_eq!(escape("\u{9b}31m"), "\\x9b31m");
        assert_eq!(escape("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(escape("zero\u{200b}width"), "zero\\u{200b}width");
        assert_eq!(escape("line\nbreak"), "line\\nbreak");
        assert_eq!(escape_multiline("line\nbreak\r"), "line\nbreak\\r");
    }

    #[test]
    fn lone_combining_marks_are_escaped() {
        // The key 0xDE 0xAD is U+07AD, a Thaana mark with nothing to sit on.
        let key = std::str::from_utf8(&[0xde, 0xad]).unwrap();
        assert_eq!(escape(key), "\\u{7ad}");
        assert_eq!(escape_bytes(&[0xde, 0xad]), "\\u{7ad}");
        // After a line break, after an escape, and a run of them.
        assert_eq!(escape_multiline("a\n\u{301}b"), "a\n\\u{301}b");
        assert_eq!(escape("\x1b\u{301}"), "\\x1b\\u{301}");
        assert_eq!(escape("\u{301}\u{302}"), "\\u{301}\\u{302}");
        // On a base character they combine and stay as they are.
        assert_eq!(
            escape("e\u{301}\u{302} x\u{7ad}"),
            "e\u{301}\u{302} x\u{7ad}"
        );
        assert!(matches!(escape("cafe\u{301}"), Cow::Borrowed(_)));
        // The segments a renderer styles say the same.
        assert_eq!(
            escape_segments("\u{7ad}ok", false),
            vec![("\\u{7ad}".into(), true), ("ok".into(), false)]
        );
    }

    #[test]
    fn segments_mark_escapes() {
        let s = escape_segments("ok\x1b[31mred", false);
        assert_eq!(
            s,
            vec![
                ("ok".into(), false),
                ("\\x1b".into(), true),
                ("[31mred".into(), false)
            ]
        );
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(escape("plain text é 日本"), Cow::Borrowed(_)));
    }

    #[test]
    fn invalid_utf8_is_hex_escaped() {
        assert_eq!(escape_bytes(b"ok\xff\xfe!"), "ok\\xff\\xfe!");
        assert_eq!(escape_bytes(b"\x1b"), "\\x1b");
    }

    fn cols(s: &str) -> usize {
        columns(s)
    }

    #[test]
    fn truncation_counts_display_columns() {
        // CJK: two columns each.
        assert_eq!(truncate_chars("日本語テキスト", 5), "日本…");
        assert_eq!(truncate_chars("日本語テキスト", 6), "日本…");
        assert_eq!(truncate_chars("日本語", 6), "日本語");
        // Emoji: two columns each.
        assert_eq!(truncate_chars("🦀🦀🦀🦀", 5), "🦀🦀…");
        assert_eq!(truncate_chars("ok🦀", 4), "ok🦀");
        assert_eq!(truncate_chars("ok🦀!", 4), "ok…");
        // Combining marks take no column and stay with their letter.
        let accents = "e\u{301}".repeat(6);
        assert_eq!(truncate_chars(&accents, 6), accents);
        assert_eq!(
            truncate_chars(&accents, 4),
            format!("{}…", "e\u{301}".repeat(3))
        );
        // Nothing fits in no columns, not even the ellipsis.
        assert_eq!(truncate_chars("abc", 0), "");
        assert_eq!(truncate_chars("日本", 1), "…");
        for (s, n) in [("日本語テキスト", 5), ("🦀🦀🦀🦀", 3), ("a日b本c", 4)] {
            let t = truncate_chars(s, n);
            assert!(
                cols(&t) <= n,
                "{t:?} is {} columns, more than {n}",
                cols(&t)
            );
            assert!(t.ends_with('…'), "{t:?} was cut without an ellipsis");
        }
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_chars("héllo wörld", 5), "héll…");
        assert_eq!(truncate_chars("日本語", 6), "日本語");
        assert_eq!(truncate_chars("日本語x", 6), "日本…");
        assert_eq!(truncate_chars("", 0), "");
    }

    proptest! {
        #[test]
        fn escaped_output_never_contains_controls(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let out = escape_bytes(&bytes);
            prop_assert!(out.chars().all(|c| !needs_escape(c)));
        }

        #[test]
        fn escaped_strings_have_no_controls(s in "\\PC*|[\\x00-\\x1f\\x7f-\\u{9f}\\u{202a}-\\u{202e}]*") {
            prop_assert!(escape(&s).chars().all(|c| !needs_escape(c)));
        }

        #[test]
        fn truncation_fits_its_columns(s in ".*", n in 0usize..40) {
            let t = truncate_chars(&s, n);
            prop_assert!(cols(&t) <= n, "{:?} is {} columns, more than {}", t, cols(&t), n);
            if t != s {
                let kept = t.strip_suffix('…').unwrap_or(&t);
                prop_assert!(n == 0 || t.ends_with('…'), "{:?} was cut without an ellipsis", t);
                prop_assert!(s.starts_with(kept));
            }
        }
    }
}
