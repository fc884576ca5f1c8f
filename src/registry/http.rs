//! HTTP(S) to the registry: TLS set-up, authentication, and failures in
//! plain words.

use std::io::{self, Read as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use ureq::tls::{Certificate, ClientCert, PemItem, RootCerts, TlsConfig, TlsProvider};

use crate::config::{BearerToken, RegistryAuth, RegistrySettings, Secret};
use crate::decode::schema::quote_registry;

/// Largest answer read from the registry.
const MAX_BODY: u64 = 16 * 1024 * 1024;
const ACCEPT: &str = "application/vnd.schemaregistry.v1+json, application/json;q=0.9";

/// Why a request to the registry failed. Display is the plain sentence;
/// [`HttpError::kind`] says what kind of failure it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("cannot read the {what} {path}: {reason}")]
    ReadFile {
        what: &'static str,
        path: String,
        reason: String,
    },
    #[error("the {what} {path} holds no PEM certificate")]
    NoCertificate { what: &'static str, path: String },
    #[error(
        "the schema registry client key {0} holds no unencrypted private key (PEM: PKCS#8, PKCS#1 or SEC1)"
    )]
    NoPrivateKey(String),
    #[error("a certificate or key file is not valid PEM")]
    Pem,
    #[error("could not run the schema registry token_command: {0}")]
    TokenSpawn(String),
    #[error("the schema registry token_command did not finish within {} s", .0.as_secs_f64())]
    TokenTimeout(Duration),
    #[error("the schema registry token_command: {0}")]
    TokenWait(String),
    /// The command's exit status, as the system words it.
    #[error("the schema registry token_command failed ({0})")]
    TokenFailed(String),
    #[error("the schema registry token_command printed something not UTF-8")]
    TokenNotUtf8,
    #[error("the schema registry token_command must print one token")]
    TokenNotOne,
    /// The TLS handshake or a certificate, in words ([`tls_reason`]).
    #[error("{0}")]
    Tls(String),
    #[error("no answer from the registry within {} s", .0.as_secs_f64())]
    Timeout(Duration),
    /// Cannot resolve or connect, or the connection dropped (in words).
    #[error("{0}")]
    Connect(String),
    #[error("the registry URL is not valid")]
    BadUrl,
    /// A non-2xx answer; `message` is its sentence ([`status_reason`]).
    #[error("{message}")]
    Status { status: u16, message: String },
    #[error("the registry's answer is larger than {} MiB", MAX_BODY / 1024 / 1024)]
    TooLarge,
    /// Not HTTP, too many redirects, or another failure of the request.
    #[error("{0}")]
    Protocol(String),
}

/// What kind of failure a registry request had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpErrorKind {
    /// A CA, client certificate or key file cannot be used.
    File,
    /// Credentials missing or refused (HTTP 401, 403), or the token
    /// command gave none.
    Auth,
    /// The TLS handshake or a certificate.
    Tls,
    /// No answer in time.
    Timeout,
    /// Cannot resolve, connect or stay connected.
    Unreachable,
    /// HTTP 404: no such subject, version or schema.
    NotFound,
    /// The URL in the settings is not valid.
    Config,
    /// The registry answered, but not as a registry does (another status,
    /// too large, not HTTP).
    BadAnswer,
}

impl HttpError {
    #[must_use]
    pub fn kind(&self) -> HttpErrorKind {
        use HttpErrorKind as K;
        match self {
            Self::ReadFile { .. }
            | Self::NoCertificate { .. }
            | Self::NoPrivateKey(_)
            | Self::Pem => K::File,
            Self::TokenSpawn(_)
            | Self::TokenTimeout(_)
            | Self::TokenWait(_)
            | Self::TokenFailed(_)
            | Self::TokenNotUtf8
            | Self::TokenNotOne
            | Self::Status {
                status: 401 | 403, ..
            } => K::Auth,
            Self::Status { status: 404, .. } => K::NotFound,
            Self::Tls(_) => K::Tls,
            Self::Timeout(_) => K::Timeout,
            Self::Connect(_) => K::Unreachable,
            Self::BadUrl => K::Config,
            Self::Status { .. } | Self::TooLarge | Self::Protocol(_) => K::BadAnswer,
        }
    }
}

