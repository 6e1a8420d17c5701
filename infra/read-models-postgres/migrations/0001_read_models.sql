-- The relational read models of Quire (ADR 0009). Every table lives in the
-- schema the backend was opened with (the connection's search_path).
--
-- Text that is compared or ordered (ids, names) uses the "C" collation, so
-- orders are bytewise, as in the in-memory backends. Positions, sizes,
-- sequence numbers and times (microseconds since the epoch) are bigints.

-- Each projector's checkpoint, written in the transaction of every batch.
CREATE TABLE checkpoints (
    projector text NOT NULL,
    version integer NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (projector, version)
);

-- Documents read model ------------------------------------------------------

CREATE TABLE projects (
    id text COLLATE "C" PRIMARY KEY,
    -- Position of the last event applied to the row: the idempotency guard.
    applied bigint NOT NULL,
    name text COLLATE "C" NOT NULL,
    owner text COLLATE "C" NOT NULL,
    parent text COLLATE "C",
    deleted_at bigint,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);
-- An owner's live projects under one parent, by name.
CREATE INDEX projects_children ON projects (owner, parent, name, id) WHERE deleted_at IS NULL;

CREATE TABLE documents (
    id text COLLATE "C" PRIMARY KEY,
    applied bigint NOT NULL,
    name text NOT NULL,
    -- Of the current version (the declared one while the upload is pending).
    content_type text NOT NULL,
    size bigint NOT NULL,
    sha256 text NOT NULL,
    owner text COLLATE "C" NOT NULL,
    project text COLLATE "C",
    -- Current version number; 0 while the first upload is pending.
    version bigint NOT NULL,
    -- A requested version not yet completed.
    pending_version bigint,
    pending_content_type text,
    deleted_at bigint,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);
-- List orders: newest first, then id descending.
CREATE INDEX documents_by_owner ON documents (owner, created_at DESC, id DESC);
CREATE INDEX documents_by_project ON documents (project, created_at DESC, id DESC) WHERE project IS NOT NULL;

CREATE TABLE document_versions (
    document text COLLATE "C" NOT NULL,
    number bigint NOT NULL,
    content_type text NOT NULL,
    size bigint NOT NULL,
    sha256 text NOT NULL,
    uploaded_by text NOT NULL,
    at bigint NOT NULL,
    PRIMARY KEY (document, number)
);

CREATE TABLE document_shares (
    document text COLLATE "C" NOT NULL,
    user_id text COLLATE "C" NOT NULL,
    -- 'view' or 'edit'.
    role text NOT NULL,
    PRIMARY KEY (document, user_id)
);
CREATE INDEX document_shares_by_user ON document_shares (user_id, document);

-- Channels read model -------------------------------------------------------

CREATE TABLE channels (
    id text COLLATE "C" PRIMARY KEY,
    applied bigint NOT NULL,
    -- 'direct' or 'group'.
    kind text NOT NULL,
    name text,
    created_at bigint NOT NULL,
    -- Messages accepted so far: the channel's term of every unread count.
    sent bigint NOT NULL,
    -- seq and time of the newest message; 0 and NULL while there is none.
    last_seq bigint NOT NULL,
    last_message_at bigint
);

-- Current participants. A participant's unread count is
-- `unread_offset + channels.sent - sent_by_user`: a message by anyone else
-- raises it without touching this row; a recount (after a join or a read
-- marker move) or a deletion sets `unread_offset` (ADR 0009).
CREATE TABLE channel_members (
    channel text COLLATE "C" NOT NULL,
    user_id text COLLATE "C" NOT NULL,
    -- The channel's creation time, for the user's channel list order.
    channel_created_at bigint NOT NULL,
    -- seq of the last message the user marked read; 0 for none.
    read_seq bigint NOT NULL,
    -- Raised by each message the user sends while a participant; only its
    -- changes since the last recount matter.
    sent_by_user bigint NOT NULL,
    unread_offset bigint NOT NULL,
    PRIMARY KEY (channel, user_id)
);
CREATE INDEX channel_members_by_user ON channel_members (user_id, channel_created_at DESC, channel DESC);

CREATE TABLE messages (
    channel text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    id text COLLATE "C" NOT NULL,
    author text COLLATE "C" NOT NULL,
    -- UTF-8; bytea because a body may hold NUL, which text refuses. Empty
    -- once deleted.
    body bytea NOT NULL,
    -- The message this one answers (only if it was in the channel when
    -- this one was sent).
    thread_parent text COLLATE "C",
    mentions text[] NOT NULL,
    attachments text[] NOT NULL,
    sent_at bigint NOT NULL,
    edited_at bigint,
    deleted boolean NOT NULL,
    PRIMARY KEY (channel, seq),
    UNIQUE (channel, id)
);
CREATE INDEX messages_replies ON messages (channel, thread_parent, seq) WHERE thread_parent IS NOT NULL;
