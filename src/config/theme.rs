//! Themes: semantic style slots read from `themes/*.toml` (embedded), with
//! user themes in `<config dir>/themes/NAME.toml` patching or adding to them.
//! `NO_COLOR` selects the colourless `mono` theme.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use anyhow::{Result, anyhow, bail};
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

const EMBEDDED: [(&str, &str); 4] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("ansi16", include_str!("../../themes/ansi16.toml")),
    ("mono", include_str!("../../themes/mono.toml")),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum SlotDef {
    Color(String),
    Full {
        fg: Option<String>,
        bg: Option<String>,
        #[serde(default)]
        bold: bool,
        #[serde(default)]
        reversed: bool,
        #[serde(default)]
        dim: bool,
        #[serde(default)]
        underline: bool,
        #[serde(default)]
        italic: bool,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: Option<String>,
    /// The theme this one patches (default: the embedded theme of the same
    /// name, else `dark`).
    extends: Option<String>,
    #[serde(default)]
    slots: BTreeMap<String, SlotDef>,
}

macro_rules! theme_slots {
    ($($slot:ident),* $(,)?) => {
        /// Styles by meaning, not by colour.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Theme {
            pub name: String,
            $(pub $slot: Style,)*
        }

        impl Theme {
            fn slot_mut(&mut self, name: &str) -> Option<&mut Style> {
                match name {
                    $(stringify!($slot) => Some(&mut self.$slot),)*
                    _ => None,
                }
            }

            fn blank(name: &str) -> Self {
                Self { name: name.to_string(), $($slot: Style::default(),)* }
            }

            pub const SLOTS: &'static [&'static str] = &[$(stringify!($slot)),*];
        }
    };
}

theme_slots!(
    text,
    muted,
    border,
    border_focused,
    title,
    header,
    selection,
    key_hint,
    accent,
    ok,
    warn,
    error,
    escape,
    null,
    json_key,
    json_string,
    json_number,
    json_bool,
    json_null,
    lag_ok,
    lag_warn,
    lag_crit,
    status,
    status_production,
    read_only,
    tab,
    tab_active,
);

fn color(s: &str) -> Result<Color> {
    Color::from_str(s)
        .map_err(|_| anyhow!("`{s}` is not a colour (use a name like red, #rrggbb or 0-255)"))
}

fn style_of(def: &SlotDef) -> Result<Style> {
    Ok(match def {
        SlotDef::Color(c) => Style::default().fg(color(c)?),
        SlotDef::Full {
            fg,
            bg,
            bold,
            reversed,
            dim,
            underline,
            italic,
        } => {
            let mut s = Style::default();
            if let Some(fg) = fg {
                s = s.fg(color(fg)?);
            }
            if let Some(bg) = bg {
                s = s.bg(color(bg)?);
            }
            for (on, m) in [
                (*bold, Modifier::BOLD),
                (*reversed, Modifier::REVERSED),
                (*dim, Modifier::DIM),
                (*underline, Modifier::UNDERLINED),
                (*italic, Modifier::ITALIC),
            ] {
                if on {
                    s = s.add_modifier(m);
                }
            }
            s
        }
    })
}

impl Theme {
    fn patch(&mut self, file: &ThemeFile, origin: &str) -> Result<()> {
        for (slot, def) in &file.slots {
            let style = style_of(def).map_err(|e| anyhow!("theme {origin}: slot `{slot}`: {e}"))?;
            let target = self.slot_mut(slot).ok_or_else(|| {
                anyhow!(
                    "theme {origin}: unknown slot `{slot}` (known: {})",
                    Self::SLOTS.join(", ")
                )
            })?;
            *target = style;
        }
        Ok(())
    }

    fn parse_file(src: &str, origin: &str) -> Result<ThemeFile> {
        toml::from_str(src).map_err(|e| anyhow!("theme {origin}: {}", e.message().trim()))
    }

    fn embedded(name: &str) -> Option<Result<Self>> {
        EMBEDDED.iter().find(|(n, _)| *n == name).map(|(n, src)| {
            let f = Self::parse_file(src, n)?;
            let mut t = Self::blank(n);
            t.patch(&f, n)?;
            Ok(t)
        })
    }

    /// The default dark theme.
    #[must_use]
    pub fn dark() -> Self {
        Self::embedded("dark")
            .and_then(Result::ok)
            .unwrap_or_else(|| Self::blank("dark"))
    }

    /// The colourless theme.
    #[must_use]
    pub fn mono() -> Self {
        Self::embedded("mono")
            .and_then(Result::ok)
            .unwrap_or_else(|| Self::blank("mono"))
    }

