//! The request log lines on stderr, written in batches.
//!
//! A line per request is part of the product, so it must be cheap: a request appends its
//! formatted line to a shared buffer (a lock and a copy), and a writer thread flushes the
//! buffer to stderr every 20 ms — one write system call per batch instead of one per line,
//! and no thread spinning while it waits. A line appears at most 20 ms after its request;
//! [`Flush`] writes what is left when `serve` ends. A buffer over 1 MiB is flushed by the
//! request that grows it, so memory stays bounded under any load.

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
