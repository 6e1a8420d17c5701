-- Rows the channels projector rewrites in nearly every batch (a channel's
-- counters, a participant's message count, marker and offset) leave room
-- on their pages, so an update can stay on the page and skip the indexes
-- (a heap-only tuple): none of the columns it changes is indexed.
ALTER TABLE channels SET (fillfactor = 50);
ALTER TABLE channel_members SET (fillfactor = 50);
