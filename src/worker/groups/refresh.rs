//! Refreshing the groups: list (or take the configured names), describe,
//! then fetch offsets and lag, in steps so the UI shows the listing at once
//! and the groups it looks at first.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rdkafka::consumer::Consumer;

use super::describe::description_of;
use super::kinds;
use super::lag::offsets_of;
use super::snapshot::build_snapshot;
use super::wire::{self, TypedListing, WireError};
use super::{NO_DESCRIBE_GROUPS, NOT_DESCRIBED, TIMEOUT};
use crate::model::{GroupDescription, GroupSnapshot, GroupState, GroupType};
use crate::worker::Inner;
use crate::worker::error::WorkerError;
use crate::worker::group_list;
use crate::worker::protocol::GroupsSnapshot;

/// Take a listing's groups into a refresh: each group's name, and its
/// description or the note saying why its membership is unknown. Returns the
/// list's note (a partial listing says so).
fn take_listing(
    listing: &group_list::GroupListing,
    described: &mut BTreeMap<String, GroupDescription>,
    notes: &mut HashMap<String, String>,
    names: &mut BTreeSet<String>,
) -> Option<String> {
    for g in &listing.groups {
        names.insert(g.name.clone());
        match description_of(g) {
            Ok(d) => {
                described.insert(g.name.clone(), d);
            }
            Err(note) => {
                notes.insert(g.name.clone(), note.to_string());
            }
        }
    }
    listing.note()
}

/// A step of a stepped group refresh (see [`refresh_in_steps`]).
pub enum Step {
    /// Every group's description, before any offsets.
    Listed(Vec<GroupSnapshot>, Option<String>),
    /// Offsets and lag of some groups.
    Offsets(Vec<GroupSnapshot>),
}

/// Groups whose offsets one step fetches, after the first ones.
const OFFSETS_CHUNK: usize = 500;

/// What a refresh knows of its groups before their offsets.
#[derive(Default)]
struct Known {
    names: BTreeSet<String>,
    described: BTreeMap<String, GroupDescription>,
    /// Why a group's membership is unknown.
    notes: HashMap<String, String>,
    /// The listing's note (partial, failed, or not offered).
    list_note: Option<String>,
}

/// Refresh every group: list + describe, committed offsets per group, end
/// offsets for all their partitions in one batch (blocking).
pub fn refresh(inner: &Inner, only: Option<&str>) -> Result<GroupsSnapshot, WorkerError> {
    refresh_in_steps(inner, only, None, &mut |_| {})
}

/// [`refresh`], telling `step` the listing as soon as it is in, then the
/// offsets of the groups in `first`, then of the others in chunks
/// (`first: None`: one step with everything).
pub fn refresh_in_steps(
    inner: &Inner,
    only: Option<&str>,
    first: Option<&[String]>,
    step: &mut dyn FnMut(Step),
) -> Result<GroupsSnapshot, WorkerError> {
    warm(inner);
    let at_ms = crate::timeutil::now_ms();
    let single: Vec<String> = only.map(|g| vec![g.to_string()]).unwrap_or_default();
    let named: &[String] = if only.is_some() {
        &single
    } else {
        &inner.profile.watch_groups
    };
    let mut known = Known::default();
    if only.is_none() {
        let typed = typed_listing(inner);
        if let Ok(t) = &typed {
            for g in &t.groups {
                known.names.insert(g.name.clone());
            }
            if first.is_some() {
                // Every group at once, with its type and state; members,
                // descriptions and lag follow.
                let listed = t
                    .groups
                    .iter()
                    .map(|g| {
                        let d = Some(kinds::listed_description(g));
                        build_snapshot(
                            &g.name,
                            d,
                            None,
                            &Ok(Vec::new()),
                            &HashMap::new(),
                            None,
                            at_ms,
                        )
                    })
                    .collect();
                step(Step::Listed(listed, typed_note(t)));
            }
        }
        list(inner, named, typed.is_ok(), &mut known)?;
        match &typed {
            Ok(t) => apply_typed(inner, t, first, &mut known),
            Err(why) => {
                tracing::debug!(%why, "typed group listing not used");
                for d in known.described.values_mut() {
                    d.details_note = Some(format!("KIP-848 details unavailable: {why}"));
                }
            }
        }
    }
    for g in named {
        // Listed already, described or with its reason.
        if known.names.insert(g.clone()) {
            describe_named(inner, g, &mut known);
        }
    }
    if first.is_some() {
        let listed = known
            .names
            .iter()
            .map(|g| {
                let (d, n) = (known.described.get(g).cloned(), known.notes.get(g).cloned());
                build_snapshot(g, d, n, &Ok(Vec::new()), &HashMap::new(), None, at_ms)
            })
            .collect();
        step(Step::Listed(listed, known.list_note.clone()));
    }
    let mut groups = Vec::with_capacity(known.names.len());
    let mut meta = None;
    for chunk in order(&known.names, first) {
        let snaps = offsets_of(
            inner,
            &chunk,
            &mut known.described,
            &mut known.notes,
            at_ms,
            only.is_none() && first.is_none(),
            &mut meta,
        );
        if first.is_some() {
            step(Step::Offsets(snaps.clone()));
        }
        groups.extend(snaps);
    }
    groups.sort_by(|a, b| a.group.cmp(&b.group));
    Ok(GroupsSnapshot {
        groups,
        list_note: known.list_note,
        at_ms,
    })
}

