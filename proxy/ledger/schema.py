"""The ledger's SQLite file: where it is, its schema and migrations, opening it safely.

Names (endpoints, models, sessions) are stored once in `names` and referred to by id, which
keeps a row near 50 bytes: a million rows stay well under 250 MB. `daily` sums the rows per
local day, endpoint and served model as they are written, and `session_daily` per day and
Claude Code session, so summaries never scan `requests`.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import platformdirs

from proxy import APP_SLUG

FILE_NAME = "usage.sqlite3"
BUSY_TIMEOUT_MS = 200  # the writer drops a batch rather than wait longer for a lock

log = logging.getLogger("ccf.usage")

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE names (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
    CREATE TABLE requests (
        id INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,            -- Unix time in milliseconds
        session INTEGER,                -- names.id of x-claude-code-session-id
        model INTEGER,                  -- names.id: the model Claude Code asked for
        served INTEGER,                 -- names.id: the model sent upstream (mapped)
        endpoint INTEGER,               -- names.id: who answered; NULL if none did
        status INTEGER NOT NULL,
        attempts TEXT NOT NULL,         -- "a=529, b=200"
        latency_ms INTEGER NOT NULL,
        ttft_ms INTEGER,                -- to the first content sent to the client
        input INTEGER NOT NULL DEFAULT 0,
        output INTEGER NOT NULL DEFAULT 0,
        cache_read INTEGER NOT NULL DEFAULT 0,
        cache_write INTEGER NOT NULL DEFAULT 0,
        cost REAL,                      -- USD; NULL: tokens at an unknown price
        rescued INTEGER NOT NULL DEFAULT 0,
        failovers INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX requests_ts ON requests (ts);
    CREATE INDEX requests_session ON requests (session) WHERE session IS NOT NULL;
    CREATE INDEX requests_endpoint ON requests (endpoint);
    CREATE TABLE daily (
        day TEXT NOT NULL,              -- local date, YYYY-MM-DD
        endpoint INTEGER NOT NULL,      -- names.id; '' when no endpoint answered
        model INTEGER NOT NULL,         -- names.id of the served (else the asked) model
        requests INTEGER NOT NULL,
        ok INTEGER NOT NULL,
        failovers INTEGER NOT NULL,
        rescued INTEGER NOT NULL,
        input INTEGER NOT NULL,
        output INTEGER NOT NULL,
        cache_read INTEGER NOT NULL,
        cache_write INTEGER NOT NULL,
        cost REAL NOT NULL,             -- of the requests with a known price
        unpriced INTEGER NOT NULL,      -- requests with tokens at an unknown price
        PRIMARY KEY (day, endpoint, model)
    ) WITHOUT ROWID;
    CREATE TABLE session_daily (
        day TEXT NOT NULL,
        session INTEGER NOT NULL,       -- names.id; '' for requests without a session id
        requests INTEGER NOT NULL,
        ok INTEGER NOT NULL,
        failovers INTEGER NOT NULL,
        rescued INTEGER NOT NULL,
        input INTEGER NOT NULL,
        output INTEGER NOT NULL,
        cache_read INTEGER NOT NULL,
        cache_write INTEGER NOT NULL,
        cost REAL NOT NULL,
        unpriced INTEGER NOT NULL,
        last_ms INTEGER NOT NULL,
        PRIMARY KEY (day, session)
    ) WITHOUT ROWID;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class NewerSchemaError(sqlite3.DatabaseError):
    """The file was written by a newer version of the app; it is left alone."""


def default_path() -> Path:
    return Path(platformdirs.user_data_dir(APP_SLUG, appauthor=False)) / FILE_NAME


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def open_for_writing(path: Path) -> sqlite3.Connection:
    """Open (creating) the ledger in WAL mode at the current schema version."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def migrate(conn: sqlite3.Connection) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise NewerSchemaError(f"schema version {version} is newer than this app's")
    for number in range(version, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in statements(MIGRATIONS[number]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        upgraded = logging.INFO if version > 0 else logging.DEBUG  # a new file is no news
        log.log(upgraded, "usage ledger: schema now at version %d", number + 1)


def statements(script: str) -> list[str]:
    """The SQL statements of `script`, one by one (`executescript` would commit midway)."""
    found, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            found.append(pending.strip())
            pending = ""
    return found


def move_aside(path: Path) -> Path:
    """Rename a corrupt ledger (and its WAL files) out of the way; return the new name."""
    aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            source.replace(aside.with_name(aside.name + suffix))
    return aside
