"""Staying correct when things fail: database retries, stale claims, the task time limit.

* :func:`retry_db` runs a database step again, with exponential backoff and jitter, while the
  database cannot be reached (a restart, a fail-over, a network blip), instead of losing the task.
  Each try must be a whole unit of work on a fresh session: a try that failed left nothing behind
  (its transaction is rolled back) or left exactly what a second try expects (the claim is keyed
  on a claim token, results are upserted).
* :func:`stale_claim_seconds` says when a ``running`` document's claim is old enough to be taken
  over: longer than the task time limit (its task cannot still be running) and shorter than the
  visibility timeout (so that the message Redis redelivers after a worker died finds the claim
  stale and takes it, instead of skipping a document nobody would ever finish).
* :class:`TimeLimitWatchdog` enforces the hard task time limit in a worker that runs its tasks in
  threads, where Celery cannot: a thread cannot be stopped, so a task that passes the limit ends
  the worker process, as Celery's forking pool ends its child. The task's message is not
  acknowledged (``acks_late``), Redis hands it to another worker after the visibility timeout,
  and the document that keeps running out of time is failed after ``max_attempts`` tries with
  that reason. Run workers under a supervisor that restarts them (compose ``restart:``, k8s).

Importing this module imports neither Celery nor torch.
"""

from __future__ import annotations

import logging
import os
import random
import sys
import threading
import time
from typing import Callable, TypeVar

from . import config

log = logging.getLogger("braillejobs.resilience")

T = TypeVar("T")

# Exit status of a worker ended by the time-limit watchdog (EX_SOFTWARE): a supervisor restarts it.
EXIT_TIME_LIMIT = 70


def stale_claim_seconds(time_limit: int | None = None, visibility: int | None = None) -> float:
    """Age after which a ``running`` claim is taken over by a new claimer."""
    limit = config.get("task_time_limit") if time_limit is None else time_limit
    vis = config.get("visibility_timeout") if visibility is None else visibility
    # A margin for clocks of different hosts: up to 60 s, never past the visibility timeout.
    margin = max(0.0, min(60.0, (vis - limit) / 2))
    return limit + margin


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
            _dispose_pools()
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


def _dispose_pools() -> None:
    """Drop pooled connections after a failure: they point at a server that went away."""
    from .db import session

    with session._lock:
        for engine in session._engines.values():
            engine.dispose()


class TimeLimitWatchdog:
    """Ends this process when a task runs past ``limit`` seconds (see the module notes)."""

    def __init__(self, limit: float, poll: float = 0.25,
                 on_expire: Callable[[str, float], None] | None = None):
        self.limit = float(limit)
        self.poll = poll
        self.on_expire = on_expire or _exit_on_time_limit
        self._running: dict[str, tuple[float, str, int, float]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def started(self, task_id: str, label: str = "") -> None:
        """Call from the thread that runs the task."""
        thread = threading.get_ident()
        with self._lock:
            self._running[task_id] = (time.monotonic(), label, thread, waited(thread))

    def finished(self, task_id: str) -> None:
        with self._lock:
            self._running.pop(task_id, None)

    def overdue(self) -> list[tuple[str, float]]:
        now = time.monotonic()
        with self._lock:
            running = list(self._running.items())
        late = []
        for tid, (t0, label, thread, waited_before) in running:
            seconds = now - t0 - (waited(thread) - waited_before)
            if seconds > self.limit:
                late.append((label or tid, seconds))
        return late

    def start(self) -> "TimeLimitWatchdog":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="braillejobs-time-limit",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.poll):
            late = self.overdue()
            if late:
                label, seconds = late[0]
                self.on_expire(label, seconds)
                return


def _exit_on_time_limit(label: str, seconds: float) -> None:
    log.critical("task %s has run %.1f s, past the hard time limit of %d s "
                 "(BRAILLEJOBS_TASK_TIME_LIMIT); ending this worker so that its tasks go back to "
                 "the queue, and the document failed after BRAILLEJOBS_MAX_ATTEMPTS tries",
                 label, seconds, config.get("task_time_limit"))
    for handler in logging.getLogger().handlers:
        try:
            handler.flush()
        except Exception:
            pass
    sys.stderr.flush()
    os._exit(EXIT_TIME_LIMIT)


def install_time_limit(limit: float | None = None) -> TimeLimitWatchdog:
    """Watch every task of this worker process through Celery's task signals."""
    from celery import signals

    watchdog = TimeLimitWatchdog(config.get("task_time_limit") if limit is None else limit)

    def prerun(task_id=None, task=None, args=None, **_):
        label = f"{getattr(task, 'name', 'task')}[{task_id}]"
        if args:
            label += f" job {args[0]}"
        watchdog.started(task_id or "", label)

    def postrun(task_id=None, **_):
        watchdog.finished(task_id or "")

    signals.task_prerun.connect(prerun, weak=False)
    signals.task_postrun.connect(postrun, weak=False)
    return watchdog.start()
