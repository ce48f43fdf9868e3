-- The tool registry: each registered tool's definition (JSON, as `GET /api/v1/tools/{name}`
-- shows it), in the order registered. The agent executor's pinned tools are not kept: it
-- registers them again at every start.
CREATE TABLE tools (
    name        TEXT PRIMARY KEY,
    position    INTEGER NOT NULL,          -- registration order; a replaced tool keeps its place
    definition  TEXT NOT NULL,
    updated_at  INTEGER NOT NULL           -- Unix seconds
);
INSERT INTO changes (topic, version) VALUES ('tools', 0);
