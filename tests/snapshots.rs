//! Snapshot tests of every pane and dialog, at 80x24 and 200x50, in
//! representative states: loading, empty, failed, many rows, hostile bytes,
//! read-only and production clusters. Each scenario drives the app through
//! its public surface only (`App::new`, `App::update`, `ui::draw`), so a
//! refactor of the panes must leave every stored screen unchanged unless the
//! change is intended and reviewed.
//!
//! The screens are stored as text under `tests/snapshots/`, one line per
//! terminal row (trailing spaces trimmed). A mismatch fails the test; new or
//! changed screens are written next to the old ones as `.snap.new` (never
//! accepted silently: `scripts/test.sh` sets `INSTA_UPDATE=no`, and
//! `.ci/run` fails when `.snap.new` files are left in the tree). To accept
//! a reviewed change: `INSTA_UPDATE=always cargo nextest run --test
//! snapshots NAME`, then read the diff of `tests/snapshots/` before
//! committing.
//!
//! The clock and the time zone are fixed: see `tests/snap/mod.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

#[macro_use]
mod snap;

#[path = "snap/browser.rs"]
mod browser;
#[path = "snap/clusters.rs"]
mod clusters;
#[path = "snap/global.rs"]
mod global;
#[path = "snap/groups.rs"]
mod groups;
#[path = "snap/producer.rs"]
mod producer;
#[path = "snap/topics.rs"]
mod topics;
