//! Protobuf without a registry: `[[clusters.NAME.protobuf]]` entries map
//! topic patterns to message types in local `.proto` files (compiled with
//! protox) or a descriptor set. Loading reads files; decoding is pure.

use std::path::{Path, PathBuf};

use prost_reflect::{DescriptorPool, MessageDescriptor};
use serde_json::Value;

use super::proto::ProtoError;
use crate::config::ProtobufTopics;

/// Which half of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Key,
    Value,
}

impl Field {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Key => "key",
            Field::Value => "value",
        }
    }
}

/// Why one `[[clusters.NAME.protobuf]]` entry cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// protox could not compile the `.proto` files (its words).
    #[error("{0}")]
    Compile(String),
    #[error("cannot read descriptor set {path}: {reason}")]
    ReadDescriptorSet { path: String, reason: String },
    #[error("{path} is not a protobuf descriptor set: {reason}")]
    NotDescriptorSet { path: String, reason: String },
    #[error("message type {0} is not defined there (full names include the package)")]
    UnknownMessage(String),
    /// A topic pattern is not a valid glob (its words).
    #[error("{0}")]
    Pattern(String),
}

/// An entry that cannot be used, by its place in the list (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("protobuf entry {entry}: {reason}")]
pub struct LocalProtobufError {
    pub entry: usize,
    pub reason: EntryError,
}

struct Entry {
    patterns: Vec<glob::Pattern>,
    key: Option<MessageDescriptor>,
    value: Option<MessageDescriptor>,
}

/// The compiled local types of a cluster.
#[derive(Default)]
pub struct LocalProtobuf {
    entries: Vec<Entry>,
}

impl std::fmt::Debug for LocalProtobuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalProtobuf")
            .field("entries", &self.entries.len())
            .finish()
    }
}

fn compile_files(files: &[PathBuf], include: &[PathBuf]) -> Result<DescriptorPool, EntryError> {
    let mut includes: Vec<PathBuf> = include.to_vec();
    if includes.is_empty() {
        for f in files {
            let dir = f
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf();
            if !includes.contains(&dir) {
                includes.push(dir);
            }
        }
    }
    let compile_error = |e: protox::Error| EntryError::Compile(e.to_string());
    let mut compiler = protox::Compiler::new(&includes).map_err(compile_error)?;
    compiler.include_imports(true);
    compiler.open_files(files).map_err(compile_error)?;
    Ok(compiler.descriptor_pool())
}

