-- "Seen by" in a join ack lists the members who read furthest in a room
-- (storage::rooms::readers, LIMIT 200): with this index that is a walk of
-- at most 200 index entries instead of a scan and sort of every member.
CREATE INDEX room_members_by_read ON room_members (room_id, last_read_seq);
