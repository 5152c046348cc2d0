//! Pure presentation helpers for times. Wire times are integer milliseconds
//! since the Unix epoch, UTC ([`protocol::Timestamp`]).

use protocol::Timestamp;

const MS_PER_MINUTE: i64 = 60_000;
const MINUTES_PER_DAY: i64 = 24 * 60;

/// A calendar date and wall-clock time (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl DateTime {
    /// The date and time of `ts` shifted by `offset_minutes` east of UTC
    /// (`0` for UTC itself).
    pub fn from_timestamp(ts: Timestamp, offset_minutes: i32) -> Self {
        let shifted = ts.saturating_add(i64::from(offset_minutes) * MS_PER_MINUTE);
        let total_seconds = shifted.div_euclid(1000);
        let days = total_seconds.div_euclid(86_400);
        let second_of_day = total_seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        // `second_of_day` is in 0..86_400, so these fit in u32.
        let sod = u32::try_from(second_of_day).unwrap_or(0);
        Self {
            year,
            month,
            day,
            hour: sod / 3600,
            minute: sod / 60 % 60,
            second: sod % 60,
        }
    }
}

/// `HH:MM` of `ts` in the zone `offset_minutes` east of UTC.
pub fn hh_mm(ts: Timestamp, offset_minutes: i32) -> String {
    let minute_of_day = ts
        .div_euclid(MS_PER_MINUTE)
        .saturating_add(i64::from(offset_minutes))
        .rem_euclid(MINUTES_PER_DAY);
    format!("{:02}:{:02}", minute_of_day / 60, minute_of_day % 60)
}

/// The machine-readable UTC form for `<time datetime=…>`, e.g.
/// `2024-11-23T10:40:00Z`.
pub fn iso_utc(ts: Timestamp) -> String {
    let t = DateTime::from_timestamp(ts, 0);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// A full local date and time for tooltips, e.g. `2024-11-23 11:40`.
pub fn local_date_time(ts: Timestamp, offset_minutes: i32) -> String {
    let t = DateTime::from_timestamp(ts, offset_minutes);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year, t.month, t.day, t.hour, t.minute
    )
}

/// The script that puts the server-rendered message times into the reader's
/// local time before the first paint. The server does not know the reader's
/// time zone, so it renders each time in UTC next to its instant
/// (`<time class="msg__time" datetime="…Z">`). This inline script, in the
/// `<head>`, watches the document as it is parsed (a `MutationObserver`
/// runs before the next paint) and rewrites each such time exactly as
/// [`hh_mm`] and [`local_date_time`] do in the browser with
/// [`local_offset_minutes`]; it stops at `DOMContentLoaded`, before the app
/// hydrates. It changes only the text node's data, never the nodes (the
/// hydration markers next to it must stay). The hydrated app keeps
/// server-rendered text as it finds it, so both then agree.
pub const LOCALISE_TIMES_JS: &str = "(function(){\
var S='time.msg__time[datetime]',p=function(n){return(n<10?'0':'')+n};\
function fix(t){var d=new Date(t.getAttribute('datetime'));if(isNaN(d.getTime()))return;\
var hm=p(d.getHours())+':'+p(d.getMinutes()),n=t.firstChild;\
if(n&&n.nodeType===3){if(n.data!==hm)n.data=hm}else if(!n)t.textContent=hm;\
t.title=d.getFullYear()+'-'+p(d.getMonth()+1)+'-'+p(d.getDate())+' '+hm}\
function scan(n){if(n.nodeType===3){n=n.parentNode;if(n&&n.matches&&n.matches(S))fix(n);return}\
if(n.nodeType!==1)return;if(n.matches(S))fix(n);n.querySelectorAll(S).forEach(fix)}\
var o=new MutationObserver(function(rs){rs.forEach(function(r){\
if(r.type==='characterData')scan(r.target);else r.addedNodes.forEach(scan)})});\
o.observe(document.documentElement,{childList:true,characterData:true,subtree:true});\
document.addEventListener('DOMContentLoaded',function(){o.disconnect();\
document.querySelectorAll(S).forEach(fix)})})();";

/// The browser's UTC offset at `ts`, in minutes east of UTC. On the server
/// (which does not know the reader's zone) this is UTC; see
/// [`LOCALISE_TIMES_JS`].
pub fn local_offset_minutes(ts: Timestamp) -> i32 {
    #[cfg(feature = "hydrate")]
    if crate::in_browser() {
        // Timestamps are far below 2^53 ms, so the f64 is exact.
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ts as f64));
        // getTimezoneOffset() is UTC minus local, in whole minutes (at most ±14 h).
        return -(date.get_timezone_offset() as i32);
    }
    let _ = ts;
    0
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's
/// `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2024-11-23T10:40:00.000Z
    const TS: Timestamp = 1_732_358_400_000;

    #[test]
    fn hh_mm_in_utc_and_with_offsets() {
        assert_eq!(hh_mm(TS, 0), "10:40");
        assert_eq!(hh_mm(TS, 60), "11:40");
        assert_eq!(hh_mm(TS, -11 * 60), "23:40");
        assert_eq!(hh_mm(TS, 14 * 60), "00:40");
        assert_eq!(hh_mm(0, 0), "00:00");
        assert_eq!(hh_mm(-1, 0), "23:59");
    }

    #[test]
    fn iso_utc_formats_calendar_dates() {
        assert_eq!(iso_utc(TS), "2024-11-23T10:40:00Z");
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(iso_utc(TS + 59_999), "2024-11-23T10:40:59Z");
    }

    #[test]
    fn local_date_time_crosses_midnight() {
        assert_eq!(local_date_time(TS, 14 * 60), "2024-11-24 00:40");
        assert_eq!(local_offset_minutes(TS), 0, "the server formats in UTC");
    }
}
