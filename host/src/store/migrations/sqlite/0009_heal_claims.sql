-- Which server heals which adapter: a server claims an adapter before it starts a heal cycle,
-- so servers sharing the store that see the same failure run one cycle between them, not one
-- each. A claim is held while its cycle runs (`finished_at` NULL) and, once it ended, until
-- `[healing] cooldown_seconds` after it was taken, for a server that honours the cooldown; a
-- claim left by a server that stopped mid-cycle can be taken over after an hour, or at once by
-- that server itself.
CREATE TABLE heal_claims (
    adapter     TEXT PRIMARY KEY,
    server      TEXT NOT NULL,             -- see `<home>/server-id`
    cycle_id    TEXT NOT NULL,
    claimed_at  INTEGER NOT NULL,          -- Unix seconds
    finished_at INTEGER                    -- Unix seconds; NULL while the cycle runs
);
