//! OAUTHBEARER tokens that kafkaterm supplies itself: AWS MSK IAM tokens
//! signed with the AWS credential chain, and tokens printed by a
//! `token_command`.
//!
//! One [`TokenProvider`] per token source serves every client of the
//! process: it caches the token, mints a new one when three quarters of the
//! old one's lifetime have passed, and hands it to each registered client with
//! `rd_kafka_oauthbearer_set_token` from its own thread. Setting the token
//! directly (rather than answering librdkafka's refresh events) works for
//! every client type, polled or not: rust-rdkafka's `AdminClient` never
//! serves those events, and the metadata consumer and the blocking calls made
//! before a consumer's first poll would otherwise wait for a token forever.
//!
//! Token values are [`Secret`]s: they never appear in logs, errors or debug
//! output.

use std::collections::HashMap;
use std::ffi::{CString, c_char};
use std::fmt;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rdkafka::bindings as rd;

use crate::config::{Secret, TokenSource};
use crate::sanitize;

mod command;
mod msk;

pub use command::parse_command_output;
#[allow(clippy::wildcard_imports)]
use command::*;
pub use msk::msk_token;
#[allow(clippy::wildcard_imports)]
use msk::*;

/// How long an MSK IAM token is valid (what the AWS signers use).
pub const MSK_TOKEN_SECONDS: u64 = 900;
/// The lifetime assumed for a `token_command` token that gives no expiry.
pub const DEFAULT_TOKEN_SECONDS: i64 = 900;
/// How long a `token_command` may run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the AWS credential chain may take.
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(30);
/// Wait before trying again after a failed refresh.
const RETRY_AFTER: Duration = Duration::from_secs(10);
/// A token must be valid for at least this long when it is handed out.
const MIN_LIFETIME_MS: i64 = 1_000;

/// A bearer token and when it expires.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    pub value: Secret,
    /// Milliseconds since the Unix epoch.
    pub expires_at_ms: i64,
    /// When it was obtained, milliseconds since the Unix epoch.
    pub issued_at_ms: i64,
    /// The principal librdkafka records with the token (not sent to the broker).
    pub principal: String,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("value", &self.value)
            .field("expires_at_ms", &self.expires_at_ms)
            .field("principal", &self.principal)
            .finish()
    }
}

impl Token {
    /// When a fresh token should replace this one: three quarters through
    /// its lifetime, leaving time for retries before it expires.
    #[must_use]
    pub fn refresh_at_ms(&self) -> i64 {
        let life = (self.expires_at_ms - self.issued_at_ms).max(0);
        self.issued_at_ms + life * 3 / 4
    }
}

fn to_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn now_ms() -> i64 {
    to_ms(SystemTime::now())
}

/// A token value librdkafka accepts and that cannot smuggle anything into
/// the SASL message: printable ASCII, no spaces.
fn check_token_chars(t: &str, what: &str) -> Result<()> {
    if t.is_empty() {
        bail!("{what} gave an empty token");
    }
    if !t.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        bail!(
            "{what} gave something that is not a bearer token (it must be printable ASCII without spaces)"
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Providers, shared by every client of the process

enum Minter {
    Msk(Box<MskSigner>),
    Command(String),
}

impl Minter {
    fn mint(&self) -> Result<Token> {
        match self {
            Minter::Msk(s) => s.mint(),
            Minter::Command(c) => parse_command_output(&run_command(c, COMMAND_TIMEOUT)?, now_ms()),
        }
    }
}

/// A librdkafka client handle registered for token refreshes.
struct Handle(*mut rd::rd_kafka_t);
// SAFETY: librdkafka handles may be used from any thread; the set-token
// calls made with it are thread-safe, and `Registration` guarantees the
// handle outlives its use here.
unsafe impl Send for Handle {}

#[derive(Default)]
struct Clients {
    next_id: u64,
    handles: Vec<(u64, Handle)>,
    refresher_running: bool,
}

#[derive(Default)]
struct Cache {
    token: Option<Token>,
    /// After a failed refresh: when to try again.
    retry_at_ms: Option<i64>,
}

/// Fetches or signs tokens for one token source and keeps every registered
/// client supplied with a valid one.
pub struct TokenProvider {
    minter: Minter,
    cache: Mutex<Cache>,
    clients: Mutex<Clients>,
    wake: Condvar,
    /// Counts tokens obtained (for tests and logs).
    minted: std::sync::atomic::AtomicU64,
}

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenProvider")
    }
}

