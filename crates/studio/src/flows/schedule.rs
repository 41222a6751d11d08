//! Schedule starts: when a scheduled flow is next due. Intervals count
//! from the last tick (a restart does not run it early); cron lines are
//! read in this machine's local time, as cron does, and a tick missed
//! while nothing ran is not made up.

use super::model::ScheduleParams;
use chrono::{DateTime, Local, Utc};
use serde::{Deserialize, Serialize};

/// What a schedule remembers between ticks (saved in SQLite).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ScheduleState {
    /// The time of the last tick that finished.
    pub last: Option<String>,
    /// A tick started and not finished (run again under the same time).
    pub pending: Option<String>,
}

/// A tick's time as the flow's templates and keys see it (as Salesforce
/// writes date-times).
pub fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A cron line read as cron reads it (five fields, or six with seconds).
pub fn cron(line: &str) -> Result<croner::Cron, String> {
    line.parse::<croner::Cron>().map_err(|e| e.to_string())
}

/// When the schedule is next due: now when a tick is pending or never
/// ran, else the interval after the last tick (now at the latest), or the
/// cron line's next time after both the last tick and now.
pub fn next_tick(p: &ScheduleParams, state: &ScheduleState, now: DateTime<Utc>) -> DateTime<Utc> {
    if state.pending.is_some() {
        return now;
    }
    let last = state.last.as_deref().and_then(parse);
    if let Some(line) = &p.cron {
        let after = last.map_or(now, |l| l.max(now)).with_timezone(&Local);
        return cron(line)
            .ok()
            .and_then(|c| c.find_next_occurrence(&after, false).ok())
            .map_or(now + chrono::Duration::days(1), |t| t.with_timezone(&Utc));
    }
    let every = p
        .every_seconds
        .or(p.every_minutes.map(|m| m * 60))
        .or(p.every_hours.map(|h| h * 3600))
        .unwrap_or(60);
    match last {
        Some(l) => (l + chrono::Duration::seconds(every as i64)).max(now),
        None => now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every(seconds: u64) -> ScheduleParams {
        ScheduleParams {
            every_seconds: Some(seconds),
            every_minutes: None,
            every_hours: None,
            cron: None,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        parse(s).unwrap()
    }

    #[test]
    fn an_interval_counts_from_the_last_tick_and_a_pending_tick_runs_now() {
        let now = at("2026-11-30T10:00:00.000+0000");
        let p = every(600);
        assert_eq!(next_tick(&p, &ScheduleState::default(), now), now);
        let ran = ScheduleState {
            last: Some("2026-11-30T09:55:00.000+0000".into()),
            pending: None,
        };
        assert_eq!(next_tick(&p, &ran, now), at("2026-11-30T10:05:00.000+0000"));
        let long_ago = ScheduleState {
            last: Some("2026-11-29T09:55:00.000+0000".into()),
            pending: None,
        };
        assert_eq!(next_tick(&p, &long_ago, now), now, "no catching up");
        let cut_short = ScheduleState {
            pending: Some("2026-11-30T09:59:00.000+0000".into()),
            ..ran
        };
        assert_eq!(next_tick(&p, &cut_short, now), now);
    }

    #[test]
    fn a_cron_line_gives_its_next_time_after_the_last_tick() {
        let p = ScheduleParams {
            cron: Some("*/15 * * * *".into()),
            ..every(1)
        };
        let p = ScheduleParams {
            every_seconds: None,
            ..p
        };
        let now = at("2026-11-30T10:07:00.000+0000");
        let next = next_tick(&p, &ScheduleState::default(), now);
        // Quarter hours are quarter hours in every time zone in use here.
        assert_eq!(next, at("2026-11-30T10:15:00.000+0000"));
        let ran = ScheduleState {
            last: Some("2026-11-30T10:15:00.000+0000".into()),
            pending: None,
        };
        assert_eq!(
            next_tick(&p, &ran, at("2026-11-30T10:15:00.200+0000")),
            at("2026-11-30T10:30:00.000+0000"),
            "never the same tick twice"
        );
        assert!(cron("61 * * * *").is_err());
    }
}
