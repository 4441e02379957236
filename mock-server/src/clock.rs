//! The mock's clock: the one place that reads the system time.
//!
//! Every expiry decision asks [`Clock::now`]. In `real` mode time follows the system clock
//! plus whatever the control API added; in `frozen` mode it stands still at the start time
//! and moves only when [`Clock::advance`] is called. Either way, tests move time forward
//! instead of sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How the mock's time moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMode {
    /// System time plus the advanced offset.
    Real,
    /// Fixed at the start time plus the advanced offset.
    Frozen,
}

impl std::str::FromStr for ClockMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "real" => Ok(Self::Real),
            "frozen" => Ok(Self::Frozen),
            other => Err(format!(
                "unknown clock mode `{other}`: use `real` or `frozen`"
            )),
        }
    }
}

impl ClockMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Real => "real",
            Self::Frozen => "frozen",
        }
    }
}

/// A point on the mock's clock, in milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub u64);

impl Instant {
    pub fn plus_secs(self, secs: u64) -> Self {
        Self(self.0.saturating_add(secs.saturating_mul(1000)))
    }
    /// Whole seconds from `earlier` to `self`, rounded up; zero when `earlier` is later.
    pub fn secs_since(self, earlier: Instant) -> u64 {
        self.0.saturating_sub(earlier.0).div_ceil(1000)
    }
    pub fn unix_secs(self) -> u64 {
        self.0 / 1000
    }
    /// RFC 3339, UTC, second precision (seconds since the epoch past year 9999).
    pub fn rfc3339(self) -> String {
        if self.0 > LAST_RFC3339_MS {
            return format!("{}s", self.unix_secs());
        }
        let t = UNIX_EPOCH + Duration::from_millis(self.0);
        humantime::format_rfc3339_seconds(t).to_string()
    }
    /// The calendar year (UTC) this instant falls in (H. Hinnant's civil-from-days).
    pub fn year(self) -> i64 {
        let z = (self.0 / 86_400_000) as i64 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        yoe + era * 400 + i64::from(month <= 2)
    }
    /// RFC 1123 in GMT, as HTTP's `Date` (none past year 9999).
    pub fn http_date(self) -> Option<String> {
        (self.0 <= LAST_RFC3339_MS)
            .then(|| httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(self.0)))
    }
}

impl Instant {
    /// For people: `23 Nov 2026, 15:41:46 UTC` (pages put it in a `<time>` that does not
    /// wrap).
    pub fn human(self) -> String {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let iso = self.rfc3339();
        let parts = (
            iso.get(0..4),
            iso.get(5..7).and_then(|m| m.parse::<usize>().ok()),
            iso.get(8..10),
            iso.get(11..19),
        );
        match parts {
            (Some(year), Some(month @ 1..=12), Some(day), Some(time)) => format!(
                "{} {} {year}, {time} UTC",
                day.trim_start_matches('0'),
                MONTHS[month - 1]
            ),
            _ => iso,
        }
    }
}

/// 9999-12-31T23:59:59Z, the last instant RFC 3339 can write.
const LAST_RFC3339_MS: u64 = 253_402_300_799_000;

/// The most [`Clock::advance`] may add in all: a century.
pub const MAX_OFFSET: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// The injected clock. Cheap to share: all state is atomic.
#[derive(Debug)]
pub struct Clock {
    mode: ClockMode,
    /// For `Frozen`: the start time. For `Real`: unused.
    start_ms: u64,
    /// Milliseconds added by [`Clock::advance`].
    offset_ms: AtomicU64,
    /// When the clock was made, on the monotonic real clock: for measuring how much real
    /// time passed between requests (a client honouring `Retry-After`), never for expiry.
    started: std::time::Instant,
}

impl Clock {
    pub fn new(mode: ClockMode) -> Self {
        Self {
            mode,
            start_ms: system_ms(),
            offset_ms: AtomicU64::new(0),
            started: std::time::Instant::now(),
        }
    }

    /// A frozen clock starting at a given instant (tests and snapshots).
    pub fn frozen_at(start: Instant) -> Self {
        Self {
            mode: ClockMode::Frozen,
            start_ms: start.0,
            offset_ms: AtomicU64::new(0),
            started: std::time::Instant::now(),
        }
    }

    pub fn mode(&self) -> ClockMode {
        self.mode
    }

    pub fn now(&self) -> Instant {
        let base = match self.mode {
            ClockMode::Real => system_ms(),
            ClockMode::Frozen => self.start_ms,
        };
        Instant(base.saturating_add(self.offset_ms.load(Ordering::Relaxed)))
    }

    /// Moves time forward (never backwards). Refused, moving nothing, when the total offset
    /// would pass [`MAX_OFFSET`].
    pub fn advance(&self, by: Duration) -> Result<Instant, Duration> {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        let max = u64::try_from(MAX_OFFSET.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |cur| {
                cur.checked_add(ms).filter(|n| *n <= max)
            })
            .map_err(|_| MAX_OFFSET)?;
        Ok(self.now())
    }

    /// Real milliseconds since the clock was made (monotonic; unaffected by `advance`).
    pub fn uptime_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub fn offset(&self) -> Duration {
        Duration::from_millis(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Back to no offset (used by `/__mock/reset`).
    pub fn reset(&self) {
        self.offset_ms.store(0, Ordering::Relaxed);
    }
}

/// The only read of the system (wall) clock in the crate.
fn system_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_when_advanced() {
        let clock = Clock::frozen_at(Instant(1_000_000));
        assert_eq!(clock.now(), Instant(1_000_000));
        assert_eq!(
            clock.advance(Duration::from_secs(61)),
            Ok(Instant(1_061_000))
        );
        assert_eq!(clock.now(), Instant(1_061_000));
        assert!(clock.advance(MAX_OFFSET).is_err(), "past a century in all");
        assert_eq!(
            clock.now(),
            Instant(1_061_000),
            "a refused advance moves nothing"
        );
        clock.reset();
        assert_eq!(clock.now(), Instant(1_000_000));
    }

    #[test]
    fn far_future_instants_still_print() {
        assert_eq!(Instant(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(Instant(u64::MAX).rfc3339(), format!("{}s", u64::MAX / 1000));
    }

    #[test]
    fn years_follow_the_calendar() {
        for (iso_ms, year) in [
            (0, 1970),
            (1_735_689_599_000, 2024), // 2024-12-31T23:59:59Z
            (1_735_689_600_000, 2025), // 2025-01-01T00:00:00Z
            (951_782_400_000, 2000),   // 2000-02-29
            (253_402_300_799_000, 9999),
        ] {
            assert_eq!(
                Instant(iso_ms).year(),
                year,
                "{}",
                Instant(iso_ms).rfc3339()
            );
        }
    }

    #[test]
    fn secs_since_rounds_up() {
        assert_eq!(Instant(61_001).secs_since(Instant(0)), 62);
        assert_eq!(Instant(0).secs_since(Instant(5)), 0);
    }
}
