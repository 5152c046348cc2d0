//! The notification domain: the only place that stores a notification and
//! then pushes it. After the commit, each recipient's WebSocket connections
//! get `notification:new` and `notification:unread {count}` (through the
//! hub) and their SSE streams get the notification and then `unread`
//! (through [`Streams`]).
//!
//! Triggers: [`Notifier::on_message`] (mentions and DMs, called by
//! `chat::send` after its commit), [`Notifier::announce`] (admins) and
//! [`Notifier::publish`] (the HTTP publish API).

mod streams;

pub use streams::{StreamEvent, Streams, Subscription};

use crate::cluster::Cluster;
use crate::hub::ConnId;
use crate::storage::{Db, NewNotification, RoomRow, StoreError};
use protocol::http::NotifyLevel;
use protocol::links::message_url;
use protocol::mentions::{EVERYONE, HERE};
use protocol::server::{Announcement, Message, NotificationKind, ServerEvent, UnreadCount};
use protocol::{RoomName, User, UserId};

/// Longest notification body taken from a chat message, in characters.
const EXCERPT_CHARS: usize = 200;

/// Stores and delivers notifications.
#[derive(Clone)]
pub struct Notifier {
    /// Fan-out to every node's connections and SSE streams.
    cluster: Cluster,
    db: Db,
}

impl Notifier {
    pub fn new(cluster: Cluster, db: Db) -> Self {
        Self { cluster, db }
    }

    /// This node's SSE subscriptions.
    pub fn streams(&self) -> &Streams {
        self.cluster.streams()
    }

    /// Stores `new` for each of `users` (one transaction), then pushes each
    /// stored notification to its user's connections and SSE streams.
    /// Returns how many users it was stored for.
    pub async fn notify(&self, users: &[UserId], new: &NewNotification) -> Result<u64, StoreError> {
        if users.is_empty() {
            return Ok(0);
        }
        let stored = self.db.create_notifications(users, new).await?;
        for s in &stored {
            let c = &self.cluster;
            c.to_user(
                s.user,
                ServerEvent::NotificationNew(s.notification.clone()),
                None,
            );
            c.to_user(
                s.user,
                ServerEvent::NotificationUnread(UnreadCount { count: s.unread }),
                None,
            );
            c.to_streams(
                Some(s.user),
                StreamEvent::Notification(s.notification.clone()),
            );
            c.to_streams(Some(s.user), StreamEvent::Unread(s.unread));
        }
        Ok(stored.len() as u64)
    }

    /// `notification:read` (WebSocket, `conn` the asking connection) or
    /// `POST /api/notifications/read` (`conn` is `None`): marks `ids` (or
    /// all, when `None`) of `user`'s notifications read. Every other
    /// connection and every SSE stream of the user hears the new count, so
    /// all tabs' badges agree whichever door the read came through.
    pub async fn mark_read(
        &self,
        user: UserId,
        conn: Option<ConnId>,
        ids: Option<&[i64]>,
    ) -> Result<u64, StoreError> {
        let unread = self.db.mark_notifications_read(user, ids).await?;
        let event = ServerEvent::NotificationUnread(UnreadCount { count: unread });
        self.cluster.to_user(user, event, conn);
        self.cluster
            .to_streams(Some(user), StreamEvent::Unread(unread));
        Ok(unread)
    }

    /// An admin announcement: `system:announcement` to every open
    /// connection and SSE stream at once, and a `system` notification stored
    /// for every user. Returns the number of users notified.
    /// `by` names the publisher in the log (`key:<n>` or `admin:<id>`).
    /// `user` read the DM `room` up to `seq`: their `dm` notifications of
    /// its messages up to there are read now (the DM itself was the news).
    /// If that changed anything, every connection and SSE stream of theirs
    /// hears the new count.
    pub async fn dm_read(
        &self,
        user: UserId,
        room: &RoomName,
        seq: protocol::Seq,
    ) -> Result<(), StoreError> {
        let prefix = protocol::links::message_url_prefix(room);
        if let Some(unread) = self
            .db
            .mark_message_notifications_read(user, NotificationKind::Dm, &prefix, seq)
            .await?
        {
            self.cluster.to_user(
                user,
                ServerEvent::NotificationUnread(UnreadCount { count: unread }),
                None,
            );
            self.cluster
                .to_streams(Some(user), StreamEvent::Unread(unread));
        }
        Ok(())
    }

    pub async fn announce(&self, by: &str, text: &str) -> Result<u64, StoreError> {
        let announcement = Announcement {
            text: text.to_owned(),
            ts: crate::clock::now_ms(),
        };
        self.cluster
            .to_all(ServerEvent::SystemAnnouncement(announcement.clone()));
        self.cluster
            .to_streams(None, StreamEvent::Announcement(announcement));
        let users: Vec<UserId> = self
            .db
            .users()
            .await?
            .into_iter()
            .map(|u| UserId(u.id))
            .collect();
        tracing::info!(by, users = users.len(), "announcement");
        self.notify(
            &users,
            &NewNotification {
                kind: NotificationKind::System,
                title: "Announcement".into(),
                body: text.to_owned(),
                url: None,
                progress: None,
                key: None,
            },
        )
        .await
    }

