//! One blocking connection to one broker: framing, ApiVersions, SASL PLAIN.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, RequestHeader, ResponseHeader, SaslAuthenticateRequest,
    SaslHandshakeRequest,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};

use super::WireError;
use crate::config::ClusterProfile;

/// Largest answer we read (a ListGroups of 100,000 groups is ~10 MB).
const MAX_FRAME: usize = 256 << 20;

/// How to authenticate, from the cluster's librdkafka properties.
#[derive(Clone, PartialEq, Eq)]
pub enum Security {
    Plaintext,
    /// SASL_PLAINTEXT with PLAIN.
    SaslPlain {
        username: String,
        password: String,
    },
}

impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Security::Plaintext => f.write_str("Plaintext"),
            Security::SaslPlain { username, .. } => write!(f, "SaslPlain({username}, ***)"),
        }
    }
}

impl Security {
    /// What the profile asks for, or the one line saying this client cannot
    /// do it.
    pub fn of(profile: &ClusterProfile) -> Result<Self, WireError> {
        if profile.token_source.is_some() {
            return Err(unsupported("SASL OAUTHBEARER"));
        }
        let prop = |k: &str| {
            profile
                .properties
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.expose().to_string())
        };
        let protocol = prop("security.protocol")
            .unwrap_or_else(|| "plaintext".into())
            .to_ascii_lowercase();
        match protocol.as_str() {
            "plaintext" => Ok(Security::Plaintext),
            "sasl_plaintext" => {
                let mech = prop("sasl.mechanism")
                    .or_else(|| prop("sasl.mechanisms"))
                    .unwrap_or_else(|| "GSSAPI".into())
                    .to_ascii_uppercase();
                if mech != "PLAIN" {
                    return Err(unsupported(&format!("SASL {mech}")));
                }
                Ok(Security::SaslPlain {
                    username: prop("sasl.username").unwrap_or_default(),
                    password: prop("sasl.password").unwrap_or_default(),
                })
            }
            other => Err(unsupported(&other.to_ascii_uppercase())),
        }
    }
}

fn unsupported(what: &str) -> WireError {
    WireError::Unsupported(format!(
        "KIP-848 details and share/streams groups need kafkaterm's own group requests, which do not speak {what} yet"
    ))
}

fn failed(addr: &str, what: impl std::fmt::Display) -> WireError {
    WireError::Failed(format!("{addr}: {what}"))
}

/// A connection with the broker's API versions.
pub struct Conn {
    stream: TcpStream,
    addr: String,
    next_id: i32,
    deadline: Instant,
    versions: HashMap<i16, (i16, i16)>,
}

