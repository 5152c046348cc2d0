-- Threads: every message carries how many replies it has (a COUNT by
-- `reply_to` in each history query), and a thread lists the replies to one
-- message; both look replies up by their parent.
CREATE INDEX messages_by_reply ON messages (reply_to);
