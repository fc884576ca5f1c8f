//! The names in a keymap file: its sections ([`KeyContext`]) and the
//! [`Action`]s bound in them.

use strum::{EnumIter, EnumString, IntoStaticStr};

/// A keymap section: where a key is looked up.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, EnumString, IntoStaticStr,
)]
#[strum(serialize_all = "snake_case")]
pub enum KeyContext {
    Global,
    Navigation,
    Topics,
    TopicDetail,
    Browser,
    Message,
    Producer,
    ProducerOptions,
    Groups,
    GroupDetail,
    Form,
    Picker,
    Clusters,
}

impl KeyContext {
    #[must_use]
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Everything a key can do. The names are the keymap's action names.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, EnumString, IntoStaticStr,
)]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    // global
    Quit,
    Help,
    PaneTopics,
    PaneBrowser,
    PaneProducer,
    PaneGroups,
    Clusters,
    Mouse,
    // navigation
    Up,
    Down,
    PageUp,
    PageDown,
    HalfPageUp,
    HalfPageDown,
    Top,
    Bottom,
    // shared by panes
    Open,
    Back,
    Cancel,
    Filter,
    Sort,
    ReverseSort,
    Refresh,
    Browse,
    Produce,
    Create,
    Delete,
    Save,
    Mark,
    Utc,
    Resend,
    CopyValue,
    CopyMessage,
    CopyKey,
    NextField,
    PrevField,
    // topics
    ToggleInternal,
    SwitchTab,
    // browser
    Newest,
    Seek,
    Follow,
    Pause,
    Order,
    Search,
    ValueDecoder,
    KeyDecoder,
    Decoder,
    CopyTo,
    Isolation,
    // producer
    Send,
    ToggleNull,
    FormatJson,
    History,
    Templates,
    SendFile,
    OptionLeft,
    OptionRight,
    OptionNext,
    OptionPrev,
    TransactionalId,
    // groups
    NextTab,
    PrevTab,
    ResetOffsets,
    LagUnit,
    ValueSchema,
    // dialogs
    Submit,
    Choose,
    Close,
    SaveTemplate,
    DeleteTemplate,
}

impl Action {
    #[must_use]
    pub fn name(self) -> &'static str {
        self.into()
    }
}
