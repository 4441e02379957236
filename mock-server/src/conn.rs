//! Connections: the accept loop every listener runs, with the limits a server on a shared
//! machine needs.
//!
//! - **Head timeout** ([`Limits::head_timeout`]): a request's head must arrive within this
//!   time of the connection opening or of the previous response ending — so it is also the
//!   idle keep-alive timeout. A head that stalls halfway is closed.
//! - **Body timeout** ([`Limits::body_timeout`], applied in [`crate::record`]): the whole
//!   body must arrive within this time, or the answer is 408 and the connection closes.
//! - **Head size** ([`Limits::max_head_bytes`]): a larger head is answered 431 by hyper.
//! - **Connection cap** ([`Limits::max_connections`]): at the cap, a new connection evicts
//!   the oldest one that is not in the middle of a request (waiting for a head, or idle), so
//!   a flood of slow or idle sockets cannot starve a real client; if every connection is
//!   busy, the new one waits for a slot.
//! - **Bounded shutdown** ([`Limits::shutdown_grace`]): on shutdown the listener stops
//!   accepting, idle connections close at once, in-flight requests get the grace period to
//!   finish, and whatever is left is dropped.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::record::Abort;
use crate::Origin;

/// The server's limits (README: "Limits").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time to send a request's head, from connect or from the previous response.
    pub head_timeout: Duration,
    /// Time to send a request's whole body.
    pub body_timeout: Duration,
    /// The largest request head (request line and headers), in bytes.
    pub max_head_bytes: usize,
    /// Open connections per listener.
    pub max_connections: usize,
    /// How long in-flight requests get to finish at shutdown.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            head_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_head_bytes: 64 * 1024,
            max_connections: 512,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// One open connection, as the registry sees it.
struct Slot {
    /// Requests being answered on it right now.
    busy: Arc<AtomicUsize>,
    /// Notified to drop the connection (eviction).
    evict: Arc<Notify>,
}

/// The open connections of one listener, oldest first (ids only grow).
#[derive(Default)]
struct Registry {
    slots: Mutex<BTreeMap<u64, Slot>>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Slot>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks the oldest connection that is not answering a request to close. False if every
    /// connection is busy.
    fn evict_oldest_idle(&self) -> bool {
        let mut slots = self.lock();
        let Some(id) = slots
            .iter()
            .find(|(_, s)| s.busy.load(Ordering::Acquire) == 0)
            .map(|(id, _)| *id)
        else {
            return false;
        };
        if let Some(slot) = slots.remove(&id) {
            slot.evict.notify_one();
        }
        true
    }
}

/// Serves `router` on `listener` as `origin` (each request carries it as an extension)
/// until `shutdown` turns true, then drains within the grace period. Accept errors (a full descriptor table) pause accepting briefly; they never end
/// the loop.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    origin: Origin,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.head_timeout)
        .max_header_size(limits.max_head_bytes)
        .max_headers(128);
    let http = Arc::new(http);
    let registry = Arc::new(Registry::default());
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut tasks = JoinSet::new();
    let mut next_id = 0u64;
    loop {
        let accepted = tokio::select! {
            biased;
            () = stopped(&mut shutdown) => break,
            accepted = listener.accept() => accepted,
        };
        // Reap finished connection tasks so the set does not grow.
        while tasks.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                tracing::warn!("accept failed: {e}; pausing 100 ms");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let permit = match slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                registry.evict_oldest_idle();
                tokio::select! {
                    biased;
                    () = stopped(&mut shutdown) => break,
                    permit = slots.clone().acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                }
            }
        };
        let _ = stream.set_nodelay(true);
        next_id += 1;
        let id = next_id;
        let busy = Arc::new(AtomicUsize::new(0));
        let evict = Arc::new(Notify::new());
        registry.lock().insert(
            id,
            Slot {
                busy: busy.clone(),
                evict: evict.clone(),
            },
        );
        let busy_for_shutdown = busy.clone();
        let service = {
            let router = router.clone();
            hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                let router = router.clone();
                let busy = InFlight::enter(busy.clone());
                req.extensions_mut().insert(ConnectInfo(peer));
                req.extensions_mut().insert(origin);
                async move {
                    let _busy = busy;
                    let Ok(response) = router.oneshot(req.map(Body::new)).await;
                    // A scripted fault that closes without answering: a service error makes
                    // hyper close the connection without writing anything.
                    if response.extensions().get::<Abort>().is_some() {
                        return Err(Aborted);
                    }
                    Ok(response)
                }
            })
        };
        let http = http.clone();
        let registry = registry.clone();
        let mut stop = shutdown.clone();
        let grace = limits.shutdown_grace;
        let in_flight = busy_for_shutdown;
        tasks.spawn(async move {
            let conn = http.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                // The connection first: it is what wakes this task nearly every time.
                biased;
                _ = conn.as_mut() => {}
                () = evict.notified() => {}
                () = stopped(&mut stop) => {
                    // Idle or still sending its head: close now. Answering: finish within
                    // the grace period.
                    if in_flight.load(Ordering::Acquire) > 0 {
                        conn.as_mut().graceful_shutdown();
                        let _ = tokio::time::timeout(grace, conn.as_mut()).await;
                    }
                }
            }
            registry.lock().remove(&id);
            drop(permit);
        });
    }
    drop(listener);
    // Every connection task watches the same signal and bounds itself by the grace period;
    // this bound is a second guard.
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(limits.shutdown_grace + Duration::from_secs(1), drain)
        .await
        .is_err()
    {
        tasks.abort_all();
    }
    Ok(())
}

/// The connection was closed on purpose, unanswered ([`Abort`]).
#[derive(Debug)]
struct Aborted;

impl std::fmt::Display for Aborted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("closed unanswered (scripted)")
    }
}

impl std::error::Error for Aborted {}

/// Resolves once the shutdown signal is on (or its sender is gone).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Counts a request as in flight on its connection for as long as it lives.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(busy: Arc<AtomicUsize>) -> InFlight {
        busy.fetch_add(1, Ordering::AcqRel);
        InFlight(busy)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
