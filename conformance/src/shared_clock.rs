//! The shared clock: when a scenario moves the mock's clock, the client's clock moves with it,
//! so a library that refreshes by its own idea of `expires_at` (requests-oauthlib, Authlib)
//! behaves as it would against the real service an hour later.
//!
//! The client runs under libfaketime (`LD_PRELOAD`), reading its offset from a file on every
//! call (`FAKETIME_TIMESTAMP_FILE`, `FAKETIME_NO_CACHE=1`); the mock's `clock_moved` hook
//! rewrites that file before the response that moved the clock leaves, so the client's very
//! next look at the time sees the new hour. The monotonic clock is left alone
//! (`FAKETIME_DONT_FAKE_MONOTONIC=1`): timeouts and `Retry-After` waits stay real. Only
//! scenarios that move the clock preload it (reading the file at every look at the time
//! slows a client down).
//!
//! It cannot work for a client that does not read the time through the C library: a static
//! binary (musl, Go), or a runtime with its own clock. Where libfaketime is missing or does
//! not load, the run goes on without it and the report says so.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where libfaketime usually is (Debian's `libfaketime` package on amd64 and arm64, a local
/// build).
const CANDIDATES: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
    "/usr/local/lib/faketime/libfaketime.so.1",
];

/// The environment variable that names the library, as `--faketime-lib` does.
pub const LIB_ENV: &str = "ONSHAPE_MOCK_FAKETIME_LIB";

/// Whether the client's clock follows the mock's in this `check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedClock {
    /// The client runs with this libfaketime preloaded.
    Faketime(PathBuf),
    /// The client's clock stays where it is; why.
    Off(String),
}

impl SharedClock {
    /// Finds and tries libfaketime: `explicit` (`--faketime-lib`), else
    /// `$ONSHAPE_MOCK_FAKETIME_LIB`, else the usual paths. A library that is named but does
    /// not move the clock of a test process is an error (the user asked for it); one that is
    /// merely absent turns the shared clock off, with the reason.
    pub fn detect(explicit: Option<&Path>) -> Result<SharedClock, String> {
        let named = explicit
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os(LIB_ENV).map(PathBuf::from));
        if let Some(lib) = named {
            return probe(&lib).map(|()| SharedClock::Faketime(lib));
        }
        for c in CANDIDATES {
            let lib = PathBuf::from(c);
            if lib.is_file() {
                return Ok(match probe(&lib) {
                    Ok(()) => SharedClock::Faketime(lib),
                    Err(e) => SharedClock::Off(e),
                });
            }
        }
        Ok(SharedClock::Off(format!(
            "libfaketime not found (install Debian's `libfaketime`, or `pip install libfaketime` and pass its libfaketime.so.1 with --faketime-lib or ${LIB_ENV})"
        )))
    }

    /// One line for the report.
    pub fn describe(&self) -> String {
        match self {
            SharedClock::Faketime(lib) => {
                format!("on: the client runs under libfaketime ({})", lib.display())
            }
            SharedClock::Off(why) => format!("off: {why}"),
        }
    }
}

