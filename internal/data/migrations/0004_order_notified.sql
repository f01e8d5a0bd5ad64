-- When the customer was told the order is confirmed (the OrderConfirmed subscriber);
-- NULL until then. Unix milliseconds.
ALTER TABLE orders ADD COLUMN notified_at BIGINT;