    /// Names of the embedded themes.
    #[must_use]
    pub fn builtin_names() -> Vec<&'static str> {
        EMBEDDED.iter().map(|(n, _)| *n).collect()
    }

    /// Load a theme by name: a user file `<dir>/NAME.toml` patches the embedded
    /// theme it extends.
    pub fn load(name: &str, user_dir: Option<&Path>) -> Result<Self> {
        let user_path = user_dir.map(|d| d.join(format!("{name}.toml")));
        let user = match &user_path {
            Some(p) if p.exists() => {
                let src = std::fs::read_to_string(p)
                    .map_err(|e| anyhow!("cannot read theme {}: {e}", p.display()))?;
                Some(Self::parse_file(&src, &p.display().to_string())?)
            }
            _ => None,
        };
        if user.is_none() && Self::embedded(name).is_none() {
            bail!(
                "unknown theme `{name}` (built in: {}; or put {name}.toml in the config dir's themes/)",
                Self::builtin_names().join(", ")
            );
        }
        let base_name = user
            .as_ref()
            .and_then(|u| u.extends.clone())
            .unwrap_or_else(|| {
                if Self::embedded(name).is_some() {
                    name.to_string()
                } else {
                    "dark".to_string()
                }
            });
        let mut theme = match Self::embedded(&base_name) {
            Some(t) => t?,
            None => bail!("theme {name} extends unknown theme `{base_name}`"),
        };
        if let (Some(u), Some(p)) = (&user, &user_path) {
            theme.patch(u, &p.display().to_string())?;
            theme.name = u.name.clone().unwrap_or_else(|| name.to_string());
        }
        Ok(theme)
    }

    /// Choose: explicit `--theme` wins, then `NO_COLOR`, then the config, then dark.
    pub fn select(
        cli: Option<&str>,
        config: Option<&str>,
        no_color: bool,
        user_dir: Option<&Path>,
    ) -> Result<Self> {
        if let Some(n) = cli {
            return Self::load(n, user_dir);
        }
        if no_color {
            return Ok(Self::mono());
        }
        Self::load(config.unwrap_or("dark"), user_dir)
    }
}

/// Is `NO_COLOR` set to a non-empty value?
#[must_use]
pub fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_themes_parse_and_set_every_slot() {
        for name in Theme::builtin_names() {
            let src = EMBEDDED.iter().find(|(n, _)| *n == name).unwrap().1;
            let f = Theme::parse_file(src, name).unwrap();
            for slot in Theme::SLOTS {
                assert!(f.slots.contains_key(*slot), "{name} lacks {slot}");
            }
            Theme::load(name, None).unwrap();
        }
    }

    #[test]
    fn ansi16_uses_only_the_16_colours() {
        let t = Theme::load("ansi16", None).unwrap();
        for slot in Theme::SLOTS {
            let mut t2 = t.clone();
            let s = *t2.slot_mut(slot).unwrap();
            for c in [s.fg, s.bg].into_iter().flatten() {
                assert!(
                    !matches!(c, Color::Rgb(..) | Color::Indexed(_)),
                    "{slot} uses {c:?}"
                );
            }
        }
    }

    #[test]
    fn mono_has_no_colours() {
        let mut t = Theme::mono();
        for slot in Theme::SLOTS {
            let s = *t.slot_mut(slot).unwrap();
            for c in [s.fg, s.bg].into_iter().flatten() {
                assert_eq!(c, Color::Reset, "{slot}");
            }
        }
        assert!(Theme::select(None, Some("light"), true, None).unwrap().name == "mono");
        assert!(Theme::select(Some("light"), None, true, None).unwrap().name == "light");
    }

    #[test]
    fn user_theme_patches_and_errors_name_the_slot() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("dark.toml"),
            "[slots]\nerror = \"#00ff00\"\n",
        )
        .unwrap();
        let t = Theme::load("dark", Some(dir.path())).unwrap();
        assert_eq!(t.error.fg, Some(Color::Rgb(0, 255, 0)));
        assert_eq!(t.ok, Theme::dark().ok);
        std::fs::write(
            dir.path().join("mine.toml"),
            "extends = \"light\"\n[slots]\nbogus = \"red\"\n",
        )
        .unwrap();
        let e = Theme::load("mine", Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bogus"), "{e}");
        assert!(
            Theme::load("nope", None)
                .unwrap_err()
                .to_string()
                .contains("unknown theme")
        );
    }
}
