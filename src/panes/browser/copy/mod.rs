//! The browser's copy dialog: send the marked messages, the filtered ones,
//! or an offset range of one partition to another topic (a dead-letter
//! redrive). A dry-run count first, then a confirmation (the destination's
//! name typed on a production cluster), progress with cancel, and a final
//! report. The copy itself runs in the worker (`worker::copy`).

mod draw;
mod report;

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::FormError;
use crate::app::ctx::Ctx;
use crate::app::keymap::Action;
use crate::model::Compression;
use crate::timeutil::StartAt;
use crate::ui::widgets::{self, Confirm, InputResult, LineInput};
use crate::worker::protocol::{
    Command, CopyProgress, CopyReport, CopySelection, CopySpec, CopyStart, ReqId, WorkerError,
};

/// Which messages the dialog copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Marked,
    Filtered,
    Range,
}

/// Where the dialog is.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    Form,
    /// The dry run is counting.
    Counting(ReqId),
    /// The dry run's count; on a production cluster, the typed confirmation.
    Confirm {
        count: u64,
        confirm: Option<Confirm>,
    },
    Running {
        id: ReqId,
        progress: CopyProgress,
        cancelling: bool,
    },
    Done(CopyReport),
}

/// The copy dialog's state.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyDialog {
    pub topic: String,
    pub source: Source,
    pub marked: Vec<(i32, i64)>,
    pub filtered: Vec<(i32, i64)>,
    /// The browser's filter (applied to a range copy too).
    pub filter: Option<String>,
    pub dest: LineInput,
    pub partition: LineInput,
    pub first: LineInput,
    pub last: LineInput,
    pub keep_timestamps: bool,
    pub keep_partitions: bool,
    pub source_header: bool,
    /// Index into [`CopyDialog::fields`].
    pub focus: usize,
    pub error: Option<String>,
    pub stage: Stage,
    /// The spec counted and then copied.
    pub spec: Option<CopySpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Source,
    Dest,
    Partition,
    First,
    Last,
    KeepTimestamps,
    KeepPartitions,
    SourceHeader,
}

/// What closing or keeping the dialog means to the pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Stay,
    Close,
}

const WIDTH: u16 = 72;

fn n(v: u64) -> String {
    widgets::thousands(i64::try_from(v).unwrap_or(i64::MAX))
}

impl CopyDialog {
    /// A dialog for the browsed `topic`, defaulting to the marked messages,
    /// else the filtered ones, else a range of the selected message's partition.
    #[must_use]
    pub fn new(
        topic: &str,
        marked: Vec<(i32, i64)>,
        filtered: Option<(String, Vec<(i32, i64)>)>,
        selected: Option<(i32, i64)>,
    ) -> Self {
        let (filter, filtered) = match filtered {
            Some((f, v)) => (Some(f), v),
            None => (None, Vec::new()),
        };
        let source = if !marked.is_empty() {
            Source::Marked
        } else if filter.is_some() {
            Source::Filtered
        } else {
            Source::Range
        };
        let (p, o) = selected.map_or((String::new(), String::new()), |(p, o)| {
            (p.to_string(), o.to_string())
        });
        Self {
            topic: topic.to_string(),
            source,
            marked,
            filtered,
            filter,
            dest: LineInput::default(),
            partition: LineInput::with(&p),
            first: LineInput::with(&o),
            last: LineInput::default(),
            keep_timestamps: true,
            keep_partitions: false,
            source_header: false,
            focus: 1,
            error: None,
            stage: Stage::Form,
            spec: None,
        }
    }

    fn sources(&self) -> Vec<Source> {
        let mut v = Vec::new();
        if !self.marked.is_empty() {
            v.push(Source::Marked);
        }
        if self.filter.is_some() {
            v.push(Source::Filtered);
        }
        v.push(Source::Range);
        v
    }

    fn fields(&self) -> Vec<Field> {
        let mut v = vec![Field::Source, Field::Dest];
        if self.source == Source::Range {
            v.extend([Field::Partition, Field::First, Field::Last]);
        }
        v.extend([
            Field::KeepTimestamps,
            Field::KeepPartitions,
            Field::SourceHeader,
        ]);
        v
    }

