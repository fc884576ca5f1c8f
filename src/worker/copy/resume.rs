//! The resume command of an unfinished copy: where each source partition
//! resumes, what past that point is confirmed already (and so skipped), and
//! the `--from`/`--skip` arguments that carry both.

use std::collections::BTreeMap;

use super::plan::Part;
use super::send::{Slot, Tracker};
use crate::worker::protocol::{CopySpec, Resume};

/// Where each unfinished partition resumes, and what past that point is
/// confirmed already.
pub(super) fn resume_point(parts: &[Part], t: &Tracker, spec: &CopySpec) -> Resume {
    let mut r = Resume {
        count: spec.count.map(|c| c.saturating_sub(t.confirmed)),
        ..Resume::default()
    };
    for (part, flight) in parts.iter().zip(&t.flights) {
        let first_open = flight.slots.iter().position(|s| s.1 != Slot::Confirmed);
        let from = match first_open {
            Some(i) => flight.slots[i].0,
            None if part.done => continue,
            None => part.next,
        };
        r.from.insert(part.id, from);
        let mut skip: Vec<(i64, i64)> = part
            .skip
            .iter()
            .copied()
            .filter(|(_, b)| *b >= from)
            .collect();
        if let Some(i) = first_open {
            skip.extend(ranges(
                flight
                    .slots
                    .iter()
                    .skip(i)
                    .filter(|s| s.1 == Slot::Confirmed)
                    .map(|s| s.0),
            ));
        }
        if !skip.is_empty() {
            skip.sort_unstable();
            r.skip.insert(part.id, skip);
        }
    }
    r
}

/// Inclusive ranges from sorted offsets.
fn ranges(offsets: impl IntoIterator<Item = i64>) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for o in offsets {
        match out.last_mut() {
            Some((_, b)) if *b + 1 == o => *b = o,
            _ => out.push((o, o)),
        }
    }
    out
}

/// A `--from` or `--skip` argument that is not of its form, naming the
/// item at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PositionArgError {
    #[error("`{0}`: expected PARTITION:OFFSET")]
    Offset(String),
    #[error("`{0}`: expected PARTITION:OFFSET[,...]")]
    NoOffsets(String),
    #[error("`{0}`: expected PARTITION:OFFSET or PARTITION:FIRST-LAST")]
    Range(String),
}

