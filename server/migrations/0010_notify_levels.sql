-- What each user hears of a room (`PUT /api/rooms/{room}/notify`): 'mentions'
-- or 'mute'. No row means 'all', the default, so most users have none.
CREATE TABLE room_notify_levels (
    room_id INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    level   TEXT    NOT NULL CHECK (level IN ('mentions', 'mute')),
    PRIMARY KEY (room_id, user_id)
);