impl Conn {
    /// Connect to `addr` (`host:port`), learn its API versions and
    /// authenticate; every read and write must end by `deadline`.
    pub fn open(addr: &str, security: &Security, deadline: Instant) -> Result<Self, WireError> {
        let left = deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| failed(addr, "timed out"))?;
        let sock = addr
            .to_socket_addrs()
            .map_err(|e| failed(addr, e))?
            .next()
            .ok_or_else(|| failed(addr, "no address"))?;
        let stream = TcpStream::connect_timeout(&sock, left).map_err(|e| failed(addr, e))?;
        let _ = stream.set_nodelay(true);
        let mut c = Conn {
            stream,
            addr: addr.to_string(),
            next_id: 1,
            deadline,
            versions: HashMap::new(),
        };
        let av: kafka_protocol::messages::ApiVersionsResponse = c.call_at(
            ApiKey::ApiVersions as i16,
            0,
            &ApiVersionsRequest::default(),
        )?;
        if av.error_code != 0 {
            return Err(failed(
                addr,
                format!("ApiVersions: {}", super::code_name(av.error_code)),
            ));
        }
        c.versions = av
            .api_keys
            .iter()
            .map(|k| (k.api_key, (k.min_version, k.max_version)))
            .collect();
        if let Security::SaslPlain { username, password } = security {
            c.sasl_plain(username, password)?;
        }
        Ok(c)
    }

    /// The broker's address, as connected to.
    #[must_use]
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The highest version of `R` both sides speak, if any, and at least
    /// `min`.
    pub fn version<R: Request>(&self, min: i16) -> Option<i16> {
        let (lo, hi) = *self.versions.get(&R::KEY)?;
        let v = hi.min(R::VERSIONS.max);
        (v >= lo.max(min)).then_some(v)
    }

    /// Send `req` at the best common version (at least `min`).
    pub fn call<R: Request>(&mut self, req: &R, min: i16) -> Result<(R::Response, i16), WireError> {
        let v = self.version::<R>(min).ok_or_else(|| {
            WireError::Unsupported(format!(
                "{}: the broker does not offer {} v{min} or later",
                self.addr,
                api_name(R::KEY)
            ))
        })?;
        Ok((self.call_at(R::KEY, v, req)?, v))
    }

    fn call_at<Q, A>(&mut self, key: i16, v: i16, req: &Q) -> Result<A, WireError>
    where
        Q: Encodable + HeaderVersion,
        A: Decodable + HeaderVersion,
    {
        let left = self
            .deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| failed(&self.addr, "timed out"))?;
        let _ = self
            .stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))));
        let _ = self
            .stream
            .set_write_timeout(Some(left.max(Duration::from_millis(1))));
        let mut header = RequestHeader::default();
        header.request_api_key = key;
        header.request_api_version = v;
        header.correlation_id = self.next_id;
        header.client_id = Some(StrBytes::from_static_str("kafkaterm"));
        self.next_id += 1;
        let mut buf = BytesMut::new();
        let what = api_name(key);
        header
            .encode(&mut buf, Q::header_version(v))
            .and_then(|()| req.encode(&mut buf, v))
            .map_err(|e| failed(&self.addr, format!("{what} v{v} could not be encoded: {e}")))?;
        let len = i32::try_from(buf.len()).map_err(|_| failed(&self.addr, "request too large"))?;
        let mut frame = len.to_be_bytes().to_vec();
        frame.extend_from_slice(&buf);
        self.stream
            .write_all(&frame)
            .map_err(|e| failed(&self.addr, format!("{what}: {e}")))?;
        let mut size = [0u8; 4];
        self.stream
            .read_exact(&mut size)
            .map_err(|e| failed(&self.addr, format!("{what}: {e}")))?;
        let n = usize::try_from(i32::from_be_bytes(size))
            .ok()
            .filter(|n| *n <= MAX_FRAME && *n >= 4)
            .ok_or_else(|| failed(&self.addr, format!("{what}: malformed answer (frame size)")))?;
        let mut payload = vec![0u8; n];
        self.stream
            .read_exact(&mut payload)
            .map_err(|e| failed(&self.addr, format!("{what}: {e}")))?;
        let mut body = Bytes::from(payload);
        let rh = ResponseHeader::decode(&mut body, A::header_version(v))
            .map_err(|e| failed(&self.addr, format!("{what}: malformed answer: {e}")))?;
        if rh.correlation_id != header.correlation_id {
            return Err(failed(
                &self.addr,
                format!("{what}: answer to another request"),
            ));
        }
        A::decode(&mut body, v)
            .map_err(|e| failed(&self.addr, format!("{what} v{v}: malformed answer: {e}")))
    }

    fn sasl_plain(&mut self, user: &str, password: &str) -> Result<(), WireError> {
        let mut hs = SaslHandshakeRequest::default();
        hs.mechanism = StrBytes::from_static_str("PLAIN");
        let (r, _) = self.call(&hs, 1)?;
        if r.error_code != 0 {
            return Err(WireError::Failed(format!(
                "{}: SASL PLAIN refused ({})",
                self.addr,
                super::code_name(r.error_code)
            )));
        }
        let mut auth = SaslAuthenticateRequest::default();
        let mut token = Vec::with_capacity(user.len() + password.len() + 2);
        token.push(0);
        token.extend_from_slice(user.as_bytes());
        token.push(0);
        token.extend_from_slice(password.as_bytes());
        auth.auth_bytes = Bytes::from(token);
        let (r, _) = self.call(&auth, 0)?;
        if r.error_code != 0 {
            // The broker's message names the user at most; never the password.
            return Err(WireError::Failed(format!(
                "{}: authentication failed ({})",
                self.addr,
                super::code_name(r.error_code)
            )));
        }
        Ok(())
    }
}

/// The API's name for messages.
fn api_name(key: i16) -> String {
    ApiKey::try_from(key).map_or_else(|()| format!("API {key}"), |k| format!("{k:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn with(props: &[(&str, &str)]) -> ClusterProfile {
        let mut p = ClusterProfile::adhoc("localhost:9092");
        p.properties = props
            .iter()
            .map(|(k, v)| ((*k).to_string(), Secret::new((*v).to_string())))
            .collect();
        p
    }

    #[test]
    fn security_from_the_properties_or_one_line_why_not() {
        assert_eq!(Security::of(&with(&[])), Ok(Security::Plaintext));
        assert_eq!(
            Security::of(&with(&[
                ("security.protocol", "SASL_PLAINTEXT"),
                ("sasl.mechanisms", "PLAIN"),
                ("sasl.username", "u"),
                ("sasl.password", "p"),
            ])),
            Ok(Security::SaslPlain {
                username: "u".into(),
                password: "p".into()
            })
        );
        let e = Security::of(&with(&[
            ("security.protocol", "sasl_plaintext"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
        ]))
        .unwrap_err();
        assert!(
            e.to_string()
                .ends_with("do not speak SASL SCRAM-SHA-512 yet"),
            "{e}"
        );
        let e = Security::of(&with(&[("security.protocol", "ssl")])).unwrap_err();
        assert!(e.to_string().ends_with("do not speak SSL yet"), "{e}");
        let shown = format!(
            "{:?}",
            Security::SaslPlain {
                username: "u".into(),
                password: "hunter2".into()
            }
        );
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
