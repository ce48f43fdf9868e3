-- Heal cycles: one row per cycle, its record as `GET /api/v1/heal/{id}` shows it (JSON),
-- rewritten after every phase. `server` names the server that runs it (stable across its
-- restarts), so a server starting again marks its own cycles left `running` as interrupted
-- and leaves the other servers' alone.
CREATE TABLE heal_cycles (
    id          TEXT PRIMARY KEY,          -- heal_<time><random>: sorts in start order
    adapter     TEXT NOT NULL,
    status      TEXT NOT NULL,
    server      TEXT NOT NULL,
    record      TEXT NOT NULL
);