static PROVIDERS: LazyLock<Mutex<HashMap<TokenSource, Weak<TokenProvider>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The provider for a token source, shared with every other client that
/// uses the same source.
pub fn provider_for(source: &TokenSource) -> Result<Arc<TokenProvider>> {
    let mut map = lock(&PROVIDERS);
    if let Some(p) = map.get(source).and_then(Weak::upgrade) {
        return Ok(p);
    }
    let minter = match source {
        TokenSource::AwsMskIam { region, profile } => {
            Minter::Msk(Box::new(MskSigner::new(region, profile.as_deref())?))
        }
        TokenSource::Command { command } => Minter::Command(command.clone()),
    };
    let p = Arc::new(TokenProvider {
        minter,
        cache: Mutex::new(Cache::default()),
        clients: Mutex::new(Clients::default()),
        wake: Condvar::new(),
        minted: std::sync::atomic::AtomicU64::new(0),
    });
    map.retain(|_, w| w.strong_count() > 0);
    map.insert(source.clone(), Arc::downgrade(&p));
    Ok(p)
}

impl TokenProvider {
    /// A token valid for a while yet: the cached one, or a new one.
    pub fn token(&self) -> Result<Token> {
        let mut cache = lock(&self.cache);
        let now = now_ms();
        if let Some(t) = &cache.token
            && now < t.refresh_at_ms()
        {
            return Ok(t.clone());
        }
        self.mint_into(&mut cache, now)
    }

    fn mint_into(&self, cache: &mut Cache, now: i64) -> Result<Token> {
        match self.minter.mint() {
            Ok(t) => {
                self.minted
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::info!(
                    expires_in_s = (t.expires_at_ms - now) / 1000,
                    "obtained a new OAUTHBEARER token"
                );
                cache.token = Some(t.clone());
                cache.retry_at_ms = None;
                Ok(t)
            }
            Err(e) => {
                cache.retry_at_ms =
                    Some(now + i64::try_from(RETRY_AFTER.as_millis()).unwrap_or(i64::MAX / 2));
                Err(e)
            }
        }
    }

    /// How many tokens this provider has obtained.
    #[must_use]
    pub fn minted(&self) -> u64 {
        self.minted.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// When the refresher should next act.
    fn next_due_ms(&self) -> i64 {
        let cache = lock(&self.cache);
        match (&cache.token, cache.retry_at_ms) {
            (_, Some(r)) => r,
            (Some(t), None) => t.refresh_at_ms(),
            (None, None) => now_ms(),
        }
    }

    /// Register a client handle so that it gets every new token.
    ///
    /// # Safety
    /// `handle` must be a live librdkafka client, and the returned
    /// [`Registration`] must be dropped before the client is destroyed.
    pub(crate) unsafe fn register(self: &Arc<Self>, handle: *mut rd::rd_kafka_t) -> Registration {
        let mut clients = lock(&self.clients);
        let id = clients.next_id;
        clients.next_id += 1;
        clients.handles.push((id, Handle(handle)));
        if !clients.refresher_running {
            let weak = Arc::downgrade(self);
            let started = std::thread::Builder::new()
                .name("kafkaterm-token".into())
                .spawn(move || refresher(&weak));
            match started {
                Ok(_) => clients.refresher_running = true,
                Err(e) => tracing::error!("cannot start the token refresher: {e}"),
            }
        }
        self.wake.notify_all();
        Registration {
            provider: Arc::clone(self),
            id,
        }
    }
}

/// A client's place on its provider's list; dropping it takes the client
/// off, after which the provider never touches its handle again.
pub struct Registration {
    provider: Arc<TokenProvider>,
    id: u64,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Registration({})", self.id)
    }
}

