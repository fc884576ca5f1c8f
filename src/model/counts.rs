//! Why a topic's message count is unknown, in words an operator reads at a
//! glance: what failed, on which leaders, and on how many partitions.

use super::PartitionInfo;

/// The reason a count over `partitions` is unknown, or `None` when every
/// partition's count is known (an empty topic counts zero).
///
/// Partitions without both watermarks are grouped by their error (the
/// same failure on several leaders is one group naming the leaders, as in
/// "watermarks timed out (leaders 2, 3)"); when only some partitions
/// failed, each group says how many ("… on 3 of 8 partitions"). At most
/// two groups are spelled out, the rest are counted.
#[must_use]
pub fn unknown_count_reason(partitions: &[PartitionInfo]) -> Option<String> {
    // (reason, leaders, partitions), in the order first seen.
    let mut groups: Vec<(&str, Vec<i32>, usize)> = Vec::new();
    let mut failed = 0usize;
    for p in partitions.iter().filter(|p| p.messages().is_none()) {
        failed += 1;
        let why = p.error.as_deref().unwrap_or("watermarks not returned");
        let i = match groups.iter().position(|(w, _, _)| *w == why) {
            Some(i) => i,
            None => {
                groups.push((why, Vec::new(), 0));
                groups.len() - 1
            }
        };
        let g = &mut groups[i];
        g.2 += 1;
        if p.leader >= 0 && !g.1.contains(&p.leader) {
            g.1.push(p.leader);
        }
    }
    if failed == 0 {
        return None;
    }
    let total = partitions.len();
    let phrase = |(why, leaders, n): &(&str, Vec<i32>, usize)| {
        let mut s = (*why).to_string();
        if !leaders.is_empty() {
            let mut leaders = leaders.clone();
            leaders.sort_unstable();
            let list: Vec<String> = leaders.iter().map(ToString::to_string).collect();
            s.push_str(&format!(
                " ({} {})",
                if leaders.len() == 1 {
                    "leader"
                } else {
                    "leaders"
                },
                list.join(", ")
            ));
        }
        if *n < total {
            s.push_str(&format!(
                " on {n} of {total} partition{}",
                if total == 1 { "" } else { "s" }
            ));
        }
        s
    };
    let mut parts: Vec<String> = groups.iter().take(2).map(phrase).collect();
    let rest: usize = groups.iter().skip(2).map(|g| g.2).sum();
    if rest > 0 {
        parts.push(format!(
            "other errors on {rest} partition{}",
            if rest == 1 { "" } else { "s" }
        ));
    }
    Some(parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(
        partition: i32,
        leader: i32,
        marks: Option<(i64, i64)>,
        error: Option<&str>,
    ) -> PartitionInfo {
        PartitionInfo {
            partition,
            leader,
            replicas: vec![leader],
            isr: vec![leader],
            low: marks.map(|m| m.0),
            high: marks.map(|m| m.1),
            lso: None,
            error: error.map(str::to_string),
        }
    }

    #[test]
    fn known_counts_have_no_reason() {
        assert_eq!(unknown_count_reason(&[]), None);
        assert_eq!(
            unknown_count_reason(&[
                part(0, 1, Some((0, 5)), None),
                part(1, 2, Some((3, 3)), None)
            ]),
            None
        );
    }

    #[test]
    fn one_failure_on_every_partition_names_the_leader_only() {
        let ps = [
            part(0, 2, None, Some("watermarks timed out")),
            part(1, 2, None, Some("watermarks timed out")),
        ];
        assert_eq!(
            unknown_count_reason(&ps).as_deref(),
            Some("watermarks timed out (leader 2)")
        );
    }

    #[test]
    fn partial_failures_say_how_many_partitions_and_which_leaders() {
        let ps = [
            part(0, 1, Some((0, 5)), None),
            part(1, 3, None, Some("watermarks timed out")),
            part(2, 2, None, Some("watermarks timed out")),
            part(3, 1, Some((0, 5)), None),
        ];
        assert_eq!(
            unknown_count_reason(&ps).as_deref(),
            Some("watermarks timed out (leaders 2, 3) on 2 of 4 partitions")
        );
    }

    #[test]
    fn different_failures_are_listed_then_counted() {
        let ps = [
            part(0, -1, None, Some("no leader")),
            part(
                1,
                2,
                None,
                Some("watermarks unavailable: not authorized for this topic"),
            ),
            part(2, 3, None, Some("watermarks timed out")),
            part(3, 4, None, None),
            part(4, 1, Some((0, 1)), None),
        ];
        assert_eq!(
            unknown_count_reason(&ps).as_deref(),
            Some(
                "no leader on 1 of 5 partitions; watermarks unavailable: not authorized \
                 for this topic (leader 2) on 1 of 5 partitions; other errors on 2 partitions"
            )
        );
    }
}
