//! What `--version` says: kafkaterm's version, the git commit it was built
//! from (when built from a clone), and the librdkafka inside with its
//! enabled features (the first things asked in a Kafka client bug report).

use std::ffi::{CStr, CString};

use rdkafka::bindings as rd;

/// The commit `build.rs` found (empty outside a git clone).
const COMMIT: &str = env!("KAFKATERM_GIT_COMMIT");

/// `kafkaterm 0.1.0 (abc123def456)`, for `-V`.
#[must_use]
pub fn short() -> String {
    let v = env!("CARGO_PKG_VERSION");
    if COMMIT.is_empty() {
        v.to_string()
    } else {
        format!("{v} ({COMMIT})")
    }
}

/// `-V`'s line and a second one naming librdkafka and its features, for
/// `--version`.
#[must_use]
pub fn long() -> String {
    let (_, rdkafka) = rdkafka::util::get_rdkafka_version();
    format!(
        "{}\nlibrdkafka {rdkafka} ({})",
        short(),
        builtin_features().unwrap_or_else(|| "features unknown".into())
    )
}

/// librdkafka's `builtin.features` property (`gzip,snappy,ssl,sasl,...`),
/// read from a fresh configuration object.
#[must_use]
pub fn builtin_features() -> Option<String> {
    let name = CString::new("builtin.features").ok()?;
    // SAFETY: a configuration object is created, read with a buffer of the
    // size librdkafka reports, and destroyed; nothing outlives this block.
    unsafe {
        let conf = rd::rd_kafka_conf_new();
        if conf.is_null() {
            return None;
        }
        let mut size: usize = 0;
        let mut out = None;
        if rd::rd_kafka_conf_get(conf, name.as_ptr(), std::ptr::null_mut(), &raw mut size)
            == rd::rd_kafka_conf_res_t::RD_KAFKA_CONF_OK
            && size > 0
        {
            let mut buf = vec![0u8; size];
            if rd::rd_kafka_conf_get(conf, name.as_ptr(), buf.as_mut_ptr().cast(), &raw mut size)
                == rd::rd_kafka_conf_res_t::RD_KAFKA_CONF_OK
            {
                out = CStr::from_bytes_until_nul(&buf)
                    .ok()
                    .map(|s| s.to_string_lossy().into_owned());
            }
        }
        rd::rd_kafka_conf_destroy(conf);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_long_version_names_librdkafka_and_its_features() {
        let long = long();
        let mut lines = long.lines();
        assert_eq!(lines.next(), Some(short().as_str()));
        let second = lines.next().expect("a second line");
        assert!(second.starts_with("librdkafka 2."), "{second}");
        // The build enables TLS and zstd; the features list says so.
        let features = builtin_features().expect("builtin.features");
        for f in ["ssl", "zstd", "sasl_scram", "sasl_oauthbearer"] {
            assert!(features.split(',').any(|x| x == f), "{f} not in {features}");
        }
        assert!(second.contains(&features));
    }

    #[test]
    fn the_short_version_starts_with_the_package_version() {
        assert!(short().starts_with(env!("CARGO_PKG_VERSION")));
    }
}