impl Registration {
    /// The provider this client gets its tokens from.
    #[must_use]
    pub fn provider(&self) -> &Arc<TokenProvider> {
        &self.provider
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut clients = lock(&self.provider.clients);
        clients.handles.retain(|(id, _)| *id != self.id);
        self.provider.wake.notify_all();
    }
}

/// Keeps the registered clients of one provider supplied: sleeps until the
/// cached token is due for refresh, obtains a new one, and sets it on every
/// client (or tells them of the failure). Ends when no client is left.
fn refresher(weak: &Weak<TokenProvider>) {
    loop {
        let Some(p) = weak.upgrade() else { return };
        let due = p.next_due_ms();
        {
            let mut clients = lock(&p.clients);
            if clients.handles.is_empty() {
                // Under the same lock as `register` checks it.
                clients.refresher_running = false;
                return;
            }
            let wait = due - now_ms();
            if wait > 0 {
                let step = Duration::from_millis(u64::try_from(wait).unwrap_or(0).min(60_000));
                let _ = p.wake.wait_timeout(clients, step);
                continue;
            }
        }
        let result = {
            let mut cache = lock(&p.cache);
            p.mint_into(&mut cache, now_ms())
        };
        let clients = lock(&p.clients);
        match result {
            Ok(token) => {
                for (_, h) in &clients.handles {
                    // SAFETY: registered handles are live until their
                    // Registration is dropped, which needs this lock.
                    if let Err(e) = unsafe { install(h.0, &token) } {
                        tracing::warn!("could not hand the new token to a client: {e}");
                    }
                }
            }
            Err(e) => {
                let msg = format!("{e:#}");
                tracing::warn!("token refresh failed: {msg}");
                for (_, h) in &clients.handles {
                    // SAFETY: as above.
                    unsafe { fail(h.0, &msg) };
                }
            }
        }
    }
}

/// Give a token to a client.
///
/// # Safety
/// `handle` must be a live librdkafka client.
pub(crate) unsafe fn install(handle: *mut rd::rd_kafka_t, token: &Token) -> Result<()> {
    // Checked here too, so librdkafka's own message (which would quote the
    // value) can never arise.
    check_token_chars(token.value.expose(), "the token source")?;
    let value =
        CString::new(token.value.expose()).map_err(|_| anyhow!("the token contains a NUL byte"))?;
    let principal = CString::new(token.principal.as_str()).unwrap_or_default();
    let mut err = [0 as c_char; 512];
    // SAFETY: handle is live (caller's contract); the strings and the
    // error buffer outlive the call; no extensions are passed.
    let code = unsafe {
        rd::rd_kafka_oauthbearer_set_token(
            handle,
            value.as_ptr(),
            token.expires_at_ms,
            principal.as_ptr(),
            std::ptr::null_mut(),
            0,
            err.as_mut_ptr(),
            err.len(),
        )
    };
    if code == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
        return Ok(());
    }
    if code == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR__STATE {
        bail!(
            "the client does not use SASL OAUTHBEARER (was sasl.mechanism or security.protocol overridden?)"
        );
    }
    // SAFETY: librdkafka NUL-terminates the error string within the buffer.
    let detail = unsafe { std::ffi::CStr::from_ptr(err.as_ptr()) }
        .to_string_lossy()
        .replace(token.value.expose(), "***");
    bail!(
        "librdkafka refused the token: {}",
        sanitize::escape(&detail)
    )
}

