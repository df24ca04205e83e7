//! Recognising and converting the timestamps found in log headers and fields.
//!
//! The parser is not a list of formats: it reads the digit groups, month names and separators
//! of a header's time tokens and assigns them to year, month, day, hour, minute, second and
//! fraction by their shape. Timestamps without a year (syslog, logcat, klog) are recognised
//! as timestamps but not converted, because guessing the year would store a wrong instant.

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Returns the month number (1..=12) of an English month name or its three-letter abbreviation.
pub fn month_number(word: &str) -> Option<u32> {
    let bytes = word.as_bytes();
    // Every month name starts with a letter: most tokens are rejected on their first byte.
    // (Non-ASCII words never match: the names are ASCII and compared byte by byte.)
    if bytes.len() < 3 || bytes.len() > 9 || !bytes[0].is_ascii_alphabetic() {
        return None;
    }
    let key = [
        bytes[0].to_ascii_lowercase(),
        bytes[1].to_ascii_lowercase(),
        bytes[2].to_ascii_lowercase(),
    ];
    let index = match &key {
        b"jan" => 0,
        b"feb" => 1,
        b"mar" => 2,
        b"apr" => 3,
        b"may" => 4,
        b"jun" => 5,
        b"jul" => 6,
        b"aug" => 7,
        b"sep" => 8,
        b"oct" => 9,
        b"nov" => 10,
        b"dec" => 11,
        _ => return None,
    };
    debug_assert_eq!(MONTHS[index].as_bytes(), key);
    if word.len() == 3 || full_month_name(index).eq_ignore_ascii_case(word) {
        return u32::try_from(index + 1).ok();
    }
    None
}

fn full_month_name(index: usize) -> &'static str {
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ][index]
}

/// True for `Mon`, `Tue`, ... (abbreviated weekday names).
pub fn is_weekday(word: &str) -> bool {
    let bytes = word.as_bytes();
    if bytes.len() != 3 || !bytes[0].is_ascii_alphabetic() {
        return false;
    }
    let key = [
        bytes[0].to_ascii_lowercase(),
        bytes[1].to_ascii_lowercase(),
        bytes[2].to_ascii_lowercase(),
    ];
    matches!(
        &key,
        b"mon" | b"tue" | b"wed" | b"thu" | b"fri" | b"sat" | b"sun"
    )
}

