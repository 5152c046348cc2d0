-- Public rooms a user left with `room:exit`. Everyone else counts as a member
-- of every public room (their client joins them all), so leaving one has to
-- be remembered: it is listed for them as not joined (`member: false`) and
-- their client no longer joins it, until they join it again.
CREATE TABLE room_departures (
    room_id INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    left_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
