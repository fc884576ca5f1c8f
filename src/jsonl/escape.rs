//! The fast path of the writer: terminal-safe JSON string escaping a word
//! of 8 bytes at a time.

use crate::sanitize::needs_escape;

// ---------------------------------------------------------------- writer
//
// The writers append bytes to a `Vec<u8>` (the consume fast path writes
// straight into its output buffer); `String` callers go through
// [`append_utf8`]. Everything written is UTF-8: text is copied only after
// it has been checked character by character, escapes are ASCII.

pub(super) const ONES: u64 = 0x0101_0101_0101_0101;
pub(super) const HIGH: u64 = 0x8080_8080_8080_8080;

/// For the 8 bytes in `w`: a byte's high bit is set in `.0` when the byte
/// is a control (below 0x20), DEL, or part of a non-ASCII character, and in
/// `.1` when it is `"` or `\`. Exact as "any byte" answers (the classic
/// has-less / has-zero word tricks); which bit is set may be off after the
/// first hit, so the callers only test for zero.
#[inline]
pub(super) fn word_classes(w: u64) -> (u64, u64) {
    let below_space = w.wrapping_sub(ONES * 0x20) & !w;
    let del_or_high = w | w.wrapping_add(ONES);
    let quote = w ^ (ONES * u64::from(b'"'));
    let backslash = w ^ (ONES * u64::from(b'\\'));
    let special = (quote.wrapping_sub(ONES) & !quote) | (backslash.wrapping_sub(ONES) & !backslash);
    ((below_space | del_or_high) & HIGH, special & HIGH)
}

/// The 8 bytes at `at`, if there are 8.
#[inline]
pub(super) fn word_at(b: &[u8], at: usize) -> Option<[u8; 8]> {
    b.get(at..at.checked_add(8)?)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
}

