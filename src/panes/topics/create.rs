//! The create-topic dialog: four fields, Kafka's name rules, configs as
//! `k=v` pairs.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::ctx::DrawCtx;
use crate::app::keymap::{Action, KeyContext};
use crate::ui::dialog;
use crate::ui::widgets::{self, LineInput};
use crate::worker::protocol::{NewTopicSpec, ReqId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateForm {
    pub fields: [LineInput; 4],
    pub focus: usize,
    pub error: Option<String>,
    pub in_flight: Option<ReqId>,
}

const CREATE_LABELS: [&str; 4] = [
    "name",
    "partitions",
    "replication factor",
    "configs (k=v, …)",
];

impl CreateForm {
    #[must_use]
    pub fn new(default_rf: usize) -> Self {
        Self {
            fields: [
                LineInput::default(),
                LineInput::with("3"),
                LineInput::with(&default_rf.clamp(1, 3).to_string()),
                LineInput::default(),
            ],
            focus: 0,
            error: None,
            in_flight: None,
        }
    }

    pub fn next_field(&mut self, forward: bool) {
        let n = self.fields.len();
        self.focus = if forward {
            (self.focus + 1) % n
        } else {
            (self.focus + n - 1) % n
        };
    }

    #[must_use]
    pub fn field_mut(&mut self) -> &mut LineInput {
        let i = self.focus.min(self.fields.len() - 1);
        &mut self.fields[i]
    }

    /// Validate into a spec, or say what is wrong.
    pub fn spec(&self) -> Result<NewTopicSpec, CreateError> {
        let name = self.fields[0].text.trim();
        validate_topic_name(name)?;
        let partitions: i32 = self.fields[1]
            .text
            .trim()
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or(CreateError::Partitions)?;
        let replication_factor: i32 = self.fields[2]
            .text
            .trim()
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or(CreateError::ReplicationFactor)?;
        let mut configs = Vec::new();
        for part in self.fields[3]
            .text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| CreateError::Config(part.to_string()))?;
            configs.push((k.trim().to_string(), v.trim().to_string()));
        }
        Ok(NewTopicSpec {
            name: name.to_string(),
            partitions,
            replication_factor,
            configs,
        })
    }
}

/// Why a new topic's form cannot be submitted, each kind a variant whose
/// text is the sentence the form shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateError {
    #[error("the topic name is empty")]
    EmptyName,
    #[error("the topic name cannot be . or ..")]
    DotName,
    #[error("the topic name is longer than 249 characters")]
    LongName,
    /// A character Kafka does not allow, escaped.
    #[error("`{0}` is not allowed in a topic name (use letters, digits, . _ -)")]
    NameChar(String),
    #[error("partitions must be a positive number")]
    Partitions,
    #[error("replication factor must be a positive number")]
    ReplicationFactor,
    #[error("config `{0}` is not key=value")]
    Config(String),
}

/// Kafka's topic name rules.
pub fn validate_topic_name(name: &str) -> Result<(), CreateError> {
    if name.is_empty() {
        return Err(CreateError::EmptyName);
    }
    if name == "." || name == ".." {
        return Err(CreateError::DotName);
    }
    if name.len() > 249 {
        return Err(CreateError::LongName);
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(CreateError::NameChar(
            crate::sanitize::escape(&c.to_string()).into_owned(),
        ));
    }
    Ok(())
}

pub fn draw(form: &CreateForm, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let mut lines: Vec<Line<'static>> = Vec::new();
    for (i, label) in CREATE_LABELS.iter().enumerate() {
        let mut spans = vec![Span::styled(
            format!("{label:>20}: "),
            if i == form.focus { t.key_hint } else { t.muted },
        )];
        spans.extend(form.fields[i].spans_in(t, i == form.focus, 62 - 22));
        lines.push(Line::from(spans));
    }
    lines.push(Line::raw(""));
    lines.push(match (&form.error, form.in_flight) {
        (_, Some(_)) => Line::from(Span::styled(
            format!("{} creating…", dc.spinner()),
            t.accent,
        )),
        (Some(e), None) => Line::from(widgets::text(e, t.error)),
        (None, None) => dc.hints(&[
            (KeyContext::Form, Action::NextField, "next field"),
            (KeyContext::Form, Action::Submit, "create"),
            (KeyContext::Form, Action::Cancel, "cancel"),
        ]),
    });
    dialog::text(f, area, (64, 10), " Create topic ", lines, dc);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_name_rules() {
        assert!(validate_topic_name("orders.v1_x-y").is_ok());
        assert_eq!(validate_topic_name(""), Err(CreateError::EmptyName));
        assert_eq!(validate_topic_name(".."), Err(CreateError::DotName));
        assert_eq!(
            validate_topic_name("bad name").unwrap_err().to_string(),
            "` ` is not allowed in a topic name (use letters, digits, . _ -)"
        );
        assert_eq!(
            validate_topic_name("a\x1bb"),
            Err(CreateError::NameChar("\\x1b".into()))
        );
        assert_eq!(
            validate_topic_name(&"x".repeat(250)),
            Err(CreateError::LongName)
        );
    }

    #[test]
    fn create_form_validates() {
        let mut f = CreateForm::new(3);
        f.fields[0] = LineInput::with("t1");
        f.fields[3] = LineInput::with("cleanup.policy=compact, retention.ms=1000");
        let s = f.spec().unwrap();
        assert_eq!(s.partitions, 3);
        assert_eq!(s.replication_factor, 3);
        assert_eq!(s.configs.len(), 2);
        f.fields[1] = LineInput::with("0");
        assert_eq!(f.spec().unwrap_err(), CreateError::Partitions);
        assert_eq!(
            CreateError::Partitions.to_string(),
            "partitions must be a positive number"
        );
        f.next_field(false);
        assert_eq!(f.focus, 3);
    }
}
