"""Staying correct when the database fails: retries with backoff, deadlocks run again.

(When a claim is stale is the claim rule, in :mod:`braillejobs.db.state`.)

* :func:`retry_db` runs a database step again, with exponential backoff and jitter, while the
  database cannot be reached (a restart, a fail-over, a network blip), instead of losing the task.
  Each try must be a whole unit of work on a fresh session: a try that failed left nothing behind
  (its transaction is rolled back) or left exactly what a second try expects (the claim is keyed
  on a claim token, results are upserted).
* :func:`excuse` records the seconds a thread spent waiting for the database, which the workers'
  time-limit watchdog (``workers/watchdog.py``) does not count against a task.

Importing this module imports neither Celery nor torch.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Callable, TypeVar

from . import config

log = logging.getLogger("braillejobs.resilience")

T = TypeVar("T")



# PostgreSQL's SQLSTATEs for a transaction the server chose to abort so that another can go on.
_DEADLOCK_STATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure
DEADLOCK_TRIES = 10


def is_deadlock(exc: BaseException) -> bool:
    """True when the database aborted the transaction to break a deadlock (or a serialization
    conflict): nothing is wrong with the database, and the same step should simply run again."""
    orig = getattr(exc, "orig", None)
    return getattr(orig, "pgcode", None) in _DEADLOCK_STATES


def is_connection_error(exc: BaseException) -> bool:
    """True for errors that mean 'the database is unreachable or went away', worth retrying."""
    from sqlalchemy import exc as sa_exc

    from .db.session import DatabaseError

    if is_deadlock(exc):
        return False
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        return isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError))
    if isinstance(exc, DatabaseError):
        return str(exc).startswith("cannot open database")
    return isinstance(exc, (ConnectionError, TimeoutError))


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return config.mask_url(text[0] if text else exc.__class__.__name__)


def retry_db(step: Callable[[], T], what: str, *, attempts: int | None = None,
             base: float = 0.5, cap: float = 10.0,
             sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``step``; while it fails because the database is unreachable, wait and run it again.

    The waits grow exponentially from ``base`` to at most ``cap`` seconds, with jitter so that a
    fleet does not reconnect in step. After ``attempts`` tries (the ``db_retry_attempts``
    setting) the last error is raised: the task then fails and its message is redelivered.
    """
    tries = max(1, attempts if attempts is not None else config.get("db_retry_attempts"))
    n = 0
    deadlocks = 0
    while True:
        n += 1
        try:
            return step()
        except Exception as exc:
            if is_deadlock(exc) and deadlocks < DEADLOCK_TRIES:
                # Another transaction won; the step is a unit (rolled back whole), so run it
                # again at once, after a short random pause so that the two do not meet again.
                deadlocks += 1
                n -= 1
                log.info("database deadlock while trying to %s; running it again", what)
                sleep(random.uniform(0.01, 0.05 * deadlocks))
                continue
            if n >= tries or not is_connection_error(exc):
                raise
            delay = min(cap, base * 2 ** (n - 1)) * random.uniform(0.5, 1.0)
            log.warning("database unreachable while trying to %s (%s); try %d of %d again in "
                        "%.1f s", what, _reason(exc), n + 1, tries, delay)
            from .db.session import dispose_pools

            dispose_pools()  # pooled connections point at a server that went away
            t0 = time.monotonic()
            sleep(delay)
            excuse(time.monotonic() - t0)


# Seconds each thread has spent waiting for the database: the time-limit watchdog does not count
# them against a task (the limit is for runaway work, and the waits are bounded by the tries).
_waited: dict[int, float] = {}
_waited_lock = threading.Lock()


def excuse(seconds: float, thread: int | None = None) -> None:
    key = threading.get_ident() if thread is None else thread
    with _waited_lock:
        _waited[key] = _waited.get(key, 0.0) + seconds


def waited(thread: int) -> float:
    with _waited_lock:
        return _waited.get(thread, 0.0)


