-- Full-text search over message text (GET /api/search): an FTS5 index with
-- external content (the text is stored once, in `messages`), kept in step
-- by triggers on every write of `messages.text`, so an edit is found by its
-- new text and a deletion (the text emptied, or the row removed) by none.
--
-- Tokenizer: unicode61 (words are runs of letters and digits, Unicode case
-- folded) without diacritic folding, which is how the PostgreSQL store's
-- 'simple' configuration and the snippet highlighter (chat::search) see
-- words too: "café" finds "café", not "cafe", on either store.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    text,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;

-- The messages stored before this step.
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