    /// The triggers of a newly stored chat message, run after its commit
    /// (never for a recipient who muted the room):
    /// in a DM, the other member is notified (`dm`) unless one of their
    /// connections, on any node, is looking at that DM right now
    /// ([`Cluster::user_is_looking_at`]: joined and focused on it, or joined
    /// without ever sending `room:focus`); in any other room, each `@name`
    /// that names another user who can read the room is notified
    /// (`mention`), and `@room` / `@here` notify the room's members (all of
    /// them / those online now) when the author is an admin or the room's
    /// creator. Failures are logged, never returned: the message is sent.
    pub async fn on_message(&self, room: &RoomRow, author: &User, message: &Message) {
        let result = if room.is_dm {
            self.dm(room, author, message).await
        } else {
            self.mentions(room, author, message).await
        };
        if let Err(e) = result {
            tracing::error!(error = %e, room = %room.name, "notification trigger failed");
        }
    }

    /// `users` without those who muted `room` (`mentions` still hears
    /// mentions and, in a DM, every message: see [`NotifyLevel`]).
    async fn not_muted(
        &self,
        room: &RoomRow,
        users: Vec<UserId>,
    ) -> Result<Vec<UserId>, StoreError> {
        if users.is_empty() {
            return Ok(users);
        }
        let levels = self.db.notify_levels(room.id).await?;
        Ok(users
            .into_iter()
            .filter(|u| levels.get(u) != Some(&NotifyLevel::Mute))
            .collect())
    }

    async fn dm(&self, room: &RoomRow, author: &User, message: &Message) -> Result<(), StoreError> {
        let recipients: Vec<UserId> = self
            .db
            .members(room.id, u32::MAX)
            .await?
            .into_iter()
            .map(|(u, _)| u.id)
            .filter(|id| *id != author.id && !self.cluster.user_is_looking_at(*id, &message.room))
            .collect();
        let recipients = self.not_muted(room, recipients).await?;
        self.notify(
            &recipients,
            &NewNotification {
                kind: NotificationKind::Dm,
                title: format!("New message from {}", author.name),
                body: excerpt(&message.text),
                url: Some(message_url(&message.room, message.seq)),
                progress: None,
                key: None,
            },
        )
        .await
        .map(drop)
    }

    async fn mentions(
        &self,
        room: &RoomRow,
        author: &User,
        message: &Message,
    ) -> Result<(), StoreError> {
        let names = protocol::mentions::mentioned_names(&message.text);
        let everyone = self.everyone(room, &message.room, author, &names).await?;
        let mut recipients = Vec::new();
        // `@room` and `@here` are never a person, whoever registered the name.
        for name in names.iter().filter(|n| !EVERYONE.contains(&n.as_str())) {
            let Some(user) = self.db.user_by_name(name).await? else {
                continue;
            };
            let id = UserId(user.id);
            if id == author.id || recipients.contains(&id) {
                continue;
            }
            if room.private && !self.db.is_member(room.id, id).await? {
                continue;
            }
            recipients.push(id);
        }
        let title = match everyone {
            Some((mention, ref members)) => {
                for id in members {
                    if !recipients.contains(id) {
                        recipients.push(*id);
                    }
                }
                format!("{} mentioned @{mention} in #{}", author.name, message.room)
            }
            None => format!("{} mentioned you in #{}", author.name, message.room),
        };
        // A mass mention is a mention: "mentions only" hears it, muted not.
        let recipients = self.not_muted(room, recipients).await?;
        // One notification per user, all stored in one transaction.
        self.notify(
            &recipients,
            &NewNotification {
                kind: NotificationKind::Mention,
                title,
                body: excerpt(&message.text),
                url: Some(message_url(&message.room, message.seq)),
                progress: None,
                key: None,
            },
        )
        .await
        .map(drop)
    }

    /// The members a mass mention in `names` reaches, with the mention used:
    /// `@room` every member of the room, `@here` those online in it now (on
    /// any node); never the author. Only an admin or the room's creator
    /// notifies this way: anyone else's `@room` is sent as plain text.
    async fn everyone(
        &self,
        room: &RoomRow,
        name: &RoomName,
        author: &User,
        names: &[String],
    ) -> Result<Option<(&'static str, Vec<UserId>)>, StoreError> {
        // `@room` wins when both are written: it includes everyone `@here` would.
        let Some(mention) = EVERYONE.into_iter().find(|m| names.iter().any(|n| n == m)) else {
            return Ok(None);
        };
        let allowed = room.created_by == Some(author.id.0)
            || self
                .db
                .user_by_id(author.id)
                .await?
                .is_some_and(|u| u.is_admin);
        if !allowed {
            return Ok(None);
        }
        let members: Vec<UserId> = self
            .db
            .members(room.id, u32::MAX)
            .await?
            .into_iter()
            .map(|(u, _)| u.id)
            .filter(|id| *id != author.id)
            .collect();
        let members = if mention == HERE {
            let online = self.cluster.online_among(name, &members);
            members
                .into_iter()
                .filter(|id| online.contains(id))
                .collect()
        } else {
            members
        };
        Ok(Some((mention, members)))
    }
}

fn excerpt(text: &str) -> String {
    if text.chars().count() <= EXCERPT_CHARS {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(EXCERPT_CHARS - 1).collect();
        s.push('…');
        s
    }
}
