-- The projector runtime's own stores, shared by every process on the schema
-- so that whichever process holds a projector's lease sees the same state.
--
-- Checkpoints of projectors whose store cannot hold them (PgCheckpointStore)
-- go to the `checkpoints` table of 0001: the same key (projector name and
-- version) and the same rule (raised with GREATEST, deleted by a reset) as
-- the read models' transactional checkpoints. A projector keeps its
-- checkpoint in one place or the other, never both.

-- Events a projector gave up on (PgDeadLetterStore), one row per projector
-- and position; a later failure of the same event replaces the row.
CREATE TABLE dead_letters (
    projector text NOT NULL,
    version integer NOT NULL,
    position bigint NOT NULL,
    event_id uuid NOT NULL,
    stream_id text NOT NULL,
    -- UTF-8 bytes: an event type or an error text may hold a NUL, which
    -- text refuses.
    event_type bytea NOT NULL,
    error bytea NOT NULL,
    -- Failed attempts so far, re-drives included (a u32).
    attempts bigint NOT NULL,
    -- Microseconds since the epoch.
    first_failed_at bigint NOT NULL,
    last_failed_at bigint NOT NULL,
    PRIMARY KEY (projector, version, position)
);
