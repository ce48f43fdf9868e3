-- Each server's own counts per client key, so servers sharing one store add up each other's:
-- requests and tokens per minute for the rate limits, and spend per UTC day for the budgets.
-- A server writes only its own rows (`replica` is a name it draws at start), with absolute
-- values, so a write repeated after a failure never counts twice.
CREATE TABLE key_minutes (
    key_id    TEXT NOT NULL,
    replica   TEXT NOT NULL,
    minute    BIGINT NOT NULL,                -- Unix ms / 60,000
    requests  BIGINT NOT NULL,
    tokens    BIGINT NOT NULL,
    PRIMARY KEY (key_id, minute, replica)
);
CREATE TABLE key_spend (
    key_id          TEXT NOT NULL,
    replica         TEXT NOT NULL,
    day             BIGINT NOT NULL,          -- Unix ms / 86,400,000
    spent_nano_usd  BIGINT NOT NULL,
    PRIMARY KEY (key_id, day, replica)
);
-- What keys spent before this version, so their budgets carry on.
INSERT INTO key_spend (key_id, replica, day, spent_nano_usd)
    SELECT key_id, 'before-key-counters', at_ms / 86400000, SUM(cost_nano_usd)
    FROM usage WHERE key_id IS NOT NULL AND cost_nano_usd IS NOT NULL
    GROUP BY key_id, at_ms / 86400000;
-- Budgets are read from key_spend now; usage is read by time (and filtered by key within it),
-- so the per-key index only slowed every usage write.
DROP INDEX usage_by_key;
