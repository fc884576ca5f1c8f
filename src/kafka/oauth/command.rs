//! `token_command`: a command whose output is the token (and maybe its expiry).

#[allow(clippy::wildcard_imports)]
use super::*;

/// Run `command` with `sh -c`, giving up after `timeout`; its stdout.
pub(super) fn run_command(command: &str, timeout: Duration) -> Result<String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("token_command could not be started")?;
    let read_all = |r: Option<Box<dyn Read + Send>>, cap: u64| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(r) = r {
                let _ = r.take(cap).read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = read_all(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        1 << 20,
    );
    let err = read_all(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        64 << 10,
    );
    let started = Instant::now();
    let status = loop {
        if let Some(st) = child
            .try_wait()
            .context("token_command could not be waited for")?
        {
            break st;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "token_command did not finish within {} s",
                timeout.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if !status.success() {
        let hint = last_line_redacted(&String::from_utf8_lossy(&stderr));
        if hint.is_empty() {
            bail!("token_command failed ({status})");
        }
        bail!("token_command failed ({status}): {hint}");
    }
    String::from_utf8(stdout).map_err(|_| anyhow!("token_command output is not UTF-8"))
}

/// The last non-empty line of a command's stderr for an error message, with
/// anything that looks like a token or key replaced by `***`.
pub(super) fn last_line_redacted(stderr: &str) -> String {
    let line = stderr
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let words: Vec<String> = line
        .split(' ')
        .map(|w| {
            let tokenish = w.len() >= 20
                && w.bytes().all(|b| {
                    b.is_ascii_alphanumeric()
                        || matches!(b, b'+' | b'/' | b'=' | b'.' | b'_' | b'-' | b'~')
                });
            if tokenish {
                "***".to_string()
            } else {
                w.to_string()
            }
        })
        .collect();
    let joined = words.join(" ");
    sanitize::escape(&sanitize::truncate_chars(&joined, 200)).into_owned()
}

/// An expiry as written: seconds since the epoch (milliseconds when the
/// number is too large to be seconds) or an RFC 3339 time.
pub(super) fn parse_expiry_text(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return expiry_from_number(n);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

pub(super) fn expiry_from_number(n: f64) -> Option<i64> {
    if !n.is_finite() || n <= 0.0 {
        return None;
    }
    // 1e11 seconds is in the year 5138: a larger number is milliseconds.
    let ms = if n > 1e11 { n } else { n * 1000.0 };
    #[allow(clippy::cast_possible_truncation)] // bounded just above
    (ms < 9.0e15).then_some(ms as i64)
}

/// The `exp` and `sub` claims of a JWT, if `token` is one.
pub(super) fn jwt_claims(token: &str) -> (Option<i64>, Option<String>) {
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return (None, None);
    };
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')) else {
        return (None, None);
    };
    let Ok(serde_json::Value::Object(claims)) = serde_json::from_slice(&bytes) else {
        return (None, None);
    };
    let exp = claims
        .get("exp")
        .and_then(serde_json::Value::as_f64)
        .and_then(|s| expiry_from_number(s.min(1e11)));
    let sub = claims
        .get("sub")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string);
    (exp, sub)
}

/// Read a `token_command`'s output (see the README): either JSON
/// `{"token": "...", "expires_at": ..., "expires_in": ...}` (`access_token`
/// is taken for `token`), or the token on the first line and optionally its
/// expiry on the second. Without an expiry, a JWT's `exp` claim is used, and
/// otherwise the token is taken to last 15 minutes.
pub fn parse_command_output(out: &str, now_ms: i64) -> Result<Token> {
    let text = out.trim();
    let (value, expiry) = if text.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| anyhow!("token_command printed JSON that does not parse ({e})"))?;
        let token = v
            .get("token")
            .or_else(|| v.get("access_token"))
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| anyhow!("token_command printed JSON without a \"token\" string"))?
            .to_string();
        let expiry = if let Some(at) = v.get("expires_at") {
            let ms = match at {
                serde_json::Value::Number(n) => n.as_f64().and_then(expiry_from_number),
                serde_json::Value::String(s) => parse_expiry_text(s),
                _ => None,
            };
            Some(ms.ok_or_else(|| {
                anyhow!("token_command's \"expires_at\" is neither seconds since 1970 nor an RFC 3339 time")
            })?)
        } else if let Some(inn) = v.get("expires_in") {
            let secs = inn
                .as_f64()
                .or_else(|| inn.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|s| s.is_finite() && *s > 0.0)
                .ok_or_else(|| {
                    anyhow!("token_command's \"expires_in\" is not a number of seconds")
                })?;
            // Saturating float-to-int: absurd lifetimes become i64::MAX.
            #[allow(clippy::cast_possible_truncation)]
            let ms = (secs * 1000.0) as i64;
            Some(now_ms.saturating_add(ms))
        } else {
            None
        };
        (token, expiry)
    } else {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let token = lines.next().unwrap_or("").to_string();
        let expiry = match lines.next() {
            None => None,
            Some(l) => Some(parse_expiry_text(l).ok_or_else(|| {
                anyhow!("the second line of token_command's output is neither seconds since 1970 nor an RFC 3339 time")
            })?),
        };
        if lines.next().is_some() {
            bail!(
                "token_command printed more than two lines (the token, then optionally its expiry)"
            );
        }
        (token, expiry)
    };
    check_token_chars(&value, "token_command")?;
    let (jwt_exp, sub) = jwt_claims(&value);
    let expires_at_ms = expiry
        .or(jwt_exp)
        .unwrap_or(now_ms + DEFAULT_TOKEN_SECONDS * 1000);
    if expires_at_ms <= now_ms + MIN_LIFETIME_MS {
        bail!(
            "token_command gave a token that has expired (at {})",
            crate::timeutil::format_ts(expires_at_ms, true)
        );
    }
    Ok(Token {
        value: Secret::new(value),
        expires_at_ms,
        issued_at_ms: now_ms,
        principal: sub.map_or_else(|| "kafkaterm".into(), |s| sanitize::escape(&s).into_owned()),
    })
}