pub struct Http {
    base: String,
    agent: ureq::Agent,
    auth: RegistryAuth,
    timeout: Duration,
    /// The token a `token_command` printed last.
    token: Mutex<Option<Secret>>,
}

fn read_file(what: &'static str, path: &Path) -> Result<Vec<u8>, HttpError> {
    std::fs::read(path).map_err(|e| HttpError::ReadFile {
        what,
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

fn pem_certificates(
    what: &'static str,
    path: &Path,
) -> Result<Vec<Certificate<'static>>, HttpError> {
    let pem = read_file(what, path)?;
    let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(HttpError::NoCertificate {
            what,
            path: path.display().to_string(),
        });
    }
    Ok(certs)
}

fn tls_config(s: &RegistrySettings) -> Result<TlsConfig, HttpError> {
    let roots = match &s.ca {
        Some(ca) => pem_certificates("schema registry CA file", ca)?,
        None => {
            // The system's roots (where a company CA is usually installed)
            // and the Mozilla roots (so a bare container still works).
            let mut certs: Vec<Certificate<'static>> = rustls_native_certs::load_native_certs()
                .certs
                .iter()
                .map(|c| Certificate::from_der(c.as_ref()).to_owned())
                .collect();
            certs.extend(
                webpki_root_certs::TLS_SERVER_ROOT_CERTS
                    .iter()
                    .map(|c| Certificate::from_der(c.as_ref())),
            );
            certs
        }
    };
    let client_cert = match (&s.cert, &s.key) {
        (Some(cert), Some(key)) => {
            let chain = pem_certificates("schema registry client certificate", cert)?;
            let pem = read_file("schema registry client key", key)?;
            let key = ureq::tls::parse_pem(&pem)
                .find_map(|item| match item {
                    Ok(PemItem::PrivateKey(k)) => Some(k),
                    _ => None,
                })
                .ok_or_else(|| HttpError::NoPrivateKey(key.display().to_string()))?;
            Some(ClientCert::new_with_certs(&chain, key))
        }
        _ => None,
    };
    Ok(TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::Specific(Arc::new(roots)))
        .client_cert(client_cert)
        .build())
}

fn tls_reason(e: &rustls::Error) -> String {
    use rustls::{AlertDescription as A, CertificateError as C, Error as E};
    match e {
        E::InvalidCertificate(c) => match c {
            C::UnknownIssuer => "the registry's TLS certificate is not signed by a trusted CA (set `ca` under schema_registry to the CA that signed it)".into(),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "the registry's TLS certificate is not valid for this host name".into()
            }
            C::Expired | C::ExpiredContext { .. } => {
                "the registry's TLS certificate has expired".into()
            }
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "the registry's TLS certificate is not valid yet".into()
            }
            C::Revoked => "the registry's TLS certificate is revoked".into(),
            other => format!("the registry's TLS certificate was refused ({other:?})"),
        },
        E::AlertReceived(a) => match a {
            A::CertificateRequired => "the registry requires a client certificate (set `cert` and `key` under schema_registry)".into(),
            A::UnknownCA | A::BadCertificate | A::CertificateUnknown | A::AccessDenied => format!(
                "the registry refused our client certificate (TLS alert {a:?})"
            ),
            A::HandshakeFailure => "the registry refused the TLS handshake (it may want a client certificate)".into(),
            other => format!("the registry ended the TLS handshake (alert {other:?})"),
        },
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => {
            "the registry does not answer in TLS: should the URL be http://?".into()
        }
        other => format!("TLS failed: {other}"),
    }
}

fn io_reason(e: &io::Error, timeout: Duration) -> HttpError {
    if let Some(r) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return HttpError::Tls(tls_reason(r));
    }
    match e.kind() {
        io::ErrorKind::ConnectionRefused => {
            HttpError::Connect("cannot connect to the registry: connection refused".into())
        }
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => HttpError::Timeout(timeout),
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::UnexpectedEof
        | io::ErrorKind::BrokenPipe => HttpError::Connect(
            "the registry closed the connection (in a TLS handshake that can mean it wants a client certificate)".into(),
        ),
        _ => HttpError::Connect(format!("cannot reach the registry: {e}")),
    }
}

