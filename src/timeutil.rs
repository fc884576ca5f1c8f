//! Time parsing and formatting: absolute RFC 3339 times, relative times
//! (`-15m`), and the browser/consume start positions.

use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Milliseconds since the epoch, now.
#[must_use]
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Parse a duration like `15m`, `2h`, `30s`, `1d`, `1w`, `500ms` into ms.
pub fn parse_duration_ms(s: &str) -> Result<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: i64 = num
        .parse()
        .map_err(|_| anyhow!("`{s}` is not a duration like 15m or 2h"))?;
    let mult = match unit {
        "ms" => 1,
        "s" | "sec" => 1000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => bail!("`{s}` has unknown unit `{unit}` (use ms, s, m, h, d or w)"),
    };
    n.checked_mul(mult)
        .ok_or_else(|| anyhow!("`{s}` is too large"))
}

/// Parse a point in time: RFC 3339 (`2026-11-22T10:00:00Z`), a date-time
/// without zone (taken as UTC), a date (midnight UTC), a relative time
/// (`-15m`: fifteen minutes before `now_ms`) or milliseconds since the epoch.
pub fn parse_time(s: &str, now_ms: i64) -> Result<i64> {
    let s = s.trim();
    if let Some(rel) = s.strip_prefix('-')
        && rel.chars().next().is_some_and(|c| c.is_ascii_digit())
        && rel.chars().any(|c| c.is_ascii_alphabetic())
    {
        return Ok(now_ms - parse_duration_ms(rel)?);
    }
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
        return s.parse().map_err(|_| anyhow!("`{s}` is not a timestamp"));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(Utc.from_utc_datetime(&t).timestamp_millis());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(Utc.from_utc_datetime(&t).timestamp_millis());
    }
    bail!(
        "`{s}` is not a time: use 2026-11-22T10:00:00Z, -15m, -2h or milliseconds since the epoch"
    )
}

/// Format ms since the epoch for display, in UTC or local time.
#[must_use]
pub fn format_ts(ms: i64, utc: bool) -> String {
    let Some(t) = DateTime::<Utc>::from_timestamp_millis(ms) else {
        return format!("{ms}ms");
    };
    if utc {
        t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    } else {
        t.with_timezone(&Local)
            .format("%Y-%m-%d %H:%M:%S%.3f")
            .to_string()
    }
}

/// Short time of day for "last refreshed" labels.
#[must_use]
pub fn format_clock(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).map_or_else(
        || "--:--:--".into(),
        |t| t.with_timezone(&Local).format("%H:%M:%S").to_string(),
    )
}

/// "3s ago", "2m ago", "1h ago".
#[must_use]
pub fn ago(now_ms: i64, then_ms: i64) -> String {
    let d = (now_ms - then_ms).max(0) / 1000;
    match d {
        0..=59 => format!("{d}s ago"),
        60..=3599 => format!("{}m ago", d / 60),
        _ => format!("{}h ago", d / 3600),
    }
}

/// Seconds (a setting) as whole milliseconds, clamped to what an i64 holds.
#[must_use]
pub fn secs_to_ms(secs: f64) -> i64 {
    let ms = (secs * 1000.0).round();
    if ms.is_nan() {
        0
    } else if ms >= 9.2e18 {
        i64::MAX
    } else if ms <= -9.2e18 {
        i64::MIN
    } else {
        #[allow(clippy::cast_possible_truncation)]
        let v = ms as i64;
        v
    }
}

/// Human duration: "45s", "3m 20s", "2h 5m".
#[must_use]
pub fn human_duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "∞".into();
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let s = secs.round() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        3600..=172_799 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// Where to start reading a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    Beginning,
    End,
    Offset(i64),
    /// ms since the epoch, resolved per partition with offsets-for-times.
    Timestamp(i64),
    /// The last N messages of each partition.
    LastN(i64),
}

impl StartAt {
    /// Parse `beginning`, `end`, `OFFSET`, `@TIMESTAMP`, `-15m` (relative
    /// time), `-N` (last N per partition).
    pub fn parse(s: &str, now_ms: i64) -> Result<Self> {
        let s = s.trim();
        match s {
            "beginning" | "earliest" | "start" | "oldest" => return Ok(Self::Beginning),
            "end" | "latest" | "tail" | "newest" => return Ok(Self::End),
            _ => {}
        }
        if let Some(t) = s.strip_prefix('@') {
            return Ok(Self::Timestamp(parse_time(t, now_ms)?));
        }
        if let Some(n) = s.strip_prefix('-') {
            if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) {
                let n: i64 = n.parse().map_err(|_| anyhow!("`{s}` is too large"))?;
                return Ok(Self::LastN(n));
            }
            return Ok(Self::Timestamp(parse_time(s, now_ms)?));
        }
        if let Some(n) = s.strip_prefix("last:") {
            return Ok(Self::LastN(
                n.parse().map_err(|_| anyhow!("`{s}`: expected last:N"))?,
            ));
        }
        if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
            return Ok(Self::Offset(
                s.parse().map_err(|_| anyhow!("`{s}` is too large"))?,
            ));
        }
        bail!(
            "`{s}` is not a start position: use beginning, end, an offset, @2026-11-22T10:00:00Z, -15m or -N (last N)"
        )
    }

    #[must_use]
    pub fn describe(&self, utc: bool) -> String {
        match self {
            StartAt::Beginning => "beginning".into(),
            StartAt::End => "end (live tail)".into(),
            StartAt::Offset(o) => format!("offset {o}"),
            StartAt::Timestamp(t) => format!("time {}", format_ts(*t, utc)),
            StartAt::LastN(n) => format!("last {n} per partition"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_763_805_600_000; // 2025-11-22T10:00:00Z

    #[test]
    fn parses_times() {
        assert_eq!(parse_time("2025-11-22T10:00:00Z", 0).unwrap(), NOW);
        assert_eq!(parse_time("2025-11-22T11:00:00+01:00", 0).unwrap(), NOW);
        assert_eq!(parse_time("2025-11-22T10:00:00", 0).unwrap(), NOW);
        assert_eq!(parse_time("-15m", NOW).unwrap(), NOW - 900_000);
        assert_eq!(parse_time("-2h", NOW).unwrap(), NOW - 7_200_000);
        assert_eq!(parse_time("1763805600000", 0).unwrap(), NOW);
        assert!(parse_time("yesterday", NOW).is_err());
        assert!(parse_time("-15x", NOW).is_err());
    }

    #[test]
    fn parses_start_positions() {
        assert_eq!(
            StartAt::parse("beginning", NOW).unwrap(),
            StartAt::Beginning
        );
        assert_eq!(StartAt::parse("end", NOW).unwrap(), StartAt::End);
        assert_eq!(StartAt::parse("42", NOW).unwrap(), StartAt::Offset(42));
        assert_eq!(
            StartAt::parse("@2025-11-22T10:00:00Z", NOW).unwrap(),
            StartAt::Timestamp(NOW)
        );
        assert_eq!(
            StartAt::parse("-15m", NOW).unwrap(),
            StartAt::Timestamp(NOW - 900_000)
        );
        assert_eq!(StartAt::parse("-100", NOW).unwrap(), StartAt::LastN(100));
        assert!(StartAt::parse("sideways", NOW).is_err());
    }

    #[test]
    fn formats() {
        assert_eq!(format_ts(NOW, true), "2025-11-22T10:00:00.000Z");
        assert_eq!(ago(NOW, NOW - 5_000), "5s ago");
        assert_eq!(human_duration(200.0), "3m 20s");
        assert_eq!(human_duration(f64::INFINITY), "∞");
    }
}