/// librdkafka's group listing waits for the client's first metadata,
/// which a fresh client only requests on a one-second timer: ask now.
fn warm(inner: &Inner) {
    if !inner
        .warmed
        .swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        // One topic's metadata brings the broker list without the cost of
        // every topic's (seconds on a cluster of 100,000 partitions).
        let _ = inner
            .meta
            .fetch_metadata(Some("__consumer_offsets"), TIMEOUT);
    }
}

/// List every group (with descriptions), or say why the configured names
/// are shown instead.
fn list(
    inner: &Inner,
    named: &[String],
    typed: bool,
    known: &mut Known,
) -> Result<(), WorkerError> {
    if inner.profile.unsupported.list_groups {
        known.list_note = Some(
            "no ListGroups on this cluster: showing the groups named in the config".to_string(),
        );
        return Ok(());
    }
    match group_list::list_groups(inner.meta.client(), None, TIMEOUT) {
        Ok(listing) => {
            known.list_note = take_listing(
                &listing,
                &mut known.described,
                &mut known.notes,
                &mut known.names,
            );
        }
        Err(e) => {
            // librdkafka gives no list at all when any broker's
            // ListGroups fails: fall back to the configured groups (or
            // the typed listing's).
            if typed {
                known.list_note = Some(format!(
                    "classic groups could not be described ({e}): their members are missing"
                ));
                return Ok(());
            }
            if named.is_empty() {
                return Err(e.context("listing groups failed"));
            }
            known.list_note = Some(format!(
                "listing groups failed ({e}): showing the groups named in the config"
            ));
        }
    }
    Ok(())
}

/// Every group with its type and state (ListGroups v5, our own request),
/// or why not (the untyped listing is used then).
fn typed_listing(inner: &Inner) -> Result<TypedListing, WireError> {
    if inner.profile.unsupported.list_groups {
        return Err(WireError::Unsupported(
            "no ListGroups on this cluster".into(),
        ));
    }
    let security = wire::Security::of(&inner.profile)?;
    let deadline = std::time::Instant::now() + TIMEOUT;
    wire::list_typed(&inner.profile.brokers, &security, deadline)
}

/// The typed listing's note: brokers that did not answer.
fn typed_note(t: &TypedListing) -> Option<String> {
    (!t.failed.is_empty()).then(|| {
        let n = t.groups.len();
        format!(
            "{n} group{} listed; some brokers did not answer: {}",
            if n == 1 { "" } else { "s" },
            t.failed.join("; ")
        )
    })
}

