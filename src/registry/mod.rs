//! The Schema Registry client: HTTPS with rustls (the system's roots plus
//! the Mozilla roots, or a given CA), client certificates, basic auth or a
//! bearer token; schemas fetched by id or by subject and version, with
//! every schema they reference, parsed once and cached by id.
//!
//! Calls block (a request is bounded by the configured timeout): the worker
//! runs them in `spawn_blocking`, headless commands on their own threads.
//! Errors are one line in plain words; they never hold a credential, and
//! text from the registry in them is escaped.

mod http;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use crate::config::RegistrySettings;
use crate::decode::FieldError;
use crate::decode::registry::{RegistrySchema, SchemaError};
use crate::decode::schema::{
    AnswerError, ResolvedReference, SchemaAnswer, SchemaReference, parse_answer,
};

pub use http::{Http, HttpError, HttpErrorKind};

/// How deep references may nest, and how many one schema may pull in.
const MAX_REFERENCE_DEPTH: usize = 32;
const MAX_REFERENCES: usize = 256;

/// Why the registry could not give a schema, or a value does not fit it.
/// Display is the plain sentence; [`RegistryError::kind`] what kind of
/// failure it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("no schema registry configured for this cluster")]
    NotConfigured,
    #[error("a subject is needed unless a schema id is given")]
    NoSubject,
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The answer does not describe a schema.
    #[error(transparent)]
    Answer(#[from] AnswerError),
    /// The schema does not parse with its references.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error("the registry's answer has no schema id")]
    NoSchemaId,
    #[error("references nest deeper than {MAX_REFERENCE_DEPTH} levels")]
    ReferencesTooDeep,
    #[error("more than {MAX_REFERENCES} references")]
    TooManyReferences,
    /// The value does not fit the schema.
    #[error(transparent)]
    Value(#[from] FieldError),
    /// The same error, prefixed with what was asked for (`schema 5`,
    /// `subject orders-value version 2`, `reference a.proto`).
    #[error("{what}: {source}")]
    In {
        what: String,
        source: Box<RegistryError>,
    },
}

/// What kind of failure a [`RegistryError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryErrorKind {
    /// No registry is configured for the cluster.
    NotConfigured,
    /// A request failed, as [`HttpErrorKind`] says.
    Http(HttpErrorKind),
    /// The registry answered, but not with a schema.
    BadAnswer,
    /// The schema does not parse, or its references cannot be resolved.
    BadSchema,
    /// What was asked for is incomplete, or the value does not fit.
    BadInput,
}

impl RegistryError {
    /// This error, prefixed with what was asked for.
    #[must_use]
    pub fn context(self, what: impl Into<String>) -> Self {
        Self::In {
            what: what.into(),
            source: Box::new(self),
        }
    }

    #[must_use]
    pub fn kind(&self) -> RegistryErrorKind {
        match self {
            Self::NotConfigured => RegistryErrorKind::NotConfigured,
            Self::Http(h) => RegistryErrorKind::Http(h.kind()),
            Self::Answer(_) | Self::NoSchemaId => RegistryErrorKind::BadAnswer,
            Self::Schema(_) | Self::ReferencesTooDeep | Self::TooManyReferences => {
                RegistryErrorKind::BadSchema
            }
            Self::NoSubject | Self::Value(_) => RegistryErrorKind::BadInput,
            Self::In { source, .. } => source.kind(),
        }
    }
}

/// Which version of a subject's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaSelector {
    Latest,
    Version(i32),
    /// A schema id: the subject is not needed.
    Id(u32),
}

/// A schema picked for producing.
#[derive(Debug, Clone)]
pub struct SubjectSchema {
    pub subject: Option<String>,
    pub version: Option<i32>,
    pub schema: Arc<RegistrySchema>,
}

