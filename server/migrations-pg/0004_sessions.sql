-- Revocable sessions (issue 11): every token names its session (`sid`), and
-- a token is honoured only while its session is neither revoked nor expired
-- and its user exists. Times are milliseconds since the epoch.
CREATE TABLE sessions (
    -- 128 random bits, hex: the `sid` claim.
    id         TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- Set by logout (this session) or "log out everywhere" (all of a user's).
    revoked_at BIGINT,
    -- The browser or client that logged in (truncated), for the user's eyes.
    user_agent TEXT
);

CREATE INDEX sessions_by_user ON sessions (user_id);
-- Expired sessions are swept at every login.
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
