//! Dates as Vietnamese sites, forums and machines print them, read into UTC. One pure
//! function for every extractor (list pages, articles, forum posts): machine forms
//! (RFC 3339, RFC 2822, ISO with or without a zone), numeric local forms
//! (`28/12/2012 14:46`, `14h46 ngày 28/12/2012`, `14/12/12 at 16:18`), written-out ones
//! (`Thứ sáu, 28/12/2012, 14:46 GMT+7`, `28 tháng 12, 2012`, `Ngày 10 tháng 6 năm 2024`,
//! `10 Tháng 6 '24`, `Jun 10, 2024, 1:47 AM`) and relative ones (`vừa xong`,
//! `5 phút trước`, `2 giờ trước`, `Hôm qua lúc 10:30`, `Thứ hai lúc 9:00`,
//! `3 ngày trước`, `Today at 9:02 AM`, `2 hours ago`). Local times are read in the
//! configured timezone unless the text names its own offset (`GMT+7`, `UTC`); relative
//! ones count back from `now`, the fetch time. No I/O, no clock unless asked
//! ([`parse_date`] takes the current time; [`parse_date_at`] is given it).

use std::sync::LazyLock;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, Months, NaiveDate, NaiveDateTime, NaiveTime,
    TimeZone, Utc, Weekday,
};
use regex::{Captures, Regex};

/// [`parse_date_at`] relative to the current time.
pub fn parse_date(text: &str, format: Option<&str>, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    parse_date_at(text, format, tz, Utc::now())
}

/// Read a date written by people or machines. With `format` (chrono `strftime`), that
/// format first (a date-only format gives midnight); then the forms listed in the module
/// documentation. Relative forms count back from `now`; local times are in `tz` unless the
/// text gives an offset. `None` when nothing in the text reads as a date.
pub fn parse_date_at(
    text: &str,
    format: Option<&str>,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Some(f) = format {
        if let Ok(d) = DateTime::parse_from_str(t, f) {
            return Some(d.with_timezone(&Utc));
        }
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return local(tz, n);
        }
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            return local(tz, d.and_hms_opt(0, 0, 0)?);
        }
        // The format may describe only part of the text ("Cập nhật: 12/03/2024 08:15").
    }
    machine(t, tz).or_else(|| {
        let lower = t.to_lowercase();
        let zone = Zone::of(&lower, tz);
        relative(&lower, zone, now)
            .or_else(|| numeric(&lower, zone))
            .or_else(|| worded(&lower, zone))
            .or_else(|| day_month_only(&lower, zone, now))
    })
}

fn re(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

fn local(tz: chrono_tz::Tz, n: NaiveDateTime) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&n)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
}

/// The zone local times in a text are read in: the configured one, or the offset the text
/// names (`GMT+7`, `UTC+07:00`, `(UTC)`).
#[derive(Clone, Copy)]
enum Zone {
    Named(chrono_tz::Tz),
    Fixed(FixedOffset),
}

impl Zone {
    fn of(lower: &str, tz: chrono_tz::Tz) -> Zone {
        static OFFSET: LazyLock<Option<Regex>> =
            LazyLock::new(|| re(r"\b(?:gmt|utc)\s*(?:([+-])\s*(\d{1,2})(?::?(\d{2}))?)?(?:\b|$)"));
        let Some(c) = OFFSET.as_ref().and_then(|r| r.captures(lower)) else {
            return Zone::Named(tz);
        };
        let sign = if c.get(1).is_some_and(|s| s.as_str() == "-") {
            -1
        } else {
            1
        };
        let hours: i32 = c.get(2).and_then(|m| m.as_str().parse().ok()).unwrap_or(0);
        let minutes: i32 = c.get(3).and_then(|m| m.as_str().parse().ok()).unwrap_or(0);
        match FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60)) {
            Some(o) if hours <= 14 => Zone::Fixed(o),
            _ => Zone::Named(tz),
        }
    }

    fn to_utc(self, n: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self {
            Zone::Named(tz) => local(tz, n),
            Zone::Fixed(o) => o
                .from_local_datetime(&n)
                .single()
                .map(|d| d.with_timezone(&Utc)),
        }
    }

    /// The local calendar day of `now`.
    fn today(self, now: DateTime<Utc>) -> NaiveDate {
        match self {
            Zone::Named(tz) => now.with_timezone(&tz).date_naive(),
            Zone::Fixed(o) => now.with_timezone(&o).date_naive(),
        }
    }
}

