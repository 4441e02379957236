//! The request log: one [`Exchange`] per request, cut to the per-exchange bounds, and the
//! [`RequestLog`] that keeps them, bounded in count and in bytes, for `GET /__mock/requests`.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::Serialize;

use crate::mask;

/// One recorded exchange.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    pub id: u64,
    /// The mock clock's time of the exchange.
    pub at: String,
    /// The same, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// Real milliseconds since the mock started (monotonic), to measure real waits.
    pub elapsed_ms: u64,
    pub origin: &'static str,
    pub method: String,
    pub path: String,
    pub raw_query: Option<String>,
    pub headers: Vec<(String, String)>,
    /// The form fields of an `application/x-www-form-urlencoded` body (values decoded
    /// leniently here; the routes decode strictly).
    pub form: Option<Vec<(String, String)>>,
    pub status: u16,
    pub location: Option<String>,
    /// The response headers (a code in `Location` shown as a fingerprint).
    pub response_headers: Vec<(String, String)>,
    pub rule: Option<&'static str>,
    pub hint: Option<String>,
    /// A SHOULD rule the request broke although it was answered (e.g. `token-at-oauth-host`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<&'static str>,
    /// The response was an injected fault, not the route's answer: the request was not
    /// processed.
    pub fault: bool,
    /// What a scripted fault did to this exchange (`503 on /oauth/token`, `token response
    /// no-refresh-token on /oauth/token`, `no answer (silent) on /api/*`), processed or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scripted: Option<String>,
    /// What triggers this exchange fired (clock moves, revocations, faults armed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
}

