//! AWS MSK IAM: SigV4-presigned tokens signed with the AWS credential chain.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Percent-encode a query component the way SigV4 canonicalizes it.
pub(super) fn aws_encode(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}

/// The MSK IAM token for `region` signed with `creds` at `now`: the
/// base64url (unpadded) form of a SigV4-presigned
/// `https://kafka.REGION.amazonaws.com/?Action=kafka-cluster%3AConnect&…`
/// URL, valid for 15 minutes (or until the credentials expire, if sooner).
pub fn msk_token(region: &str, creds: &Credentials, now: SystemTime) -> Result<Token> {
    use aws_sigv4::http_request::{
        SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
    };
    use aws_sigv4::sign::v4;

    let url = format!("https://kafka.{region}.amazonaws.com/?Action=kafka-cluster%3AConnect");
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(MSK_TOKEN_SECONDS));
    let identity = creds.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("kafka-cluster")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| anyhow!("cannot sign the MSK IAM token: {e}"))?;
    let request = SignableRequest::new("GET", &url, std::iter::empty(), SignableBody::Bytes(&[]))
        .map_err(|e| anyhow!("cannot sign the MSK IAM token: {e}"))?;
    let (instructions, _) = sign(request, &params.into())
        .map_err(|e| anyhow!("cannot sign the MSK IAM token: {e}"))?
        .into_parts();
    let mut signed = url;
    for (name, value) in instructions.params() {
        signed.push('&');
        signed.push_str(&aws_encode(name));
        signed.push('=');
        signed.push_str(&aws_encode(value));
    }
    signed.push_str("&User-Agent=");
    signed.push_str(&aws_encode(&format!(
        "kafkaterm/{}",
        env!("CARGO_PKG_VERSION")
    )));
    let issued_at_ms = to_ms(now);
    let mut expires_at_ms =
        issued_at_ms + i64::try_from(MSK_TOKEN_SECONDS).unwrap_or(i64::MAX / 1000) * 1000;
    if let Some(exp) = creds.expiry() {
        expires_at_ms = expires_at_ms.min(to_ms(exp));
    }
    Ok(Token {
        value: Secret::new(URL_SAFE_NO_PAD.encode(signed.as_bytes())),
        expires_at_ms,
        issued_at_ms,
        principal: String::new(),
    })
}

/// An error and its causes in one line.
pub(super) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

/// Signs MSK IAM tokens with credentials from the AWS chain (environment,
/// shared config/credentials files and profiles, SSO, credential_process,
/// web identity, ECS and EC2 instance roles).
pub(super) struct MskSigner {
    region: String,
    profile: Option<String>,
    /// The AWS SDK is async: its own small runtime, entered from a scoped
    /// thread so the caller may be on any runtime or none. (An `Option` only
    /// so that `Drop` can shut it down without blocking.)
    runtime: Option<tokio::runtime::Runtime>,
    credentials: Mutex<Option<SharedCredentialsProvider>>,
}

impl MskSigner {
    pub(super) fn new(region: &str, profile: Option<&str>) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("kafkaterm-aws")
            .build()
            .context("cannot start the AWS credential runtime")?;
        Ok(Self {
            region: region.to_string(),
            profile: profile.map(str::to_string),
            runtime: Some(runtime),
            credentials: Mutex::new(None),
        })
    }

    async fn provider(&self) -> Result<SharedCredentialsProvider> {
        if let Some(p) = self.credentials.lock().ok().and_then(|g| g.clone()) {
            return Ok(p);
        }
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let region = aws_config::Region::new(self.region.clone());
        let p = match &self.profile {
            // A profile named in the config wins over credentials in the
            // environment, as `--profile` does for the AWS CLI.
            Some(name) => {
                let conf = aws_config::provider_config::ProviderConfig::default()
                    .with_http_client(http)
                    .with_region(Some(region));
                SharedCredentialsProvider::new(
                    aws_config::profile::ProfileFileCredentialsProvider::builder()
                        .configure(&conf)
                        .profile_name(name)
                        .build(),
                )
            }
            None => aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(region)
                .http_client(http)
                .load()
                .await
                .credentials_provider()
                .ok_or_else(|| anyhow!("the AWS SDK found no credential provider"))?,
        };
        if let Ok(mut g) = self.credentials.lock() {
            *g = Some(p.clone());
        }
        Ok(p)
    }

    pub(super) fn credentials(&self) -> Result<Credentials> {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| anyhow!("the AWS credential runtime has stopped"))?;
        let fetch = || {
            runtime.block_on(async {
                let p = self.provider().await?;
                match tokio::time::timeout(CREDENTIALS_TIMEOUT, p.provide_credentials()).await {
                    Err(_) => bail!(
                        "the AWS credential chain did not answer within {} s",
                        CREDENTIALS_TIMEOUT.as_secs()
                    ),
                    Ok(Err(e)) => Err(anyhow!(explain_credentials_error(
                        &e,
                        self.profile.as_deref()
                    ))),
                    Ok(Ok(c)) => Ok(c),
                }
            })
        };
        std::thread::scope(|s| {
            std::thread::Builder::new()
                .name("kafkaterm-aws".into())
                .spawn_scoped(s, fetch)
                .map_err(|e| anyhow!("cannot start the AWS credential lookup: {e}"))?
                .join()
                .map_err(|_| anyhow!("the AWS credential lookup stopped unexpectedly"))?
        })
    }

    pub(super) fn mint(&self) -> Result<Token> {
        let creds = self.credentials()?;
        let now = SystemTime::now();
        if let Some(exp) = creds.expiry()
            && to_ms(exp) <= to_ms(now) + MIN_LIFETIME_MS
        {
            bail!("the AWS credentials have expired (refresh them, e.g. with `aws sso login`)");
        }
        msk_token(&self.region, &creds, now)
    }
}

impl Drop for MskSigner {
    fn drop(&mut self) {
        // The last client may go from inside an async task, where a
        // blocking runtime shutdown would panic.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

pub(super) fn explain_credentials_error(
    e: &aws_credential_types::provider::error::CredentialsError,
    profile: Option<&str>,
) -> String {
    use aws_credential_types::provider::error::CredentialsError as E;
    let detail = sanitize::escape(&chain(e)).into_owned();
    match e {
        E::CredentialsNotLoaded(_) => format!(
            "no AWS credentials found{}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, configure ~/.aws/credentials or ~/.aws/config, or run where an instance or container role applies ({detail})",
            profile
                .map(|p| format!(" for profile `{}`", sanitize::escape(p)))
                .unwrap_or_default()
        ),
        _ => format!("cannot get AWS credentials: {detail}"),
    }
}
