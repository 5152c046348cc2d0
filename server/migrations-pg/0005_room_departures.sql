-- Public rooms a user left with `room:exit` (see migrations/0005 for SQLite).
CREATE TABLE room_departures (
    room_id BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    left_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