fn load_entry(p: &ProtobufTopics) -> Result<Entry, EntryError> {
    let pool = match &p.descriptor_set {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| EntryError::ReadDescriptorSet {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            DescriptorPool::decode(bytes.as_slice()).map_err(|e| EntryError::NotDescriptorSet {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?
        }
        None => compile_files(&p.files, &p.include)?,
    };
    let find = |name: &Option<String>| -> Result<Option<MessageDescriptor>, EntryError> {
        name.as_deref()
            .map(|n| {
                pool.get_message_by_name(n.trim_start_matches('.'))
                    .ok_or_else(|| {
                        EntryError::UnknownMessage(crate::sanitize::escape(n).into_owned())
                    })
            })
            .transpose()
    };
    Ok(Entry {
        patterns: p
            .topics
            .iter()
            .map(|t| glob::Pattern::new(t).map_err(|e| EntryError::Pattern(e.to_string())))
            .collect::<Result<_, _>>()?,
        key: find(&p.key)?,
        value: find(&p.value)?,
    })
}

impl LocalProtobuf {
    /// Compile every entry; an error names the entry (1-based) and why.
    pub fn load(entries: &[ProtobufTopics]) -> Result<Self, LocalProtobufError> {
        let mut out = Vec::with_capacity(entries.len());
        for (i, p) in entries.iter().enumerate() {
            out.push(load_entry(p).map_err(|reason| LocalProtobufError {
                entry: i + 1,
                reason,
            })?);
        }
        Ok(Self { entries: out })
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The message type for `field` of records in `topic` (the first entry
    /// whose patterns match and that names a type for that field).
    #[must_use]
    pub fn message_for(&self, topic: &str, field: Field) -> Option<&MessageDescriptor> {
        self.entries
            .iter()
            .filter(|e| e.patterns.iter().any(|p| p.matches(topic)))
            .find_map(|e| match field {
                Field::Key => e.key.as_ref(),
                Field::Value => e.value.as_ref(),
            })
    }

    /// Decode plain protobuf bytes as the type configured for the topic:
    /// `None` when no type is configured.
    #[must_use]
    pub fn decode(
        &self,
        topic: &str,
        field: Field,
        bytes: &[u8],
    ) -> Option<(String, Result<Value, ProtoError>)> {
        let desc = self.message_for(topic, field)?;
        Some((
            desc.full_name().to_string(),
            super::proto::decode_message(desc, bytes),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost_reflect::prost::Message as _;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    fn entry(files: Vec<PathBuf>, set: Option<PathBuf>) -> ProtobufTopics {
        ProtobufTopics {
            topics: vec!["pay.*".into()],
            files,
            include: vec![],
            descriptor_set: set,
            key: Some("acme.Key".into()),
            value: Some("acme.Payment".into()),
        }
    }

    #[test]
    fn proto_files_and_descriptor_sets() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "acme/key.proto",
            "syntax = \"proto3\";\npackage acme;\nmessage Key { string id = 1; }\n",
        );
        let main = write(
            dir.path(),
            "acme/payment.proto",
            "syntax = \"proto3\";\npackage acme;\nimport \"acme/key.proto\";\nimport \"google/protobuf/timestamp.proto\";\nmessage Payment { Key key = 1; int64 cents = 2; google.protobuf.Timestamp at = 3; }\n",
        );
        let mut e = entry(vec![main], None);
        e.include = vec![dir.path().to_path_buf()];
        let local = LocalProtobuf::load(std::slice::from_ref(&e)).unwrap();
        // cents = 250 (field 2 varint), at = {seconds: 1}
        let bytes = [0x10, 0xfa, 0x01, 0x1a, 0x02, 0x08, 0x01];
        let (name, v) = local.decode("pay.eu", Field::Value, &bytes).unwrap();
        assert_eq!(name, "acme.Payment");
        assert_eq!(
            v.unwrap(),
            // Unset message fields are left out; scalars show their defaults.
            serde_json::json!({"cents": 250, "at": "1970-01-01T00:00:01Z"})
        );
        assert!(local.decode("orders", Field::Value, &bytes).is_none());
        let (_, v) = local
            .decode("pay.x", Field::Key, &[0x0a, 0x01, b'k'])
            .unwrap();
        assert_eq!(v.unwrap(), serde_json::json!({"id": "k"}));
        // The same types from a descriptor set.
        let set = compile_files(&e.files, &e.include).unwrap();
        let set_path = dir.path().join("set.pb");
        let fds = prost_reflect::prost_types::FileDescriptorSet {
            file: set.file_descriptor_protos().cloned().collect(),
        };
        std::fs::write(&set_path, fds.encode_to_vec()).unwrap();
        let local = LocalProtobuf::load(&[entry(vec![], Some(set_path))]).unwrap();
        assert!(local.message_for("pay.1", Field::Value).is_some());
    }

    #[test]
    fn load_errors_name_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        let f = write(
            dir.path(),
            "a.proto",
            "syntax = \"proto3\";\npackage acme;\nmessage Key {}\n",
        );
        let e = LocalProtobuf::load(&[entry(vec![f], None)])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("protobuf entry 1: message type acme.Payment"),
            "{e}"
        );
        let e = LocalProtobuf::load(&[entry(vec![dir.path().join("missing.proto")], None)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.proto"), "{e}");
        let junk = write(dir.path(), "junk.pb", "not a descriptor set");
        let e = LocalProtobuf::load(&[entry(vec![], Some(junk))]).unwrap_err();
        assert!(matches!(e.reason, EntryError::NotDescriptorSet { .. }));
        let e = e.to_string();
        assert!(e.contains("not a protobuf descriptor set"), "{e}");
    }
}
