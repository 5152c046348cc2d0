//! The rows of a room's message list, as pure data: messages grouped by
//! author, a separator before each new calendar day ("Today", "Yesterday",
//! a weekday, a date) and the "New messages" divider at the reader's read
//! position. Unit-tested on the host; `components::message_list` renders it.
//!
//! Days are the reader's local days: the caller maps each timestamp to its
//! [`local_day`] with the browser's UTC offset at that instant (the same
//! source as the message times, `format::local_offset_minutes`). The server
//! cannot know the reader's zone, so it renders no day separators and the
//! browser adds them once hydrated (see `message_list`).

use protocol::server::Message;
use protocol::{Seq, Timestamp};

use crate::format::DateTime;

/// Consecutive messages of one author closer together than this share one header.
pub const GROUP_WINDOW_MS: Timestamp = 5 * 60 * 1000;

const MS_PER_DAY: i64 = 86_400_000;
const MS_PER_MINUTE: i64 = 60_000;

/// A message and whether it starts a group (shows avatar, name and time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub message: Message,
    pub starts_group: bool,
}

/// One message of the list with what goes above it. Separators belong to
/// the message they head (not rows of their own), so prepending older
/// messages or moving the divider only replaces the rows whose heading
/// changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub item: MessageRow,
    /// The label of the day separator above it: it is the first message of
    /// a local day.
    pub day: Option<String>,
    /// The "New messages" divider is above it: the first unread message.
    pub unread: bool,
}

impl Row {
    /// A key that stays the same while the row renders the same, for keyed
    /// rendering: a message re-renders when it starts or stops heading a
    /// group, a day or the unread messages, and when its reply count moves.
    pub fn key(&self) -> (Seq, bool, Option<String>, bool, u32) {
        (
            self.item.message.seq,
            self.item.starts_group,
            self.day.clone(),
            self.unread,
            self.item.message.reply_count,
        )
    }
}

/// Whether `next` continues the group of `prev`: same author, at most
/// [`GROUP_WINDOW_MS`] later.
pub fn continues_group(prev: &Message, next: &Message) -> bool {
    prev.author.id == next.author.id && (0..=GROUP_WINDOW_MS).contains(&(next.ts - prev.ts))
}

/// Marks where author groups start in a list sorted by `seq`.
pub fn group_rows(messages: &[Message]) -> Vec<MessageRow> {
    let mut prev: Option<&Message> = None;
    messages
        .iter()
        .map(|m| {
            let starts_group = !prev.is_some_and(|p| continues_group(p, m));
            prev = Some(m);
            MessageRow {
                message: m.clone(),
                starts_group,
            }
        })
        .collect()
}

/// The local calendar day of `ts` (days since 1970-01-01) in a zone
/// `offset_minutes` east of UTC.
pub fn local_day(ts: Timestamp, offset_minutes: i32) -> i64 {
    ts.saturating_add(i64::from(offset_minutes) * MS_PER_MINUTE)
        .div_euclid(MS_PER_DAY)
}

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The weekday of a day number (1970-01-01 was a Thursday).
fn weekday(day: i64) -> &'static str {
    WEEKDAYS[usize::try_from((day + 4).rem_euclid(7)).unwrap_or(0)]
}

/// A separator's text for `day` seen on `today`: "Today", "Yesterday", the
/// weekday within the last week, else the date ("Monday, 3 November", with
/// the year when it is not this year's).
pub fn day_label(day: i64, today: i64) -> String {
    match today - day {
        0 => "Today".to_owned(),
        1 => "Yesterday".to_owned(),
        2..=6 => weekday(day).to_owned(),
        _ => {
            let date = DateTime::from_timestamp(day * MS_PER_DAY, 0);
            let this_year = DateTime::from_timestamp(today * MS_PER_DAY, 0).year;
            let month = MONTHS[usize::try_from(date.month.saturating_sub(1)).unwrap_or(0) % 12];
            if date.year == this_year {
                format!("{}, {} {month}", weekday(day), date.day)
            } else {
                format!("{}, {} {month} {}", weekday(day), date.day, date.year)
            }
        }
    }
}

