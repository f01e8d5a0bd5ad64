-- Events this service published, one row per event id, written in the same local
-- transaction as the state change that published it (data.eventPublisher.local). The
-- transactional-message check-back answers "commit" exactly when the row exists, by one
-- rule for every event type; processed_messages.produced_event_id (0002) is no longer
-- written. A row older than the broker's check window (RocketMQ: 15 checks, 60 s apart)
-- answers no question any more: prune by published_at if the table's size matters.
CREATE TABLE published_events (
    event_id     VARCHAR(64)  PRIMARY KEY,
    event_name   VARCHAR(128) NOT NULL,
    aggregate_id VARCHAR(64)  NOT NULL,
    published_at BIGINT       NOT NULL -- Unix milliseconds
);
