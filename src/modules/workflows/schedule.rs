//! Cron schedules of `trigger.schedule` nodes (parsed by `croner`).

use std::str::FromStr;

use chrono::{DateTime, Utc};

/// A parsed schedule: the cron pattern and its time zone.
pub struct Schedule {
    cron: croner::Cron,
    tz: chrono_tz::Tz,
}

/// Parses `cron` (5 fields, or 6 with seconds) in `timezone` (IANA name, default UTC).
pub fn parse(cron: &str, timezone: Option<&str>) -> Result<Schedule, String> {
    let tz = match timezone {
        None | Some("") => chrono_tz::UTC,
        Some(name) => chrono_tz::Tz::from_str(name).map_err(|_| format!("unknown time zone `{name}`"))?,
    };
    let cron = croner::Cron::from_str(cron).map_err(|e| e.to_string())?;
    Ok(Schedule { cron, tz })
}

impl Schedule {
    /// The first time strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&self.tz);
        self.cron.find_next_occurrence(&local, false).ok().map(|t| t.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_occurrences() {
        let s = parse("*/15 * * * *", None).unwrap();
        let t = DateTime::parse_from_rfc3339("2026-11-21T10:07:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(s.next_after(t).unwrap().to_rfc3339(), "2026-11-21T10:15:00+00:00");
        let oslo = parse("0 9 * * *", Some("Europe/Oslo")).unwrap();
        assert_eq!(oslo.next_after(t).unwrap().to_rfc3339(), "2026-11-22T08:00:00+00:00");
        assert!(parse("not a cron", None).is_err());
        assert!(parse("* * * * *", Some("Mars/Base")).is_err());
    }
}
