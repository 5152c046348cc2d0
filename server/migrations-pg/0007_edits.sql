-- Edits, deletions and reactions, and the per-room revision a client
-- recovers the ones it missed by (`room:join` with `since_rev`).
-- Every change bumps `rooms.last_rev` and stamps the message with it, in
-- the transaction that makes the change (the room's row lock orders the
-- changes of one room across nodes, as it orders its sends).
ALTER TABLE rooms ADD COLUMN last_rev BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
-- Set when deleted; the text is emptied in the same statement.
ALTER TABLE messages ADD COLUMN deleted_at BIGINT;
-- The room revision of the message's latest change; 0: never changed.
ALTER TABLE messages ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;
-- "What changed after since_rev": only changed messages are indexed.
CREATE INDEX messages_by_rev ON messages (room_id, rev) WHERE rev > 0;

CREATE TABLE reactions (
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji      TEXT   NOT NULL,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ts         BIGINT NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);
