//! An initials avatar: a coloured circle whose colour is derived from the name.

use leptos::prelude::*;

/// Up to two initials: the first letters of the first two words (split on
/// spaces, `_`, `-`, `.`), else the first letter and the next capital
/// (`JohnDoe` → `JD`), else the first letter. Upper-cased; `?` for no name.
pub fn initials(name: &str) -> String {
    let mut words = name
        .split(|c: char| c.is_whitespace() || matches!(c, '_' | '-' | '.'))
        .filter(|w| !w.is_empty());
    let Some(first) = words.next() else {
        return "?".to_owned();
    };
    let mut chars = first.chars();
    let Some(a) = chars.next() else {
        return "?".to_owned();
    };
    let second = match words.next() {
        Some(word) => word.chars().next(),
        None => chars.find(|c| c.is_uppercase()),
    };
    a.to_uppercase()
        .chain(second.into_iter().flat_map(char::to_uppercase))
        .collect()
}

/// How many avatar colours `style/main.css` defines (`.avatar--c0` …).
pub const AVATAR_COLORS: u32 = 12;

/// A stable colour slot (0..[`AVATAR_COLORS`]) for `name`: FNV-1a over its
/// lower-cased UTF-8.
pub fn avatar_color_index(name: &str) -> u32 {
    let hash = name.to_lowercase().bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    hash % AVATAR_COLORS
}

/// The avatar's classes. Colours are classes, not inline styles, so the page
/// works under a CSP without `style-src 'unsafe-inline'`.
pub fn avatar_class(name: &str) -> String {
    format!("avatar avatar--c{}", avatar_color_index(name))
}

/// The circle itself. Decorative: the name is always shown (or read) next to it.
#[component]
pub fn Avatar(#[prop(into)] name: String) -> impl IntoView {
    view! {
        <span class=avatar_class(&name) aria-hidden="true">
            {initials(&name)}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_from_words_and_capitals() {
        assert_eq!(initials("aiko"), "A");
        assert_eq!(initials("ben_smith"), "BS");
        assert_eq!(initials("mary-jane.watson"), "MJ");
        assert_eq!(initials("JohnDoe"), "JD");
        assert_eq!(initials("émile"), "É");
        assert_eq!(initials("響き"), "響");
        assert_eq!(initials("__"), "?");
        assert_eq!(initials(""), "?");
    }

    #[test]
    fn colours_are_stable_and_spread() {
        assert_eq!(avatar_color_index("aiko"), avatar_color_index("aiko"));
        assert_eq!(
            avatar_color_index("Aiko"),
            avatar_color_index("aiko"),
            "case does not change the colour"
        );
        let names = [
            "aiko", "ben", "chen", "dara", "emil", "fatima", "gus", "hana",
        ];
        let slots: std::collections::HashSet<u32> =
            names.iter().map(|n| avatar_color_index(n)).collect();
        assert!(slots.iter().all(|&s| s < AVATAR_COLORS));
        assert!(slots.len() >= 5, "names get different colours: {slots:?}");
        assert!(avatar_class("ben").starts_with("avatar avatar--c"));
    }
}
