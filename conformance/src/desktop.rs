//! Desktop mode: the client opens the authorization URL with `$BROWSER` (a generated script
//! that appends it to a file the runner polls); the runner plays browser and user for each
//! URL and hands the callback to the client's localhost listener, or the out-of-band code to
//! its standard input.

use std::path::Path;
use std::time::Duration;

use mock_server::mask::fingerprint;
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, ChildStdin};

use crate::browser::Landing;
use crate::callback::forge_state;
use crate::driver::{ClientEnd, Delivered, Opened, Session};
use crate::process::kill;
use crate::scenario::OddCallback;

/// How long the runner tries to hand the genuine callback to a client that was just sent a
/// forged one (it may have stopped listening, rightly).
const GENUINE_AFTER_FORGED: Duration = Duration::from_millis(500);
/// URLs a client may open in one run before the runner stops it.
const MAX_OPENED: usize = 50;
/// How long the runner keeps retrying to reach the client's redirect listener.
const CALLBACK_RETRY: Duration = Duration::from_secs(5);

impl Session<'_> {
    /// Desktop mode: plays the browser for each URL the client opens with BROWSER, until the
    /// client exits, the timeout, or a URL the client can never get past.
    pub(crate) async fn desktop(
        &mut self,
        child: &mut Child,
        opened_file: &Path,
        stdin: &mut Option<ChildStdin>,
        deadline: tokio::time::Instant,
    ) -> ClientEnd {
        let mut seen = 0usize;
        loop {
            tokio::select! {
                status = child.wait() => {
                    // What the client opened just before it exited is judged, not visited.
                    for url in new_lines(opened_file, &mut seen) {
                        self.opened.push(Opened { url, landing: Landing::NotVisited });
                    }
                    return ClientEnd::Exited(status.ok().and_then(|s| s.code()));
                }
                () = tokio::time::sleep_until(deadline) => {
                    kill(child).await;
                    return ClientEnd::TimedOut;
                }
                () = tokio::time::sleep(Duration::from_millis(5)) => {
                    let urls = new_lines(opened_file, &mut seen);
                    let mut ended = (self.opened.len() + urls.len() > MAX_OPENED)
                        .then(|| format!("the client opened more than {MAX_OPENED} URLs"));
                    for url in urls.into_iter().take_while(|_| ended.is_none()) {
                        if let Some(reason) = self.open(&url, stdin, deadline).await {
                            ended = Some(reason);
                            break;
                        }
                    }
                    if let Some(reason) = ended {
                        kill(child).await;
                        return ClientEnd::EndedEarly(reason);
                    }
                }
            }
        }
    }

    /// Plays the browser for one opened URL. `Some(reason)` ends the scenario.
    async fn open(
        &mut self,
        url: &str,
        stdin: &mut Option<ChildStdin>,
        deadline: tokio::time::Instant,
    ) -> Option<String> {
        let (landing, forge, advanced) = self.play(url).await;
        match landing {
            Landing::Callback(location) => {
                if forge {
                    // An attacker's callback first: a code from an authorization the client
                    // never started, under a state it never issued. Then the genuine one,
                    // for a client that refused the forgery and is still listening.
                    // (Should the attacker's authorization fail, the genuine code is forged.)
                    match self.browser.visit(url, self.scenario).await {
                        Landing::Callback(theirs) => {
                            self.send(
                                &forge_state(&theirs),
                                true,
                                advanced,
                                CALLBACK_RETRY,
                                deadline,
                            )
                            .await;
                            // A moment for the client to take the forged callback in.
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            self.send(&location, false, 0, GENUINE_AFTER_FORGED, deadline)
                                .await;
                        }
                        _ => {
                            self.send(
                                &forge_state(&location),
                                true,
                                advanced,
                                CALLBACK_RETRY,
                                deadline,
                            )
                            .await
                        }
                    }
                } else if let Some(odd) = self.odd_callback() {
                    self.deliver_odd(odd, &location, advanced, deadline).await;
                } else {
                    self.send(&location, false, advanced, CALLBACK_RETRY, deadline)
                        .await;
                }
                if self.first_callback.is_none() {
                    self.first_callback = Some(location);
                }
                None
            }
            Landing::OobCode(code) => {
                let received = match stdin.as_mut() {
                    Some(s) => {
                        s.write_all(format!("{code}\n").as_bytes()).await.is_ok()
                            && s.flush().await.is_ok()
                    }
                    None => false,
                };
                let code = Some(fingerprint(&code));
                let after_exchange = self.last_exchange();
                self.delivered.push(Delivered {
                    to: "stdin".to_owned(),
                    forged: false,
                    code,
                    advanced,
                    received,
                    odd: None,
                    after_exchange,
                });
                None
            }
            Landing::OobError(_) => {
                // The user sees the error and gives the application nothing: end of input.
                *stdin = None;
                let after_exchange = self.last_exchange();
                self.delivered.push(Delivered {
                    to: "stdin (closed)".to_owned(),
                    forged: false,
                    code: None,
                    advanced,
                    received: true,
                    odd: None,
                    after_exchange,
                });
                None
            }
            Landing::Stuck { .. } | Landing::Foreign(_) => landing.dead_end(),
            Landing::NotVisited => None,
        }
    }

    /// Delivers an odd callback (`[browser] callback`) in place of the genuine `location`, or
    /// around it: twice, or after the earlier authorization's callback.
    async fn deliver_odd(
        &mut self,
        odd: OddCallback,
        location: &str,
        advanced: u64,
        deadline: tokio::time::Instant,
    ) {
        match odd {
            OddCallback::Twice => {
                self.send(location, false, advanced, CALLBACK_RETRY, deadline)
                    .await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                let before = self.last_exchange();
                let received = deliver(location, GENUINE_AFTER_FORGED, deadline).await;
                self.record_odd_callback(location, false, Some(odd), 0, received, before);
            }
            OddCallback::Replay => {
                let earlier = self.first_callback.clone().unwrap_or_default();
                let before = self.last_exchange();
                let received = deliver(&earlier, CALLBACK_RETRY, deadline).await;
                self.record_odd_callback(&earlier, false, Some(odd), 0, received, before);
                tokio::time::sleep(Duration::from_millis(100)).await;
                self.send(location, false, advanced, GENUINE_AFTER_FORGED, deadline)
                    .await;
            }
            _ => {
                let url = odd.apply(location);
                let before = self.last_exchange();
                let received = deliver(&url, CALLBACK_RETRY, deadline).await;
                self.record_odd_callback(&url, false, Some(odd), advanced, received, before);
            }
        }
    }

    /// Delivers one callback and records it.
    async fn send(
        &mut self,
        location: &str,
        forged: bool,
        advanced: u64,
        window: Duration,
        deadline: tokio::time::Instant,
    ) {
        let before = self.last_exchange();
        let received = deliver(location, window, deadline).await;
        self.record_callback(location, forged, advanced, received, before);
    }
}

