-- A message id is unique in its channel; the key that enforces it now
-- leads with the id. Ids are minted in time order (UUIDv7), so each new
-- message's entry lands at the right edge of this index instead of on a
-- random page among every channel's (the primary key already pays that),
-- which makes inserting a message markedly cheaper (ADR 0009). Lookups
-- by channel and id use it as before.
ALTER TABLE messages DROP CONSTRAINT messages_channel_id_key;
ALTER TABLE messages ADD CONSTRAINT messages_id_channel_key UNIQUE (id, channel);
