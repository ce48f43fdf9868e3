-- Each server's requests in flight per client key with a limit on requests at once, so servers
-- sharing the store hold a key to one such limit between them. A server rewrites its own rows
-- about once a second while it has requests in flight on the key (and once more when they
-- end); a row not rewritten for 10 seconds belongs to a server that stopped and counts for
-- nothing.
CREATE TABLE key_inflight (
    key_id     TEXT NOT NULL,
    replica    TEXT NOT NULL,              -- the run's name, as in key_minutes
    inflight   BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,            -- Unix ms
    PRIMARY KEY (key_id, replica)
);
