-- "Seen by" in a join ack lists the members who read furthest in a room
-- (storage::rooms::readers, LIMIT 200).
CREATE INDEX room_members_by_read ON room_members (room_id, last_read_seq);
