//! The client's processes and scratch space: its process group (killed whole when a run
//! ends, and by an interrupted `check` through a registry of the live ones), its output read
//! up to a bound, and a scratch directory removed on drop.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::Child;

/// Most of the client's output kept for judging (the report keeps the first 16 KiB).
const OUTPUT_LIMIT: usize = 1024 * 1024;

pub(crate) async fn kill(child: &mut Child) {
    if let Some(pid) = child.id() {
        kill_group(pid);
    }
    let _ = child.kill().await;
}

/// SIGKILL to a whole process group: `sh`, the client, anything it started.
fn kill_group(pgid: u32) {
    #[cfg(unix)]
    let _ = std::process::Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The process groups of the clients running now, so that an interrupted `check` can kill
/// them ([`kill_all_clients`]); a run unregisters its group when it ends.
static LIVE_GROUPS: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

pub(crate) struct ProcessGroup(u32);

impl ProcessGroup {
    pub(crate) fn register(pgid: u32) -> ProcessGroup {
        live_groups().push(pgid);
        ProcessGroup(pgid)
    }

    /// The run killed and reaped the group itself.
    pub(crate) fn reaped(self) {
        Self::unregister(self.0);
        std::mem::forget(self);
    }

    fn unregister(pgid: u32) -> bool {
        let mut live = live_groups();
        let found = live.iter().position(|p| *p == pgid);
        found.map(|i| live.swap_remove(i)).is_some()
    }
}

impl Drop for ProcessGroup {
    /// Dropped before the run reached its end (an aborted run): kill the group.
    fn drop(&mut self) {
        if Self::unregister(self.0) {
            kill_group(self.0);
        }
    }
}

fn live_groups() -> std::sync::MutexGuard<'static, Vec<u32>> {
    LIVE_GROUPS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Kills every client still running (for an interrupted `check`).
pub fn kill_all_clients() {
    let live = std::mem::take(&mut *live_groups());
    for pgid in live {
        kill_group(pgid);
    }
}

pub(crate) async fn read_capped(mut r: impl tokio::io::AsyncRead + Unpin) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = r.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        if buf.len() < OUTPUT_LIMIT {
            buf.extend_from_slice(&chunk[..n.min(OUTPUT_LIMIT - buf.len())]);
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

pub(crate) async fn collect(task: Option<tokio::task::JoinHandle<String>>) -> String {
    match task {
        Some(t) => tokio::time::timeout(Duration::from_secs(2), t)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default(),
        None => String::new(),
    }
}

/// A scratch directory removed on drop.
pub(crate) struct TempDir {
    pub(crate) path: PathBuf,
}

impl TempDir {
    pub(crate) fn new(label: &str) -> std::io::Result<TempDir> {
        let path = std::env::temp_dir().join(format!(
            "onshape-mock-{label}-{}-{}",
            std::process::id(),
            mock_server::domain::new_token(8)
        ));
        std::fs::create_dir_all(&path)?;
        Ok(TempDir { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
