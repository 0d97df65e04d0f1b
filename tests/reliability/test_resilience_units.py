"""The building blocks of the fault handling, each against the real thing where there is one:
database retries against a closed port and a real SQLite, the watchdog's clock, stale claims."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from braillejobs import resilience
from braillejobs.db import state
from workers import watchdog


def test_stale_claims_fall_between_the_time_limit_and_the_visibility_timeout():
    for limit, vis in [(600, 3600), (5, 8), (2, 4), (600, 601), (10, 200)]:
        stale = state.stale_claim_seconds(limit, vis)
        assert limit < stale < vis or (stale == limit and vis == limit), (limit, vis, stale)
        assert stale <= limit + 60
    assert state.stale_claim_seconds(600, 3600) == 660  # production: a minute for clocks


def test_retry_db_waits_with_growing_backoff_then_gives_up_on_a_dead_server():
    engine = create_engine("postgresql+psycopg2://postgres@127.0.0.1:1/x",
                           connect_args={"connect_timeout": 1})
    waits: list[float] = []

    def step():
        with engine.connect() as conn:
            conn.execute(text("select 1"))

    with pytest.raises(OperationalError):
        resilience.retry_db(step, "test", attempts=5, base=0.5, cap=3, sleep=waits.append)
    assert len(waits) == 4
    caps = [0.5, 1, 2, 3]
    assert all(c / 2 <= w <= c for w, c in zip(waits, caps)), waits


def test_retry_db_recovers_when_the_database_comes_back(tmp_path):
    path = tmp_path / "later.db"
    calls = []

    def step():
        calls.append(1)
        engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
        with engine.connect() as conn:  # fails until the file exists
            return conn.execute(text("select 41 + 1")).scalar()

    def create_later(seconds):
        time.sleep(seconds)
        import sqlite3
        sqlite3.connect(path).close()

    t = threading.Thread(target=create_later, args=(0.6,))
    t.start()
    assert resilience.retry_db(step, "test", attempts=8, base=0.2, cap=0.5) == 42
    t.join()
    assert len(calls) >= 2


def test_retry_db_does_not_retry_other_errors():
    calls = []

    def step():
        calls.append(1)
        raise IntegrityError("insert", {}, Exception("duplicate key"))

    with pytest.raises(IntegrityError):
        resilience.retry_db(step, "test", attempts=5, sleep=lambda s: None)
    assert calls == [1]


def test_watchdog_fires_past_the_limit_and_not_before():
    fired: list[tuple[str, float]] = []
    dog = watchdog.TimeLimitWatchdog(0.5, poll=0.05, on_expire=lambda l, s: fired.append((l, s)))
    dog.start()
    dog.started("quick", "quick task")
    time.sleep(0.2)
    dog.finished("quick")
    time.sleep(0.5)
    assert fired == []
    dog.started("slow", "slow task")
    time.sleep(1.0)
    assert fired and fired[0][0] == "slow task" and fired[0][1] > 0.5
    dog.stop()


def test_watchdog_does_not_count_waits_for_the_database():
    fired: list = []
    dog = watchdog.TimeLimitWatchdog(0.6, poll=0.05, on_expire=lambda l, s: fired.append(l))
    dog.start()
    dog.started("t", "waiting task")
    for _ in range(4):  # 1.2 s in all, all of it waiting for the database
        time.sleep(0.3)
        resilience.excuse(0.3)
    assert fired == []
    time.sleep(0.9)
    assert fired == ["waiting task"]
    dog.stop()