/// One registry, with its caches.
pub struct Client {
    http: Http,
    by_id: Mutex<HashMap<u32, Result<Arc<RegistrySchema>, RegistryError>>>,
    versions: Mutex<HashMap<(String, i32), SchemaAnswer>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

fn subject_path(subject: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    utf8_percent_encode(subject, SEGMENT).to_string()
}

fn esc(s: &str) -> String {
    crate::decode::schema::quote_registry(s)
}

impl Client {
    /// Build the client: reads the CA and client certificate files now.
    pub fn new(settings: &RegistrySettings) -> Result<Self, RegistryError> {
        Ok(Self {
            http: Http::new(settings)?,
            by_id: Mutex::new(HashMap::new()),
            versions: Mutex::new(HashMap::new()),
        })
    }

    /// Schema `id` with its references, parsed. Results (failures too) are
    /// cached: each id is asked for once.
    pub fn schema_by_id(&self, id: u32) -> Result<Arc<RegistrySchema>, RegistryError> {
        if let Some(r) = self.by_id.lock().ok().and_then(|m| m.get(&id).cloned()) {
            return r;
        }
        let result = self.fetch_by_id(id).map(Arc::new);
        if let Ok(mut m) = self.by_id.lock() {
            m.insert(id, result.clone());
        }
        result
    }

    fn fetch_by_id(&self, id: u32) -> Result<RegistrySchema, RegistryError> {
        let of_id = |e: RegistryError| e.context(format!("schema {id}"));
        let body = self
            .http
            .get(&format!("/schemas/ids/{id}"))
            .map_err(|e| of_id(e.into()))?;
        let a = parse_answer(&body).map_err(|e| of_id(e.into()))?;
        self.build(id, &a)
    }

    fn build(&self, id: u32, a: &SchemaAnswer) -> Result<RegistrySchema, RegistryError> {
        let of_id = |e: RegistryError| e.context(format!("schema {id}"));
        let resolved = self.resolve_references(&a.references).map_err(of_id)?;
        RegistrySchema::build(id, a.kind, &a.schema, a.references.clone(), &resolved)
            .map_err(|e| of_id(e.into()))
    }

    /// `GET /subjects/{subject}/versions/{version}`, cached for fixed versions.
    fn subject_version(
        &self,
        subject: &str,
        version: Option<i32>,
    ) -> Result<SchemaAnswer, RegistryError> {
        if let Some(v) = version {
            let key = (subject.to_string(), v);
            if let Some(a) = self.versions.lock().ok().and_then(|m| m.get(&key).cloned()) {
                return Ok(a);
            }
        }
        let v = version.map_or_else(|| "latest".to_string(), |v| v.to_string());
        let what = format!("subject {} version {v}", esc(subject));
        let body = self
            .http
            .get(&format!("/subjects/{}/versions/{v}", subject_path(subject)))
            .map_err(|e| RegistryError::from(e).context(what.clone()))?;
        let a = parse_answer(&body).map_err(|e| RegistryError::from(e).context(what))?;
        if let Some(ver) = a.version.or(version)
            && let Ok(mut m) = self.versions.lock()
        {
            m.insert((subject.to_string(), ver), a.clone());
        }
        Ok(a)
    }

    /// Every schema the references name, dependencies before dependents.
    fn resolve_references(
        &self,
        refs: &[SchemaReference],
    ) -> Result<Vec<ResolvedReference>, RegistryError> {
        fn walk(
            c: &Client,
            refs: &[SchemaReference],
            depth: usize,
            seen: &mut HashSet<String>,
            out: &mut Vec<ResolvedReference>,
        ) -> Result<(), RegistryError> {
            if depth > MAX_REFERENCE_DEPTH {
                return Err(RegistryError::ReferencesTooDeep);
            }
            for r in refs {
                if !seen.insert(r.name.clone()) {
                    continue;
                }
                if seen.len() > MAX_REFERENCES {
                    return Err(RegistryError::TooManyReferences);
                }
                let a = c
                    .subject_version(&r.subject, Some(r.version))
                    .map_err(|e| e.context(format!("reference {}", esc(&r.name))))?;
                walk(c, &a.references, depth + 1, seen, out)?;
                out.push(ResolvedReference {
                    name: r.name.clone(),
                    kind: a.kind,
                    schema: a.schema,
                });
            }
            Ok(())
        }
        let mut out = Vec::new();
        walk(self, refs, 0, &mut HashSet::new(), &mut out)?;
        Ok(out)
    }

