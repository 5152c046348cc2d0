//! Errors in the user's words. The server's error messages are written for
//! developers ("text: must be at most 4000 characters", "retry in 4 ms");
//! the UI shows what happened and what to do instead, chosen by the error's
//! code and field, never by parsing its message. Also the composer's
//! character counter, which appears as a message nears the length limit.

use protocol::{ErrorCode, ErrorPayload, MAX_TEXT_CHARS};

/// What to tell the user about `error`.
pub fn human(error: &ErrorPayload) -> String {
    match (error.code, error.field.as_deref()) {
        (ErrorCode::Invalid, Some("text")) => "This message is empty or too long.".to_owned(),
        (ErrorCode::Invalid, Some("reply_to")) => {
            "The message you replied to is no longer there.".to_owned()
        }
        (ErrorCode::Invalid, _) | (ErrorCode::BadFrame | ErrorCode::UnknownType, _) => {
            "Hibiki could not understand that request. Reloading the page may help.".to_owned()
        }
        (ErrorCode::RateLimited, _) => match error.retry_after_ms {
            Some(ms) if ms >= 1_500 => format!(
                "You are sending very quickly. Try again in {} seconds.",
                ms.div_ceil(1000)
            ),
            _ => "You are sending very quickly. Try again in a moment.".to_owned(),
        },
        (ErrorCode::Unauthorized, _) => "Your session has ended. Please log in again.".to_owned(),
        (ErrorCode::Forbidden, _) => "You are not a member of this room.".to_owned(),
        (ErrorCode::NotFound, _) => "That room or person does not exist.".to_owned(),
        (ErrorCode::Conflict, _) => "That name is already taken.".to_owned(),
        (ErrorCode::Internal, _) => "Something went wrong on the server. Try again.".to_owned(),
    }
}

/// From how many characters on the composer shows its counter: 90 % of the
/// limit.
pub const COUNTER_FROM: usize = MAX_TEXT_CHARS / 10 * 9;

/// The composer's counter for a message of `chars` characters: `None` below
/// [`COUNTER_FROM`]; else how many are left (negative: how many too many).
pub fn chars_left(chars: usize) -> Option<i64> {
    if chars < COUNTER_FROM {
        return None;
    }
    let limit = i64::try_from(MAX_TEXT_CHARS).unwrap_or(i64::MAX);
    Some(limit - i64::try_from(chars).unwrap_or(i64::MAX))
}

/// The notice under the composer while a message is over the limit.
pub fn too_long(over_by: u64) -> String {
    let chars = if over_by == 1 {
        "character"
    } else {
        "characters"
    };
    format!(
        "This message is {over_by} {chars} too long. Messages can have up to {MAX_TEXT_CHARS} characters."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_api_wording_reaches_the_user() {
        let errors = [
            protocol::client::validate_text(&"x".repeat(MAX_TEXT_CHARS + 1)).expect_err("too long"),
            ErrorPayload::rate_limited(4),
            ErrorPayload::rate_limited(4_200),
            ErrorPayload::invalid("reply_to", "no message 3 in room 'general'"),
            ErrorPayload::new(ErrorCode::Forbidden, "not a member of room 'x'"),
            ErrorPayload::new(ErrorCode::Internal, "internal server error"),
        ];
        for e in &errors {
            let text = human(e);
            assert_ne!(text, e.message);
            for api in [" ms", "text:", "reply_to", "'", "must be"] {
                assert!(!text.contains(api), "{text:?} contains {api:?}");
            }
        }
        assert_eq!(
            human(&ErrorPayload::rate_limited(4_200)),
            "You are sending very quickly. Try again in 5 seconds."
        );
    }

    #[test]
    fn the_counter_appears_at_ninety_percent() {
        assert_eq!(COUNTER_FROM, 3_600);
        assert_eq!(chars_left(0), None);
        assert_eq!(chars_left(3_599), None);
        assert_eq!(chars_left(3_600), Some(400));
        assert_eq!(chars_left(4_000), Some(0));
        assert_eq!(chars_left(4_012), Some(-12));
        assert_eq!(
            too_long(12),
            "This message is 12 characters too long. Messages can have up to 4000 characters."
        );
        assert!(too_long(1).contains("1 character too long"));
    }
}
