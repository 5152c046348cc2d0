-- What each user hears of a room (see migrations/0010 for SQLite).
CREATE TABLE room_notify_levels (
    room_id BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    level   TEXT   NOT NULL CHECK (level IN ('mentions', 'mute')),
    PRIMARY KEY (room_id, user_id)
);