/// True when a header token looks like a date, a time, a date-time or a part of one.
pub fn is_time_token(token: &str) -> bool {
    let token = token.trim_end_matches(',');
    if token.is_empty() {
        return false;
    }
    if month_number(token).is_some() || is_weekday(token) {
        return true;
    }
    let bytes = token.as_bytes();
    if !bytes[0].is_ascii_digit() {
        return false;
    }
    let mut digits = 0usize;
    let mut separators = 0usize;
    let mut colons = 0usize;
    let mut letters = 0usize;
    for &byte in bytes {
        match byte {
            b'0'..=b'9' => digits += 1,
            b':' => {
                colons += 1;
                separators += 1;
            }
            b'-' | b'/' | b'.' | b',' | b'+' => separators += 1,
            b'T' | b'Z' => letters += 1,
            _ if byte.is_ascii_alphabetic() => {
                // 10/Oct/2000 style dates carry a month name inside.
                letters += 1;
            }
            _ => return false,
        }
    }
    if letters > 0 {
        return parse_parts(token).is_some_and(|p| p.month.is_some() && p.day.is_some());
    }
    if separators == 0 {
        // 20171223 (compact date) or epoch seconds / milliseconds.
        return digits == 8 && looks_like_compact_date(token) || digits == 10 || digits == 13;
    }
    if colons >= 1 {
        // 18:01:47,978 or 20171223-22:15:29:606 or 2015-10-18T18:01:47
        // (The part before the first `:` is not empty: the token starts with a digit.)
        // Minutes (one or two digits) follow the first `:`; `10.0.0.5:8080` is an address.
        let colon = token.find(':').unwrap_or(0);
        let minutes = bytes[colon + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let dots_before = bytes[..colon].iter().filter(|&&b| b == b'.').count();
        return digits >= 4 && (1..=2).contains(&minutes) && dots_before < 3;
    }
    // 2015-10-18, 17/06/09, 2005.06.03, 03-17, 2005-06-03-15.42.50.675872: the groups between
    // `-`, `/`, `.` and `,` (one pass over the bytes, as `split` on those would give them).
    let mut count = 0usize;
    let mut four_digit_years = 0usize;
    let mut shaped = true;
    let mut group_len = 0usize;
    for index in 0..=bytes.len() {
        if index < bytes.len() && !matches!(bytes[index], b'-' | b'/' | b'.' | b',') {
            group_len += 1;
            continue;
        }
        if group_len == 0 {
            return false;
        }
        if count < 3 {
            shaped &= group_len == 2 || group_len == 4;
            four_digit_years += usize::from(group_len == 4);
        } else {
            shaped &= group_len <= 9;
        }
        count += 1;
        if count > 7 {
            return false;
        }
        group_len = 0;
    }
    count >= 2 && shaped && four_digit_years <= 1
}

fn looks_like_compact_date(token: &str) -> bool {
    let year: u32 = token[..4].parse().unwrap_or(0);
    let month: u32 = token[4..6].parse().unwrap_or(0);
    let day: u32 = token[6..8].parse().unwrap_or(0);
    (1970..=2100).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// The pieces of a timestamp found in a piece of text.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TimeParts {
    pub year: Option<i32>,
    pub month: Option<u32>,
    pub day: Option<u32>,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
    /// Offset from UTC in seconds when the text names one.
    pub offset_seconds: Option<i32>,
    pub has_time: bool,
    /// The byte ranges of the text read as the second and as its fraction: nothing but their
    /// values depends on their digits (see [`Linear`]).
    pub(crate) second_span: Option<(usize, usize)>,
    pub(crate) fraction_span: Option<(usize, usize)>,
}

/// Where a converted time text holds its seconds and fraction. The parser's choices depend on
/// the lengths and separators of a text's digit groups, never on these two groups' digits,
/// which only add to the instant: so a text that differs from a converted one only in those
/// digits converts to the same instant shifted by the difference (see [`Linear::shift`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Linear {
    second: Option<(usize, usize)>,
    fraction: Option<(usize, usize)>,
    /// The text names no full date (syslog, logcat): it converts to nothing, whatever the
    /// digits of its seconds.
    dateless: bool,
}

impl Linear {
    /// What [`parse_to_nanos`] returns for `text`, given that it returned `nanos` for
    /// `converted`, whose spans these are; `None` when `text` differs elsewhere (then it must
    /// be converted itself). The inner `None` is an invalid second, as the parser has it.
    pub fn shift(&self, converted: &str, nanos: Option<i64>, text: &str) -> Option<Option<i64>> {
        let (old, new) = (converted.as_bytes(), text.as_bytes());
        if old.len() != new.len() || (self.second.is_none() && self.fraction.is_none()) {
            return None;
        }
        // Every byte outside the two spans is the same; inside them, digits only.
        let mut from = 0;
        for (start, end) in [self.second, self.fraction].into_iter().flatten() {
            if start < from
                || old[from..start] != new[from..start]
                || !new[start..end].iter().all(u8::is_ascii_digit)
            {
                return None;
            }
            from = end;
        }
        if old[from..] != new[from..] {
            return None;
        }
        if self.dateless {
            return Some(None);
        }
        let nanos = nanos?;
        let (before, after) = match self.fraction {
            Some((start, end)) => (
                i64::from(fraction_nanos(&converted[start..end])),
                i64::from(fraction_nanos(&text[start..end])),
            ),
            None => (0, 0),
        };
        let mut whole = (nanos - before) / 1_000_000_000;
        if let Some((start, end)) = self.second {
            // At most two digits: `parse` would accept them all, so this is what it gives.
            if end - start > 2 {
                return None;
            }
            let value = |digits: &[u8]| {
                digits
                    .iter()
                    .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'))
            };
            let second = value(&new[start..end]);
            if second > 60 {
                return Some(None);
            }
            whole += second - value(&old[start..end]);
        }
        Some(
            whole
                .checked_mul(1_000_000_000)
                .and_then(|n| n.checked_add(after)),
        )
    }
}