/// RFC 3339, RFC 2822 and ISO 8601 without seconds, without a colon in the offset or
/// without a zone (local).
fn machine(t: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(t) {
        return Some(d.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M%z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(t, f) {
            return Some(d.with_timezone(&Utc));
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return local(tz, n);
        }
    }
    None
}

/// A clock time in the text: `14:46`, `14h46`, `8:15:00 AM`, `10:30 tối`, `08:15 SA`.
fn time_in(lower: &str) -> Option<NaiveTime> {
    static TIME: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(r"(?x)
            (?:^|[^\d/.\-])(\d{1,2})\s*(?::|h|g)\s*(\d{2})(?:\s*:\s*(\d{2}))?
            \s*(am|pm|a\.m\.|p\.m\.|sa|ch|sáng|trưa|chiều|tối|đêm)?(?:\b|$)")
    });
    let c = TIME.as_ref()?.captures(lower)?;
    clock(&c, 1, 2, 3, 4)
}

/// The time from captures `h`, `m`, `s`, `ap` (12-hour marks shift afternoon hours).
fn clock(c: &Captures<'_>, h: usize, m: usize, s: usize, ap: usize) -> Option<NaiveTime> {
    let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    let (mut hour, minute, second) = (num(h)?, num(m)?, num(s).unwrap_or(0));
    let mark = c.get(ap).map(|m| m.as_str()).unwrap_or("");
    let pm = matches!(mark, "pm" | "p.m." | "ch" | "chiều" | "tối" | "đêm")
        || (mark == "trưa" && hour < 11);
    let am = matches!(mark, "am" | "a.m." | "sa" | "sáng");
    if pm && hour < 12 {
        hour += 12;
    }
    if am && hour == 12 {
        hour = 0;
    }
    NaiveTime::from_hms_opt(hour, minute, second)
}

fn year_of(y: u32) -> i32 {
    if y < 100 { 2000 + y as i32 } else { y as i32 }
}

