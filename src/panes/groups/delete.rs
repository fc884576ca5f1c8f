//! Deleting a group: refused up front unless the group is Empty, then the
//! group's name typed to confirm.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;

use super::reset::Flow;
use crate::app::ctx::{Ctx, DrawCtx};
use crate::app::keymap::Action;
use crate::model::{GroupChange, GroupSnapshot};
use crate::ui::dialog;
use crate::ui::widgets::Confirm;
use crate::worker::protocol::{Command, ReqId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteDialog {
    pub confirm: Confirm,
    /// The delete request, once sent.
    pub in_flight: Option<ReqId>,
}

/// Why the group cannot be deleted now: the group model's sentence (its
/// state or members, by the last refresh).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DeleteRefused(pub String);

impl DeleteDialog {
    /// The dialog for `group`, or why the group cannot be deleted now (by
    /// what the last refresh said; the worker asks the coordinator again).
    pub fn open(group: &str, now: Option<&GroupSnapshot>) -> Result<Self, DeleteRefused> {
        if let Some(s) = now {
            s.check_change(GroupChange::Delete)
                .map_err(|e| DeleteRefused(e.to_string()))?;
        }
        let detail = vec![
            "The group's committed offsets are deleted with it.".to_string(),
            "Only an Empty group can be deleted. Type the group name to confirm.".to_string(),
        ];
        Ok(Self {
            confirm: Confirm::new("Delete group", group, detail),
            in_flight: None,
        })
    }

    pub fn on_action(&mut self, action: Action, ctx: &mut Ctx<'_>) -> Flow {
        if self.in_flight.is_some() {
            return Flow::Stay;
        }
        match action {
            Action::Cancel => Flow::Close,
            Action::Submit if self.confirm.matches() => {
                let id = ctx.id();
                self.in_flight = Some(id);
                ctx.cmds.push(Command::DeleteGroup {
                    id,
                    group: self.confirm.expected.clone(),
                });
                Flow::Stay
            }
            Action::Submit => {
                ctx.warn("the name typed does not match: nothing deleted");
                Flow::Close
            }
            _ => Flow::Stay,
        }
    }

    pub fn on_text_key(&mut self, key: KeyEvent) {
        if self.in_flight.is_none() {
            self.confirm.input.edit(key);
        }
    }

    pub fn paste(&mut self, s: &str) {
        if self.in_flight.is_none() {
            self.confirm.input.insert_str(s);
        }
    }

    pub(super) fn draw(&self, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
        dialog::confirm(&self.confirm, self.in_flight.is_some(), f, area, dc);
    }
}