    fn focused(&self) -> Field {
        let f = self.fields();
        f[self.focus.min(f.len() - 1)]
    }

    fn source_text(&self) -> String {
        match self.source {
            Source::Marked => format!("the {} marked message(s)", n(self.marked.len() as u64)),
            Source::Filtered => format!(
                "the {} buffered message(s) matching the filter",
                n(self.filtered.len() as u64)
            ),
            Source::Range if self.filter.is_some() => {
                "an offset range of one partition, matching the filter".into()
            }
            Source::Range => "an offset range of one partition".into(),
        }
    }

    /// The spec for the form's values.
    fn build(&self) -> Result<CopySpec, FormError> {
        let dest = self.dest.text.trim();
        if dest.is_empty() {
            return Err(FormError::NoDestination);
        }
        if dest == self.topic {
            return Err(FormError::SameTopic);
        }
        let (selection, filter) = match self.source {
            Source::Marked => (CopySelection::Messages(self.marked.clone()), None),
            Source::Filtered => (CopySelection::Messages(self.filtered.clone()), None),
            Source::Range => {
                let p: i32 = self
                    .partition
                    .text
                    .trim()
                    .parse()
                    .map_err(|_| FormError::NoPartition)?;
                let first: i64 = match self.first.text.trim() {
                    "" => 0,
                    s => s.parse().map_err(|_| FormError::Offset(s.to_string()))?,
                };
                let end = match self.last.text.trim() {
                    "" => None,
                    s => {
                        let last: i64 = s.parse().map_err(|_| FormError::Offset(s.to_string()))?;
                        if last < first {
                            return Err(FormError::LastBeforeFirst);
                        }
                        Some(last + 1)
                    }
                };
                (
                    CopySelection::Range {
                        partitions: Some(vec![p]),
                        start: CopyStart::At(StartAt::Offset(first)),
                        end,
                    },
                    self.filter.clone(),
                )
            }
        };
        if matches!(&selection, CopySelection::Messages(v) if v.is_empty()) {
            return Err(FormError::NothingToCopy);
        }
        Ok(CopySpec {
            filter,
            keep_timestamps: self.keep_timestamps,
            keep_partitions: self.keep_partitions,
            source_header: self.source_header,
            compression: Compression::Lz4,
            ..CopySpec::new(&self.topic, dest, selection)
        })
    }

    fn start(&mut self, dry_run: bool, ctx: &mut Ctx<'_>) -> Option<ReqId> {
        let mut spec = self.spec.clone()?;
        spec.dry_run = dry_run;
        let id = ctx.id();
        ctx.cmds.push(Command::StartCopy { id, spec });
        Some(id)
    }

    /// A keymap action while the dialog is open.
    pub fn on_action(&mut self, action: Action, ctx: &mut Ctx<'_>) -> Flow {
        match &mut self.stage {
            Stage::Form => match action {
                Action::Cancel => return Flow::Close,
                Action::NextField => self.focus = (self.focus + 1) % self.fields().len(),
                Action::PrevField => {
                    let l = self.fields().len();
                    self.focus = (self.focus + l - 1) % l;
                }
                Action::Submit => match self.build() {
                    Ok(spec) => {
                        self.spec = Some(spec);
                        if let Some(id) = self.start(true, ctx) {
                            self.stage = Stage::Counting(id);
                        }
                    }
                    Err(e) => self.error = Some(e.to_string()),
                },
                _ => {}
            },
            Stage::Counting(id) => {
                if action == Action::Cancel {
                    ctx.cmds.push(Command::Cancel { id: *id });
                    self.stage = Stage::Form;
                }
            }
            Stage::Confirm { count, confirm } => match action {
                Action::Cancel => self.stage = Stage::Form,
                Action::Submit if *count == 0 => return Flow::Close,
                Action::Submit => {
                    if confirm.as_ref().is_some_and(|c| !c.matches()) {
                        self.error = Some("type the destination topic's name to confirm".into());
                    } else if !ctx.refuse_if_read_only("copying")
                        && let Some(id) = self.start(false, ctx)
                    {
                        self.stage = Stage::Running {
                            id,
                            progress: CopyProgress::default(),
                            cancelling: false,
                        };
                    }
                }
                _ => {}
            },
            Stage::Running { id, cancelling, .. } => {
                if action == Action::Cancel && !*cancelling {
                    *cancelling = true;
                    ctx.cmds.push(Command::Cancel { id: *id });
                }
            }
            Stage::Done(_) => {
                if matches!(action, Action::Cancel | Action::Submit) {
                    return Flow::Close;
                }
            }
        }
        Flow::Stay
    }