/// Runs `date +%s` under `lib` with the clock a day ahead.
fn probe(lib: &Path) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!(
        "onshape-mock-faketime-probe-{}-{}",
        std::process::id(),
        mock_server::domain::new_token(8)
    ));
    let fail = |e: String| format!("libfaketime at {} does not work: {e}", lib.display());
    std::fs::create_dir_all(&dir).map_err(|e| fail(e.to_string()))?;
    let clock = ClientClock::new(&dir);
    let result = (|| {
        clock
            .set(Duration::from_secs(86_400))
            .map_err(|e| e.to_string())?;
        let date = |faked: bool| -> Result<u64, String> {
            let mut cmd = std::process::Command::new("date");
            cmd.arg("+%s");
            if faked {
                cmd.envs(clock.env(lib));
            }
            let out = cmd
                .output()
                .map_err(|e| format!("cannot run `date`: {e}"))?;
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .map_err(|_| {
                    format!(
                        "`date +%s` printed {:?}{}",
                        String::from_utf8_lossy(&out.stdout).trim(),
                        String::from_utf8_lossy(&out.stderr).trim()
                    )
                })
        };
        let (real, faked) = (date(false)?, date(true)?);
        if faked >= real + 86_000 {
            Ok(())
        } else {
            Err(format!(
                "a process under it read {faked}, not a day after {real}"
            ))
        }
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result.map_err(fail)
}

/// One run's client clock: the offset file libfaketime reads.
#[derive(Debug, Clone)]
pub struct ClientClock {
    file: PathBuf,
}

impl ClientClock {
    /// A clock file in the run's scratch directory.
    pub fn new(dir: &Path) -> ClientClock {
        ClientClock {
            file: dir.join("clock"),
        }
    }

    /// The environment that makes a process follow this clock.
    pub fn env(&self, lib: &Path) -> Vec<(String, String)> {
        let preload = match std::env::var("LD_PRELOAD") {
            Ok(existing) if !existing.trim().is_empty() => {
                format!("{existing}:{}", lib.display())
            }
            _ => lib.display().to_string(),
        };
        vec![
            ("LD_PRELOAD".into(), preload),
            (
                "FAKETIME_TIMESTAMP_FILE".into(),
                self.file.display().to_string(),
            ),
            ("FAKETIME_NO_CACHE".into(), "1".into()),
            ("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into()),
        ]
    }

    /// Sets the offset from real time. The file is replaced whole (write, then rename), so
    /// a client reading it at that moment sees the old offset or the new, never half.
    pub fn set(&self, offset: Duration) -> std::io::Result<()> {
        let tmp = self.file.with_extension("new");
        std::fs::write(&tmp, format!("+{}\n", offset.as_secs()))?;
        std::fs::rename(&tmp, &self.file)
    }
}

/// The processes of the process group `pgid` that do not have libfaketime loaded — a static
/// binary, or a program that cleared `LD_PRELOAD` — as `name (pid N)`: their clocks did not
/// move. Read from `/proc`; empty where there is none.
pub fn processes_without_it(pgid: u32) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses.
        let Some(fields) = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace())
        else {
            continue;
        };
        let fields: Vec<&str> = fields.collect();
        let (Some(state), Some(group)) = (fields.first(), fields.get(2)) else {
            continue;
        };
        if *state == "Z" || group.parse::<u32>().ok() != Some(pgid) {
            continue;
        }
        match std::fs::read_to_string(format!("/proc/{pid}/maps")) {
            Ok(maps) if !maps.is_empty() && !maps.contains("libfaketime") => {
                let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                out.push(format!("{} (pid {pid})", comm.trim()));
            }
            _ => {}
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_file_holds_the_offset_and_the_env_names_it() {
        let dir = std::env::temp_dir().join(format!("onshape-mock-clock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp dir");
        let clock = ClientClock::new(&dir);
        clock.set(Duration::from_secs(3660)).expect("writes");
        assert_eq!(
            std::fs::read_to_string(dir.join("clock")).expect("reads"),
            "+3660\n"
        );
        let env = clock.env(Path::new("/x/libfaketime.so.1"));
        assert!(env
            .iter()
            .any(|(k, v)| k == "FAKETIME_TIMESTAMP_FILE" && v.ends_with("clock")));
        assert!(env
            .iter()
            .any(|(k, v)| k == "LD_PRELOAD" && v.ends_with("/x/libfaketime.so.1")));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_named_library_that_does_not_load_is_an_error() {
        let err = SharedClock::detect(Some(Path::new("/nonexistent/libfaketime.so.1")))
            .expect_err("refused");
        assert!(err.contains("/nonexistent/libfaketime.so.1"), "{err}");
    }
}
