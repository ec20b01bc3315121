"""SQLite schema: tables, indexes and FTS5 indexes kept in step by triggers.

Times are TEXT timestamps (``2024-05-01T12:00:00.123Z``: fixed width, so they sort).
``PRAGMA user_version`` records the schema version.
"""

from __future__ import annotations

__all__ = ["SCHEMA_VERSION", "STATEMENTS"]

SCHEMA_VERSION = 1

_FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"

STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'agent', 'customer')),
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS tickets (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        priority TEXT NOT NULL CHECK (priority IN ('critical', 'high', 'medium', 'low')),
        status TEXT NOT NULL
            CHECK (status IN ('open', 'in_progress', 'waiting', 'resolved', 'closed')),
        customer_id INTEGER NOT NULL REFERENCES users(id),
        assignee_id INTEGER REFERENCES users(id),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        sla_due_at TEXT NOT NULL,
        sla_breached INTEGER NOT NULL DEFAULT 0,
        resolved_at TEXT
    )""",
    # The rowid is implicitly the last column of every index, so "filter, newest first" pages
    # come straight off an index.
    "CREATE INDEX IF NOT EXISTS tickets_status ON tickets(status)",
    "CREATE INDEX IF NOT EXISTS tickets_priority ON tickets(priority)",
    "CREATE INDEX IF NOT EXISTS tickets_status_priority ON tickets(status, priority)",
    "CREATE INDEX IF NOT EXISTS tickets_customer ON tickets(customer_id)",
    "CREATE INDEX IF NOT EXISTS tickets_assignee ON tickets(assignee_id)",
    """CREATE INDEX IF NOT EXISTS tickets_sla_pending ON tickets(sla_due_at)
        WHERE sla_breached = 0 AND status IN ('open', 'in_progress', 'waiting')""",
    """CREATE TABLE IF NOT EXISTS comments (
        id INTEGER PRIMARY KEY,
        ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
        author_id INTEGER NOT NULL REFERENCES users(id),
        body TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS comments_ticket ON comments(ticket_id)",
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS tickets_fts USING fts5(
        title, description, content='tickets', content_rowid='id', tokenize='{_FTS_TOKENIZER}')""",
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS comments_fts USING fts5(
        body, content='comments', content_rowid='id', tokenize='{_FTS_TOKENIZER}')""",
    """CREATE TRIGGER IF NOT EXISTS tickets_fts_insert AFTER INSERT ON tickets BEGIN
        INSERT INTO tickets_fts(rowid, title, description)
            VALUES (new.id, new.title, new.description);
    END""",
    """CREATE TRIGGER IF NOT EXISTS tickets_fts_delete AFTER DELETE ON tickets BEGIN
        INSERT INTO tickets_fts(tickets_fts, rowid, title, description)
            VALUES ('delete', old.id, old.title, old.description);
    END""",
    """CREATE TRIGGER IF NOT EXISTS tickets_fts_update AFTER UPDATE OF title, description
        ON tickets BEGIN
        INSERT INTO tickets_fts(tickets_fts, rowid, title, description)
            VALUES ('delete', old.id, old.title, old.description);
        INSERT INTO tickets_fts(rowid, title, description)
            VALUES (new.id, new.title, new.description);
    END""",
    """CREATE TRIGGER IF NOT EXISTS comments_fts_insert AFTER INSERT ON comments BEGIN
        INSERT INTO comments_fts(rowid, body) VALUES (new.id, new.body);
    END""",
    """CREATE TRIGGER IF NOT EXISTS comments_fts_delete AFTER DELETE ON comments BEGIN
        INSERT INTO comments_fts(comments_fts, rowid, body) VALUES ('delete', old.id, old.body);
    END""",
    """CREATE TRIGGER IF NOT EXISTS comments_fts_update AFTER UPDATE OF body ON comments BEGIN
        INSERT INTO comments_fts(comments_fts, rowid, body) VALUES ('delete', old.id, old.body);
        INSERT INTO comments_fts(rowid, body) VALUES (new.id, new.body);
    END""",
)