impl TimeParts {
    /// Converts to unix nanoseconds; `None` when the year or date is unknown.
    pub fn unix_nanos(&self) -> Option<i64> {
        let year = self.year?;
        let month = self.month?;
        let day = self.day?;
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) || self.hour > 23 {
            return None;
        }
        if self.minute > 59 || self.second > 60 {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let seconds = days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - i64::from(self.offset_seconds.unwrap_or(0));
        seconds
            .checked_mul(1_000_000_000)?
            .checked_add(i64::from(self.nanos))
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Formats unix nanoseconds as RFC 3339 in UTC with the fraction kept when non-zero.
pub fn format_rfc3339(unix_nanos: i64) -> String {
    let seconds = unix_nanos.div_euclid(1_000_000_000);
    let nanos = unix_nanos.rem_euclid(1_000_000_000);
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
    );
    if nanos == 0 {
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
    } else if nanos % 1_000_000 == 0 {
        let millis = nanos / 1_000_000;
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}Z")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{nanos:09}Z")
    }
}

/// Writes what [`format_rfc3339`] returns, without allocating.
pub fn write_rfc3339(out: &mut impl std::io::Write, unix_nanos: i64) -> std::io::Result<()> {
    let seconds = unix_nanos.div_euclid(1_000_000_000);
    let nanos = unix_nanos.rem_euclid(1_000_000_000);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let second_of_day = seconds.rem_euclid(86_400);
    if !(0..=9999).contains(&year) {
        return out.write_all(format_rfc3339(unix_nanos).as_bytes());
    }
    let mut text = [0u8; 30];
    let fields = [
        (year, 4u32, b'-'),
        (month, 2, b'-'),
        (day, 2, b'T'),
        (second_of_day / 3600, 2, b':'),
        (second_of_day / 60 % 60, 2, b':'),
        (second_of_day % 60, 2, 0),
    ];
    let mut at = 0;
    for (value, digits, separator) in fields {
        at = put_digits(&mut text, at, value, digits);
        if separator != 0 {
            text[at] = separator;
            at += 1;
        }
    }
    if nanos != 0 {
        text[at] = b'.';
        at += 1;
        at = if nanos % 1_000_000 == 0 {
            put_digits(&mut text, at, nanos / 1_000_000, 3)
        } else {
            put_digits(&mut text, at, nanos, 9)
        };
    }
    text[at] = b'Z';
    out.write_all(&text[..=at])
}

fn put_digits(buffer: &mut [u8], at: usize, value: i64, digits: u32) -> usize {
    let mut rest = value;
    for position in (at..at + digits as usize).rev() {
        // `rest % 10` is 0..=9 for the non-negative values written here.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let digit = (rest % 10) as u8;
        buffer[position] = b'0' + digit;
        rest /= 10;
    }
    at + digits as usize
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

/// One run of digits or letters with the separator that preceded it.
#[derive(Debug, Clone, Copy)]
struct Group<'a> {
    text: &'a str,
    sep_before: u8,
}

/// Groups kept on the stack; longer texts fall back to a vector.
const INLINE_GROUPS: usize = 24;

/// Splits `text` into groups; `None` when there are more than `out` can hold.
fn groups_inline<'a>(text: &'a str, out: &mut [Group<'a>; INLINE_GROUPS]) -> Option<usize> {
    let mut count = 0;
    let mut overflow = false;
    for_each_group(text, |group| {
        if count < INLINE_GROUPS {
            out[count] = group;
            count += 1;
        } else {
            overflow = true;
        }
    });
    (!overflow).then_some(count)
}

