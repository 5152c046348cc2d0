//! Which strings are a reaction: one emoji, as people type or pick it.
//!
//! Not a full Unicode emoji table (that would be a dependency and a table
//! to keep current): the code points emoji are built from, a length bound,
//! and at least one pictographic code point (or keycap), so a reaction is never words,
//! markup, whitespace or control characters.

use crate::error::ErrorPayload;

/// Most Unicode scalar values in one reaction: enough for a ZWJ family
/// (7) or a flag with tags; a run of emoji is not one reaction.
pub const MAX_EMOJI_CHARS: usize = 10;

/// Most distinct emoji on one message.
pub const MAX_REACTIONS_PER_MESSAGE: usize = 20;

/// Code points that draw a picture on their own.
fn is_pictographic(c: char) -> bool {
    matches!(c as u32,
        0x00A9 | 0x00AE | 0x203C | 0x2049  // © ® ‼ ⁉
        | 0x2100..=0x2BFF                  // letterlike, arrows, symbols, dingbats
        | 0x3030 | 0x303D | 0x3297 | 0x3299 // 〰 〽 ㊗ ㊙
        | 0x1F000..=0x1FAFF) // emoticons, pictographs, flags, skin tones
}

/// Code points that only modify or join pictographs (keycaps, variation
/// selectors, joiners, tag sequences) and the keycap bases.
fn is_modifier(c: char) -> bool {
    matches!(
        c as u32,
        0x200D | 0x20E3 | 0xFE0E | 0xFE0F | 0xE0020..=0xE007F
    ) || c.is_ascii_digit()
        || c == '#'
        || c == '*'
}

/// Checks a reaction: 1 to [`MAX_EMOJI_CHARS`] emoji code points with at
/// least one pictograph. Returns it, or an `invalid` error naming `emoji`.
pub fn validate_emoji(emoji: &str) -> Result<&str, ErrorPayload> {
    let count = emoji.chars().count();
    let ok = count > 0
        && count <= MAX_EMOJI_CHARS
        && emoji.chars().all(|c| is_pictographic(c) || is_modifier(c))
        // A keycap (`1️⃣`) is a digit made a picture by U+20E3.
        && emoji.chars().any(|c| is_pictographic(c) || c == '\u{20E3}');
    if ok {
        Ok(emoji)
    } else {
        Err(ErrorPayload::invalid(
            "emoji",
            format!("must be one emoji (at most {MAX_EMOJI_CHARS} code points)"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::validate_emoji;

    #[test]
    fn common_emoji_are_reactions() {
        for e in [
            "👍",
            "❤️",
            "😂",
            "🎉",
            "👀",
            "🙏",
            "👍🏽",
            "1️⃣",
            "🇯🇵",
            "👨‍👩‍👧‍👦",
            "©️",
        ] {
            assert!(validate_emoji(e).is_ok(), "{e}");
        }
    }

    #[test]
    fn words_markup_and_control_characters_are_not() {
        for e in [
            "",
            "a",
            "lol",
            "1",
            "#",
            "<b>",
            "👍 ",
            " 👍",
            "👍\n",
            "\u{0}",
            "\u{3000}",
            "👍\u{2066}",
            "👍x",
            "👍👍👍👍👍👍👍👍👍👍👍",
        ] {
            assert!(validate_emoji(e).is_err(), "{e:?}");
        }
    }
}
