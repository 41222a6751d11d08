//! Field values as the org stores them, and Salesforce's text formats for them.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Val {
    Null,
    Bool(bool),
    Num(f64),
    Str(Box<str>),
    /// Days since 1970-01-01.
    Date(i32),
    /// Milliseconds since the epoch, UTC.
    DateTime(i64),
}

impl Val {
    pub fn str(s: impl Into<String>) -> Val {
        Val::Str(s.into().into_boxed_str())
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }
}

pub fn format_datetime(ms: i64) -> String {
    let dt = Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    dt.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

pub fn format_date(days: i32) -> String {
    let d = NaiveDate::from_num_days_from_ce_opt(days + EPOCH_DAYS_FROM_CE).unwrap_or_default();
    d.format("%Y-%m-%d").to_string()
}

const EPOCH_DAYS_FROM_CE: i32 = 719_163;

pub fn date_to_days(d: NaiveDate) -> i32 {
    d.num_days_from_ce() - EPOCH_DAYS_FROM_CE
}

pub fn days_to_date(days: i32) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(days + EPOCH_DAYS_FROM_CE).unwrap_or_default()
}

pub fn ms_to_days(ms: i64) -> i32 {
    ms.div_euclid(86_400_000) as i32
}

pub fn days_to_ms(days: i32) -> i64 {
    days as i64 * 86_400_000
}

/// Parses the date-time forms Salesforce accepts: `2024-01-31T09:15:00Z`,
/// `…00.000Z`, `…00.000+0000`, `…00+01:00`; a bare date means midnight UTC.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_millis());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.timestamp_millis());
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    if s.len() == 10 {
        parse_date(s).map(days_to_ms)
    } else {
        None
    }
}

/// A date, or the day of a full date-time.
pub fn parse_date(s: &str) -> Option<i32> {
    let s = s.trim();
    if s.len() == 10 {
        return NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(date_to_days);
    }
    parse_datetime(s).map(ms_to_days)
}

/// Numbers as Salesforce prints them (`42` for int fields, `1500.0` or
/// `12.5` for the others), written in place.
pub fn push_number(out: &mut String, n: f64, integer: bool) {
    use std::fmt::Write;
    if integer {
        let _ = write!(out, "{}", n as i64);
    } else if n.fract() == 0.0 && n.abs() < 1e15 {
        let _ = write!(out, "{n:.1}");
    } else {
        let _ = write!(out, "{n}");
    }
}

pub fn format_number(n: f64, integer: bool) -> String {
    let mut s = String::new();
    push_number(&mut s, n, integer);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_formats() {
        let ms = parse_datetime("2024-01-31T09:15:00Z").unwrap();
        assert_eq!(format_datetime(ms), "2024-01-31T09:15:00.000+0000");
        assert_eq!(parse_datetime("2024-01-31T10:15:00+01:00"), Some(ms));
        assert_eq!(parse_datetime("2024-01-31T09:15:00.000+0000"), Some(ms));
        assert_eq!(
            parse_date("2024-01-31").map(format_date).as_deref(),
            Some("2024-01-31")
        );
        assert_eq!(parse_date("2024-13-31"), None);
        assert_eq!(format_number(42.0, true), "42");
        assert_eq!(format_number(1500.0, false), "1500.0");
        assert_eq!(format_number(12.5, false), "12.5");
        assert_eq!(parse_date("2024-01-31T10:00:00Z"), parse_date("2024-01-31"));
        assert_eq!(parse_datetime("2024-01-31T09:15:00.000 0000"), None);
        assert_eq!(parse_date("2024-01-31Tgarbage"), None);
    }
}