/// Describe the typed listing's KIP-848 and share groups with our own
/// requests (the ones asked for first) and merge every listed group with
/// what librdkafka's describe gave (see [`kinds::merge`]).
fn apply_typed(inner: &Inner, t: &TypedListing, first: Option<&[String]>, known: &mut Known) {
    let deadline = std::time::Instant::now() + TIMEOUT;
    let mut own = BTreeMap::new();
    if let Ok(security) = wire::Security::of(&inner.profile) {
        let brokers = &inner.profile.brokers;
        let consumer = kinds::names_of(&t.groups, &GroupType::Consumer, first);
        own.extend(wire::describe_consumer_groups(brokers, &security, &consumer, deadline).groups);
        let share = kinds::names_of(&t.groups, &GroupType::Share, first);
        own.extend(wire::describe_share_groups(brokers, &security, &share, deadline).groups);
    }
    for g in &t.groups {
        let classic = known.described.remove(&g.name);
        if g.group_type == GroupType::Classic && classic.is_none() {
            // librdkafka gave a note (DescribeGroups refused) or nothing
            // (its listing was partial): the typed listing's state stays.
            if !known.notes.contains_key(&g.name) {
                known
                    .described
                    .insert(g.name.clone(), kinds::listed_description(g));
            }
            continue;
        }
        match kinds::merge(g, classic, own.remove(&g.name)) {
            Ok(d) => {
                known.notes.remove(&g.name);
                known.described.insert(g.name.clone(), d);
            }
            Err(note) => {
                known.notes.insert(g.name.clone(), note);
            }
        }
    }
    if let Some(n) = typed_note(t) {
        known.list_note = Some(match known.list_note.take() {
            Some(old) => format!("{n}; {old}"),
            None => n,
        });
    }
}

/// Describe a group named in the config (or asked for) that no listing
/// brought: its description, or the note saying why it is unknown.
fn describe_named(inner: &Inner, g: &str, known: &mut Known) {
    let note = if inner.profile.unsupported.describe_groups {
        // The demo's groups: membership from its own consumers.
        match crate::demo::membership::describe(g) {
            Some(d) => {
                known.described.insert(g.to_string(), d);
                "demo: members as the demo's own consumers report them".into()
            }
            None => NO_DESCRIBE_GROUPS.into(),
        }
    } else {
        let listed = group_list::list_groups(inner.meta.client(), Some(g), TIMEOUT);
        let dead = match &listed {
            Ok(l) => l
                .groups
                .iter()
                .find(|x| x.name == g)
                .is_none_or(|x| description_of(x).is_ok_and(|d| d.state == GroupState::Dead)),
            Err(_) => false,
        };
        if dead && let super::other::Other::Found(d) = super::other::describe_other(inner, g) {
            // Dead to DescribeGroups, alive under another protocol.
            known.described.insert(g.to_string(), d);
            return;
        }
        match listed {
            Ok(listing) => match listing.groups.iter().find(|x| x.name == g) {
                Some(info) => match description_of(info) {
                    Ok(d) => {
                        known.described.insert(g.to_string(), d);
                        return;
                    }
                    Err(note) => note.to_string(),
                },
                None if listing.partial => {
                    "membership unavailable: not every broker answered in time".into()
                }
                None => NOT_DESCRIBED.into(),
            },
            // librdkafka lists the group on every broker before
            // describing it: a refused ListGroups fails this too.
            Err(e) => format!("membership unavailable: the group could not be described ({e})"),
        }
    };
    known.notes.insert(g.to_string(), note);
}

