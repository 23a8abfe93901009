//! The one place where secrets are known and masked.
//!
//! A run registers every secret it knows in its [`Secrets`]: the password
//! of `--user`, the password of a `user:password@` in a target's or a
//! proxy's URL, the value of every sensitive request header (see
//! [`is_sensitive_header`]), each with the forms it can take on the wire
//! and in a report (RFC 7617's base64 of `user:password`, percent-encoded,
//! JSON- and Rust-escaped). Every line healthprobe writes (the report, the
//! JSON, the `-v` trace, the supervisor's events, error lines) goes through
//! one [`Redacting`] writer, which replaces each registered form with
//! [`MASK`]; a server that echoes a request is masked the same way.
//!
//! Values are registered where they are read: every word of the command
//! line and every `HEALTHPROBE_*` variable as typed ([`Secrets::scan`],
//! before anything is parsed, so that a value given to the wrong flag is
//! masked in its error line too), and each value as the config layer
//! resolves it (after `${NAME}` expansion, from a probes file).
//!
//! This module imports nothing of the crate: every layer may use it.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use base64::Engine;
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

/// What a secret is replaced by.
pub const MASK: &str = "***";

/// Secrets shorter than this many bytes are not masked as free text: a
/// one- or two-character password would mask every such letter of every
/// line. Their encoded forms (base64 of `user:password`) are longer and
/// are masked.
const MIN_MASKED: usize = 3;

/// Characters percent-encoded in a URL's userinfo (RFC 3986: what is not
/// unreserved or a sub-delimiter), as a client encodes a password.
const USERINFO: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b':')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Whether a request header carries credentials: `Authorization`,
/// `Proxy-Authorization`, `Cookie`, and every name that contains `token`,
/// `secret`, `key`, `password`, `auth`, `session` or `cookie`, in any case
/// (`X-Api-Key`, `X-Auth-Token`). Its value is a secret.
pub fn is_sensitive_header(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    [
        "authorization",
        "token",
        "secret",
        "key",
        "password",
        "auth",
        "session",
        "cookie",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// The secrets of one run, and every form of each that output may carry.
/// Shared by the writers of the run; registering takes `&self`.
#[derive(Default)]
pub struct Secrets {
    /// Every form, longest first (so that a longer form is masked whole
    /// before a shorter one inside it).
    forms: Mutex<Vec<String>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} forms, not shown)", self.lock().len())
    }
}

