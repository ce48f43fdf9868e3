-- The approval queue: candidate adapter versions waiting for a human. `entry` is the entry as
-- `GET /api/v1/approvals` shows it (JSON); `component` is the candidate, dropped once decided.
-- A server deciding an entry claims it first (`claimed_at`), so two servers cannot both act
-- on it; a claim older than ten minutes (its server died mid-way) can be taken over.
CREATE TABLE approvals (
    id          TEXT PRIMARY KEY,          -- apr_<time><random>: sorts in proposal order
    adapter     TEXT NOT NULL,
    status      TEXT NOT NULL,             -- pending, approved, failed, rejected
    entry       TEXT NOT NULL,
    component   BLOB,
    claimed_at  INTEGER                    -- Unix seconds; NULL: nobody is deciding it
);