impl Exchange {
    /// A response header's (masked) value, by case-insensitive name.
    pub fn response_header(&self, name: &str) -> Option<&str> {
        self.response_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Per exchange: a logged value longer than this is cut (the cut says how long it was).
pub const MAX_LOGGED_VALUE: usize = 1024;
/// Per exchange: header and form bytes beyond this are left out (the log says how many).
pub const MAX_LOGGED_FIELDS: usize = 8 * 1024;
/// Bytes an exchange costs besides its strings (the struct, allocations).
const EXCHANGE_OVERHEAD: usize = 256;

impl Exchange {
    /// Every logged string, for the value pass of masking — the response headers too: an
    /// error's `WWW-Authenticate` describes what the client sent.
    fn strings_mut(&mut self) -> impl Iterator<Item = &mut String> {
        [&mut self.path, &mut self.method]
            .into_iter()
            .chain(
                [&mut self.raw_query, &mut self.location, &mut self.hint]
                    .into_iter()
                    .flatten(),
            )
            .chain(
                [&mut self.headers, &mut self.response_headers]
                    .into_iter()
                    .chain(self.form.as_mut())
                    .flat_map(|list| list.iter_mut().flat_map(|(k, v)| [k, v])),
            )
    }

    /// Masks every secret the store knows, whatever its spelling ([`mask::net`]).
    pub(super) fn mask_known(&mut self, known: &impl mask::KnownSecrets) {
        // One pass over all of it first (a line each, so nothing is glued across fields):
        // nearly always there is nothing to mask, and one scan is cheaper than thirty.
        let mut joined = String::with_capacity(1024);
        for s in self.strings_mut() {
            joined.push_str(s);
            joined.push('\n');
        }
        if matches!(mask::net(&joined, known), std::borrow::Cow::Borrowed(_)) {
            return;
        }
        for s in self.strings_mut() {
            if let std::borrow::Cow::Owned(masked) = mask::net(s, known) {
                *s = masked;
            }
        }
    }

    /// Cuts every field to the per-exchange bounds and returns the bytes it holds, about.
    pub(super) fn bound(&mut self) -> usize {
        let mut size = EXCHANGE_OVERHEAD;
        for v in [&mut self.method, &mut self.path, &mut self.at] {
            size += cut(v, MAX_LOGGED_VALUE);
        }
        for v in [&mut self.raw_query, &mut self.location, &mut self.hint]
            .into_iter()
            .flatten()
        {
            size += cut(v, 4 * MAX_LOGGED_VALUE);
        }
        for list in [&mut self.headers, &mut self.response_headers]
            .into_iter()
            .chain(self.form.as_mut())
        {
            size += bound_fields(list);
        }
        size + self.actions.iter().map(String::len).sum::<usize>()
    }
}

/// Cuts `v` to at most `max` bytes (on a character boundary), saying how long it was.
fn cut(v: &mut String, max: usize) -> usize {
    if v.len() > max {
        let mut end = max;
        while !v.is_char_boundary(end) {
            end -= 1;
        }
        // Never keep the head of a word cut in two: it may be part of a secret.
        let bytes = v.as_bytes();
        if bytes[end].is_ascii_alphanumeric() {
            while end > 0 && bytes[end - 1].is_ascii_alphanumeric() {
                end -= 1;
            }
        }
        let total = v.len();
        v.truncate(end);
        v.push_str(&format!("…(cut, {total} bytes)"));
    }
    v.len()
}

/// Cuts each name and value, and leaves out what exceeds [`MAX_LOGGED_FIELDS`] in all.
fn bound_fields(list: &mut Vec<(String, String)>) -> usize {
    let mut size = 0;
    let mut kept = 0;
    for (name, value) in list.iter_mut() {
        let len = cut(name, 256) + cut(value, MAX_LOGGED_VALUE) + 16;
        if size + len > MAX_LOGGED_FIELDS {
            break;
        }
        size += len;
        kept += 1;
    }
    if kept < list.len() {
        let left: usize = list[kept..].iter().map(|(n, v)| n.len() + v.len()).sum();
        let count = list.len() - kept;
        list.truncate(kept);
        list.push((
            "(not logged)".to_owned(),
            format!("{count} more, {left} bytes"),
        ));
        size += 64;
    }
    size
}

/// The log of exchanges, bounded by count and by bytes (oldest dropped first).
#[derive(Debug)]
pub struct RequestLog {
    entries: VecDeque<(Arc<Exchange>, usize)>,
    capacity: usize,
    max_bytes: usize,
    bytes: usize,
    next_id: u64,
    dropped: u64,
}

impl RequestLog {
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            capacity,
            max_bytes,
            bytes: 0,
            next_id: 1,
            dropped: 0,
        }
    }

    /// Appends an exchange already cut by [`Exchange::bound`] (`size` is what that said).
    pub(super) fn push(&mut self, mut e: Exchange, size: usize) {
        e.id = self.next_id;
        self.next_id += 1;
        if self.capacity == 0 || size > self.max_bytes {
            self.dropped += 1;
            return;
        }
        while self.entries.len() == self.capacity || self.bytes + size > self.max_bytes {
            let Some((_, old)) = self.entries.pop_front() else {
                break;
            };
            self.bytes -= old;
            self.dropped += 1;
        }
        self.bytes += size;
        self.entries.push_back((Arc::new(e), size));
    }

    pub fn entries(&self) -> impl Iterator<Item = &Exchange> {
        self.entries.iter().map(|(e, _)| e.as_ref())
    }

    /// Up to `limit` exchanges with an id above `after`, shared (cheap to take under the
    /// lock, serialized after it is released).
    pub fn page(&self, after: u64, limit: usize) -> Vec<Arc<Exchange>> {
        let start = self.entries.partition_point(|(e, _)| e.id <= after);
        self.entries
            .range(start..)
            .take(limit)
            .map(|(e, _)| e.clone())
            .collect()
    }

    /// The id of the newest exchange kept, if any.
    pub fn last_id(&self) -> Option<u64> {
        self.entries.back().map(|(e, _)| e.id)
    }

    /// About how many bytes the kept exchanges hold.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
        self.dropped = 0;
    }
}
