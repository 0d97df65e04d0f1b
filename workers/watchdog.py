"""The hard task time limit in a worker that runs its tasks in threads, where Celery cannot.

A thread cannot be stopped, so a task that passes the limit ends the worker process, as Celery's
forking pool ends its child. The task's message is not acknowledged (``acks_late``), Redis hands
it to another worker after the visibility timeout, and the document that keeps running out of
time is failed after ``max_attempts`` tries with that reason. Run workers under a supervisor that
restarts them (compose ``restart:``, a Kubernetes Deployment). Seconds a task spent waiting for
the database (``braillejobs.resilience.excuse``) do not count.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Callable

from braillejobs import config
from braillejobs.resilience import waited

log = logging.getLogger("braillejobs.watchdog")

# Exit status of a worker ended by the time-limit watchdog (EX_SOFTWARE): a supervisor restarts it.
EXIT_TIME_LIMIT = 70


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
