"""Database engines and sessions, and bringing the schema to the current migration.

One SQLAlchemy engine per URL per process. SQLite gets WAL journaling and a busy timeout so that
a worker can write while ``status`` reads, and foreign keys switched on. The schema is created and
upgraded by the Alembic migrations in ``migrations/`` (``braillejobs db upgrade``); an empty
database is brought to the current revision automatically on first use, a database at an older
revision is refused with a message that says to run ``braillejobs db upgrade``.
"""

from __future__ import annotations

import logging

import threading
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from .. import config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent.parent / "migrations"


class DatabaseError(RuntimeError):
    """The database cannot be used; the message says what to do."""


_engines: dict[str, Engine] = {}
_factories: dict[str, sessionmaker[Session]] = {}
_ready: set[str] = set()
_lock = threading.RLock()


def database_url(url: str | None = None) -> str:
    return url or config.get("database_url")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def get_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            try:
                parsed = make_url(url)
            except ArgumentError:
                raise DatabaseError(f"{config.setting('database_url').env_var} is not a database "
                                    f"URL: {config.mask_url(url)!r}") from None
            if parsed.get_backend_name() == "sqlite":
                if parsed.database and parsed.database != ":memory:":
                    Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
                engine = create_engine(url, connect_args={"timeout": 30})
                event.listen(engine, "connect", _sqlite_pragmas)
            else:
                engine = create_engine(url, pool_pre_ping=True)
            _engines[url] = engine
        return engine


def alembic_config(url: str | None = None):
    from alembic.config import Config

    cfg = Config(str(MIGRATIONS_DIR.parent / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # configparser interpolation: a literal % in a password must be doubled.
    cfg.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    # A process that set up its own logging (a worker) keeps it: alembic.ini's would lower the
    # root logger to WARNING and silence the worker's start-up lines.
    if logging.getLogger().handlers:
        cfg.attributes["skip_logging"] = True
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str | None = None, revision: str = "head") -> str:
    """Run the migrations up to ``revision``; returns the revision the database is at."""
    from alembic import command

    url = database_url(url)
    command.upgrade(alembic_config(url), revision)
    return current_revision(get_engine(url)) or ""


def ensure_schema(url: str | None = None) -> None:
    """Make sure the database is at the head revision (creating it when it is empty)."""
    url = database_url(url)
    if url in _ready:
        return
    engine = get_engine(url)
    masked = config.mask_url(url)
    try:
        current = current_revision(engine)
        if current is None:
            tables = set(inspect(engine).get_table_names())
            if tables & {"jobs", "documents", "results"}:
                raise DatabaseError(f"database {masked} has braillejobs tables but no migration "
                                    "stamp; run `braillejobs db upgrade` against a new database")
            upgrade(url)
        elif current != head_revision():
            raise DatabaseError(f"database {masked} is at revision {current}, this version needs "
                                f"{head_revision()}: run `braillejobs db upgrade`")
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(f"cannot open database {masked}: {reason}; check "
                            f"{config.setting('database_url').env_var}") from None
    _ready.add(url)


def session_factory(url: str | None = None) -> sessionmaker[Session]:
    url = database_url(url)
    ensure_schema(url)
    with _lock:
        factory = _factories.get(url)
        if factory is None:
            factory = sessionmaker(get_engine(url), expire_on_commit=False)
            _factories[url] = factory
        return factory


def dispose_pools() -> None:
    """Drop every pooled connection (after a failure they point at a server that went away);
    engines and their settings stay."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()


def dispose_all() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _factories.clear()
        _ready.clear()
