-- Notifications, stored per user. A notification published with a `key`
-- replaces the user's earlier one with that key in place (job progress).
CREATE TABLE notifications (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind     TEXT    NOT NULL,
    title    TEXT    NOT NULL,
    body     TEXT    NOT NULL,
    url      TEXT,
    progress INTEGER,
    key      TEXT,
    read     INTEGER NOT NULL DEFAULT 0,
    ts       INTEGER NOT NULL
);
CREATE INDEX notifications_by_user ON notifications (user_id, id);
CREATE UNIQUE INDEX notifications_by_key ON notifications (user_id, key) WHERE key IS NOT NULL;
