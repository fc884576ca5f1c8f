//! Pieces of the small fake Kafka brokers some tests serve (written with the
//! `kafka-protocol` crate): reading one request, framing one response.

use std::io::{Read, Write};
use std::net::TcpStream;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Encodable, HeaderVersion};

/// One request from `conn`: its header, API and the body left to decode;
/// `None` when the connection closed or the request cannot be read.
pub fn read_request(conn: &mut TcpStream) -> Option<(RequestHeader, ApiKey, Bytes)> {
    let mut size = [0u8; 4];
    conn.read_exact(&mut size).ok()?;
    let mut payload = vec![0u8; usize::try_from(i32::from_be_bytes(size)).unwrap_or(0)];
    conn.read_exact(&mut payload).ok()?;
    let mut buf = Bytes::from(payload);
    let header = kafka_protocol::protocol::decode_request_header_from_buffer(&mut buf).ok()?;
    let key = ApiKey::try_from(header.request_api_key).ok()?;
    Some((header, key, buf))
}

/// Send `body` as the answer to request `correlation_id` at `version`.
pub fn respond<R: Encodable + HeaderVersion>(
    conn: &mut TcpStream,
    correlation_id: i32,
    version: i16,
    body: &R,
) -> std::io::Result<()> {
    let mut buf = BytesMut::new();
    let mut header = ResponseHeader::default();
    header.correlation_id = correlation_id;
    header
        .encode(&mut buf, R::header_version(version))
        .map_err(std::io::Error::other)?;
    body.encode(&mut buf, version)
        .map_err(std::io::Error::other)?;
    let len = i32::try_from(buf.len()).map_err(std::io::Error::other)?;
    let mut frame = len.to_be_bytes().to_vec();
    frame.extend_from_slice(&buf);
    conn.write_all(&frame)
}

/// An ApiVersions entry.
pub fn api(key: ApiKey, min: i16, max: i16) -> ApiVersion {
    let mut v = ApiVersion::default();
    v.api_key = key as i16;
    v.min_version = min;
    v.max_version = max;
    v
}
