//! The request log lines on stderr, written in batches.
//!
//! A line per request is part of the product, so it must be cheap: a request appends its
//! formatted line to a shared buffer (a lock and a copy), and a writer thread flushes the
//! buffer to stderr every 20 ms — one write system call per batch instead of one per line,
//! and no thread spinning while it waits. A line appears at most 20 ms after its request;
//! [`Flush`] writes what is left when `serve` ends. A buffer over 1 MiB is flushed by the
//! request that grows it, so memory stays bounded under any load. [`Timestamp`] formats
//! each line's time, the date and time of day once a second.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

const FLUSH_EVERY: Duration = Duration::from_millis(20);
const MAX_BUFFERED: usize = 1024 * 1024;

#[derive(Default)]
struct Shared {
    buffer: Mutex<Buffer>,
    wake: Condvar,
}

#[derive(Default)]
struct Buffer {
    bytes: Vec<u8>,
    closed: bool,
}

/// The `MakeWriter` for tracing-subscriber.
#[derive(Clone)]
pub struct BatchedStderr(Arc<Shared>);

/// Flushes the rest and stops the writer thread when dropped.
pub struct Flush {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BatchedStderr {
    pub fn start() -> (BatchedStderr, Flush) {
        let shared = Arc::new(Shared::default());
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("onshape-mock-log".into())
            .spawn(move || run(&worker))
            .ok();
        (BatchedStderr(shared.clone()), Flush { shared, thread })
    }
}

fn run(shared: &Shared) {
    loop {
        let (bytes, closed) = {
            let guard = shared.buffer.lock().unwrap_or_else(PoisonError::into_inner);
            let (mut guard, _) = shared
                .wake
                .wait_timeout_while(guard, FLUSH_EVERY, |b| !b.closed)
                .unwrap_or_else(PoisonError::into_inner);
            (std::mem::take(&mut guard.bytes), guard.closed)
        };
        if !bytes.is_empty() {
            let _ = std::io::stderr().lock().write_all(&bytes);
        }
        if closed {
            return;
        }
    }
}

impl Drop for Flush {
    fn drop(&mut self) {
        self.shared
            .buffer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .closed = true;
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One event's line, appended when tracing-subscriber drops the writer.
pub struct Line {
    shared: Arc<Shared>,
    line: Vec<u8>,
}

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        let mut buffer = self
            .shared
            .buffer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if buffer.closed {
            // After shutdown (or with no writer thread): straight to stderr.
            drop(buffer);
            let _ = std::io::stderr().lock().write_all(&self.line);
            return;
        }
        buffer.bytes.extend_from_slice(&self.line);
        if buffer.bytes.len() > MAX_BUFFERED {
            let bytes = std::mem::take(&mut buffer.bytes);
            drop(buffer);
            let _ = std::io::stderr().lock().write_all(&bytes);
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchedStderr {
    type Writer = Line;
    fn make_writer(&'a self) -> Line {
        Line {
            shared: self.0.clone(),
            line: Vec::with_capacity(256),
        }
    }
}

/// Line timestamps as tracing-subscriber's default writes them (RFC 3339, UTC, microseconds),
/// with the part up to the second formatted once a second rather than for every line.
pub struct Timestamp;

impl tracing_subscriber::fmt::time::FormatTime for Timestamp {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        use std::cell::RefCell;
        use std::time::{SystemTime, UNIX_EPOCH};
        thread_local! {
            static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
        }
        // Log lines carry real time; the mock's clock is for what it enforces.
        let now = SystemTime::now();
        let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        SECOND.with(|cached| {
            let mut cached = cached.borrow_mut();
            if cached.0 != since.as_secs() {
                let whole = humantime::format_rfc3339_seconds(now).to_string();
                cached.1 = whole.trim_end_matches('Z').to_owned();
                cached.0 = since.as_secs();
            }
            write!(w, "{}.{:06}Z", cached.1, since.subsec_micros())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::fmt::time::FormatTime;

    #[test]
    fn timestamps_are_rfc3339_with_microseconds() {
        let mut out = String::new();
        Timestamp
            .format_time(&mut tracing_subscriber::fmt::format::Writer::new(&mut out))
            .expect("formats");
        let parsed = humantime::parse_rfc3339(&out).expect("RFC 3339");
        let now = std::time::SystemTime::now();
        let age = now.duration_since(parsed).unwrap_or_default();
        assert!(age < Duration::from_secs(5), "{out}");
        assert_eq!(out.len(), "2026-11-23T10:00:00.123456Z".len(), "{out}");
    }
}