    /// The schema to produce with: a subject's latest or given version, or
    /// an id (then `subject` may be `None`).
    pub fn schema_for(
        &self,
        subject: Option<&str>,
        selector: SchemaSelector,
    ) -> Result<SubjectSchema, RegistryError> {
        match (selector, subject) {
            (SchemaSelector::Id(id), _) => Ok(SubjectSchema {
                subject: subject.map(str::to_string),
                version: None,
                schema: self.schema_by_id(id)?,
            }),
            (_, None) => Err(RegistryError::NoSubject),
            (sel, Some(subject)) => {
                let version = match sel {
                    SchemaSelector::Version(v) => Some(v),
                    _ => None,
                };
                let a = self.subject_version(subject, version)?;
                let id = a.id.ok_or_else(|| {
                    RegistryError::NoSchemaId.context(format!("subject {}", esc(subject)))
                })?;
                // Built once per id, shared with the decoder's cache.
                let schema = match self.by_id.lock().ok().and_then(|m| m.get(&id).cloned()) {
                    Some(Ok(s)) => s,
                    _ => {
                        let s = Arc::new(self.build(id, &a)?);
                        if let Ok(mut m) = self.by_id.lock() {
                            m.insert(id, Ok(Arc::clone(&s)));
                        }
                        s
                    }
                };
                Ok(SubjectSchema {
                    subject: Some(subject.to_string()),
                    version: a.version,
                    schema,
                })
            }
        }
    }

    /// Fetch the schema, check `value` against it and return the framed
    /// bytes: what the composer sends. `message` picks a Protobuf message
    /// type (default: the schema's first). Errors point at the field.
    pub fn encode(
        &self,
        subject: Option<&str>,
        selector: SchemaSelector,
        message: Option<&str>,
        value: &Value,
    ) -> Result<Vec<u8>, RegistryError> {
        let s = self.schema_for(subject, selector)?;
        Ok(crate::decode::encode_json(&s.schema, value, message)?)
    }
}

/// A client made on first use, so a bad certificate file or an unset
/// registry is reported per request instead of stopping the console.
#[derive(Debug)]
pub struct LazyClient {
    settings: Option<RegistrySettings>,
    client: OnceLock<Result<Arc<Client>, RegistryError>>,
}

impl LazyClient {
    #[must_use]
    pub fn new(settings: Option<RegistrySettings>) -> Self {
        Self {
            settings,
            client: OnceLock::new(),
        }
    }

    #[must_use]
    pub fn configured(&self) -> bool {
        self.settings.is_some()
    }

    pub fn get(&self) -> Result<Arc<Client>, RegistryError> {
        let Some(s) = &self.settings else {
            return Err(RegistryError::NotConfigured);
        };
        self.client
            .get_or_init(|| Client::new(s).map(Arc::new))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_escaped_in_paths() {
        assert_eq!(subject_path("orders-value"), "orders-value");
        assert_eq!(subject_path("a/b c?"), "a%2Fb%20c%3F");
        assert_eq!(subject_path("com.acme.Order"), "com.acme.Order");
    }

    #[test]
    fn no_registry_is_a_reason_not_a_panic() {
        let l = LazyClient::new(None);
        assert!(!l.configured());
        let e = l.get().unwrap_err();
        assert_eq!(e.kind(), RegistryErrorKind::NotConfigured);
        assert!(e.to_string().contains("no schema registry"));
    }
}
