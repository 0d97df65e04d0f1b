"""Starting a worker: one process, threads pool, the engine loaded once.

Never a forking pool: a neural engine initialises CUDA, and a child forked after that cannot use
it. For more throughput run one worker process per GPU (or per core for liblouis).
"""

from __future__ import annotations

import logging
import os
import socket

from braillejobs import config
from braillejobs.cli.terminal import printable
from braillejobs.db.session import ensure_schema
from braillejobs.queue import check_limits, check_serializers, hardware_queue, make_app
from braillejobs.translate.registry import get_engine

from . import gate, hooks, tasks, watchdog

log = logging.getLogger("braillejobs.worker")


class SafeFormatter(logging.Formatter):
    """Log lines with control characters shown escaped (a file name or a document's text can
    carry terminal escapes); the line breaks of a traceback are kept."""

    def __init__(self, inner: logging.Formatter | None):
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return printable(self.inner.format(record), keep_newlines=True)


def build_app(queues: list[str] | None = None):
    app = make_app(queue=(queues or [None])[0])
    # Every message is checked whole where it leaves Redis (workers.gate); refused ones go to
    # the dead-letter list instead of reaching Celery's consumer.
    app.conf.broker_transport = gate.TRANSPORT
    app.conf.broker_use_ssl = gate.broker_ssl(config.get("broker_url"),
                                              app.conf.broker_use_ssl)
    tasks.register(app)
    return app


def preflight() -> None:
    """Check what a worker needs before it takes any message; raise with a message otherwise."""
    check_limits(config.get("task_time_limit"), config.get("visibility_timeout"))
    ensure_schema()
    # Build the default engine now: a neural model loads once here, not in the first task, and
    # an engine that cannot work shows its message at start-up.
    get_engine(config.get("engine"), config.get("table"))


def start(queues: list[str] | None = None, concurrency: int | None = None,
          loglevel: str | None = None, hostname: str | None = None) -> None:
    concurrency = concurrency or config.get("worker_concurrency")
    level = (loglevel or config.get("log_level")).upper()
    # logging first: loading a model logs its device (one line when no GPU is found)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # file names and errors come from documents
        handler.setFormatter(SafeFormatter(handler.formatter))
    preflight()
    # the queue of this host's hardware (GPU queue with a CUDA device), unless named
    queues = queues or [hardware_queue()]
    logging.getLogger("braillejobs.worker").info("consuming %s", ", ".join(queues))
    app = build_app(queues)
    check_serializers(app.conf)
    # The threads pool does not enforce task_time_limit; the watchdog does (see resilience).
    watchdog.install_time_limit()
    hooks.install(app, tasks.on_chunk_done, queues)  # /metrics, task metrics, info command
    if hooks.record_dead_letter not in gate.on_dead_letter:
        gate.on_dead_letter.append(hooks.record_dead_letter)
    # threads, even for 1: the task runs in a pool thread, so the consumer thread still answers
    # remote control (workers list/pause/drain) while a long task runs; solo would not.
    pool = "threads"
    node = hostname or f"braillejobs-{os.getpid()}@{socket.gethostname()}"
    gate.set_node_name(node.replace("%h", socket.gethostname()))
    argv = ["worker", f"--pool={pool}", f"--concurrency={max(1, concurrency)}",
            f"--queues={','.join(queues)}", f"--loglevel={level}", f"--hostname={node}"]
    # Never gossip: it would make every worker consume the other workers' events, which the
    # gate (workers.gate) would refuse as malformed commands. Task events and heartbeats still
    # go out, for Flower and friends.
    argv.append("--without-gossip")
    if config.get("worker_events"):
        argv.append("--task-events")
    else:
        argv += ["--without-mingle", "--without-heartbeat"]
    app.worker_main(argv)
