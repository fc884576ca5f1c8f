//! TLS trust for the static build. A dynamically linked librdkafka uses the
//! host OpenSSL's default CA paths, which its distribution set; the static
//! binary carries an OpenSSL built elsewhere whose compiled-in path
//! (/usr/local/ssl) no distribution uses. So when a client speaks TLS and no
//! CA is configured, the static build looks for the system bundle where the
//! common distributions keep it, and says which paths it tried when none is
//! there.

use std::path::Path;

/// The system CA bundles, in the order they are tried.
pub const CA_BUNDLES: [&str; 6] = [
    // Debian, Ubuntu, Alpine (ca-certificates), Arch, Gentoo
    "/etc/ssl/certs/ca-certificates.crt",
    // RHEL, Fedora, CentOS, Amazon Linux (update-ca-trust)
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    // older RHEL and Fedora
    "/etc/pki/tls/certs/ca-bundle.crt",
    // openSUSE, SLES
    "/etc/ssl/ca-bundle.pem",
    // Alpine without ca-certificates (LibreSSL's), macOS
    "/etc/ssl/cert.pem",
    // OpenELEC, some embedded distributions
    "/etc/pki/tls/cacert.pem",
];

/// librdkafka properties that give the CA themselves.
const CA_PROPERTIES: [&str; 3] = ["ssl.ca.location", "ssl.ca.pem", "ssl.ca.certificate.stores"];

/// Whether a client with these properties speaks TLS to the brokers and
/// has no CA of its own.
pub fn needs_ca<'a>(get: impl Fn(&str) -> Option<&'a str>) -> bool {
    let tls = get("security.protocol")
        .is_some_and(|p| p.eq_ignore_ascii_case("ssl") || p.eq_ignore_ascii_case("sasl_ssl"));
    tls && CA_PROPERTIES.iter().all(|k| get(k).is_none())
}

/// The first system CA bundle that is a file, or an error naming
/// `ssl.ca.location` and every path tried.
///
/// # Errors
/// None of [`CA_BUNDLES`] is a file here.
pub fn system_bundle(is_file: impl Fn(&Path) -> bool) -> Result<&'static str, MissingCa> {
    CA_BUNDLES
        .iter()
        .copied()
        .find(|p| is_file(Path::new(p)))
        .ok_or(MissingCa)
}

/// No CA bundle was found for a TLS connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "no CA certificates for TLS: none of {} exists; set ssl.ca.location (-X ssl.ca.location=FILE, or ca = \"FILE\" in the cluster's [tls] section)",
    CA_BUNDLES.join(", ")
)]
pub struct MissingCa;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn props(p: &[(&'static str, &'static str)]) -> HashMap<&'static str, &'static str> {
        p.iter().copied().collect()
    }

    #[test]
    fn only_tls_without_a_ca_of_its_own_needs_one() {
        for (set, want) in [
            (props(&[]), false),
            (props(&[("security.protocol", "plaintext")]), false),
            (props(&[("security.protocol", "SASL_PLAINTEXT")]), false),
            (props(&[("security.protocol", "SSL")]), true),
            (props(&[("security.protocol", "sasl_ssl")]), true),
            (
                props(&[("security.protocol", "ssl"), ("ssl.ca.location", "/ca.pem")]),
                false,
            ),
            (
                props(&[("security.protocol", "ssl"), ("ssl.ca.pem", "-----BEGIN")]),
                false,
            ),
            (
                props(&[
                    ("security.protocol", "ssl"),
                    ("ssl.ca.certificate.stores", "Root"),
                ]),
                false,
            ),
        ] {
            assert_eq!(needs_ca(|k| set.get(k).copied()), want, "{set:?}");
        }
    }

    #[test]
    fn the_first_bundle_present_is_taken() {
        let present = ["/etc/ssl/ca-bundle.pem", "/etc/ssl/cert.pem"];
        assert_eq!(
            system_bundle(|p| present.iter().any(|x| Path::new(x) == p)),
            Ok("/etc/ssl/ca-bundle.pem")
        );
        assert_eq!(
            system_bundle(|p| p == Path::new("/etc/ssl/certs/ca-certificates.crt")),
            Ok("/etc/ssl/certs/ca-certificates.crt")
        );
    }

    #[test]
    fn no_bundle_names_the_property_and_every_path_tried() {
        let e = system_bundle(|_| false).expect_err("nothing present");
        let line = e.to_string();
        assert!(!line.contains('\n'));
        assert!(line.contains("ssl.ca.location"), "{line}");
        for p in CA_BUNDLES {
            assert!(line.contains(p), "{p} not named: {line}");
        }
    }
}