/// The rows for `messages` (sorted by `seq`).
///
/// - `day_of` maps a timestamp to its local day; `today` is the reader's
///   local day, or `None` where it is unknown (on the server): then there
///   are no day separators.
/// - `unread_from` is the first unread `seq`: the divider goes before the
///   first message at or after it, unless that is the very first message
///   loaded and nothing older exists (`has_more` false).
pub fn build_rows(
    messages: &[Message],
    day_of: impl Fn(Timestamp) -> i64,
    today: Option<i64>,
    unread_from: Option<Seq>,
    has_more: bool,
) -> Vec<Row> {
    let mut rows = Vec::with_capacity(messages.len());
    let mut prev: Option<(&Message, i64)> = None;
    let mut divider_placed = false;
    for (index, m) in messages.iter().enumerate() {
        let day = today.map(|_| day_of(m.ts)).unwrap_or(0);
        let new_day = prev.is_none_or(|(_, d)| d != day);
        let day_label = today.filter(|_| new_day).map(|today| day_label(day, today));
        let is_unread = unread_from.is_some_and(|from| m.seq >= from);
        let unread = !divider_placed && is_unread && (index > 0 || has_more);
        divider_placed |= is_unread;
        let starts_group =
            unread || day_label.is_some() || !prev.is_some_and(|(p, _)| continues_group(p, m));
        rows.push(Row {
            item: MessageRow {
                message: m.clone(),
                starts_group,
            },
            day: day_label,
            unread,
        });
        prev = Some((m, day));
    }
    rows
}

/// The first unread seq when `unread` messages up to `last_seq` are unread
/// (seqs have no gaps); `None` when nothing is unread.
pub fn first_unread(last_seq: Seq, unread: u64) -> Option<Seq> {
    (unread > 0 && last_seq > 0).then(|| last_seq.saturating_sub(unread).saturating_add(1).max(1))
}

