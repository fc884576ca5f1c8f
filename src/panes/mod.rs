//! The panes. Each owns its state, its key handling and its drawing.

pub mod browser;
pub mod composer;
pub mod detail;
pub mod groups;
pub mod topics;
