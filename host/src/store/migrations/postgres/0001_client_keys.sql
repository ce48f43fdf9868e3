-- Client keys: what Aratta issues to its own clients. Only the SHA-256 of a key is kept;
-- the key itself is shown once, when it is made.
CREATE TABLE client_keys (
    id          TEXT PRIMARY KEY,          -- key_<16 hex>: how operators name a key
    hash        BYTEA NOT NULL UNIQUE,     -- SHA-256 of the key
    hint        TEXT NOT NULL,             -- ark_abcd…wxyz: tells keys apart in listings
    name        TEXT NOT NULL,
    owner       TEXT,
    models      TEXT,                      -- JSON array of model names; NULL: any model
    routes      TEXT,                      -- JSON array of route kinds; NULL: every route
    created_at  BIGINT NOT NULL,           -- Unix seconds
    expires_at  BIGINT,
    revoked_at  BIGINT,
    rpm         BIGINT,                    -- requests per minute; NULL: no limit
    tpm         BIGINT,                    -- tokens per minute
    max_concurrent BIGINT,                 -- requests at once
    budget_usd  DOUBLE PRECISION,          -- spend per period, US dollars
    budget_period TEXT                     -- day, week or month (NULL: month)
);

-- A counter per kind of state, bumped in the same transaction as every change to it, so a
-- server reading the store (another replica) sees that it must reload.
CREATE TABLE changes (
    topic    TEXT PRIMARY KEY,
    version  BIGINT NOT NULL
);
INSERT INTO changes (topic, version) VALUES ('client_keys', 0);