fn groups(text: &str) -> Vec<Group<'_>> {
    let mut out = Vec::with_capacity(10);
    for_each_group(text, |group| out.push(group));
    out
}

fn for_each_group<'a>(text: &'a str, mut emit: impl FnMut(Group<'a>)) {
    let bytes = text.as_bytes();
    let mut index = 0;
    let mut sep = b' ';
    while index < bytes.len() {
        let byte = bytes[index];
        if byte.is_ascii_digit() || byte.is_ascii_alphabetic() {
            let digit = byte.is_ascii_digit();
            let start = index;
            while index < bytes.len()
                && (if digit {
                    bytes[index].is_ascii_digit()
                } else {
                    bytes[index].is_ascii_alphabetic()
                })
            {
                index += 1;
            }
            emit(Group {
                text: &text[start..index],
                sep_before: sep,
            });
            sep = 0;
        } else {
            if sep == 0 || sep == b' ' {
                sep = byte;
            }
            index += 1;
        }
    }
}

/// Reads timestamp parts from the text of a header's time tokens (possibly several tokens,
/// e.g. `Dec 10 06:55:46` or `2015-10-18 18:01:47,978`).
pub fn parse_parts(text: &str) -> Option<TimeParts> {
    let mut inline = [Group {
        text: "",
        sep_before: 0,
    }; INLINE_GROUPS];
    match groups_inline(text, &mut inline) {
        Some(count) => parts_of_groups(&inline[..count], text),
        None => parts_of_groups(&groups(text), text),
    }
}

