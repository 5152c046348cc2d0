//! Rooms as a user sees them: the list, creating one, membership (inviting
//! to a private room, leaving a room, the member list), direct messages,
//! finding users, and history over HTTP.

use super::{forbidden, internal, Chat};
use crate::storage::{RoomListing, RoomRow, StoreError};
use protocol::http::{NotifyLevel, RoomInfo, RoomNotify};
use protocol::server::{
    HistoryPage, MemberChange, MemberList, MemberState, RoomRemoved, ServerEvent,
};
use protocol::{ErrorCode, ErrorPayload, RoomName, Seq, User, UserId};

/// Names with this prefix are reserved for DMs (`dm-{lowId}-{highId}`).
const DM_PREFIX: &str = RoomName::DM_PREFIX;

impl Chat {
    /// `GET /api/rooms`: public rooms, and the private rooms and DMs `user`
    /// belongs to, with the caller's unread count (0 for a public room they
    /// have not joined) and, for a DM, the other member.
    pub async fn rooms(&self, user: &User) -> Result<Vec<RoomInfo>, ErrorPayload> {
        let rows = self.db.rooms_for(user.id).await.map_err(internal)?;
        rows.into_iter()
            .map(|r| room_info(r).map_err(internal))
            .collect()
    }

    /// `POST /api/rooms`: creates a room with `user` as its creator and
    /// first member. `conflict` if the name is taken; `forbidden` once
    /// `user` has created `max_created` rooms.
    pub async fn create_room(
        &self,
        user: &User,
        name: &RoomName,
        private: bool,
        max_created: u64,
    ) -> Result<RoomInfo, ErrorPayload> {
        if name.is_dm() {
            return Err(ErrorPayload::invalid(
                "name",
                format!("names starting with '{DM_PREFIX}' are reserved for direct messages"),
            ));
        }
        let row = match self
            .db
            .create_room(name, private, user.id, max_created)
            .await
        {
            Ok(row) => row,
            Err(StoreError::Quota) => {
                return Err(ErrorPayload::new(
                    ErrorCode::Forbidden,
                    format!("you have created {max_created} rooms, the most allowed; ask an admin"),
                ))
            }
            Err(StoreError::Conflict) => {
                return Err(ErrorPayload::new(
                    ErrorCode::Conflict,
                    format!("room '{name}' already exists"),
                ))
            }
            Err(e) => return Err(internal(e)),
        };
        tracing::info!(room = %name, private, user_id = user.id.0, "room created");
        let info = RoomInfo {
            name: name.clone(),
            private: row.private,
            last_seq: 0,
            unread: 0,
            dm: None,
            member: true,
            notify: NotifyLevel::All,
        };
        // Live in every sidebar that may list it: everyone's for a public
        // room, the creator's other tabs for a private one.
        let added = ServerEvent::RoomAdded(info.clone());
        if row.private {
            self.cluster.to_user(user.id, added, None);
        } else {
            self.cluster.to_all(added);
        }
        Ok(info)
    }

    /// `room:invite`: a member of a private room adds `invitee` (a user
    /// name) to it; the invitee's open connections get `room:added` and the
    /// room's `room:member`. Inviting a member again changes nothing.
    pub async fn invite(
        &self,
        inviter: &User,
        room: &RoomName,
        invitee: &str,
    ) -> Result<(), ErrorPayload> {
        let row = self.room(room).await?;
        if row.is_dm {
            return Err(ErrorPayload::new(
                ErrorCode::Forbidden,
                "a direct message has exactly its two members; nobody can be invited",
            ));
        }
        if !self
            .db
            .is_member(row.id, inviter.id)
            .await
            .map_err(internal)?
        {
            return Err(ErrorPayload::new(
                ErrorCode::Forbidden,
                format!("only members of room '{room}' may invite to it"),
            ));
        }
        if !row.private {
            return Err(ErrorPayload::invalid(
                "room",
                format!("room '{room}' is public: anyone may join it"),
            ));
        }
        let target = self.user_named(invitee).await?;
        if self
            .db
            .add_member(row.id, target.id, false)
            .await
            .map_err(internal)?
        {
            tracing::info!(room = %room, user_id = target.id.0, by = inviter.id.0, "invited");
            let info = RoomInfo {
                name: room.clone(),
                private: true,
                last_seq: row.last_seq.max(0) as Seq,
                // Nothing read yet.
                unread: row.last_seq.max(0) as u64,
                dm: None,
                member: true,
                notify: NotifyLevel::All,
            };
            self.cluster
                .to_user(target.id, ServerEvent::RoomAdded(info), None);
            self.member_changed(room, target, true);
        }
        Ok(())
    }

