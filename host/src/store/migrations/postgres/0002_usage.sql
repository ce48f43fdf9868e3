-- One row per request the gateway answered or failed: who asked (the client key's id), what,
-- who answered, how it ended, how long it took and the tokens it used. Never content.
CREATE TABLE usage (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at_ms               BIGINT NOT NULL,    -- when the request reached the gateway, Unix ms
    request_id          TEXT NOT NULL,
    key_id              TEXT,               -- NULL: no client key (anonymous, agents, heal cycles)
    route               TEXT NOT NULL,      -- chat, chat_stream, embed
    model_asked         TEXT NOT NULL,      -- as the client named it
    provider            TEXT,               -- the provider that answered (or failed last)
    model               TEXT,               -- the model that answered
    outcome             TEXT NOT NULL,      -- ok, client_closed, cancelled, or the error type
    attempts            BIGINT NOT NULL,
    latency_us          BIGINT NOT NULL,
    input_tokens        BIGINT,
    output_tokens       BIGINT,
    cache_read_tokens   BIGINT,
    cache_write_tokens  BIGINT,
    reasoning_tokens    BIGINT,
    cost_nano_usd       BIGINT              -- NULL: no price known for the model
);
CREATE INDEX usage_by_time ON usage (at_ms);
