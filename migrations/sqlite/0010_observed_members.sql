-- Members kith did not admit, first seen as message senders (they joined the
-- chat outside kith): flagged, counted apart, and toward the capacity
-- unless the group's settings say otherwise.
ALTER TABLE members ADD COLUMN observed BIGINT NOT NULL DEFAULT 0;
