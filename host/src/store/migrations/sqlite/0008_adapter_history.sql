-- The versions each adapter has run, so any server on the store can restore any of them:
-- `entry` is the version as `GET /api/v1/adapters` shows it in `history` (JSON), `component`
-- its bytes. `seq` orders one adapter's versions, oldest first; a version kept again moves to
-- the end. The server keeping one trims its adapter to its `[reload] history_limit`.
CREATE TABLE adapter_history (
    adapter     TEXT NOT NULL,
    sha256      TEXT NOT NULL,             -- SHA-256 of the component, lowercase hex
    seq         INTEGER NOT NULL,
    server      TEXT NOT NULL,             -- the server that kept it (see `<home>/server-id`)
    entry       TEXT NOT NULL,
    component   BLOB NOT NULL,
    PRIMARY KEY (adapter, sha256)
);