/// `vừa xong`, `N phút/giờ/ngày/tuần/tháng/năm trước`, `N minutes ago`, `5m`, `hôm nay`,
/// `hôm qua lúc 10:30`, `hôm kia`, `today at 9:02 am`, `yesterday`, `thứ hai lúc 9:00`.
fn relative(lower: &str, zone: Zone, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    static JUST_NOW: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(
            r"^(?:vừa xong|vừa mới|vừa đăng|mới đây|just now|a moment ago|moments ago|vài giây trước|a few seconds ago)\b",
        )
    });
    static AGO: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(r"(?x)(?:^|\s|khoảng\s|about\s)
            (\d+|một|hai|ba|vài|an?|one)\s*
            (giây|phút|giờ|tiếng|ngày|tuần|tháng|năm|seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)
            \s*(?:trước|ago)\b")
    });
    static SHORT: LazyLock<Option<Regex>> = LazyLock::new(|| re(r"^(\d{1,3})\s*(s|m|h|d|w)$"));
    static DAY_WORD: LazyLock<Option<Regex>> =
        LazyLock::new(|| re(r"\b(hôm nay|hôm qua|hôm kia|today|yesterday)\b"));
    if JUST_NOW.as_ref()?.is_match(lower) {
        return Some(now);
    }
    let back = |n: i64, unit: &str| -> Option<DateTime<Utc>> {
        let u = unit.trim_end_matches('s');
        Some(match u {
            "giây" | "second" | "sec" | "" => now - Duration::seconds(n),
            "phút" | "minute" | "min" | "m" => now - Duration::minutes(n),
            "giờ" | "tiếng" | "hour" | "hr" | "h" => now - Duration::hours(n),
            "ngày" | "day" | "d" => now - Duration::days(n),
            "tuần" | "week" | "w" => now - Duration::weeks(n),
            "tháng" | "month" => now.checked_sub_months(Months::new(u32::try_from(n).ok()?))?,
            "năm" | "year" => now.checked_sub_months(Months::new(u32::try_from(n * 12).ok()?))?,
            _ => return None,
        })
    };
    if let Some(c) = AGO.as_ref()?.captures(lower) {
        let n: i64 = match &c[1] {
            "một" | "a" | "an" | "one" => 1,
            "hai" => 2,
            "ba" | "vài" => 3,
            d => d.parse().ok()?,
        };
        return back(n, &c[2]);
    }
    if let Some(c) = SHORT.as_ref()?.captures(lower) {
        let n: i64 = c[1].parse().ok()?;
        return if &c[2] == "s" {
            Some(now - Duration::seconds(n))
        } else {
            back(n, &c[2])
        };
    }
    let today = zone.today(now);
    let time = time_in(lower);
    if let Some(c) = DAY_WORD.as_ref()?.captures(lower) {
        let days_back = match &c[1] {
            "hôm nay" | "today" => 0,
            "hôm qua" | "yesterday" => 1,
            _ => 2,
        };
        if days_back == 0 && time.is_none() {
            return Some(now);
        }
        let day = today - Duration::days(days_back);
        return zone.to_utc(day.and_time(time.unwrap_or(NaiveTime::MIN)));
    }
    // "Thứ hai lúc 9:00" (XenForo, within the last week): the last such day before today.
    let weekday = weekday_in(lower)?;
    let time = time?;
    if has_numeric_date(lower) {
        return None;
    }
    let mut day = today - Duration::days(1);
    for _ in 0..7 {
        if day.weekday() == weekday {
            return zone.to_utc(day.and_time(time));
        }
        day -= Duration::days(1);
    }
    None
}

fn weekday_in(lower: &str) -> Option<Weekday> {
    const DAYS: &[(&str, Weekday)] = &[
        ("thứ hai", Weekday::Mon),
        ("thứ ba", Weekday::Tue),
        ("thứ tư", Weekday::Wed),
        ("thứ năm", Weekday::Thu),
        ("thứ sáu", Weekday::Fri),
        ("thứ bảy", Weekday::Sat),
        ("chủ nhật", Weekday::Sun),
        ("thứ 2", Weekday::Mon),
        ("thứ 3", Weekday::Tue),
        ("thứ 4", Weekday::Wed),
        ("thứ 5", Weekday::Thu),
        ("thứ 6", Weekday::Fri),
        ("thứ 7", Weekday::Sat),
        ("monday", Weekday::Mon),
        ("tuesday", Weekday::Tue),
        ("wednesday", Weekday::Wed),
        ("thursday", Weekday::Thu),
        ("friday", Weekday::Fri),
        ("saturday", Weekday::Sat),
        ("sunday", Weekday::Sun),
    ];
    DAYS.iter()
        .find(|(w, _)| lower.contains(w))
        .map(|(_, d)| *d)
}

fn has_numeric_date(lower: &str) -> bool {
    static D: LazyLock<Option<Regex>> = LazyLock::new(|| re(r"\d{1,2}\s*[/.-]\s*\d{1,2}"));
    D.as_ref().is_some_and(|r| r.is_match(lower))
}