/// The character starting at byte `at` (a non-ASCII lead byte), if the
/// bytes there are valid UTF-8.
#[inline]
pub(super) fn char_at(b: &[u8], at: usize) -> Option<char> {
    let len = match *b.get(at)? {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    std::str::from_utf8(b.get(at..at + len)?)
        .ok()?
        .chars()
        .next()
}

/// Is this valid UTF-8 with nothing the terminal rule escapes, so that
/// [`crate::sanitize::escape_bytes`] would return it unchanged?
#[must_use]
pub fn is_terminal_clean(b: &[u8]) -> bool {
    // The first character has no base before it (a lone combining mark is
    // escaped); every later one follows a character left as it is, where
    // `needs_escape` alone decides.
    if b.first().is_some_and(|&x| x >= 0x80) {
        match char_at(b, 0) {
            Some(c) if !crate::sanitize::escapes_first(c) => {}
            _ => return false,
        }
    }
    let mut i = 0;
    while i < b.len() {
        if let Some(w) = word_at(b, i)
            && word_classes(u64::from_le_bytes(w)).0 == 0
        {
            i += 8;
            continue;
        }
        let end = (i + 8).min(b.len());
        while i < end {
            let x = b[i];
            if x < 0x80 {
                if x < 0x20 || x == 0x7f {
                    return false;
                }
                i += 1;
            } else {
                match char_at(b, i) {
                    Some(c) if !needs_escape(c) => i += c.len_utf8(),
                    _ => return false,
                }
            }
        }
    }
    true
}

/// The bytes are not UTF-8.
pub(super) struct NotUtf8;

/// Scratch space of [`push_json_chars`]: flushed to the output when fewer
/// than `HEADROOM` bytes are left, which is more than one round of its loop
/// can write (8 bytes of input, each at most 6 bytes out, or one character
/// of up to 4 bytes as two `\uXXXX`).
pub(super) const SCRATCH: usize = 256;
pub(super) const HEADROOM: usize = 64;

/// Append `b` as the inside of a terminal-safe JSON string: JSON's escapes
/// for `"`, `\`, `\n`, `\r`, `\t`, `\uXXXX` for other controls, DEL and
/// every non-ASCII character [`needs_escape`] flags. Plain words of 8 ASCII
/// bytes are copied whole, words whose only specials are `"` or `\` without
/// branching. On `Err` (not UTF-8) a part may have been appended: the
/// caller truncates.
pub(super) fn push_json_chars(out: &mut Vec<u8>, b: &[u8]) -> Result<(), NotUtf8> {
    // Most keys, names and many values need no escape at all: copy the
    // clean ASCII prefix whole, and the rest (if any) goes character-wise.
    let clean = clean_ascii_prefix(b);
    out.extend_from_slice(&b[..clean]);
    if clean == b.len() {
        return Ok(());
    }
    push_json_chars_rest(out, &b[clean..])
}

/// The length of `b`'s leading run of printable ASCII other than `"` and
/// `\\` (whole words at a time, then byte by byte).
#[inline]
pub(super) fn clean_ascii_prefix(b: &[u8]) -> usize {
    let mut i = 0;
    while let Some(w) = word_at(b, i) {
        if word_classes(u64::from_le_bytes(w)) != (0, 0) {
            return i;
        }
        i += 8;
    }
    while i < b.len() && matches!(b[i], 0x20..=0x7e) && b[i] != b'"' && b[i] != b'\\' {
        i += 1;
    }
    i
}

/// [`push_json_chars`] from the first word that may need an escape; `b`
/// starts on a character boundary.
pub(super) fn push_json_chars_rest(out: &mut Vec<u8>, b: &[u8]) -> Result<(), NotUtf8> {
    let mut buf = [0u8; SCRATCH];
    let mut j = 0;
    let mut i = 0;
    while i < b.len() {
        if j + HEADROOM > SCRATCH {
            out.extend_from_slice(&buf[..j]);
            j = 0;
        }
        if let Some(w) = word_at(b, i) {
            let (hard, quote_or_backslash) = word_classes(u64::from_le_bytes(w));
            if hard == 0 {
                if quote_or_backslash == 0 {
                    buf[j..j + 8].copy_from_slice(&w);
                    j += 8;
                } else {
                    j = put_escaped_word(&mut buf, j, u64::from_le_bytes(w));
                }
                i += 8;
                continue;
            }
        }
        // Byte by byte (character by character) to the end of this word.
        let end = (i + 8).min(b.len());
        while i < end {
            let x = b[i];
            if x < 0x80 {
                let short = match x {
                    b'"' => Some(b'"'),
                    b'\\' => Some(b'\\'),
                    b'\n' => Some(b'n'),
                    b'\r' => Some(b'r'),
                    b'\t' => Some(b't'),
                    _ => None,
                };
                if let Some(e) = short {
                    buf[j] = b'\\';
                    buf[j + 1] = e;
                    j += 2;
                } else if x < 0x20 || x == 0x7f {
                    j += put_u_escape(&mut buf[j..], char::from(x));
                } else {
                    buf[j] = x;
                    j += 1;
                }
                i += 1;
            } else {
                let c = char_at(b, i).ok_or(NotUtf8)?;
                let n = c.len_utf8();
                if needs_escape(c) {
                    j += put_u_escape(&mut buf[j..], c);
                } else {
                    buf[j..j + n].copy_from_slice(&b[i..i + n]);
                    j += n;
                }
                i += n;
            }
        }
    }
    out.extend_from_slice(&buf[..j]);
    Ok(())
}

/// Write the 8 bytes of `v` (no controls, DEL or non-ASCII among them) at
/// `buf[j..]` with a backslash before each `"` and `\\`; returns the new end.
/// Each run up to the next special is written as one 8-byte store of the
/// word shifted down (what lies beyond the run is overwritten next), so
/// `buf` needs 16 bytes of room after `j`.
#[inline]
pub(super) fn put_escaped_word(buf: &mut [u8], mut j: usize, v: u64) -> usize {
    let mut specials = byte_is(v, b'"') | byte_is(v, b'\\');
    let mut from = 0;
    while specials != 0 {
        let at = (specials.trailing_zeros() / 8) as usize;
        buf[j..j + 8].copy_from_slice(&(v >> (8 * from)).to_le_bytes());
        j += at - from;
        buf[j] = b'\\';
        j += 1;
        from = at;
        specials &= specials - 1;
    }
    buf[j..j + 8].copy_from_slice(&(v >> (8 * from)).to_le_bytes());
    j + 8 - from
}

/// The high bit of each byte of `v` that equals `b`, and no other bit.
/// (Exact per byte, unlike the borrow-based test in [`word_classes`].)
#[inline]
pub(super) fn byte_is(v: u64, b: u8) -> u64 {
    let x = v ^ (ONES * u64::from(b));
    !(((x & !HIGH).wrapping_add(!HIGH)) | x) & HIGH
}

/// Write `c` as `\uXXXX` (two of them beyond the BMP) at the start of
/// `buf`; returns the length written (6 or 12).
pub(super) fn put_u_escape(buf: &mut [u8], c: char) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut units = [0u16; 2];
    let mut n = 0;
    for unit in c.encode_utf16(&mut units) {
        let at = &mut buf[n..n + 6];
        at[0] = b'\\';
        at[1] = b'u';
        for (k, shift) in [12, 8, 4, 0].into_iter().enumerate() {
            at[2 + k] = HEX[usize::from((*unit >> shift) & 0xf)];
        }
        n += 6;
    }
    n
}

/// Append a quoted, terminal-safe JSON string.
pub fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    // A `&str` is UTF-8: the only error case cannot happen.
    let _ = push_json_chars(out, s.as_bytes());
    out.push(b'"');
}

/// Append `s` as a quoted, terminal-safe JSON string.
pub fn write_str(out: &mut String, s: &str) {
    append_utf8(out, |v| push_json_str(v, s));
}

/// Run a byte writer of this module and append what it wrote to a
/// `String`. The writers only write UTF-8, so nothing is ever replaced.
pub fn append_utf8(out: &mut String, write: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = Vec::new();
    write(&mut bytes);
    out.push_str(&String::from_utf8_lossy(&bytes));
}

/// Append an integer in decimal.
#[inline]
pub fn push_int(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}
