-- Orders: the aggregate of the demo. Portable across SQLite, MySQL and PostgreSQL.
CREATE TABLE orders (
    id          VARCHAR(64) PRIMARY KEY,
    customer_id VARCHAR(64) NOT NULL,
    items       TEXT        NOT NULL, -- JSON array of {sku, quantity, unit_price_cents}
    total_cents BIGINT      NOT NULL,
    status      VARCHAR(16) NOT NULL,
    created_at  BIGINT      NOT NULL, -- Unix milliseconds
    updated_at  BIGINT      NOT NULL
);