    /// A key typed into the dialog: text for the focused input, space
    /// toggles an option or changes what is copied.
    pub fn on_text_key(&mut self, key: KeyEvent) {
        match &mut self.stage {
            Stage::Form => {}
            Stage::Confirm {
                confirm: Some(c), ..
            } => {
                if c.input.edit(key) == InputResult::Changed {
                    self.error = None;
                }
                return;
            }
            _ => return,
        }
        let toggle = matches!(
            key.code,
            KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right
        );
        let changed = match self.focused() {
            Field::Source if toggle => {
                let s = self.sources();
                let i = s.iter().position(|x| *x == self.source).unwrap_or(0);
                let next = if key.code == KeyCode::Left {
                    (i + s.len() - 1) % s.len()
                } else {
                    (i + 1) % s.len()
                };
                self.source = s[next];
                true
            }
            Field::KeepTimestamps if toggle => {
                self.keep_timestamps = !self.keep_timestamps;
                true
            }
            Field::KeepPartitions if toggle => {
                self.keep_partitions = !self.keep_partitions;
                true
            }
            Field::SourceHeader if toggle => {
                self.source_header = !self.source_header;
                true
            }
            Field::Dest => self.dest.edit(key) == InputResult::Changed,
            Field::Partition => self.partition.edit(key) == InputResult::Changed,
            Field::First => self.first.edit(key) == InputResult::Changed,
            Field::Last => self.last.edit(key) == InputResult::Changed,
            _ => false,
        };
        if changed {
            self.error = None;
        }
    }

    pub fn paste(&mut self, s: &str) {
        match &mut self.stage {
            Stage::Form => match self.focused() {
                Field::Dest => self.dest.insert_str(s),
                Field::Partition => self.partition.insert_str(s),
                Field::First => self.first.insert_str(s),
                Field::Last => self.last.insert_str(s),
                _ => {}
            },
            Stage::Confirm {
                confirm: Some(c), ..
            } => c.input.insert_str(s),
            _ => {}
        }
    }

    pub fn on_progress(&mut self, id: ReqId, p: CopyProgress) {
        if let Stage::Running {
            id: running,
            progress,
            ..
        } = &mut self.stage
            && *running == id
        {
            *progress = p;
        }
    }

    /// A copy (or dry run) ended.
    pub fn on_copied(
        &mut self,
        id: ReqId,
        result: Result<CopyReport, WorkerError>,
        production: bool,
    ) {
        match (&self.stage, result) {
            (Stage::Counting(c), Ok(r)) if *c == id => {
                let count = r.progress.selected;
                let dest = self.spec.as_ref().map_or("", |s| s.dest.as_str());
                self.stage = Stage::Confirm {
                    count,
                    confirm: (production && count > 0)
                        .then(|| Confirm::new("Copy to", dest, self.confirm_detail(count))),
                };
            }
            (Stage::Counting(c), Err(e)) if *c == id => {
                self.stage = Stage::Form;
                self.error = Some(e.to_string());
            }
            (Stage::Running { id: r, .. }, Ok(report)) if *r == id => {
                self.stage = Stage::Done(report);
            }
            (Stage::Running { id: r, .. }, Err(e)) if *r == id => {
                self.stage = Stage::Form;
                self.error = Some(e.to_string());
            }
            _ => {}
        }
    }

    /// The worker refused request `id` (read-only mode).
    pub fn refused(&mut self, id: ReqId, reason: &str) {
        let ours = match &self.stage {
            Stage::Counting(c) => *c == id,
            Stage::Running { id: r, .. } => *r == id,
            _ => false,
        };
        if ours {
            self.stage = Stage::Form;
            self.error = Some(reason.to_string());
        }
    }
}

#[cfg(test)]
mod tests;