fn transport_reason(e: &ureq::Error, timeout: Duration) -> HttpError {
    use ureq::Error as U;
    match e {
        U::Timeout(_) => HttpError::Timeout(timeout),
        U::HostNotFound => HttpError::Connect("cannot resolve the registry's host name".into()),
        U::Io(io) => io_reason(io, timeout),
        U::Rustls(r) => HttpError::Tls(tls_reason(r)),
        U::Tls(s) => HttpError::Tls(format!("TLS failed: {s}")),
        U::Pem(_) => HttpError::Pem,
        U::Protocol(p) => HttpError::Protocol(format!(
            "the registry does not answer in HTTP ({p}): should the URL be https://?"
        )),
        U::BadUri(_) => HttpError::BadUrl,
        U::ConnectionFailed => HttpError::Connect("cannot connect to the registry".into()),
        U::TooManyRedirects | U::RedirectFailed => {
            HttpError::Protocol("the registry redirects too often".into())
        }
        U::StatusCode(c) => HttpError::Status {
            status: *c,
            message: format!("the registry answered HTTP {c}"),
        },
        other => HttpError::Protocol(format!("the request to the registry failed: {other}")),
    }
}

/// A non-2xx answer in words, with the registry's own message (escaped).
fn status_reason(status: u16, body: &str, auth: &RegistryAuth) -> String {
    let v: Option<Value> = serde_json::from_str(body).ok();
    let code = v
        .as_ref()
        .and_then(|v| v.get("error_code"))
        .and_then(Value::as_i64);
    let message = v
        .as_ref()
        .and_then(|v| v.get("message"))
        .and_then(Value::as_str)
        .map(quote_registry);
    let html = body.trim_start().starts_with('<');
    let what = match (status, code) {
        (401, _) if *auth == RegistryAuth::None => {
            "the registry wants credentials (HTTP 401): set username and password, or a token, under schema_registry".to_string()
        }
        (401, _) => "the registry refused the credentials (HTTP 401)".into(),
        (403, _) => "the registry denied access (HTTP 403)".into(),
        (404, Some(40401)) => "subject not found".into(),
        (404, Some(40402)) => "version not found".into(),
        (404, Some(40403)) => "schema not found".into(),
        (404, _) if html || v.is_none() => {
            "not found (HTTP 404, not a registry answer: is the URL that of a Schema Registry?)"
                .into()
        }
        (404, _) => "not found (HTTP 404)".into(),
        (s, _) => format!("the registry answered HTTP {s}"),
    };
    match message {
        Some(m) if !m.is_empty() => format!("{what}: {m}"),
        _ => what,
    }
}

/// Run a token command: its standard output, trimmed, is the token. It may
/// run at most `timeout`; its output never appears in errors.
fn run_token_command(cmd: &Secret, timeout: Duration) -> Result<Secret, HttpError> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(cmd.expose())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| HttpError::TokenSpawn(e.to_string()))?;
    let mut stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.take(1024 * 1024).read_to_end(&mut out);
        }
        out
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(HttpError::TokenTimeout(timeout));
            }
            Err(e) => return Err(HttpError::TokenWait(e.to_string())),
        }
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(HttpError::TokenFailed(status.to_string()));
    }
    let token = String::from_utf8(out).map_err(|_| HttpError::TokenNotUtf8)?;
    let token = token.trim();
    if token.is_empty() || token.contains(['\r', '\n']) {
        return Err(HttpError::TokenNotOne);
    }
    Ok(Secret::new(token))
}

impl Http {
    pub fn new(s: &RegistrySettings) -> Result<Self, HttpError> {
        let tls = tls_config(s)?;
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(s.timeout))
            .timeout_connect(Some(s.timeout.min(Duration::from_secs(5))))
            .http_status_as_error(false)
            .tls_config(tls)
            .user_agent(format!("kafkaterm/{}", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Self {
            base: s.url.trim_end_matches('/').to_string(),
            agent: ureq::Agent::new_with_config(config),
            auth: s.auth.clone(),
            timeout: s.timeout,
            token: Mutex::new(None),
        })
    }

