//! Why a browser form (open a topic, copy messages) cannot be submitted:
//! each kind a variant whose text is the sentence the dialog shows.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("enter a topic")]
    NoTopic,
    #[error("`{0}` is not a partition number")]
    Partition(String),
    /// The start position does not parse (the parser's sentence).
    #[error("{0}")]
    Start(String),
    #[error("enter the destination topic")]
    NoDestination,
    #[error("the destination is the topic being browsed: choose another")]
    SameTopic,
    #[error("enter the partition to copy from")]
    NoPartition,
    #[error("`{0}` is not an offset")]
    Offset(String),
    #[error("the last offset is before the first")]
    LastBeforeFirst,
    #[error("no messages to copy")]
    NothingToCopy,
}