    /// `room:exit`: `user` stops being a member of `room`. Every connection
    /// of theirs leaves it and hears `room:removed`; the room hears
    /// `room:member`. A public room stays listed for them as not joined;
    /// a private one needs a new invitation. A DM cannot be left.
    pub async fn exit(&self, user: &User, room: &RoomName) -> Result<(), ErrorPayload> {
        let row = self.room(room).await?;
        if row.is_dm {
            return Err(ErrorPayload::new(
                ErrorCode::Forbidden,
                "a direct message cannot be left",
            ));
        }
        let was_member = self
            .db
            .remove_member(row.id, user.id, !row.private)
            .await
            .map_err(internal)?;
        if !was_member && row.private {
            return Err(forbidden(room));
        }
        tracing::info!(room = %room, user_id = user.id.0, "left the room");
        self.cluster.leave_room(user.id, room);
        self.cluster.to_user(
            user.id,
            ServerEvent::RoomRemoved(RoomRemoved {
                room: room.clone(),
                private: row.private,
            }),
            None,
        );
        if was_member {
            self.member_changed(room, user.clone(), false);
        }
        Ok(())
    }

    /// `room:members`: the members of `room`, online ones (a connection in
    /// the room) first, each group by name; at most
    /// [`protocol::MAX_MEMBER_LIST`]. A private room's list is for its members.
    pub async fn members(&self, user: &User, room: &RoomName) -> Result<MemberList, ErrorPayload> {
        let row = self.room(room).await?;
        if row.private && !self.db.is_member(row.id, user.id).await.map_err(internal)? {
            return Err(forbidden(room));
        }
        let limit = protocol::MAX_MEMBER_LIST;
        let mut users: Vec<User> = self
            .db
            .members(row.id, limit + 1)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|(u, _)| u)
            .collect();
        let has_more = users.len() > limit as usize;
        users.truncate(limit as usize);
        let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
        let online = self.cluster.online_among(room, &ids);
        let mut members: Vec<MemberState> = users
            .into_iter()
            .map(|user| MemberState {
                online: online.contains(&user.id),
                user,
            })
            .collect();
        // Stable: each group keeps the store's order by name.
        members.sort_by_key(|m| !m.online);
        Ok(MemberList {
            room: room.clone(),
            members,
            has_more,
        })
    }

    /// `GET /api/users?q=`: up to `limit` users whose name contains `query`.
    pub async fn find_users(&self, query: &str, limit: u32) -> Result<Vec<User>, ErrorPayload> {
        self.db
            .search_users(query.trim(), limit)
            .await
            .map_err(internal)
    }

    /// Tells the connections in `room` that `user` joined or left it.
    pub(super) fn member_changed(&self, room: &RoomName, user: User, member: bool) {
        let event = ServerEvent::RoomMember(MemberChange {
            room: room.clone(),
            user,
            member,
        });
        self.cluster.to_room(room, event, None);
    }

    /// `dm:open`: the private two-member room of `user` and `peer` (a user
    /// name), `dm-{lowId}-{highId}`, created on first open. The peer's open
    /// connections hear of it (`room:added`) when it is created.
    pub async fn open_dm(&self, user: &User, peer: &str) -> Result<RoomName, ErrorPayload> {
        let peer = self.user_named(peer).await?;
        if peer.id == user.id {
            return Err(ErrorPayload::invalid(
                "user",
                "a direct message needs another user",
            ));
        }
        let (low, high) = if user.id < peer.id {
            (user.id, peer.id)
        } else {
            (peer.id, user.id)
        };
        let name = RoomName::parse(format!("{DM_PREFIX}{}-{}", low.0, high.0))
            .map_err(|e| internal(StoreError::Corrupt(e.to_string())))?;
        if let Some(row) = self.db.room(&name).await.map_err(internal)? {
            return existing_dm(row, &name);
        }
        match self.db.create_dm(&name, user.id, peer.id).await {
            Ok(_) => {
                tracing::info!(room = %name, user_id = user.id.0, peer_id = peer.id.0, "DM created");
                let info = RoomInfo {
                    name: name.clone(),
                    private: true,
                    last_seq: 0,
                    unread: 0,
                    dm: Some(user.clone()),
                    member: true,
                    notify: NotifyLevel::All,
                };
                self.cluster
                    .to_user(peer.id, ServerEvent::RoomAdded(info), None);
                Ok(name)
            }
            // Both opened it at once: the other one created it.
            Err(StoreError::Conflict) => match self.db.room(&name).await.map_err(internal)? {
                Some(row) => existing_dm(row, &name),
                None => Err(internal(StoreError::Corrupt("DM vanished".into()))),
            },
            Err(e) => Err(internal(e)),
        }
    }

    /// `GET /api/rooms/{room}/messages`: up to `limit` messages before
    /// `before_seq` (default: the newest). Private rooms: members only.
    pub async fn page(
        &self,
        user: &User,
        room: &RoomName,
        before_seq: Option<Seq>,
        limit: u32,
    ) -> Result<HistoryPage, ErrorPayload> {
        let row = self.readable(user, room).await?;
        let (messages, has_more) = self
            .page_before(row.id, before_seq.unwrap_or(Seq::MAX), limit)
            .await?;
        Ok(HistoryPage { messages, has_more })
    }

    /// `PUT /api/rooms/{room}/notify`: what `user` hears of `room` from now
    /// on (any room they may read). Their other tabs hear `room:notify`.
    pub async fn set_notify_level(
        &self,
        user: &User,
        room: &RoomName,
        level: NotifyLevel,
    ) -> Result<(), ErrorPayload> {
        let row = self.room(room).await?;
        if row.private && !self.db.is_member(row.id, user.id).await.map_err(internal)? {
            return Err(forbidden(room));
        }
        self.db
            .set_notify_level(row.id, user.id, level)
            .await
            .map_err(internal)?;
        let event = ServerEvent::RoomNotify(RoomNotify {
            room: room.clone(),
            level,
        });
        self.cluster.to_user(user.id, event, None);
        Ok(())
    }

    async fn user_named(&self, name: &str) -> Result<User, ErrorPayload> {
        let row = self.db.user_by_name(name.trim()).await.map_err(internal)?;
        row.map(|r| r.to_user()).ok_or_else(|| {
            ErrorPayload::new(ErrorCode::NotFound, format!("no user '{}'", name.trim()))
        })
    }
}

fn existing_dm(row: RoomRow, name: &RoomName) -> Result<RoomName, ErrorPayload> {
    if row.is_dm {
        Ok(name.clone())
    } else {
        // Room creation refuses the prefix, so only a store edited by hand gets here.
        Err(ErrorPayload::new(
            ErrorCode::Conflict,
            format!("room '{name}' exists and is not a direct message"),
        ))
    }
}

fn room_info(r: RoomListing) -> Result<RoomInfo, StoreError> {
    let name = RoomName::parse(r.name).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let unread = r
        .last_read_seq
        .map_or(0, |read| (r.last_seq - read).max(0) as u64);
    let dm = match (r.is_dm, r.peer_id, r.peer_name) {
        (true, Some(id), Some(name)) => Some(User {
            id: UserId(id),
            name,
        }),
        _ => None,
    };
    Ok(RoomInfo {
        name,
        private: r.private,
        last_seq: r.last_seq.max(0) as Seq,
        unread,
        dm,
        member: !r.departed,
        notify: r
            .notify_level
            .as_deref()
            .map_or(NotifyLevel::All, NotifyLevel::from_stored),
    })
}