fn parts_of_groups(all: &[Group<'_>], text: &str) -> Option<TimeParts> {
    let mut parts = TimeParts::default();
    // Epoch seconds or milliseconds alone.
    if all.len() == 1 && all[0].text.bytes().all(|b| b.is_ascii_digit()) {
        let digits = all[0].text;
        if digits.len() == 8 && looks_like_compact_date(digits) {
            parts.year = digits[..4].parse().ok();
            parts.month = digits[4..6].parse().ok();
            parts.day = digits[6..8].parse().ok();
            return Some(parts);
        }
        return None;
    }
    // `081109 203615`: compact yyMMdd HHmmss.
    if let [date, time] = all
        && date.text.len() == 6
        && time.text.len() == 6
        && is_digits(date.text)
        && is_digits(time.text)
    {
        parts.year = date.text[..2].parse::<i32>().ok().map(|y| 2000 + y);
        parts.month = date.text[2..4].parse().ok();
        parts.day = date.text[4..].parse().ok();
        parts.hour = time.text[..2].parse().ok()?;
        parts.minute = time.text[2..4].parse().ok()?;
        parts.second = time.text[4..].parse().ok()?;
        parts.has_time = true;
        return Some(parts);
    }
    // Find the time: the first digit group followed by ':' and another digit group.
    let mut time_start = None;
    for index in 0..all.len().saturating_sub(1) {
        let group = all[index];
        let next = all[index + 1];
        if is_digits(group.text)
            && group.text.len() <= 2
            && next.sep_before == b':'
            && is_digits(next.text)
        {
            time_start = Some(index);
            break;
        }
    }
    let date_groups: &[Group<'_>];
    if let Some(start) = time_start {
        parts.has_time = true;
        parts.hour = all[start].text.parse().ok()?;
        parts.minute = all[start + 1].text.parse().ok()?;
        let mut next = start + 2;
        if let Some(group) = all.get(next)
            && group.sep_before == b':'
            && is_digits(group.text)
            && group.text.len() == 2
        {
            parts.second = group.text.parse().ok()?;
            parts.second_span = Some(span_in(text, group.text));
            next += 1;
        }
        if let Some(group) = all.get(next)
            && is_digits(group.text)
            && (matches!(group.sep_before, b'.' | b',')
                || (group.sep_before == b':' && group.text.len() >= 3))
        {
            parts.nanos = fraction_nanos(group.text);
            parts.fraction_span = Some(span_in(text, group.text));
            next += 1;
        }
        parse_zone(&all[next..], text, &mut parts);
        // A year written after the time (`Sun Dec 04 04:47:44 2005`).
        if let Some(group) = all.get(next)
            && is_digits(group.text)
            && group.text.len() == 4
            && group.sep_before == b' '
        {
            parts.year = group.text.parse().ok();
        }
        date_groups = &all[..start];
    } else if all.len() >= 6
        && all.iter().all(|g| is_digits(g.text))
        && all[0].text.len() == 4
        && all[3].text.len() <= 2
    {
        // 2005-06-03-15.42.50.675872: the time is dotted.
        parts.has_time = true;
        parts.hour = all[3].text.parse().ok()?;
        parts.minute = all[4].text.parse().ok()?;
        parts.second = all[5].text.parse().ok()?;
        parts.second_span = Some(span_in(text, all[5].text));
        if let Some(group) = all.get(6) {
            parts.nanos = fraction_nanos(group.text);
            parts.fraction_span = Some(span_in(text, group.text));
        }
        date_groups = &all[..3];
    } else {
        date_groups = all;
    }
    parse_date(date_groups, &mut parts);
    if !parts.has_time && parts.day.is_none() {
        return None;
    }
    Some(parts)
}

fn parse_zone(rest: &[Group<'_>], _text: &str, parts: &mut TimeParts) {
    let Some(first) = rest.first() else { return };
    if first.text == "Z" || first.text == "UTC" || first.text == "GMT" {
        parts.offset_seconds = Some(0);
        return;
    }
    if matches!(first.sep_before, b'+' | b'-') && is_digits(first.text) {
        let sign = if first.sep_before == b'-' { -1 } else { 1 };
        let (hours, minutes) = match first.text.len() {
            4 => (
                first.text[..2].parse::<i32>().ok(),
                first.text[2..].parse::<i32>().ok(),
            ),
            2 => (
                first.text.parse::<i32>().ok(),
                rest.get(1)
                    .filter(|g| g.sep_before == b':')
                    .and_then(|g| g.text.parse::<i32>().ok())
                    .or(Some(0)),
            ),
            _ => (None, None),
        };
        if let (Some(hours), Some(minutes)) = (hours, minutes) {
            parts.offset_seconds = Some(sign * (hours * 3600 + minutes * 60));
        }
    }
}

fn parse_date(groups: &[Group<'_>], parts: &mut TimeParts) {
    let mut inline = [""; INLINE_GROUPS];
    let mut count = 0;
    let mut heap: Vec<&str> = Vec::new();
    for group in groups {
        if let Some(month) = month_number(group.text) {
            parts.month = Some(month);
        } else if is_digits(group.text) {
            if count < INLINE_GROUPS {
                inline[count] = group.text;
                count += 1;
            } else {
                if heap.is_empty() {
                    heap.extend_from_slice(&inline);
                }
                heap.push(group.text);
            }
        } else if group.text == "T" {
            // ISO separator between date and time.
        }
    }
    let numbers: &[&str] = if heap.is_empty() {
        &inline[..count]
    } else {
        &heap
    };
    if parts.month.is_some() {
        // Dec 10 [2005] or 10/Oct/2000 or 04 Dec 2005.
        for &number in numbers {
            if number.len() == 4 {
                parts.year = number.parse().ok();
            } else if number.len() <= 2 && parts.day.is_none() {
                parts.day = number.parse().ok();
            }
        }
        return;
    }
    match numbers {
        [compact] if compact.len() == 8 && looks_like_compact_date(compact) => {
            parts.year = compact[..4].parse().ok();
            parts.month = compact[4..6].parse().ok();
            parts.day = compact[6..8].parse().ok();
        }
        [compact] if compact.len() == 6 => {
            // yyMMdd
            parts.year = compact[..2].parse::<i32>().ok().map(|y| 2000 + y);
            parts.month = compact[4..4]
                .parse()
                .ok()
                .or_else(|| compact[2..4].parse().ok());
            parts.day = compact[4..6].parse().ok();
        }
        [compact] if compact.len() == 5 && compact.starts_with(['0', '1']) => {
            // klog's level letter is glued to MMDD: I1123 → "1123"; a 5-digit group is not a date.
        }
        [a, b, c, ..] if a.len() == 4 => {
            parts.year = a.parse().ok();
            parts.month = b.parse().ok();
            parts.day = c.parse().ok();
        }
        [a, b, c, ..] if c.len() == 4 => {
            // dd/mm/yyyy is as common as mm/dd/yyyy; only decide when unambiguous.
            let first: u32 = a.parse().unwrap_or(0);
            let second: u32 = b.parse().unwrap_or(0);
            parts.year = c.parse().ok();
            if first > 12 {
                parts.day = Some(first);
                parts.month = Some(second);
            } else {
                parts.month = Some(first);
                parts.day = Some(second);
            }
        }
        [a, b, c, ..] if a.len() == 2 && b.len() <= 2 && c.len() <= 2 => {
            // yy/MM/dd as written by log4j's default pattern.
            parts.year = a.parse::<i32>().ok().map(|y| 2000 + y);
            parts.month = b.parse().ok();
            parts.day = c.parse().ok();
        }
        [a, b] if a.len() <= 2 && b.len() <= 2 => {
            // MM-dd (logcat) or MMdd without a year.
            parts.month = a.parse().ok();
            parts.day = b.parse().ok();
        }
        [md] if md.len() == 4 => {
            // klog MMdd.
            parts.month = md[..2].parse().ok();
            parts.day = md[2..].parse().ok();
        }
        _ => {}
    }
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn fraction_nanos(digits: &str) -> u32 {
    let mut nanos: u32 = 0;
    let mut scale = 100_000_000u32;
    for byte in digits.bytes().take(9) {
        nanos += u32::from(byte - b'0') * scale;
        scale /= 10;
    }
    nanos
}

/// Converts a number found in a structured field (`ts`, `time`) to unix nanos, by magnitude:
/// seconds, milliseconds, microseconds or nanoseconds since the epoch.
pub fn epoch_to_nanos(value: f64) -> Option<i64> {
    if !value.is_finite() || value <= 0.0 {
        return None;
    }
    let nanos = if value < 1e11 {
        value * 1e9
    } else if value < 1e14 {
        value * 1e6
    } else if value < 1e17 {
        value * 1e3
    } else {
        value
    };
    if nanos > 9.0e18 {
        return None;
    }
    // The range check above keeps the cast in bounds.
    #[allow(clippy::cast_possible_truncation)]
    Some(nanos as i64)
}

/// Parses a timestamp string from a structured field or header to unix nanos.
pub fn parse_to_nanos(text: &str) -> Option<i64> {
    parse_to_nanos_linear(text).0
}

/// [`parse_to_nanos`], and where the text holds its seconds and fraction.
pub fn parse_to_nanos_linear(text: &str) -> (Option<i64>, Linear) {
    let trimmed = text.trim();
    if trimmed.len() >= 9
        && trimmed.len() <= 20
        && trimmed.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        let nanos = trimmed.parse::<f64>().ok().and_then(epoch_to_nanos);
        return (nanos, Linear::default());
    }
    let Some(parts) = parse_parts(trimmed) else {
        return (None, Linear::default());
    };
    let lead = text.len() - text.trim_start().len();
    let shifted = |span: Option<(usize, usize)>| span.map(|(s, e)| (s + lead, e + lead));
    let linear = Linear {
        second: shifted(parts.second_span),
        fraction: shifted(parts.fraction_span),
        dateless: parts.year.is_none() || parts.month.is_none() || parts.day.is_none(),
    };
    (parts.unix_nanos(), linear)
}

/// The byte range of `part`, a slice of `text`, within `text`.
fn span_in(text: &str, part: &str) -> (usize, usize) {
    let start = part.as_ptr() as usize - text.as_ptr() as usize;
    (start, start + part.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every text of `texts` shifted from every other of the same shape gives what converting
    /// it gives: seconds and fractions changed (including invalid seconds), other digits
    /// changed (no shift), texts without a date, epoch numbers.
    #[test]
    fn shifted_conversions_equal_direct_ones() {
        let shapes = [
            "2015-10-18 18:01:47,978",
            "2015-10-18 18:01:47.978123",
            "2015-10-18T18:01:47.978Z",
            "2015-10-18T18:01:47.978+02:00",
            "Sun Dec 04 04:47:44 2005",
            "2016-09-28 04:30:30",
            "2005-06-03-15.42.50.675872",
            "20171223-22:15:29:606",
            "03-17 16:13:38.811",
            "Dec 10 06:55:46",
            "17/06/09 20:10:40",
            "10/Oct/2000:13:55:36 -0700",
            "1117838570",
            "1117838570.123",
            " 2015-10-18 18:01:47,978",
            "9999-12-31 23:59:59.999",
        ];
        let mut checked = 0;
        for shape in shapes {
            let (nanos, linear) = parse_to_nanos_linear(shape);
            let digits: Vec<usize> = shape
                .bytes()
                .enumerate()
                .filter(|(_, b)| b.is_ascii_digit())
                .map(|(i, _)| i)
                .collect();
            // Every digit position set to each of a few values, one position at a time, and
            // the seconds and fraction all changed at once.
            let mut variants: Vec<String> = Vec::new();
            for &at in &digits {
                for digit in [b'0', b'1', b'5', b'6', b'9'] {
                    let mut bytes = shape.as_bytes().to_vec();
                    bytes[at] = digit;
                    variants.push(String::from_utf8(bytes).unwrap());
                }
            }
            let mut all = shape.as_bytes().to_vec();
            for &at in &digits {
                all[at] = b'9';
            }
            variants.push(String::from_utf8(all).unwrap());
            for variant in variants {
                let direct = parse_to_nanos(&variant);
                if let Some(shifted) = linear.shift(shape, nanos, &variant) {
                    assert_eq!(shifted, direct, "{shape} -> {variant}");
                    checked += 1;
                }
            }
        }
        // The seconds and fractions of most shapes were shifted, not converted again.
        assert!(checked > 200, "only {checked} shifted");
    }

    fn rfc(text: &str) -> Option<String> {
        parse_to_nanos(text).map(format_rfc3339)
    }

    /// The date-shape check of `is_time_token` as it was written with `split`.
    fn split_shaped(token: &str) -> bool {
        let mut count = 0usize;
        let mut four_digit_years = 0usize;
        let mut shaped = true;
        for group in token.split(['-', '/', '.', ',']) {
            if group.is_empty() {
                return false;
            }
            if count < 3 {
                shaped &= group.len() == 2 || group.len() == 4;
                four_digit_years += usize::from(group.len() == 4);
            } else {
                shaped &= group.len() <= 9;
            }
            count += 1;
            if count > 7 {
                return false;
            }
        }
        count >= 2 && shaped && four_digit_years <= 1
    }

    #[test]
    fn date_shapes_match_the_split_version() {
        // Every token of up to six bytes over digits and separators, starting with a digit.
        let alphabet = b"01-/.,+";
        let mut token = Vec::new();
        for length in 1..=6u32 {
            for mut code in 0..7usize.pow(length - 1) {
                token.clear();
                token.push(b'1');
                for _ in 1..length {
                    token.push(alphabet[code % 7]);
                    code /= 7;
                }
                let text = std::str::from_utf8(&token).expect("ascii");
                let trimmed = text.trim_end_matches(',');
                let separators = trimmed.bytes().filter(|b| !b.is_ascii_digit()).count();
                let digits = trimmed.len() - separators;
                let expected = if separators == 0 {
                    digits == 8 && looks_like_compact_date(trimmed) || digits == 10 || digits == 13
                } else {
                    split_shaped(trimmed)
                };
                assert_eq!(is_time_token(text), expected, "{text}");
            }
        }
    }

    #[test]
    fn month_and_weekday_names() {
        for (index, month) in MONTHS.iter().enumerate() {
            let number = u32::try_from(index + 1).ok();
            assert_eq!(month_number(month), number);
            assert_eq!(month_number(&month.to_ascii_uppercase()), number);
            assert_eq!(month_number(full_month_name(index)), number);
        }
        for word in [
            "Ja",
            "Janu",
            "Mayo",
            "Décembre",
            "Dé",
            "10",
            "Junee",
            "septembers",
        ] {
            assert_eq!(month_number(word), None, "{word}");
        }
        for day in ["Mon", "tue", "WED", "Thu", "fri", "Sat", "sun"] {
            assert!(is_weekday(day), "{day}");
        }
        for word in ["Mo", "Mond", "Moon", "Sunday", "abc"] {
            assert!(!is_weekday(word), "{word}");
        }
    }

    #[test]
    fn common_shapes() {
        assert_eq!(
            rfc("2015-10-18 18:01:47,978").as_deref(),
            Some("2015-10-18T18:01:47.978Z")
        );
        assert_eq!(
            rfc("2026-11-23T10:00:00Z").as_deref(),
            Some("2026-11-23T10:00:00Z")
        );
        assert_eq!(
            rfc("2026-11-23T10:00:00.5+01:00").as_deref(),
            Some("2026-11-23T09:00:00.500Z")
        );
        assert_eq!(
            rfc("17/06/09 20:10:40").as_deref(),
            Some("2017-06-09T20:10:40Z")
        );
        assert_eq!(
            rfc("081109 203615").as_deref(),
            Some("2008-11-09T20:36:15Z")
        );
        assert_eq!(
            rfc("20171223-22:15:29:606").as_deref(),
            Some("2017-12-23T22:15:29.606Z")
        );
        assert_eq!(
            rfc("Sun Dec 04 04:47:44 2005").as_deref(),
            Some("2005-12-04T04:47:44Z")
        );
        assert_eq!(
            rfc("10/Oct/2000:13:55:36 -0700").as_deref(),
            Some("2000-10-10T20:55:36Z")
        );
        assert_eq!(
            rfc("2005-06-03-15.42.50.675872").as_deref(),
            Some("2005-06-03T15:42:50.675872000Z")
        );
        assert_eq!(rfc("1117838570").as_deref(), Some("2005-06-03T22:42:50Z"));
        assert_eq!(rfc("Dec 10 06:55:46"), None, "no year, no instant");
    }

    #[test]
    fn written_rfc3339_equals_formatted() {
        let mut nanos: i64 = -80_000_000_000_000_000;
        while nanos < 300_000_000_000_000_000 {
            for extra in [0, 1_000_000, 123_000_000, 1, 999_999_999] {
                let value = nanos + extra;
                let mut written = Vec::new();
                write_rfc3339(&mut written, value).expect("write");
                assert_eq!(
                    String::from_utf8(written).expect("utf8"),
                    format_rfc3339(value)
                );
            }
            nanos += 7_777_777_777_777_777;
        }
    }

    #[test]
    fn time_tokens() {
        assert!(!is_time_token("127.0.0.1:60186"));
        assert!(!is_time_token("10.0.0.5:80"));
        assert!(is_time_token("18:01:47,978"));
        for token in [
            "2015-10-18",
            "18:01:47,978",
            "17/06/09",
            "Dec",
            "Sun",
            "04:30:30,",
            "2005.06.03",
            "03-17",
        ] {
            assert!(is_time_token(token), "{token}");
        }
        for token in ["hello", "1702", "R02-M1-N0", "a:b", "-", "1.2.3.4"] {
            assert!(!is_time_token(token), "{token}");
        }
    }
}
