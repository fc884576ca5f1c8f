//! Text cut to a width: word wrap and fitting spans into a row.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Text cut into lines of at most `width` columns, between words where it
/// can.
#[must_use]
pub fn wrap(s: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in s.split(' ') {
        let sep = usize::from(!cur.is_empty());
        if !cur.is_empty() && cur.width() + sep + word.width() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        for c in word.chars() {
            if cur.width() + c.width().unwrap_or(0) > width && !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            cur.push(c);
        }
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_wrap_between_words() {
        let e = "`yesterday` is not a start position: use beginning, end, an offset, @2026-11-22T10:00:00Z, -15m or -N";
        let lines = wrap(e, 30);
        assert!(lines.len() > 1);
        for l in &lines {
            assert!(l.width() <= 30, "{l:?}");
        }
        assert_eq!(lines.join(" "), e);
        assert_eq!(wrap("", 10), vec![String::new()]);
        assert_eq!(wrap("abcdef", 4), vec!["abcd", "ef"]);
    }
}