/// How many messages came after `seen` (the newest one the reader saw at
/// the bottom of the list): the count on "Jump to latest".
pub fn newer_than(messages: &[Message], seen: Option<Seq>) -> usize {
    let Some(seen) = seen else {
        return 0;
    };
    let start = messages.partition_point(|m| m.seq <= seen);
    messages.len() - start
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{MessageId, RoomName, User, UserId};

    // 2024-11-23T10:40:00.000Z, a Saturday.
    const TS: Timestamp = 1_732_358_400_000;
    const MINUTE: i64 = 60_000;

    fn msg(seq: Seq, author: i64, minute: i64) -> Message {
        Message {
            id: MessageId(i64::try_from(seq).unwrap_or_default()),
            room: RoomName::parse("general").expect("valid room name"),
            seq,
            author: User {
                id: UserId(author),
                name: format!("user{author}"),
            },
            text: "hi".into(),
            reply_to: None,
            ts: TS + minute * MINUTE,
            reply_count: 0,
        }
    }

    fn starts(messages: &[Message]) -> Vec<bool> {
        group_rows(messages)
            .into_iter()
            .map(|r| r.starts_group)
            .collect()
    }

    fn utc(ts: Timestamp) -> i64 {
        local_day(ts, 0)
    }

    /// The rows as short strings: `day:Today`, `new`, `3` (a message), `3*`
    /// (a message heading a group).
    fn shape(rows: &[Row]) -> Vec<String> {
        let mut out = Vec::new();
        for r in rows {
            if let Some(label) = &r.day {
                out.push(format!("day:{label}"));
            }
            if r.unread {
                out.push("new".to_owned());
            }
            let m = &r.item;
            out.push(format!(
                "{}{}",
                m.message.seq,
                if m.starts_group { "*" } else { "" }
            ));
        }
        out
    }

    #[test]
    fn consecutive_messages_of_one_author_share_a_header() {
        let list = [
            msg(1, 1, 0),
            msg(2, 1, 1),
            msg(3, 1, 7),
            msg(4, 2, 7),
            msg(5, 1, 8),
        ];
        assert_eq!(starts(&list), [true, false, true, true, true]);
    }

    #[test]
    fn the_window_is_measured_from_the_previous_message() {
        let list = [
            msg(1, 1, 0),
            msg(2, 1, 4),
            msg(3, 1, 8),
            msg(4, 1, 13),
            msg(5, 1, 19),
        ];
        assert_eq!(starts(&list), [true, false, false, false, true]);
        assert!(starts(&[]).is_empty());
    }

    #[test]
    fn exactly_five_minutes_still_groups() {
        assert!(continues_group(&msg(1, 1, 0), &msg(2, 1, 5)));
        assert!(
            !continues_group(&msg(1, 1, 5), &msg(2, 1, 0)),
            "clock skew starts a group"
        );
    }

    #[test]
    fn local_days_follow_the_offset() {
        let day = utc(TS);
        assert_eq!(
            local_day(TS, 14 * 60),
            day + 1,
            "00:40 the next day in UTC+14"
        );
        assert_eq!(
            local_day(TS, -11 * 60),
            day - 1,
            "23:40 the day before in UTC-11"
        );
        assert_eq!(local_day(0, 0), 0);
        assert_eq!(local_day(-1, 0), -1);
    }

    #[test]
    fn day_labels() {
        let today = utc(TS); // Saturday 23 November 2024
        assert_eq!(day_label(today, today), "Today");
        assert_eq!(day_label(today - 1, today), "Yesterday");
        assert_eq!(day_label(today - 2, today), "Thursday");
        assert_eq!(day_label(today - 6, today), "Sunday");
        assert_eq!(day_label(today - 7, today), "Saturday, 16 November");
        assert_eq!(day_label(today - 366, today), "Thursday, 23 November 2023");
        assert_eq!(
            day_label(today + 1, today),
            "Sunday, 24 November",
            "a clock ahead"
        );
        assert_eq!(day_label(0, today), "Thursday, 1 January 1970");
    }

    #[test]
    fn a_separator_before_each_new_day() {
        let list = [
            msg(1, 1, -2 * 24 * 60),
            msg(2, 1, -24 * 60),
            msg(3, 1, -24 * 60 + 1),
            msg(4, 1, 0),
        ];
        let rows = build_rows(&list, utc, Some(utc(TS)), None, false);
        assert_eq!(
            shape(&rows),
            [
                "day:Thursday",
                "1*",
                "day:Yesterday",
                "2*",
                "3",
                "day:Today",
                "4*"
            ]
        );
    }

    #[test]
    fn a_new_day_starts_a_group() {
        // 23:59 and 00:01 UTC: two minutes apart, on two days.
        let midnight = TS - (10 * 60 + 40) * MINUTE;
        let list = [
            Message {
                ts: midnight - MINUTE,
                ..msg(1, 1, 0)
            },
            Message {
                ts: midnight + MINUTE,
                ..msg(2, 1, 0)
            },
        ];
        let rows = build_rows(&list, utc, Some(utc(TS)), None, false);
        assert_eq!(shape(&rows), ["day:Yesterday", "1*", "day:Today", "2*"]);
        // Without a known day (the server), no separators and one group.
        assert_eq!(
            shape(&build_rows(&list, utc, None, None, false)),
            ["1*", "2"]
        );
    }

    #[test]
    fn the_unread_divider_goes_before_the_first_unread() {
        let list = [msg(3, 1, 0), msg(4, 1, 1), msg(5, 1, 2)];
        let rows = build_rows(&list, utc, None, Some(4), false);
        assert_eq!(shape(&rows), ["3*", "new", "4*", "5"]);
        // The first unread not loaded yet (older than the list): at the top.
        let rows = build_rows(&list, utc, None, Some(2), true);
        assert_eq!(shape(&rows), ["new", "3*", "4", "5"]);
        // Everything is unread and nothing is older: no divider.
        let rows = build_rows(&list, utc, None, Some(1), false);
        assert_eq!(shape(&rows), ["3*", "4", "5"]);
        // Nothing unread among the loaded messages.
        let rows = build_rows(&list, utc, None, Some(6), false);
        assert_eq!(shape(&rows), ["3*", "4", "5"]);
        let rows = build_rows(&list, utc, Some(utc(TS)), Some(5), false);
        assert_eq!(shape(&rows), ["day:Today", "3*", "4", "new", "5*"]);
    }

    #[test]
    fn the_first_unread_follows_from_the_count() {
        assert_eq!(first_unread(10, 3), Some(8));
        assert_eq!(first_unread(10, 10), Some(1));
        assert_eq!(first_unread(10, 0), None);
        assert_eq!(first_unread(0, 0), None);
        assert_eq!(first_unread(3, 99), Some(1), "a count beyond the room");
    }

    #[test]
    fn counting_what_came_after_the_last_seen() {
        let list = [msg(3, 1, 0), msg(4, 1, 1), msg(5, 1, 2)];
        assert_eq!(newer_than(&list, Some(3)), 2);
        assert_eq!(newer_than(&list, Some(5)), 0);
        assert_eq!(newer_than(&list, Some(1)), 3);
        assert_eq!(newer_than(&list, None), 0);
        assert_eq!(newer_than(&[], Some(1)), 0);
    }
}
