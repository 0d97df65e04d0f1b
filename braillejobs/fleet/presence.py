"""Which workers consume which queues, as the workers themselves say it in Redis.

Every few seconds each worker's consumer loop writes, for every queue it consumes, its node name
and the time into a sorted set (``braillejobs:consumers:<queue>``). Whoever wants to know who
consumes a queue (``submit``, to choose a queue and warn when nobody takes it) reads the names
seen within :data:`FRESH` seconds: one Redis read, no broadcast to wait for, and a worker that
died or whose consumer loop hangs drops out by itself. A worker that stops cleanly takes its
names out at once.
"""

from __future__ import annotations

import time
from typing import Iterable

KEY = "braillejobs:consumers:{queue}"
INTERVAL = 5.0     # seconds between a worker's announcements
FRESH = 30.0       # an announcement older than this no longer counts


def announce(client, node: str, queues: Iterable[str], now: float | None = None) -> None:
    """Say that ``node`` consumes ``queues`` now (and, by omission, no others it named
    before: those entries simply age out)."""
    now = time.time() if now is None else now
    pipe = client.pipeline()
    for queue in queues:
        key = KEY.format(queue=queue)
        pipe.zadd(key, {node: now})
        pipe.zremrangebyscore(key, "-inf", now - FRESH)     # the departed, gone
        pipe.expire(key, int(FRESH * 4))
    pipe.execute()


def withdraw(client, node: str, queues: Iterable[str]) -> None:
    """``node`` no longer consumes ``queues`` (it stops, or paused them)."""
    pipe = client.pipeline()
    for queue in queues:
        pipe.zrem(KEY.format(queue=queue), node)
    pipe.execute()


def consumers(client, queues: Iterable[str], now: float | None = None) -> dict[str, list[str]]:
    """Queue -> the nodes that announced it within :data:`FRESH` seconds (queues nobody
    consumes are left out)."""
    now = time.time() if now is None else now
    out = {}
    for queue in dict.fromkeys(queues):
        nodes = client.zrangebyscore(KEY.format(queue=queue), now - FRESH, "+inf")
        if nodes:
            out[queue] = sorted(n.decode() if isinstance(n, bytes) else n for n in nodes)
    return out