/// GETs the callback on the client's listener, retrying while it is not up yet, for at most
/// `window` (and never past `deadline`). `localhost` is tried as 127.0.0.1, then as ::1.
async fn deliver(location: &str, window: Duration, deadline: tokio::time::Instant) -> bool {
    let targets = [
        location.replacen("://localhost:", "://127.0.0.1:", 1),
        location.replacen("://localhost:", "://[::1]:", 1),
    ];
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap_or_default();
    let give_up = (tokio::time::Instant::now() + window).min(deadline);
    loop {
        let mut connect_failed = true;
        for target in &targets {
            match http.get(target).send().await {
                Ok(_) => return true,
                Err(e) if e.is_connect() => {}
                Err(_) => connect_failed = false,
            }
        }
        if !connect_failed || tokio::time::Instant::now() >= give_up {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The `BROWSER` executable: appends its argument to `opened` and returns at once.
pub(crate) fn write_browser(path: &Path, opened: &Path) -> std::io::Result<()> {
    let quoted = opened.display().to_string().replace('\'', "'\\''");
    std::fs::write(
        path,
        format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{quoted}'\n"),
    )?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// Lines appended to `file` since the last call (bytes decoded leniently: a stray byte
/// must not hide the URLs after it).
fn new_lines(file: &Path, seen: &mut usize) -> Vec<String> {
    let bytes = std::fs::read(file).unwrap_or_default();
    let complete = bytes
        .iter()
        .rposition(|b| *b == b'\n')
        .map(|i| &bytes[..=i])
        .unwrap_or(&[]);
    let text = String::from_utf8_lossy(complete);
    let lines: Vec<String> = text.lines().skip(*seen).map(str::to_owned).collect();
    *seen += lines.len();
    lines.into_iter().filter(|l| !l.trim().is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::TempDir;

    #[test]
    fn only_complete_new_lines_of_the_browser_log_are_read() {
        let dir = TempDir::new("lines").expect("tmp dir");
        let file = dir.path.join("opened");
        let mut seen = 0;
        assert!(new_lines(&file, &mut seen).is_empty(), "no file yet");
        std::fs::write(&file, "http://a\nhttp://b").expect("write");
        assert_eq!(
            new_lines(&file, &mut seen),
            vec!["http://a".to_owned()],
            "a line without its newline waits"
        );
        std::fs::write(&file, "http://a\nhttp://b\n").expect("write");
        assert_eq!(new_lines(&file, &mut seen), vec!["http://b".to_owned()]);
        assert!(new_lines(&file, &mut seen).is_empty());
    }
}