    fn authorization(&self, fresh: bool) -> Result<Option<String>, HttpError> {
        use base64::Engine as _;
        Ok(match &self.auth {
            RegistryAuth::None => None,
            RegistryAuth::Basic { username, password } => {
                let b = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.expose()));
                Some(format!("Basic {b}"))
            }
            RegistryAuth::Bearer(BearerToken::Static(t)) => Some(format!("Bearer {}", t.expose())),
            RegistryAuth::Bearer(BearerToken::Command(cmd)) => {
                let cached = if fresh {
                    None
                } else {
                    self.token.lock().ok().and_then(|t| t.clone())
                };
                let token = match cached {
                    Some(t) => t,
                    None => {
                        let t = run_token_command(cmd, self.timeout)?;
                        if let Ok(mut slot) = self.token.lock() {
                            *slot = Some(t.clone());
                        }
                        t
                    }
                };
                Some(format!("Bearer {}", token.expose()))
            }
        })
    }

    /// GET `path` (starting with `/`): the body of a 2xx answer, else why not.
    pub fn get(&self, path: &str) -> Result<String, HttpError> {
        let url = format!("{}{path}", self.base);
        let refreshable = matches!(self.auth, RegistryAuth::Bearer(BearerToken::Command(_)));
        let mut fresh = false;
        loop {
            let mut req = self.agent.get(&url).header("Accept", ACCEPT);
            if let Some(h) = self.authorization(fresh)? {
                req = req.header("Authorization", &h);
            }
            let mut resp = req.call().map_err(|e| transport_reason(&e, self.timeout))?;
            let status = resp.status().as_u16();
            let body = resp
                .body_mut()
                .with_config()
                .limit(MAX_BODY)
                .lossy_utf8(true)
                .read_to_string()
                .map_err(|e| match e {
                    ureq::Error::BodyExceedsLimit(_) => HttpError::TooLarge,
                    other => transport_reason(&other, self.timeout),
                })?;
            if status == 401 && refreshable && !fresh {
                // The command's token may have expired: ask it again, once.
                fresh = true;
                continue;
            }
            if (200..300).contains(&status) {
                return Ok(body);
            }
            return Err(HttpError::Status {
                status,
                message: status_reason(status, &body, &self.auth),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_answers_in_words() {
        let none = RegistryAuth::None;
        let basic = RegistryAuth::Basic {
            username: "u".into(),
            password: Secret::new("p"),
        };
        assert!(status_reason(401, "", &none).contains("wants credentials"));
        assert!(status_reason(401, "{}", &basic).contains("refused the credentials"));
        assert_eq!(
            status_reason(
                404,
                r#"{"error_code":40403,"message":"Schema 9 not found"}"#,
                &none
            ),
            "schema not found: Schema 9 not found"
        );
        assert!(status_reason(404, "<html>nope</html>", &none).contains("not a registry answer"));
        let e = status_reason(500, r#"{"message":"boom\u001b[2J"}"#, &none);
        assert!(e.starts_with("the registry answered HTTP 500: boom"), "{e}");
        assert!(!e.contains('\x1b'), "{e}");
    }

    #[test]
    fn token_commands() {
        let t = run_token_command(&Secret::new("printf 'abc\\n'"), Duration::from_secs(5)).unwrap();
        assert_eq!(t.expose(), "abc");
        let e = run_token_command(
            &Secret::new("echo secret-out; exit 3"),
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert_eq!(e.kind(), HttpErrorKind::Auth);
        let e = e.to_string();
        assert!(e.contains("failed"), "{e}");
        assert!(!e.contains("secret-out"), "{e}");
        let e = run_token_command(&Secret::new("sleep 5"), Duration::from_millis(200))
            .unwrap_err()
            .to_string();
        assert!(e.contains("did not finish"), "{e}");
        let e = run_token_command(&Secret::new("printf 'a\\nb\\n'"), Duration::from_secs(5))
            .unwrap_err()
            .to_string();
        assert!(e.contains("one token"), "{e}");
    }

    #[test]
    fn missing_files_are_named() {
        let mut s = RegistrySettings::new("https://r");
        s.ca = Some("/nonexistent/ca.pem".into());
        let e = Http::new(&s).err().unwrap();
        assert_eq!(e.kind(), HttpErrorKind::File);
        let e = e.to_string();
        assert!(e.contains("CA file /nonexistent/ca.pem"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "nothing").unwrap();
        s.ca = Some(empty);
        assert!(
            Http::new(&s)
                .err()
                .unwrap()
                .to_string()
                .contains("no PEM certificate")
        );
    }
}
