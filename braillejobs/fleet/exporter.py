"""``braillejobs exporter``: what no single worker knows, for Prometheus and for people.

Workers count what they do; the exporter reads the rest when it is asked:

* the broker (Redis, Celery's remote control): per queue the messages and the documents they
  carry, its consumers and whether it is paused (the configured queues, every queue a worker
  consumes, every paused queue); unacknowledged messages; dead letters by queue; which workers
  answer a ping;
* the database: jobs and documents by state, documents submitted, the longest-idle unfinished
  job, the oldest queued document, the database's size.

:class:`FleetCollector` is a custom collector (prometheus-client's pattern: ``describe`` and
``collect`` yielding metric families built at scrape time) on a registry of the exporter's own,
with the process, platform and garbage-collector metrics of the exporter itself. The sources are
read at most once per ``min_interval`` seconds, so that several scrapers do not multiply the
load; a source that cannot be read sets ``braillejobs_exporter_source_up{source=...}`` to 0 and
its last values are served again, and the scrape still succeeds.
``braillejobs_workers_online`` is NaN until the broker was reached once: not knowing is not 0.

``/metrics`` serves the metrics, ``/`` a read-only status page (:mod:`.status_page`),
``/healthz`` answers ``ok`` while the process runs.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterable

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, GCCollector,
                               PlatformCollector, ProcessCollector)
from prometheus_client.registry import Collector

from .. import config, metrics
from . import queue_depth, status_page

log = logging.getLogger("braillejobs.exporter")

FORGET_AFTER = 3600.0  # seconds a worker that stopped answering stays in braillejobs_worker_up
JOBS_SHOWN = 20
FAILURES_SHOWN = 10


@dataclass(frozen=True)
class BrokerReading:
    """One successful read of the broker."""
    online: dict[str, float]            # hostname -> ping round trip, seconds
    queues: list[str]
    lengths: dict[str, int]             # messages
    documents: dict[str, int]           # document ids those messages carry
    consumers: dict[str, list[str]]     # queue -> hostnames consuming it
    paused: dict[str, list[str]]        # queue -> hostnames it was paused on
    dead_letters: dict[str, int]
    unacked: int


@dataclass(frozen=True)
class DatabaseReading:
    """One successful read of the database."""
    jobs: dict[str, int]
    documents: dict[str, int]
    idle_since: datetime | None         # last update of the least recently updated unfinished job
    oldest_queued: datetime | None      # submission of the oldest queued document
    submitted: dict[str, int]           # job mode -> documents
    size_bytes: int | None              # None where the size cannot be read


@dataclass(frozen=True)
class Snapshot:
    """What the exporter knows: the last good reading of each source (None: never read),
    whether the last try of each succeeded, and the workers seen answering pings."""
    read_at: datetime
    broker: BrokerReading | None = None
    database: DatabaseReading | None = None
    up: dict[str, bool] = field(default_factory=dict)
    seen: dict[str, float] = field(default_factory=dict)  # hostname -> time.time() last answered
    refresh_seconds: float = 0.0


class FleetReader:
    """Reads the broker and the database, at most once per ``min_interval`` seconds."""

    def __init__(self, queues: Iterable[str] = (), database_url: str | None = None,
                 ping_timeout: float = 1.0, min_interval: float = 2.0,
                 forget_after: float = FORGET_AFTER,
                 max_queue_messages: int = queue_depth.MAX_MESSAGES):
        self.queues = list(queues)
        self.database_url = database_url
        self.ping_timeout = ping_timeout
        self.min_interval = min_interval
        self.forget_after = forget_after
        self.max_queue_messages = max_queue_messages
        self._lock = threading.Lock()
        self._last: float | None = None
        self._snapshot = Snapshot(read_at=datetime.now(timezone.utc))
        self._status_lock = threading.Lock()
        self._status: tuple[float, status_page.StatusView] | None = None

    # ------------------------------------------------------------------------- metrics
    def read(self, force: bool = False) -> Snapshot:
        """The current snapshot, read again unless that was done within ``min_interval``."""
        with self._lock:
            now = time.monotonic()
            if force or self._last is None or now - self._last >= self.min_interval:
                started = time.perf_counter()
                snap = self._read_broker(self._snapshot)
                snap = self._read_database(snap)
                self._snapshot = replace(snap, read_at=datetime.now(timezone.utc),
                                         refresh_seconds=time.perf_counter() - started)
                self._last = time.monotonic()
            return self._snapshot

    def _read_broker(self, snap: Snapshot) -> Snapshot:
        from . import control as fleet

        try:
            fleet.check_reachable()
            online = fleet.ping(timeout=self.ping_timeout)
            consumers = fleet.queue_consumers(answered=list(online), timeout=self.ping_timeout)
            paused = fleet.paused_queues()
            own = self.queues or [config.get("queue"), config.get("gpu_queue")]
            names = list(dict.fromkeys([*own, *consumers, *paused]))
            reading = BrokerReading(
                online=online, queues=names, lengths=fleet.queue_lengths(names),
                documents=queue_depth.document_counts(names,
                                                      max_messages=self.max_queue_messages),
                consumers=consumers, paused=paused, dead_letters=fleet.dead_letter_counts(),
                unacked=fleet.unacked_count())
        except Exception as exc:
            log.warning("reading the broker failed: %s", exc)
            return replace(snap, up={**snap.up, "broker": False})
        wall = time.time()
        seen = {host: at for host, at in snap.seen.items() if wall - at <= self.forget_after}
        seen.update(dict.fromkeys(online, wall))
        return replace(snap, broker=reading, seen=seen, up={**snap.up, "broker": True})

    def _read_database(self, snap: Snapshot) -> Snapshot:
        from sqlalchemy.orm import Session

        from ..db import state
        from ..db.session import get_engine

        try:
            with Session(get_engine(self.database_url)) as session:
                jobs, documents, idle_since = state.totals(session)
                oldest = state.oldest_queued(session)
                submitted = state.submitted_by_mode(session)
                try:
                    size: int | None = state.database_size(session)
                except Exception as exc:  # e.g. no right to the file: the rest still counts
                    log.warning("reading the database's size failed: %s",
                                str(exc).splitlines()[0])
                    session.rollback()
                    size = None
        except Exception as exc:
            log.warning("reading the database failed: %s", str(exc).splitlines()[0])
            return replace(snap, up={**snap.up, "database": False})
        reading = DatabaseReading(jobs=jobs, documents=documents, idle_since=idle_since,
                                  oldest_queued=oldest, submitted=submitted, size_bytes=size)
        return replace(snap, database=reading, up={**snap.up, "database": True})

    # --------------------------------------------------------------------- status page
    def status(self) -> status_page.StatusView:
        """What the status page shows: the snapshot, the workers' details, the jobs in flight
        and the recent failures (read at most once per ``min_interval`` too)."""
        snap = self.read()
        with self._status_lock:
            now = time.monotonic()
            if self._status is not None and now - self._status[0] < self.min_interval:
                return self._status[1]
            view = status_page.StatusView(
                read_at=snap.read_at, broker_up=snap.up.get("broker", False),
                database_up=snap.up.get("database", False),
                queues=_queue_rows(snap.broker), workers=self._workers(snap),
                **self._jobs_and_failures())
            self._status = (time.monotonic(), view)
            return view

    def _workers(self, snap: Snapshot):
        from . import control as fleet

        if snap.broker is None or not snap.up.get("broker"):
            return None  # unknown
        if not snap.broker.online:
            return []
        try:
            try:
                return fleet.list_workers(destination=list(snap.broker.online),
                                          timeout=self.ping_timeout)
            except fleet.FleetError:  # one of them has gone since the ping: ask everyone
                return fleet.list_workers(timeout=self.ping_timeout)
        except Exception as exc:
            log.warning("listing the workers failed: %s", exc)
            return None

    def _jobs_and_failures(self) -> dict:
        from sqlalchemy.orm import Session

        from ..db import state
        from ..db.session import get_engine

        try:
            with Session(get_engine(self.database_url)) as session:
                return {"jobs": state.unfinished_jobs(session, JOBS_SHOWN),
                        "failures": state.recent_failures(session, FAILURES_SHOWN)}
        except Exception as exc:
            log.warning("reading jobs for the status page failed: %s",
                        str(exc).splitlines()[0])
            return {"jobs": None, "failures": None}


def _queue_rows(broker: BrokerReading | None) -> list[status_page.QueueRow] | None:
    if broker is None:
        return None
    return [status_page.QueueRow(
        name=name, documents=broker.documents.get(name, 0), messages=broker.lengths.get(name, 0),
        consumers=sorted(broker.consumers.get(name, [])), paused_on=broker.paused.get(name, []),
        dead_letters=broker.dead_letters.get(name, 0)) for name in broker.queues]


class FleetCollector(Collector):
    """The fleet's metric families (:data:`braillejobs.metrics.FLEET`), built at each scrape
    from the reader's snapshot."""

    def __init__(self, reader: FleetReader):
        self.reader = reader

    def describe(self):
        # Without this, registering would call collect() and read the sources.
        return [family.new() for family in metrics.FLEET]

    def collect(self):
        snap = self.reader.read()
        out = {family: family.new() for family in metrics.FLEET}

        def add(family, value, *labels):
            out[family].add_metric(list(labels), float(value))

        broker = snap.broker
        if broker is not None:
            for name in broker.queues:
                add(metrics.QUEUE_LENGTH, broker.lengths.get(name, 0), name)
                add(metrics.QUEUE_DOCUMENTS, broker.documents.get(name, 0), name)
                add(metrics.QUEUE_CONSUMERS, len(broker.consumers.get(name, [])), name)
                add(metrics.QUEUE_PAUSED, 1 if name in broker.paused else 0, name)
            for name in dict.fromkeys([*broker.queues, *broker.dead_letters]):
                add(metrics.DEAD_LETTER_MESSAGES, broker.dead_letters.get(name, 0), name)
            add(metrics.UNACKED_MESSAGES, broker.unacked)
            add(metrics.WORKERS_ONLINE, len(broker.online))
            for host in sorted(snap.seen):
                add(metrics.WORKER_UP, 1 if host in broker.online else 0, host)
        else:
            add(metrics.WORKERS_ONLINE, float("nan"))

        database = snap.database
        if database is not None:
            from ..db.models import DOCUMENT_STATUSES, JOB_STATES, MODES

            for state in dict.fromkeys([*JOB_STATES, *database.jobs]):
                add(metrics.JOBS, database.jobs.get(state, 0), state)
            for status in dict.fromkeys([*DOCUMENT_STATUSES, *database.documents]):
                add(metrics.STORED_DOCUMENTS, database.documents.get(status, 0), status)
            for mode in dict.fromkeys([*MODES, *database.submitted]):
                add(metrics.SUBMITTED_DOCUMENTS_STORED, database.submitted.get(mode, 0), mode)
            add(metrics.JOB_IDLE_MAX, _age(snap.read_at, database.idle_since))
            add(metrics.OLDEST_QUEUED, _age(snap.read_at, database.oldest_queued))
            if database.size_bytes is not None:
                add(metrics.DATABASE_SIZE, database.size_bytes)

        for source in ("broker", "database"):
            if source in snap.up:
                add(metrics.EXPORTER_UP, 1 if snap.up[source] else 0, source)
        add(metrics.EXPORTER_REFRESH_DURATION, snap.refresh_seconds)
        yield from out.values()


