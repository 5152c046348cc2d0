-- Full-text search over message text (GET /api/search): a GIN index on the
-- text's tsvector under the 'simple' configuration (lower-cased words, no
-- stemming, no stop words, so names and code words match as typed). An
-- expression index, not a stored column: it follows every INSERT, UPDATE
-- of the text (an edit) and DELETE by itself, and indexes the existing rows
-- as it is built. The search query repeats the expression exactly, which
-- is what lets the planner use it (storage::search).
CREATE INDEX messages_search ON messages USING GIN (to_tsvector('simple', text));