impl Secrets {
    /// No secrets yet.
    pub fn new() -> Arc<Secrets> {
        Arc::new(Secrets::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.forms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers `value` (a password, a token, a header's value) and its
    /// forms: percent-encoded as in a URL's userinfo, JSON-escaped and
    /// Rust-escaped (how a report quotes an echoed body), and with its
    /// whitespace runs folded (how a body excerpt shows it).
    pub fn add(&self, value: &str) {
        let value = value.trim();
        if value.len() < MIN_MASKED {
            return;
        }
        let json = serde_json::to_string(value).unwrap_or_default();
        let json = json.trim_matches('"').to_string();
        let folded = value.split_whitespace().collect::<Vec<_>>().join(" ");
        let debug = format!("{value:?}");
        let forms = [
            value.to_string(),
            utf8_percent_encode(value, USERINFO).to_string(),
            json,
            // As `{:?}` quotes it (which escapes more than escape_debug).
            debug[1..debug.len() - 1].to_string(),
            value.escape_debug().to_string(),
            value.escape_default().to_string(),
            folded,
        ];
        let mut all = self.lock();
        for form in forms {
            if form.len() >= MIN_MASKED && !all.contains(&form) {
                all.push(form);
            }
        }
        all.sort_by_key(|f| std::cmp::Reverse(f.len()));
    }

    /// Registers Basic credentials: the password, and base64 of
    /// `user:password` as RFC 7617 sends it.
    pub fn add_basic(&self, user: &str, password: &str) {
        self.add(password);
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.add(&token);
    }

    /// Registers the userinfo of a URL as typed (`user:password`, perhaps
    /// percent-encoded): the password as typed and decoded, and the Basic
    /// credentials of both parts decoded. A userinfo without a password
    /// holds no secret.
    pub fn add_userinfo(&self, userinfo: &str) {
        let Some((user, password)) = userinfo.split_once(':') else {
            return;
        };
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        self.add(password);
        self.add_basic(&decode(user), &decode(password));
    }

    /// Registers the value of request header `name` when the name is
    /// sensitive ([`is_sensitive_header`]): the value, the credentials
    /// after an auth scheme (`Bearer TOKEN`), and for `Basic` the decoded
    /// `user:password`'s password.
    pub fn add_header(&self, name: &str, value: &str) {
        if !is_sensitive_header(name) {
            return;
        }
        self.add(value);
        let Some((scheme, credentials)) = value.trim().split_once(char::is_whitespace) else {
            return;
        };
        self.add(credentials);
        if scheme.eq_ignore_ascii_case("basic")
            && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(credentials.trim())
            && let Ok(text) = String::from_utf8(bytes)
            && let Some((_, password)) = text.split_once(':')
        {
            self.add(password);
        }
    }

    /// Registers what a word of the command line or a variable's value may
    /// carry, whichever flag it was given to: the password of every
    /// `user:password@` in it (the userinfo taken to run to the last `@`
    /// of the text, and of each of its words when it holds several (a
    /// variable with targets separated by spaces), so that a password
    /// holding `/`, `?`, `#`, a quote or a space, which a URL parser would
    /// end the authority at, is found too), and the value of a sensitive
    /// header (`Name: value`).
    pub fn scan(&self, text: &str) {
        for word in std::iter::once(text).chain(text.split_whitespace()) {
            let authority = word.split_once("://").map_or(word, |(_, rest)| rest);
            if let Some(at) = authority.rfind('@') {
                self.add_userinfo(&authority[..at]);
            }
        }
        if let Some((name, value)) = text.split_once(':')
            && !name.is_empty()
            && name
                .trim()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
        {
            self.add_header(name, value);
        }
    }

    /// Registers the value of `--user USER:PASSWORD` (curl's: split at the
    /// first colon).
    pub fn add_user(&self, text: &str) {
        if let Some((user, password)) = text.split_once(':') {
            self.add_basic(user, password);
        }
    }

    /// `text` with every registered form replaced by [`MASK`]; and a
    /// secret that an abbreviation cut short (its start, then `…`) too.
    /// Every occurrence is found in `text` as it is, then the ranges they
    /// cover are masked together: masking one secret first cannot break up
    /// another that overlaps it.
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let forms = self.lock();
        if forms.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for form in forms.iter() {
            ranges.extend(
                text.match_indices(form.as_str())
                    .map(|(i, f)| (i, i + f.len())),
            );
        }
        for (at, _) in text.match_indices(CUT) {
            let before = &text[..at];
            let start = forms
                .iter()
                .flat_map(|form| {
                    form.char_indices()
                        .map(|(i, _)| i)
                        .skip(1)
                        .filter(|&i| i >= MIN_CUT_START && before.ends_with(&form[..i]))
                        .max()
                })
                .max();
            if let Some(len) = start {
                ranges.push((at - len, at));
            }
        }
        if ranges.is_empty() {
            return Cow::Borrowed(text);
        }
        ranges.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut done = 0;
        let mut iter = ranges.into_iter().peekable();
        while let Some((start, mut end)) = iter.next() {
            while let Some(&(next, next_end)) = iter.peek() {
                if next > end {
                    break;
                }
                end = end.max(next_end);
                iter.next();
            }
            if start >= done {
                out.push_str(&text[done..start]);
                out.push_str(MASK);
                done = end;
            } else if end > done {
                done = end;
            }
        }
        out.push_str(&text[done..]);
        Cow::Owned(out)
    }
}

/// What an abbreviation puts where it cut a text (`abbreviated`, the body
/// excerpt).
const CUT: char = '…';

/// The shortest start of a secret masked before a [`CUT`].
const MIN_CUT_START: usize = 2;

/// A writer that masks every registered secret in what passes through it.
/// Text is held until the end of its line (or a flush), so that a secret
/// written in pieces is masked whole.
pub struct Redacting<W: Write> {
    inner: W,
    secrets: Arc<Secrets>,
    pending: Vec<u8>,
}

impl<W: Write> Redacting<W> {
    /// Writes to `inner`, masking `secrets`.
    pub fn new(inner: W, secrets: Arc<Secrets>) -> Redacting<W> {
        Redacting {
            inner,
            secrets,
            pending: Vec::new(),
        }
    }

    fn emit(&mut self, upto: usize) -> io::Result<()> {
        let text = String::from_utf8_lossy(&self.pending[..upto]);
        let masked = self.secrets.mask(&text);
        self.inner.write_all(masked.as_bytes())?;
        self.pending.drain(..upto);
        Ok(())
    }
}

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(end) = self.pending.iter().rposition(|&b| b == b'\n') {
            self.emit(end + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            self.emit(self.pending.len())?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for Redacting<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Where a run writes: its standard output (the report) and standard
/// error (error lines, the `-v` trace, the supervisor's events), each
/// through a [`Redacting`] writer over the run's [`Secrets`]. Shared by
/// the threads of a run.
pub struct Console {
    /// The run's secrets; more may be registered while it runs.
    pub secrets: Arc<Secrets>,
    out: Mutex<Redacting<Box<dyn Write + Send>>>,
    err: Mutex<Redacting<Box<dyn Write + Send>>>,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console").finish_non_exhaustive()
    }
}

impl Console {
    /// A console writing to `out` and `err`, masking `secrets`.
    pub fn new(
        out: Box<dyn Write + Send>,
        err: Box<dyn Write + Send>,
        secrets: Arc<Secrets>,
    ) -> Console {
        Console {
            out: Mutex::new(Redacting::new(out, secrets.clone())),
            err: Mutex::new(Redacting::new(err, secrets.clone())),
            secrets,
        }
    }

    /// The standard output, locked.
    pub fn out(&self) -> std::sync::MutexGuard<'_, Redacting<Box<dyn Write + Send>>> {
        self.out.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The standard error, locked.
    pub fn err(&self) -> std::sync::MutexGuard<'_, Redacting<Box<dyn Write + Send>>> {
        self.err.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One line on standard error, behind `healthprobe: `, with control
    /// characters escaped so that it stays one line. Write errors (a
    /// closed pipe) are ignored.
    pub fn say(&self, line: &str) {
        let mut err = self.err();
        let _ = writeln!(err, "healthprobe: {}", one_line(line));
        let _ = err.flush();
    }
}

/// `text` on one line: line breaks and other control characters escaped
/// as Rust writes them (`\n`).
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.contains(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c.is_control() {
            true => escaped.extend(c.escape_default()),
            false => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(secrets: &Secrets, text: &str) -> String {
        secrets.mask(text).into_owned()
    }

    #[test]
    fn every_form_of_a_password_is_masked() {
        let s = Secrets::default();
        s.add_userinfo("pxuser:p%40ss");
        assert_eq!(masked(&s, "p@ss and p%40ss"), "*** and ***");
        // base64("pxuser:p@ss")
        assert_eq!(masked(&s, "Basic cHh1c2VyOnBAc3M="), "Basic ***");
        assert_eq!(masked(&s, "pxuser is a user"), "pxuser is a user");
    }

    #[test]
    fn sensitive_headers_are_known_by_name() {
        for name in [
            "Authorization",
            "proxy-authorization",
            "Cookie",
            "X-Api-Key",
            "X-Auth-Token",
            "x-session-id",
            "X-Secret",
        ] {
            assert!(is_sensitive_header(name), "{name}");
        }
        for name in ["Accept", "Host", "User-Agent", "X-Probe", "Keep-Alive"] {
            assert!(!is_sensitive_header(name), "{name}");
        }
        let s = Secrets::default();
        s.add_header("Authorization", "Bearer t0k3n-value");
        s.add_header("X-Probe", "not-secret");
        assert_eq!(
            masked(
                &s,
                "authorization: Bearer t0k3n-value; t0k3n-value; not-secret"
            ),
            "authorization: ***; ***; not-secret"
        );
    }

    #[test]
    fn scanning_finds_passwords_and_header_values_in_any_word() {
        let s = Secrets::default();
        s.scan("http://user:pa/ss#x@127.0.0.1:9/h");
        s.scan("Authorization: Bearer abc123");
        s.scan("::1:8000");
        s.scan("user:pw@host:1");
        assert_eq!(
            masked(&s, "\"http://user:pa/ss#x@127.0.0.1:9/h\" abc123 ::1:8000"),
            "\"http://user:***@127.0.0.1:9/h\" *** ::1:8000"
        );
        // "pw" is too short to mask as free text; its Basic form is not.
        assert_eq!(masked(&s, "pw dXNlcjpwdw=="), "pw ***");
    }

    #[test]
    fn a_secret_cut_short_by_an_abbreviation_is_masked() {
        let s = Secrets::default();
        s.add("s3cr3t-token");
        assert_eq!(
            masked(&s, "Bearer s3cr3t-to… (200 bytes)"),
            "Bearer ***… (200 bytes)"
        );
        assert_eq!(masked(&s, "x: s… and s3cr3t-token"), "x: s… and ***");
        assert_eq!(masked(&s, "nothing cut…"), "nothing cut…");
        // A shorter secret inside the cut one does not break it up.
        s.add("3t-t");
        assert_eq!(
            masked(&s, "Bearer s3cr3t-to… and 3t-t"),
            "Bearer ***… and ***"
        );
        // Nor does the start of a secret that overlaps the end of a whole
        // one (a password ending in `a`, then `@a`, then the cut).
        s.add("ab-cd-a");
        assert_eq!(masked(&s, "x ab-cd-ab… (9 bytes)"), "x ***… (9 bytes)");
    }

    #[test]
    fn escaped_forms_are_masked_too() {
        let s = Secrets::default();
        s.add("pa\"ss\\word");
        assert_eq!(
            masked(&s, r#"{"echo":"pa\"ss\\word"}"#),
            r#"{"echo":"***"}"#
        );
    }

    #[test]
    fn the_writer_masks_a_secret_written_in_pieces() {
        let s = Arc::new(Secrets::default());
        s.add("s3cr3t");
        let mut out = Vec::new();
        {
            let mut w = Redacting::new(&mut out, s.clone());
            for piece in ["> x: s3", "cr", "3t\r\n", "tail s3cr3t"] {
                w.write_all(piece.as_bytes()).expect("write");
            }
        }
        assert_eq!(String::from_utf8_lossy(&out), "> x: ***\r\ntail ***");
    }

    #[test]
    fn one_line_escapes_control_characters() {
        assert_eq!(one_line("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(one_line("plain"), "plain");
    }
}
