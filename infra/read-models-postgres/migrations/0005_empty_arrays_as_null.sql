-- Most messages mention no one and attach nothing. An empty array costs a
-- 16-byte field in every such row and, in a binary `COPY`, one
-- `array_recv` call per field; NULL costs one bit of the row's null map
-- and nothing to decode. New rows store an empty list as NULL; rows
-- written before keep `'{}'`. Readers take both as the empty list.
ALTER TABLE messages ALTER COLUMN mentions DROP NOT NULL;
ALTER TABLE messages ALTER COLUMN attachments DROP NOT NULL;
