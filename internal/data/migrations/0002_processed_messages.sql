-- Events a consumer has processed, keyed by a deduplication key (event name + event id),
-- written in the same transaction as the state change the event caused, so a redelivered
-- event changes nothing. produced_event_id is the event that transaction published (the
-- transactional-message check-back looks it up).
CREATE TABLE processed_messages (
    dedup_key         VARCHAR(191) PRIMARY KEY,
    produced_event_id VARCHAR(64),
    processed_at      BIGINT       NOT NULL -- Unix milliseconds
);
CREATE INDEX processed_messages_produced_event_id ON processed_messages (produced_event_id);
