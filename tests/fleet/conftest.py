"""Fixtures for the fleet tests (helpers in support.py)."""

from __future__ import annotations

import pytest

from tests.fleet.support import REDIS_URL, Fleet


@pytest.fixture(scope="module")
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"the fleet tests need Redis at {REDIS_URL} ({exc}); start redis-server "
                    "or set BRAILLEJOBS_TEST_FLEET_REDIS")
    yield client
    client.close()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, redis_client):
    f = Fleet(tmp_path_factory.mktemp("fleet"))
    yield f
    f.stop_all()
    for key in redis_client.scan_iter(match=f"*{f.queue}*"):
        redis_client.delete(key)