/// `dd/mm/yyyy [hh:mm]`, `dd-mm-yy`, `hh:mm dd/mm/yyyy`, `14h46 ngày 28/12/2012`, and an
/// ISO date inside text (`Cập nhật 2012-12-23 14:02`).
fn numeric(lower: &str, zone: Zone) -> Option<DateTime<Utc>> {
    static ISO_IN_TEXT: LazyLock<Option<Regex>> =
        LazyLock::new(|| re(r"\b(\d{4})-(\d{2})-(\d{2})(?:[t ](\d{2}):(\d{2}))?"));
    static DMY: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(r"(?:^|[^\d])(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4}|\d{2})(?:[^\d]|$)")
    });
    if let Some(c) = ISO_IN_TEXT.as_ref()?.captures(lower) {
        let get = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
        let date = NaiveDate::from_ymd_opt(get(1)? as i32, get(2)?, get(3)?)?;
        return zone.to_utc(date.and_hms_opt(get(4).unwrap_or(0), get(5).unwrap_or(0), 0)?);
    }
    let c = DMY.as_ref()?.captures(lower)?;
    let whole = c.get(0)?;
    let get = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    let date = NaiveDate::from_ymd_opt(year_of(get(3)?), get(2)?, get(1)?)?;
    // The time may sit before or after the date; never read the date's own digits as one.
    let rest = format!(
        "{} {}",
        &lower[..whole.start()],
        &lower[whole.end().min(lower.len())..]
    );
    let time = time_in(&rest).unwrap_or(NaiveTime::MIN);
    zone.to_utc(date.and_time(time))
}

/// Month names: Vietnamese (`tháng 12`, `tháng mười hai`) and English (`Dec`, `December`).
fn month_word(w: &str) -> Option<u32> {
    const EN: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    EN.iter()
        .position(|m| w.starts_with(m))
        .map(|i| i as u32 + 1)
}

/// `ngày 10 tháng 6 năm 2024`, `28 tháng 12, 2012`, `10 tháng 6 '24`, `Jun 10, 2024`,
/// `10 June 2024`, each with an optional clock time anywhere in the text.
fn worded(lower: &str, zone: Zone) -> Option<DateTime<Utc>> {
    static VI: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(r"(\d{1,2})\s+tháng\s+(\d{1,2})\s*(?:,|năm|/)?\s*(?:năm\s+)?('\d{2}|\d{4})\b")
    });
    static EN_MDY: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(
            r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b",
        )
    });
    static EN_DMY: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(
            r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+(\d{4})\b",
        )
    });
    let (date, span) = if let Some(c) = VI.as_ref()?.captures(lower) {
        let y: u32 = c[3].trim_start_matches('\'').parse().ok()?;
        (
            NaiveDate::from_ymd_opt(year_of(y), c[2].parse().ok()?, c[1].parse().ok()?)?,
            c.get(0)?,
        )
    } else if let Some(c) = EN_MDY.as_ref()?.captures(lower) {
        (
            NaiveDate::from_ymd_opt(c[3].parse().ok()?, month_word(&c[1])?, c[2].parse().ok()?)?,
            c.get(0)?,
        )
    } else if let Some(c) = EN_DMY.as_ref()?.captures(lower) {
        (
            NaiveDate::from_ymd_opt(c[3].parse().ok()?, month_word(&c[2])?, c[1].parse().ok()?)?,
            c.get(0)?,
        )
    } else {
        return None;
    };
    let rest = format!("{} {}", &lower[..span.start()], &lower[span.end()..]);
    zone.to_utc(date.and_time(time_in(&rest).unwrap_or(NaiveTime::MIN)))
}