/// `P:OFFSET,P:OFFSET`, as `copy --from` takes it.
#[must_use]
pub fn offsets_arg(from: &BTreeMap<i32, i64>) -> String {
    from.iter()
        .map(|(p, o)| format!("{p}:{o}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// `P:A-B,P:C`, as `copy --skip` takes it.
#[must_use]
pub fn skip_arg(skip: &BTreeMap<i32, Vec<(i64, i64)>>) -> String {
    let mut out = Vec::new();
    for (p, rs) in skip {
        for (a, b) in rs {
            out.push(if a == b {
                format!("{p}:{a}")
            } else {
                format!("{p}:{a}-{b}")
            });
        }
    }
    out.join(",")
}

/// Parse `P:OFFSET[,P:OFFSET...]` (a `--from` that gives each partition its
/// own start); `None` when `s` is not of that form.
pub fn parse_offsets_arg(s: &str) -> Option<Result<BTreeMap<i32, i64>, PositionArgError>> {
    if !s.contains(':') || s.starts_with('@') {
        return None;
    }
    let mut out = BTreeMap::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let Some((p, o)) = item.split_once(':') else {
            return Some(Err(PositionArgError::Offset(item.to_string())));
        };
        let (Ok(p), Ok(o)) = (p.trim().parse::<i32>(), o.trim().parse::<i64>()) else {
            return Some(Err(PositionArgError::Offset(item.to_string())));
        };
        if p < 0 || o < 0 {
            return Some(Err(PositionArgError::Offset(item.to_string())));
        }
        out.insert(p, o);
    }
    if out.is_empty() {
        return Some(Err(PositionArgError::NoOffsets(s.to_string())));
    }
    Some(Ok(out))
}

/// Parse `P:A-B,P:C` (inclusive ranges per partition).
pub fn parse_skip_arg(s: &str) -> Result<BTreeMap<i32, Vec<(i64, i64)>>, PositionArgError> {
    let mut out: BTreeMap<i32, Vec<(i64, i64)>> = BTreeMap::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let bad = || PositionArgError::Range(item.to_string());
        let (p, r) = item.split_once(':').ok_or_else(bad)?;
        let p: i32 = p.trim().parse().map_err(|_| bad())?;
        let (a, b) = match r.split_once('-') {
            Some((a, b)) => (
                a.trim().parse().map_err(|_| bad())?,
                b.trim().parse().map_err(|_| bad())?,
            ),
            None => {
                let o: i64 = r.trim().parse().map_err(|_| bad())?;
                (o, o)
            }
        };
        if a > b || a < 0 {
            return Err(bad());
        }
        out.entry(p).or_default().push((a, b));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeutil::StartAt;
    use crate::worker::protocol::{CopySelection, CopyStart};

    #[test]
    fn a_resume_starts_at_the_first_unconfirmed_message_and_skips_what_follows_confirmed() {
        let mut t = Tracker::new(2);
        let a: Vec<usize> = (10..15).map(|o| t.sending(0, o)).collect();
        let b = t.sending(1, 7);
        t.delivered(a[0], true);
        t.delivered(a[2], true);
        t.delivered(a[1], false);
        t.delivered(a[3], true);
        t.delivered(a[4], true);
        t.delivered(b, true);
        let parts = vec![
            Part {
                id: 0,
                next: 15,
                end: 100,
                done: false,
                wanted: None,
                skip: vec![],
            },
            Part {
                id: 3,
                next: 8,
                end: 8,
                done: true,
                wanted: None,
                skip: vec![],
            },
        ];
        let spec = CopySpec {
            count: Some(10),
            ..CopySpec::new(
                "a",
                "b",
                CopySelection::Range {
                    partitions: None,
                    start: CopyStart::At(StartAt::Beginning),
                    end: None,
                },
            )
        };
        let r = resume_point(&parts, &t, &spec);
        assert_eq!(r.from, BTreeMap::from([(0, 11)]));
        assert_eq!(r.skip, BTreeMap::from([(0, vec![(12, 14)])]));
        assert_eq!(r.count, Some(5));
    }

    #[test]
    fn offsets_and_skips_round_trip_through_their_arguments() {
        let from = BTreeMap::from([(0, 12), (3, 0)]);
        assert_eq!(parse_offsets_arg(&offsets_arg(&from)), Some(Ok(from)));
        assert_eq!(parse_offsets_arg("beginning"), None);
        assert_eq!(parse_offsets_arg("-15m"), None);
        assert!(matches!(parse_offsets_arg("0:x"), Some(Err(_))));
        assert!(matches!(parse_offsets_arg("0:-1"), Some(Err(_))));
        let skip = BTreeMap::from([(0, vec![(3, 3), (5, 9)]), (2, vec![(1, 4)])]);
        assert_eq!(skip_arg(&skip), "0:3,0:5-9,2:1-4");
        assert_eq!(parse_skip_arg(&skip_arg(&skip)).unwrap(), skip);
        assert!(parse_skip_arg("0:9-5").is_err());
        assert_eq!(
            parse_skip_arg("0:1, x").unwrap_err().to_string(),
            "`x`: expected PARTITION:OFFSET or PARTITION:FIRST-LAST"
        );
        assert_eq!(
            parse_offsets_arg("0:1,2").unwrap().unwrap_err().to_string(),
            "`2`: expected PARTITION:OFFSET"
        );
        assert_eq!(
            parse_offsets_arg(":,").unwrap().unwrap_err().to_string(),
            "`:`: expected PARTITION:OFFSET"
        );
        assert_eq!(ranges([1, 2, 3, 5, 7, 8]), vec![(1, 3), (5, 5), (7, 8)]);
    }
}