/// The order offsets are fetched in: the groups asked for first, then the
/// others in chunks (`first: None`: all at once).
fn order(names: &BTreeSet<String>, first: Option<&[String]>) -> Vec<Vec<String>> {
    let Some(first) = first else {
        return vec![names.iter().cloned().collect()];
    };
    let head: Vec<String> = first
        .iter()
        .filter(|g| names.contains(*g))
        .cloned()
        .collect();
    let rest: Vec<String> = names
        .iter()
        .filter(|g| !head.contains(g))
        .cloned()
        .collect();
    std::iter::once(head)
        .chain(rest.chunks(OFFSETS_CHUNK).map(<[String]>::to_vec))
        .filter(|c| !c.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::consumer_protocol::encode;
    use crate::model::{GroupState, TopicPartition};
    use crate::worker::group_list::ListedGroup;
    use rdkafka::error::RDKafkaErrorCode;

    #[test]
    fn the_groups_asked_for_come_first_then_the_others_in_chunks() {
        let names: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
        assert_eq!(order(&names, None), vec![vec!["a", "b", "c"]]);
        let first = ["c".to_string(), "x".to_string()];
        assert_eq!(order(&names, Some(&first)), vec![vec!["c"], vec!["a", "b"]]);
        assert_eq!(order(&names, Some(&[])), vec![vec!["a", "b", "c"]]);
    }

    fn listed(name: &str, state: &str, error: Option<RDKafkaErrorCode>) -> ListedGroup {
        ListedGroup {
            name: name.into(),
            state: state.into(),
            protocol_type: if error.is_some() { "" } else { "consumer" }.into(),
            protocol: "range".into(),
            members: Vec::new(),
            error: error.map(|code| group_list::GroupError {
                code,
                name: "GROUP_AUTHORIZATION_FAILED".into(),
            }),
        }
    }

    #[test]
    fn a_partial_listing_with_a_refused_group_keeps_every_listed_group() {
        let mut a = listed("a", "Stable", None);
        a.members.push(group_list::ListedMember {
            member_id: "m1".into(),
            client_id: "c1".into(),
            host: "/10.0.0.1".into(),
            metadata: encode::subscription(1, &["t"], None, &[], -1, None),
            assignment: encode::assignment(1, &[TopicPartition::new("t", 0)], None),
        });
        let listing = group_list::GroupListing {
            groups: vec![
                a,
                listed("b", "", Some(RDKafkaErrorCode::GroupAuthorizationFailed)),
                listed("gone", "", Some(RDKafkaErrorCode::GroupIdNotFound)),
            ],
            partial: true,
        };
        let (mut described, mut notes, mut names) = Default::default();
        let note = take_listing(&listing, &mut described, &mut notes, &mut names);
        assert_eq!(
            note.as_deref(),
            Some("3 groups listed; some brokers did not answer in time")
        );
        assert_eq!(
            names.iter().map(String::as_str).collect::<Vec<_>>(),
            ["a", "b", "gone"]
        );
        let a = &described["a"];
        assert_eq!(a.state, GroupState::Stable);
        assert_eq!(a.members[0].client_id, "c1");
        assert_eq!(
            a.members[0].assignment,
            Some(vec![TopicPartition::new("t", 0)])
        );
        assert_eq!(a.members[0].subscription, vec!["t"]);
        assert!(!described.contains_key("b"));
        assert_eq!(
            notes.get("b").map(String::as_str),
            Some(
                "membership unavailable: DescribeGroups refused: not authorized for this consumer group (GROUP_AUTHORIZATION_FAILED)"
            )
        );
        assert_eq!(described["gone"].state, GroupState::Dead);
        assert!(!notes.contains_key("gone"));
        // The refused group's snapshot: state unknown, the note, offsets as usual.
        let committed = Ok(vec![(TopicPartition::new("t", 1), Ok(Some(4)))]);
        let ends: HashMap<_, _> = [(TopicPartition::new("t", 1), Ok(9))].into();
        let s = build_snapshot(
            "b",
            described.remove("b"),
            notes.remove("b"),
            &committed,
            &ends,
            None,
            0,
        );
        assert_eq!(*s.state(), GroupState::unknown());
        assert_eq!(s.members(), None);
        assert!(
            s.description_note
                .as_deref()
                .is_some_and(|n| n.contains("GROUP_AUTHORIZATION_FAILED"))
        );
        assert_eq!(s.total_lag(), 5);
    }

    #[test]
    fn a_complete_listing_has_no_note() {
        let listing = group_list::GroupListing {
            groups: vec![listed("a", "Empty", None)],
            partial: false,
        };
        let (mut described, mut notes, mut names) = Default::default();
        assert_eq!(
            take_listing(&listing, &mut described, &mut notes, &mut names),
            None
        );
        assert_eq!(described["a"].state, GroupState::Empty);
        assert!(notes.is_empty());
    }
}