def _age(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


def make_registry(reader: FleetReader) -> CollectorRegistry:
    """The exporter's registry: the fleet, the build info, and this process's own metrics."""
    registry = CollectorRegistry()
    registry.register(FleetCollector(reader))
    registry.register(metrics.BUILD_INFO)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


# Browsers may run nothing and load nothing from the status page: even a mistake in escaping
# could not run a script there.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def make_server(reader: FleetReader, port: int, addr: str = "0.0.0.0") -> ThreadingHTTPServer:
    registry = make_registry(reader)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, metrics.text(registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                self._send(200, b"ok\n", "text/plain; charset=utf-8")
            elif path == "/":
                page = status_page.render(reader.status()).encode()
                self._send(200, page, "text/html; charset=utf-8", PAGE_HEADERS)
            else:
                self._send(404, b"not found: try / (status page), /metrics or /healthz\n",
                           "text/plain; charset=utf-8")

        def _send(self, code: int, body: bytes, content_type: str,
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):  # quiet: Prometheus scrapes every 15 s
            log.debug("%s " + fmt, self.address_string(), *args)

    server = ThreadingHTTPServer((addr, port), Handler)
    server.daemon_threads = True
    return server


def serve(port: int, addr: str = "0.0.0.0", queues: Iterable[str] = (),
          ping_timeout: float = 1.0) -> None:
    reader = FleetReader(queues, ping_timeout=ping_timeout)
    server = make_server(reader, port, addr)
    log.info("exporter serving on %s:%d (/metrics, / status page, /healthz)", addr,
             server.server_address[1])
    try:
        server.serve_forever()
    finally:
        server.server_close()
