-- The search index of Quire on PostgreSQL (ADR 0011). Every table lives in
-- the schema the index was opened with (the connection's search_path).
--
-- Keys and ids use the "C" collation (bytewise, as the tie-break of equal
-- scores). Positions and times (microseconds since the epoch) are bigints.

-- The checkpoint of the last commit: one row, raised (never lowered) in the
-- transaction of every commit.
CREATE TABLE checkpoint (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    position bigint NOT NULL
);

-- Documents and messages, and the tombstones of deleted ones: one row per
-- entry key, guarded by `position`.
CREATE TABLE entries (
    -- `EntryKey::storage_key`: `document <id>` or `message <channel> <id>`.
    key text COLLATE "C" PRIMARY KEY,
    -- `document` or `message`.
    kind text NOT NULL,
    -- A message's channel; NULL for a document.
    channel text COLLATE "C",
    -- The document id or the message id.
    id text COLLATE "C" NOT NULL,
    -- The guard: the log position of the last write to this key.
    position bigint NOT NULL,
    -- A deleted entry: only its key and guard are meaningful.
    tombstone boolean NOT NULL,
    -- Never searched: a soft-deleted entry, or a tombstone.
    hidden boolean NOT NULL,
    -- `project` or `channel`, and its id; NULL for none.
    container_kind text,
    container text COLLATE "C",
    -- Title and body as text (text cannot hold NUL: a field that holds NUL
    -- is stored here without it, and exactly in its `_exact` column).
    title text NOT NULL,
    body text NOT NULL,
    title_exact bytea,
    body_exact bytea,
    text_version bigint NOT NULL,
    author text COLLATE "C" NOT NULL,
    -- `user:<id>` / `channel:<id>` principals that may find the entry.
    readers text[] NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    -- What queries match: the title's first 4,096 characters weighted A,
    -- the body's first 131,072 weighted B. 'simple': lowercased words, no
    -- stemming and no stop words, like the embedded tantivy index. The caps
    -- keep every tsvector under PostgreSQL's 1 MB limit whatever the text
    -- (at most ~6.5 bytes of tsvector per character, for one-character
    -- words of 4-byte characters); positions past 16,383 words are lumped
    -- together by PostgreSQL anyway.
    tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, left(title, 4096)), 'A')
        || setweight(to_tsvector('simple'::regconfig, left(body, 131072)), 'B')
    ) STORED
);
-- Only searchable rows are indexed: queries always ask for `NOT hidden`.
CREATE INDEX entries_text ON entries USING gin (tsv) WHERE NOT hidden;
CREATE INDEX entries_readers ON entries USING gin (readers) WHERE NOT hidden;

-- Channel memberships, resolved when a query runs: guarded per pair.
CREATE TABLE members (
    channel text COLLATE "C" NOT NULL,
    user_id text COLLATE "C" NOT NULL,
    member boolean NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (channel, user_id)
);
-- A reader's channels, looked up by every query.
CREATE INDEX members_of_user ON members (user_id, channel) WHERE member;
