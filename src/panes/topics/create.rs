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
    pub fn spec(&self) -> Result<NewTopicSpec, String> {
        let name = self.fields[0].text.trim();
        validate_topic_name(name)?;
        let partitions: i32 = self.fields[1]
            .text
            .trim()
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or("partitions must be a positive number")?;
        let replication_factor: i32 = self.fields[2]
            .text
            .trim()
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or("replication factor must be a positive number")?;
        let mut configs = Vec::new();
        for part in self.fields[3]
            .text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("config `{part}` is not key=value"))?;
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

/// Kafka's topic name rules.
pub fn validate_topic_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the topic name is empty".into());
    }
    if name == "." || name == ".." {
        return Err("the topic name cannot be . or ..".into());
    }
    if name.len() > 249 {
        return Err("the topic name is longer than 249 characters".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "`{}` is not allowed in a topic name (use letters, digits, . _ -)",
            crate::sanitize::escape(&c.to_string())
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
        assert!(validate_topic_name("").is_err());
        assert!(validate_topic_name("..").is_err());
        assert!(
            validate_topic_name("bad name")
                .unwrap_err()
                .contains("not allowed")
        );
        assert!(validate_topic_name(&"x".repeat(250)).is_err());
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
        assert!(f.spec().unwrap_err().contains("partitions"));
        f.next_field(false);
        assert_eq!(f.focus, 3);
    }
}
