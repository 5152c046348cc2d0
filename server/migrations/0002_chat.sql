-- Rooms, membership with read positions, and messages with per-room seq.
CREATE TABLE rooms (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL UNIQUE,
    private    INTEGER NOT NULL DEFAULT 0,
    is_dm      INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER REFERENCES users (id),
    -- The seq of the newest message; bumped in the transaction that stores it.
    last_seq   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE room_members (
    room_id       INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    last_read_seq INTEGER NOT NULL DEFAULT 0,
    joined_at     INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_by_user ON room_members (user_id);

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    author_id  INTEGER NOT NULL REFERENCES users (id),
    -- The request id of the chat:send that created it: the idempotency key.
    client_id  TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    reply_to   INTEGER REFERENCES messages (id),
    ts         INTEGER NOT NULL,
    UNIQUE (room_id, seq),
    UNIQUE (author_id, client_id)
);

INSERT INTO rooms (name, private, created_at) VALUES ('general', 0, 0), ('random', 0, 0), ('tech', 0, 0);
