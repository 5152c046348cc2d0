//! A room's full member list (online and offline), as the members panel
//! shows it: `room:members` fills it, `room:member` and `presence:update`
//! keep it live.

use protocol::{User, UserId};

/// Adds (`member: true`) or removes `user`. Returns whether it changed.
pub fn apply_change(roster: &mut Vec<User>, user: User, member: bool) -> bool {
    let at = roster.iter().position(|u| u.id == user.id);
    match (at, member) {
        (None, true) => {
            roster.push(user);
            true
        }
        (Some(i), false) => {
            roster.remove(i);
            true
        }
        _ => false,
    }
}

/// Whoever is online in a room is a member of it (a public room's first
/// join is only announced by presence): adds those missing. Returns whether
/// it changed.
pub fn add_online(roster: &mut Vec<User>, online: &[User]) -> bool {
    online.iter().fold(false, |changed, u| {
        apply_change(roster, u.clone(), true) | changed
    })
}

/// The panel's order: online members first, then offline ones, each group
/// by name (case-insensitive). Online is what presence says now.
pub fn ordered(roster: &[User], online: &[UserId]) -> Vec<(User, bool)> {
    let mut out: Vec<(User, bool)> = roster
        .iter()
        .map(|u| (u.clone(), online.contains(&u.id)))
        .collect();
    out.sort_by_key(|(u, on)| (!on, u.name.to_lowercase()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::realtime::test_user as user;

    #[test]
    fn changes_add_and_remove_once() {
        let mut roster = vec![user(1, "aiko")];
        assert!(apply_change(&mut roster, user(2, "ben"), true));
        assert!(!apply_change(&mut roster, user(2, "ben"), true));
        assert!(apply_change(&mut roster, user(1, "aiko"), false));
        assert!(!apply_change(&mut roster, user(1, "aiko"), false));
        assert_eq!(roster, [user(2, "ben")]);
        assert!(add_online(&mut roster, &[user(2, "ben"), user(3, "carol")]));
        assert!(!add_online(&mut roster, &[user(3, "carol")]));
        assert_eq!(roster.len(), 2);
    }

    #[test]
    fn online_members_come_first_each_group_by_name() {
        let roster = [
            user(1, "dan"),
            user(2, "Ben"),
            user(3, "carol"),
            user(4, "amy"),
        ];
        let shown: Vec<(String, bool)> = ordered(&roster, &[UserId(1), UserId(3)])
            .into_iter()
            .map(|(u, on)| (u.name, on))
            .collect();
        assert_eq!(
            shown,
            [
                ("carol".into(), true),
                ("dan".into(), true),
                ("amy".into(), false),
                ("Ben".into(), false)
            ]
        );
    }
}
