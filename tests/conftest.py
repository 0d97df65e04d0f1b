"""Fixtures for the pipeline tests: SQLite in tmp dirs, a PostgreSQL database made for this
session, a dedicated Redis database and queue names unique to this session, real workers."""

from __future__ import annotations

import os

import pytest

# The pipeline, formats, fleet and reliability tests compare their output with liblouis's and run
# on the CPU, where the neural default engine (auto) is slow; tests/translate covers the neural
# engines and the auto default. Set BRAILLEJOBS_ENGINE to run the whole suite on another engine.
os.environ.setdefault("BRAILLEJOBS_ENGINE", "louis")

from tests.support import PG_ADMIN_DSN, REDIS_URL, Worker, settings, unique  # noqa: E402


@pytest.fixture(scope="session")
def redis_url():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"these tests need Redis at {REDIS_URL} ({exc}); run ./scripts/test.sh, "
                    "which starts it")
    prefix = unique("bjtest")
    yield REDIS_URL, prefix
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture(scope="session")
def pg_url():
    """A PostgreSQL database of its own for this test session, dropped at the end."""
    import psycopg2

    name = unique("bjtest").replace("-", "_")
    try:
        admin = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=5)
    except psycopg2.Error as exc:
        pytest.fail(f"these tests need PostgreSQL at {PG_ADMIN_DSN} ({exc}); run "
                    "./scripts/test.sh, which starts it")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://", 1)
    yield f"{base}/{name}"
    from tests.support import reset_caches
    reset_caches()
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'bj.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bj.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def env(tmp_path, sqlite_url, redis_url):
    """Settings for one test: SQLite in tmp, the test Redis db, a queue of its own."""
    broker, prefix = redis_url
    with settings(data_dir=tmp_path / "data", database_url=sqlite_url, broker_url=broker,
                  queue=f"{prefix}-q", gpu_queue=f"{prefix}-gq", wait_poll_seconds=0.1):
        yield {"data_dir": str(tmp_path / "data"), "database_url": sqlite_url,
               "broker_url": broker, "queue": f"{prefix}-q", "gpu_queue": f"{prefix}-gq",
               "wait_poll_seconds": "0.1"}


@pytest.fixture(scope="session")
def live(tmp_path_factory, redis_url):
    """A worker on a shared SQLite file, consuming a queue of this session."""
    broker, prefix = redis_url
    root = tmp_path_factory.mktemp("live")
    values = {"database_url": f"sqlite:///{root / 'bj.db'}", "broker_url": broker,
              "queue": f"{prefix}-live", "gpu_queue": f"{prefix}-live-gpu",
              "data_dir": str(root / "data"),
              "wait_poll_seconds": "0.1"}
    worker = Worker(root / "worker.log", **values).start()
    yield values
    worker.stop()


@pytest.fixture(scope="session")
def live_pg(tmp_path_factory, redis_url, pg_url):
    broker, prefix = redis_url
    root = tmp_path_factory.mktemp("live_pg")
    values = {"database_url": pg_url, "broker_url": broker, "queue": f"{prefix}-livepg",
              "gpu_queue": f"{prefix}-livepg-gpu",
              "data_dir": str(root / "data"), "wait_poll_seconds": "0.1",
              "documents_per_task": "7"}
    worker = Worker(root / "worker.log", **values).start()
    yield values
    worker.stop()
