//! Every way Roster writes or reads a time, in one place. Times are UNIX milliseconds inside
//! Roster; each face writes them as its vendor does.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

fn from_ms(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

fn to_ms(at: OffsetDateTime) -> Option<i64> {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// UNIX milliseconds as PDS writes drive, domain and audit times: `2019-08-20T06:51:27.292Z`.
pub fn iso8601_ms(ms: i64) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    from_ms(ms)
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// UNIX seconds as RFC 3339 (`2026-11-23T19:27:46Z`), as token answers write expiry times.
pub fn rfc3339_s(unix_seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix_seconds)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// An RFC 3339 time (`2026-11-23T19:27:46Z`, fraction and offset allowed) in milliseconds.
pub fn parse_rfc3339_ms(value: &str) -> Option<i64> {
    to_ms(OffsetDateTime::parse(value, &Rfc3339).ok()?)
}

/// `2026-11-24T03:15:00` (UTC, as PDS queries write it), with optional fraction and `Z` or
/// offset, in milliseconds.
pub fn parse_utc_ms(value: &str) -> Option<i64> {
    let at = OffsetDateTime::parse(value, &Rfc3339).ok().or_else(|| {
        let format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
        );
        PrimitiveDateTime::parse(value.trim_end_matches('Z'), &format)
            .ok()
            .map(PrimitiveDateTime::assume_utc)
    })?;
    to_ms(at)
}

/// `yyyy-MM-dd HH:mm:ss` UTC, as eds-user writes times.
pub fn eds_datetime(ms: i64) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    from_ms(ms)
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

/// Why a time parameter was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadTime {
    /// Not written in the expected form.
    WrongFormat,
    /// A well-formed time too far from the epoch for milliseconds in an `i64`.
    OutOfRange,
}

/// `yyyy-MM-dd HH:mm:ss` or `yyyy-MM-dd` (UTC), as eds-user parameters write times, in
/// milliseconds.
pub fn parse_eds_datetime(value: &str) -> Result<i64, BadTime> {
    let full = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let day = format_description!("[year]-[month]-[day]");
    let parsed = PrimitiveDateTime::parse(value.trim(), full).or_else(|_| {
        time::Date::parse(value.trim(), day).map(|d| d.with_time(time::Time::MIDNIGHT))
    });
    let at = parsed.map_err(|_| BadTime::WrongFormat)?;
    to_ms(at.assume_utc()).ok_or(BadTime::OutOfRange)
}

/// `yyyyMMdd'T'HHmmss'Z'` (UTC, KooDrive's `X-Date`) in milliseconds.
pub fn parse_compact_utc(value: &str) -> Option<i64> {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    to_ms(
        PrimitiveDateTime::parse(value.trim(), &format)
            .ok()?
            .assume_utc(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pds_times_are_iso8601_with_milliseconds() {
        assert_eq!(iso8601_ms(1_566_283_887_292), "2019-08-20T06:51:27.292Z");
        assert_eq!(iso8601_ms(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn rfc3339_round_trips_whole_seconds() {
        assert_eq!(rfc3339_s(1), "1970-01-01T00:00:01Z");
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(parse_rfc3339_ms("yesterday"), None);
    }

    #[test]
    fn utc_queries_take_fractions_and_an_optional_z() {
        assert_eq!(parse_utc_ms("1970-01-01T00:00:01"), Some(1000));
        assert_eq!(parse_utc_ms("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(parse_utc_ms("1970-01-01"), None);
    }

    #[test]
    fn eds_times_round_trip() {
        let ms = parse_eds_datetime("2030-01-02 03:04:05").unwrap();
        assert_eq!(eds_datetime(ms), "2030-01-02 03:04:05");
        let day = parse_eds_datetime("2030-01-02").unwrap();
        assert_eq!(eds_datetime(day), "2030-01-02 00:00:00");
        assert_eq!(parse_eds_datetime("tomorrow"), Err(BadTime::WrongFormat));
    }

    #[test]
    fn koodrive_dates_are_compact() {
        assert_eq!(parse_compact_utc("19700101T000001Z"), Some(1000));
        assert_eq!(parse_compact_utc("1970-01-01T00:00:01Z"), None);
    }
}
