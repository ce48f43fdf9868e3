-- The adapter version each adapter serves, as the last server to swap one in published it, so
-- every server sharing the store follows (verifying it first). `generation` grows with every
-- change to a row, so a server can tell which rows changed since it last looked.
CREATE TABLE adapter_components (
    sha256      TEXT PRIMARY KEY,          -- SHA-256 of the component, lowercase hex
    adapter     TEXT NOT NULL,
    bytes       BLOB NOT NULL,
    stored_at   INTEGER NOT NULL           -- Unix seconds
);
CREATE TABLE adapter_serving (
    adapter     TEXT PRIMARY KEY,
    sha256      TEXT NOT NULL REFERENCES adapter_components (sha256),
    version     TEXT NOT NULL,             -- what the component describes itself as
    generation  INTEGER NOT NULL,
    replica     TEXT NOT NULL,             -- the server that published it
    origin      TEXT NOT NULL,             -- where it came from there (a file, an approval, …)
    published_at INTEGER NOT NULL          -- Unix seconds
);