/// `28/12 14:46` or `14:46 28/12` without a year: this year, or last year when that day
/// is still ahead.
fn day_month_only(lower: &str, zone: Zone, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    static DM: LazyLock<Option<Regex>> =
        LazyLock::new(|| re(r"(?:^|[^\d:])(\d{1,2})/(\d{1,2})(?:[^\d/]|$)"));
    let c = DM.as_ref()?.captures(lower)?;
    let whole = c.get(0)?;
    let rest = format!("{} {}", &lower[..whole.start()], &lower[whole.end()..]);
    let time = time_in(&rest)?;
    let today = zone.today(now);
    let (d, m): (u32, u32) = (c[1].parse().ok()?, c[2].parse().ok()?);
    let mut date = NaiveDate::from_ymd_opt(today.year(), m, d)?;
    if date > today {
        date = NaiveDate::from_ymd_opt(today.year() - 1, m, d)?;
    }
    zone.to_utc(date.and_time(time))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HCM: chrono_tz::Tz = chrono_tz::Asia::Ho_Chi_Minh;

    /// Monday 10 June 2024, 12:00 in Hồ Chí Minh City.
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 6, 10, 5, 0, 0)
            .single()
            .expect("now")
    }

    /// Every form the issue names (and the forum engines print), with the timezone.
    #[test]
    fn every_form_in_the_table() {
        let table: &[(&str, chrono_tz::Tz, Option<&str>)] = &[
            // numeric local forms
            ("28/12/2012 14:46", HCM, Some("2012-12-28T07:46:00+00:00")),
            (
                "28/12/2012 14:46",
                chrono_tz::UTC,
                Some("2012-12-28T14:46:00+00:00"),
            ),
            (
                "14h46 ngày 28/12/2012",
                HCM,
                Some("2012-12-28T07:46:00+00:00"),
            ),
            ("08:15 12-03-2024", HCM, Some("2024-03-12T01:15:00+00:00")),
            ("14/12/12 at 16:18", HCM, Some("2012-12-14T09:18:00+00:00")),
            (
                "Thứ Hai, 24/12/2012 - 07:30",
                HCM,
                Some("2012-12-24T00:30:00+00:00"),
            ),
            (
                "Cập nhật thứ hai, ngày 24/12/12 11:05 tối",
                HCM,
                Some("2012-12-24T16:05:00+00:00"),
            ),
            // written out, with and without their own offset
            (
                "Thứ sáu, 28/12/2012, 14:46 GMT+7",
                HCM,
                Some("2012-12-28T07:46:00+00:00"),
            ),
            (
                "Thứ sáu, 28/12/2012, 14:46 GMT+7",
                chrono_tz::UTC,
                Some("2012-12-28T07:46:00+00:00"),
            ),
            (
                "Thứ năm, 20/12/2012, 10:18 (GMT+07:00)",
                chrono_tz::UTC,
                Some("2012-12-20T03:18:00+00:00"),
            ),
            ("28 tháng 12, 2012", HCM, Some("2012-12-27T17:00:00+00:00")),
            (
                "28 tháng 12 năm 2012",
                HCM,
                Some("2012-12-27T17:00:00+00:00"),
            ),
            (
                "Cập nhật ngày 5 tháng 1 năm 2025",
                HCM,
                Some("2025-01-04T17:00:00+00:00"),
            ),
            (
                "08:15 Ngày 10 tháng 6 năm 2024",
                HCM,
                Some("2024-06-10T01:15:00+00:00"),
            ),
            ("10 Tháng 6 '24", HCM, Some("2024-06-09T17:00:00+00:00")),
            (
                "Jun 10, 2024, 1:47:00 AM UTC",
                HCM,
                Some("2024-06-10T01:47:00+00:00"),
            ),
            (
                "June 10, 2024, 08:15:00 PM",
                HCM,
                Some("2024-06-10T13:15:00+00:00"),
            ),
            (
                "10 June 2024",
                chrono_tz::UTC,
                Some("2024-06-10T00:00:00+00:00"),
            ),
            // machine forms
            (
                "2012-12-23T14:02+07:00",
                HCM,
                Some("2012-12-23T07:02:00+00:00"),
            ),
            (
                "2026-09-03T09:02:03+0700",
                HCM,
                Some("2026-09-03T02:02:03+00:00"),
            ),
            (
                "2024-06-10T01:15:00+00:00",
                HCM,
                Some("2024-06-10T01:15:00+00:00"),
            ),
            (
                "Mon, 10 Jun 2024 08:15:00 +0700",
                HCM,
                Some("2024-06-10T01:15:00+00:00"),
            ),
            (
                "2014-10-24T09:00:03",
                HCM,
                Some("2014-10-24T02:00:03+00:00"),
            ),
            ("2012-12-25", HCM, Some("2012-12-24T17:00:00+00:00")),
            // relative to the fetch time (12:00 on Monday 10/6/2024 in Hồ Chí Minh City)
            ("vừa xong", HCM, Some("2024-06-10T05:00:00+00:00")),
            ("Vừa mới", HCM, Some("2024-06-10T05:00:00+00:00")),
            ("5 phút trước", HCM, Some("2024-06-10T04:55:00+00:00")),
            (
                "khoảng 1 tiếng trước",
                HCM,
                Some("2024-06-10T04:00:00+00:00"),
            ),
            ("2 giờ trước", HCM, Some("2024-06-10T03:00:00+00:00")),
            ("3 ngày trước", HCM, Some("2024-06-07T05:00:00+00:00")),
            ("1 tuần trước", HCM, Some("2024-06-03T05:00:00+00:00")),
            ("2 tháng trước", HCM, Some("2024-04-10T05:00:00+00:00")),
            ("Hôm nay lúc 09:02", HCM, Some("2024-06-10T02:02:00+00:00")),
            ("Hôm qua lúc 10:30", HCM, Some("2024-06-09T03:30:00+00:00")),
            (
                "Hôm qua lúc 10:30",
                chrono_tz::UTC,
                Some("2024-06-09T10:30:00+00:00"),
            ),
            ("Hôm qua, 08:15 PM", HCM, Some("2024-06-09T13:15:00+00:00")),
            ("hôm qua", HCM, Some("2024-06-08T17:00:00+00:00")),
            ("Hôm kia lúc 7:00", HCM, Some("2024-06-08T00:00:00+00:00")),
            ("Thứ sáu lúc 14:46", HCM, Some("2024-06-07T07:46:00+00:00")),
            (
                "Chủ nhật lúc 9:00 SA",
                HCM,
                Some("2024-06-09T02:00:00+00:00"),
            ),
            ("Today at 9:02 AM", HCM, Some("2024-06-10T02:02:00+00:00")),
            (
                "Yesterday at 10:30 PM",
                HCM,
                Some("2024-06-09T15:30:00+00:00"),
            ),
            ("2 hours ago", HCM, Some("2024-06-10T03:00:00+00:00")),
            ("a minute ago", HCM, Some("2024-06-10T04:59:00+00:00")),
            ("5m", HCM, Some("2024-06-10T04:55:00+00:00")),
            ("2h", HCM, Some("2024-06-10T03:00:00+00:00")),
            ("28/12 14:46", HCM, Some("2023-12-28T07:46:00+00:00")),
            ("09/06 20:05", HCM, Some("2024-06-09T13:05:00+00:00")),
            // not dates
            ("Trả lời", HCM, None),
            ("#14", HCM, None),
            ("", HCM, None),
        ];
        let mut wrong = Vec::new();
        for (text, tz, want) in table {
            let got = parse_date_at(text, None, *tz, now()).map(|d| d.to_rfc3339());
            if got.as_deref() != *want {
                wrong.push(format!("{text:?} in {tz}: got {got:?}, want {want:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn an_explicit_format_comes_first() {
        let got = parse_date_at("10/06/2024 08.15", Some("%d/%m/%Y %H.%M"), HCM, now());
        assert_eq!(
            got.map(|d| d.to_rfc3339()).as_deref(),
            Some("2024-06-10T01:15:00+00:00")
        );
        // US order when the site says so
        let got = parse_date_at("06/10/2024", Some("%m/%d/%Y"), HCM, now());
        assert_eq!(
            got.map(|d| d.to_rfc3339()).as_deref(),
            Some("2024-06-09T17:00:00+00:00")
        );
    }
}