/// Tell a client that no token could be had; librdkafka reports it as an
/// authentication error and keeps any token that is still valid.
///
/// # Safety
/// `handle` must be a live librdkafka client.
unsafe fn fail(handle: *mut rd::rd_kafka_t, msg: &str) {
    let msg = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    // SAFETY: handle is live (caller's contract); msg outlives the call.
    unsafe {
        rd::rd_kafka_oauthbearer_set_token_failure(handle, msg.as_ptr());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_output_with_and_without_expiry() {
        let now = 1_700_000_000_000;
        let t = parse_command_output("abc.def\n", now).unwrap();
        assert_eq!(t.value.expose(), "abc.def");
        assert_eq!(t.expires_at_ms, now + DEFAULT_TOKEN_SECONDS * 1000);
        let t = parse_command_output("tok\n1700000060\n", now).unwrap();
        assert_eq!(t.expires_at_ms, 1_700_000_060_000);
        let t = parse_command_output("tok\n1700000060000\n", now).unwrap();
        assert_eq!(t.expires_at_ms, 1_700_000_060_000);
        let t = parse_command_output("tok\n2023-11-14T22:14:20Z\n", now).unwrap();
        assert_eq!(t.expires_at_ms, 1_700_000_060_000);
        assert_eq!(t.refresh_at_ms(), now + 45_000);
    }

    #[test]
    fn json_output() {
        let now = 1_700_000_000_000;
        let t = parse_command_output(r#"{"token": "t1", "expires_in": 30}"#, now).unwrap();
        assert_eq!((t.value.expose(), t.expires_at_ms), ("t1", now + 30_000));
        let t = parse_command_output(
            r#"{"access_token": "t2", "token_type": "Bearer", "expires_at": "2023-11-14T22:14:20+00:00"}"#,
            now,
        )
        .unwrap();
        assert_eq!(
            (t.value.expose(), t.expires_at_ms),
            ("t2", 1_700_000_060_000)
        );
        let t = parse_command_output(r#"{"token": "t3", "expires_at": 1700000060}"#, now).unwrap();
        assert_eq!(t.expires_at_ms, 1_700_000_060_000);
    }

    #[test]
    fn jwt_expiry_and_subject() {
        let now = 1_700_000_000_000;
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"svc-orders","exp":1700000120}"#);
        let jwt = format!("eyJhbGciOiJub25lIn0.{payload}.");
        let t = parse_command_output(&jwt, now).unwrap();
        assert_eq!(t.expires_at_ms, 1_700_000_120_000);
        assert_eq!(t.principal, "svc-orders");
    }

    #[test]
    fn bad_output_is_refused_without_echoing_it() {
        let now = 1_700_000_000_000;
        for (out, needle) in [
            ("", "empty token"),
            ("secret-abc def", "not a bearer token"),
            ("secret-abc\nsoon-ish\n", "second line"),
            ("secret-abc\n1\n2\n", "more than two lines"),
            ("secret-abc\n1600000000\n", "has expired"),
            (r#"{"tokn": "secret-abc"}"#, "without a \"token\""),
            (r#"{"token": "secret-abc", "expires_in": -3}"#, "expires_in"),
            ("{secret-abc", "does not parse"),
        ] {
            let e = format!("{:#}", parse_command_output(out, now).unwrap_err());
            assert!(e.contains(needle), "{out:?}: {e}");
            assert!(!e.contains("secret-abc"), "{out:?}: {e}");
        }
    }

    #[test]
    fn command_failures_in_plain_words() {
        let e = format!(
            "{:#}",
            run_command(
                "echo 'session expired for key AKIAEXAMPLEKEY1234567890ABCD' >&2; exit 4",
                COMMAND_TIMEOUT
            )
            .unwrap_err()
        );
        assert!(e.contains("token_command failed"), "{e}");
        assert!(e.contains("session expired"), "{e}");
        assert!(!e.contains("AKIAEXAMPLEKEY1234567890ABCD"), "{e}");
        let e = format!(
            "{:#}",
            run_command("sleep 5", Duration::from_millis(200)).unwrap_err()
        );
        assert!(e.contains("did not finish"), "{e}");
        assert_eq!(
            run_command("printf 'x\\ny'", COMMAND_TIMEOUT).unwrap(),
            "x\ny"
        );
    }

    #[test]
    fn token_debug_hides_the_value() {
        let t = parse_command_output("very-secret-token", 1_700_000_000_000).unwrap();
        assert!(!format!("{t:?}").contains("very-secret-token"));
    }
}
